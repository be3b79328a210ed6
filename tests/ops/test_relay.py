"""`hub relay` between a CurveZMQ hub on 127.0.0.1 and strategies subscribing on 127.0.0.2: ticks arrive through
the relay, each strategy gets every one of its account events exactly once (over its call connection), and the
relay refuses what it must not do."""

from __future__ import annotations

import functools
import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import zmq

from hub.config import HubConfig
from hub.core import HubServer
from hub.relay import Relay, RelayError
from rpc_client import RpcGateway
from rpc_client.security import CurveKeys
from webhook_server import free_port
from stand_ins import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))
from security_helpers import make_keys  # noqa: E402  (the keys as `hub keys` makes them)

BUY, FIX = 23, 11


class Seen:
    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, int]] = []
        self.ticks: list[str] = []

    def on_event(self, topic, payload):
        with self.lock:
            if topic.startswith("tick."):
                self.ticks.append(topic)
            elif payload.get("stream"):
                self.events.append((topic, payload["stream"], payload["sseq"]))


_wait = functools.partial(wait_until, timeout=15.0)


def test_strategies_behind_a_relay_get_ticks_and_every_account_event_once(tmp_path):
    keys = make_keys(tmp_path / "hub" / "curve", "relay", "alpha", "beta")
    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    cfg = HubConfig.from_dict({"rpc": rpc, "pub": pub, "data_dir": tmp_path / "hub", "curve": True,
                               "heartbeat_interval": 0.2, "sim": {"tick_interval": 0.05}})
    server = HubServer(cfg).start()
    relay = Relay(pub, "tcp://127.0.0.2:0", curve=CurveKeys.from_dir(keys["relay"])).start()
    gateways, seen = [], {}
    try:
        for name in ("alpha", "beta"):
            s = Seen()
            gw = RpcGateway(rpc, relay.address, timeout=5, curve=CurveKeys.from_dir(keys[name]))
            gw.on_event = s.on_event
            gw.connect(strategy=name)
            gw.subscribe_quote(["600000.SH"])
            gateways.append(gw)
            seen[name] = s
        assert _wait(lambda: all(len(s.ticks) >= 3 for s in seen.values())), {n: len(s.ticks) for n, s in seen.items()}
        for gw in gateways:
            for i in range(5):
                assert gw.order_stock("600000.SH", BUY, 100, FIX, 10.0 + i * 0.01) > 0
        for name, gw in zip(("alpha", "beta"), gateways):
            assert _wait(lambda: len([e for e in seen[name].events if e[0] == f"order.{name}"]) >= 5)
        time.sleep(0.5)
        for name, s in seen.items():
            with s.lock:
                events = list(s.events)
            by_stream: dict[str, list[int]] = {}
            for topic, stream, sseq in events:
                assert not topic.endswith(".alpha" if name == "beta" else ".beta"), (name, topic)
                by_stream.setdefault(stream, []).append(sseq)
            for stream, sseqs in by_stream.items():
                assert sseqs == sorted(set(sseqs)), (name, stream, sseqs)  # once each, in order
                assert sseqs == list(range(sseqs[0], sseqs[0] + len(sseqs))), (name, stream, sseqs)  # no gap
            assert {t for t in s.ticks} == {"tick.600000.SH"}  # only what was subscribed crossed
    finally:
        for gw in gateways:
            gw.close()
        relay.stop()
        server.stop()


def test_relay_refuses_a_non_loopback_listen_and_a_bad_upstream():
    with pytest.raises(RelayError, match="loopback only"):
        Relay("tcp://10.0.0.5:5556", "tcp://0.0.0.0:5556")
    with pytest.raises(RelayError, match="tcp://host:port"):
        Relay("ipc:///tmp/x", "tcp://127.0.0.1:5556")


def _plain_hub(tmp_path) -> HubServer:
    cfg = HubConfig.from_dict({"rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
                               "data_dir": tmp_path / "hub", "heartbeat_interval": 0.2,
                               "sim": {"tick_interval": 0.05}})
    return HubServer(cfg).start()


@pytest.mark.skipif(os.name != "posix", reason="SIGINT/SIGTERM to a child")
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_hub_relay_command_republishes_the_hubs_ticks_and_stops_cleanly(tmp_path, sig):
    """`hub relay` as a process: a strategy subscribing at its --listen gets the hub's ticks; Ctrl+C (SIGINT)
    or SIGTERM stops it with exit 0, and the subscriber then hears nothing more."""
    server = _plain_hub(tmp_path)
    listen = f"tcp://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k not in ("QMT_HUB_CURVE", "QMT_HUB", "QMT_HUB_PUB")}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "relay", "--hub-pub", server.config.pub,
                             "--listen", listen], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    gw = None
    try:
        seen = Seen()
        gw = RpcGateway(server.config.rpc, listen, timeout=5)
        gw.on_event = seen.on_event
        gw.connect(strategy="alpha")
        gw.subscribe_quote(["600000.SH"])
        assert _wait(lambda: proc.poll() is not None or len(seen.ticks) >= 5), (proc.poll(), len(seen.ticks))
        assert proc.poll() is None, proc.communicate(timeout=5)
        assert set(seen.ticks) == {"tick.600000.SH"}
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=20)
        time.sleep(0.3)  # what was in flight
        with seen.lock:
            before = len(seen.ticks)
        published = server.status()["counters"]["ticks"]
        time.sleep(0.5)
        assert server.status()["counters"]["ticks"] > published  # the hub keeps publishing ...
        assert len(seen.ticks) == before  # ... and nothing reaches the subscriber with the relay gone
    finally:
        if gw is not None:
            gw.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)
        server.stop()
    assert proc.returncode == 0, (out, err)
    assert f"relaying {server.config.pub} -> {listen}" in out, out
    assert "Traceback" not in err, err


def test_hub_relay_command_refuses_a_non_loopback_listen_as_a_usage_error():
    r = subprocess.run([sys.executable, "-m", "hub", "relay", "--hub-pub", "tcp://127.0.0.1:5556",
                        "--listen", "tcp://0.0.0.0:5556"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "loopback only" in r.stderr and "Traceback" not in r.stderr, (r.stdout, r.stderr)


class _UpstreamSpy:
    """Wraps zmq.proxy_steerable so the relay's proxy also copies every message to a capture socket (ZeroMQ's
    own capture): what came in on its upstream XSUB (the hub's frames) and what it sent upstream (subscriptions)."""

    def __init__(self):
        self.real = zmq.proxy_steerable
        self.topics: collections.Counter[str] = collections.Counter()
        self.subscriptions: list[bytes] = []
        self.lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __call__(self, frontend, backend, capture, control):
        assert capture is None
        ctx = frontend.context
        addr = f"inproc://relay-spy-{id(self)}"
        pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
        for s in (pull, push):
            s.setsockopt(zmq.LINGER, 0)
        pull.bind(addr)
        push.connect(addr)
        reader = threading.Thread(target=self._read, args=(pull,), daemon=True)
        reader.start()
        self._threads.append(reader)
        try:
            return self.real(frontend, backend, push, control)
        finally:
            push.close(0)

    def _read(self, pull) -> None:
        try:
            while True:
                frames = pull.recv_multipart()
                with self.lock:
                    if len(frames) == 1 and frames[0][:1] in (b"\x00", b"\x01"):  # XPUB -> XSUB: (un)subscribe
                        self.subscriptions.append(frames[0])
                    else:  # XSUB <- the hub: [topic, payload]
                        self.topics[frames[0].decode("utf-8", "replace")] += 1
        except zmq.ZMQError:  # the relay's context ends
            pass
        finally:
            pull.close(0)

    def join(self) -> None:
        for t in self._threads:
            t.join(5)
            assert not t.is_alive()


def test_a_code_no_local_strategy_wants_does_not_cross_to_the_relay(tmp_path, monkeypatch):
    """The hub publishes two codes (a strategy connected to the hub directly wants 600036.SH); behind the relay
    only 600000.SH is wanted. The relay's upstream side receives 600000.SH's ticks and heartbeats, and not one
    frame of 600036.SH: the local subscriptions were forwarded, not a subscribe-to-everything."""
    spy = _UpstreamSpy()
    monkeypatch.setattr(zmq, "proxy_steerable", spy)
    server = _plain_hub(tmp_path)
    relay = Relay(server.config.pub, f"tcp://127.0.0.1:{free_port()}").start()
    behind, direct = Seen(), Seen()
    gateways = []
    try:
        local = RpcGateway(server.config.rpc, relay.address, timeout=5)
        local.on_event = behind.on_event
        local.connect(strategy="alpha")
        local.subscribe_quote(["600000.SH"])
        gateways.append(local)
        remote = RpcGateway(server.config.rpc, server.config.pub, timeout=5)  # straight to the hub's PUB
        remote.on_event = direct.on_event
        remote.connect(strategy="beta")
        remote.subscribe_quote(["600036.SH"])
        gateways.append(remote)
        assert _wait(lambda: len(behind.ticks) >= 10 and len(direct.ticks) >= 10), (len(behind.ticks),
                                                                                    len(direct.ticks))
        time.sleep(0.5)
    finally:
        for gw in gateways:
            gw.close()
        relay.stop()
        server.stop()
    spy.join()
    assert set(direct.ticks) == {"tick.600036.SH"}  # the hub did publish the other code all along
    assert set(behind.ticks) == {"tick.600000.SH"}
    with spy.lock:
        topics, subs = dict(spy.topics), list(spy.subscriptions)
    assert topics.get("tick.600000.SH", 0) >= len(behind.ticks) >= 10  # the wanted code crossed
    assert topics.get("hub.heartbeat", 0) >= 1
    assert "tick.600036.SH" not in topics, topics  # the unwanted one never did
    assert set(topics) <= {"tick.600000.SH", "hub.heartbeat"}, topics
    assert b"\x01tick.600000.SH" in subs and b"\x01" not in subs, subs  # forwarded as asked, no catch-all
