"""`hub relay` between a CurveZMQ hub on 127.0.0.1 and strategies subscribing on 127.0.0.2: ticks arrive through
the relay, each strategy gets every one of its account events exactly once (over its call connection), and the
relay refuses what it must not do."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.core import HubServer
from hub.relay import Relay, RelayError
from rpc_client import RpcGateway
from rpc_client.security import CurveKeys
from webhook_server import free_port

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


def _wait(pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


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
