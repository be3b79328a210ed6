"""Quotes from the simulator as its own process: `SimXtData("tcp://…")` against a real `hub sim`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from hub.sim import SimXtData
from hub.sim.remote import RemoteSimXtData
from ports import free_port  # noqa: E402  (tests/ports.py)

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
CODE = "600000.SH"
CONFIG = json.dumps({"auto_tick": True, "tick_interval": 0.1, "volatility": 0.01})


_port = free_port


def _until(pred: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


class Calls:
    def __init__(self) -> None:
        self.got: list[tuple[dict, str]] = []
        self.lock = threading.Lock()

    def __call__(self, data: dict) -> None:
        with self.lock:
            self.got.append((data, threading.current_thread().name))

    def __len__(self) -> int:
        with self.lock:
            return len(self.got)

    def last(self) -> tuple[dict, str]:
        with self.lock:
            return self.got[-1]


@pytest.fixture
def sim_proc(tmp_path):
    endpoint = f"tcp://127.0.0.1:{_port()}"
    procs: list[subprocess.Popen] = []
    made: list[Any] = []

    def launch() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "hub", "sim", "--path", str(tmp_path / "terminal"),
                              "--endpoint", endpoint, "--config", CONFIG],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    def xtdata() -> RemoteSimXtData:
        x = SimXtData(endpoint)
        made.append(x)
        return x

    yield endpoint, launch, xtdata
    for x in made:
        x.close()
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def _wait_up(x: RemoteSimXtData) -> None:
    _until(lambda: x.get_full_tick([CODE]), 20)


def test_remote_quotes_subscribe_whole_full_tick_unsubscribe(sim_proc):
    endpoint, launch, xtdata = sim_proc
    launch()
    x = xtdata()
    assert isinstance(x, RemoteSimXtData)
    _wait_up(x)
    one, whole = Calls(), Calls()
    seq = x.subscribe_quote(CODE, period="tick", count=0, callback=one)
    seq2 = x.subscribe_whole_quote(["SZ"], callback=whole)
    assert seq > 0 and seq2 > 0 and seq != seq2
    assert x.subscribe_quote("999999.XX", callback=one) == -1
    assert x.subscribe_quote(CODE, period="1m", callback=one) == -1

    _until(lambda: len(one) >= 3 and len(whole) >= 3)
    data, thread = one.last()
    assert list(data) == [CODE] and isinstance(data[CODE], list) and len(data[CODE]) == 1
    tick = data[CODE][0]
    assert tick["lastPrice"] > 0 and len(tick["askPrice"]) == 5 and tick["time"] > 0
    assert thread == "sim-xtdata-remote" and thread != threading.current_thread().name
    data, _ = whole.last()
    assert len(data) > 5 and all(c.endswith(".SZ") for c in data)
    assert all(isinstance(t, dict) and "lastPrice" in t for t in data.values())
    times = [d[CODE][0]["time"] for d, _ in one.got]
    assert times == sorted(times) and len(set(times)) > 1  # snapshots move on

    assert x.active_subscriptions() == {CODE: 1, "SZ": 1}
    full = x.get_full_tick([CODE, "000001.SZ", "999999.XX"])
    assert set(full) == {CODE, "000001.SZ"} and full[CODE]["lastPrice"] > 0

    # a second client shares the terminal and sees the same upstream counts
    y = xtdata()
    assert y.subscribe_quote(CODE, callback=Calls()) > 0
    assert x.active_subscriptions() == {CODE: 2, "SZ": 1}
    y.close()
    assert x.active_subscriptions() == {CODE: 1, "SZ": 1}

    x.unsubscribe_quote(seq)
    assert x.active_subscriptions() == {"SZ": 1}
    time.sleep(0.3)  # ticks already on their way
    n = len(one)
    time.sleep(0.5)
    assert len(one) == n  # no more ticks for the unsubscribed seq
    assert len(whole) > 3


def test_remote_quotes_fail_fast_while_down_and_resubscribe_after_restart(sim_proc):
    endpoint, launch, xtdata = sim_proc
    proc = launch()
    x = xtdata()
    _wait_up(x)
    got = Calls()
    seq = x.subscribe_quote(CODE, callback=got)
    assert seq > 0
    _until(lambda: len(got) >= 2)

    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    _until(lambda: not x.alive, 5)
    t0 = time.monotonic()
    assert x.get_full_tick([CODE]) == {} and x.subscribe_quote("000001.SZ", callback=got) == -1
    assert time.monotonic() - t0 < 1.0  # short probes, no long waits on a dead simulator

    launch()
    _until(lambda: x.get_full_tick([CODE]), 20)
    assert x.alive
    n = len(got)
    time.sleep(0.5)
    assert len(got) == n  # the restarted simulator knows no subscriptions
    assert x.resubscribe() == 1
    _until(lambda: len(got) >= n + 2)
    data, _ = got.last()
    assert list(data) == [CODE]
    assert x.active_subscriptions() == {CODE: 1}
