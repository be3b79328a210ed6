"""A hub on `--sim-endpoint` serves ticks from the simulator process, also after that process restarts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core_helpers import free_port

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
CODE = "600000.SH"
SIM_CONFIG = json.dumps({"auto_tick": True, "tick_interval": 0.1, "volatility": 0.01})


@pytest.fixture
def sim_process(tmp_path):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    procs: list[subprocess.Popen] = []

    def launch() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "hub", "sim", "--path", str(tmp_path / "terminal"),
                              "--endpoint", endpoint, "--config", SIM_CONFIG],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield endpoint, launch
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(5)


def _start_hub(make_hub, endpoint: str, deadline: float = 20.0):
    end = time.monotonic() + deadline
    while True:
        try:
            return make_hub(sim_endpoint=endpoint, reconnect_interval=0.3)
        except Exception:  # noqa: BLE001 - the simulator process is still starting
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def test_ticks_through_hub_on_sim_endpoint_survive_sim_restart(make_hub, connect, sim_process):
    endpoint, launch = sim_process
    proc = launch()
    server = _start_hub(make_hub, endpoint)
    c = connect(server)
    c.hello("alpha")
    assert c.call("subscribe_quote", {"codes": [CODE]}) == {"codes": [CODE]}
    first = c.wait_event(lambda t, p: t == f"tick.{CODE}", timeout=5)
    assert first["code"] == CODE and first["data"]["lastPrice"] > 0 and first["tseq"] >= 1
    later = c.wait_event(lambda t, p: t == f"tick.{CODE}" and p["tseq"] >= first["tseq"] + 3, timeout=5)
    assert later["data"]["time"] > first["data"]["time"]
    full = c.call("get_full_tick", {"codes": ["000001.SZ"]})
    assert full["000001.SZ"]["lastPrice"] > 0
    assert server.status()["counters"]["quote_upstream"] == 1

    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "down", timeout=5)
    c.poll_events(0.5)
    c.events.clear()
    c.poll_events(0.6)
    assert not [e for e in c.events if e["_topic"] == f"tick.{CODE}"]  # no simulator, no ticks

    launch()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=20)
    # the hub re-subscribed what its client still holds: ticks again, the client did nothing
    again = c.wait_event(lambda t, p: t == f"tick.{CODE}", timeout=5)
    more = c.wait_event(lambda t, p: t == f"tick.{CODE}" and p["tseq"] >= again["tseq"] + 2, timeout=5)
    assert again["tseq"] > later["tseq"] and more["data"]["lastPrice"] > 0
    assert server.status()["counters"]["quote_upstream"] == 1
    assert c.call("unsubscribe_quote", {"codes": [CODE]}) == {"codes": [CODE]}
    assert server.quotes.source._source.active_subscriptions() == {}
