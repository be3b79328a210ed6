"""Broker connects run on the broker-connect thread: a slow or hanging connect never freezes the loop."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core_helpers import exchange_of, free_port

import hub.sim as sim
from hub.broker import make_broker
from hub.config import HubConfig
from hub.core import HubServer

pytestmark = pytest.mark.timeout(60)

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10.5}


class SlowConnects:
    """Wraps the simulator's trader factory: connect() sleeps `hang` seconds; records threads and traders."""

    def __init__(self, path: str):
        self.path = path
        self.hang = 0.0
        self.fail = False
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.connects: list[tuple[str, str]] = []  # (thread that created the trader, thread that connected it)
        self.traders: list[Any] = []

    def __call__(self, session: int) -> Any:
        spy = self
        created_on = threading.current_thread().name
        base = sim.XtQuantTrader(self.path, session)

        class Trader(type(base)):  # type: ignore[misc]
            def connect(self) -> int:
                with spy.lock:
                    spy.running += 1
                    spy.max_running = max(spy.max_running, spy.running)
                    spy.connects.append((created_on, threading.current_thread().name))
                try:
                    time.sleep(spy.hang)
                    return -1 if spy.fail else super().connect()
                finally:
                    with spy.lock:
                        spy.running -= 1

        base.__class__ = Trader
        self.traders.append(base)
        return base


@pytest.fixture
def slow_hub(tmp_path: Path):
    made: list[HubServer] = []

    def make(**overrides: Any) -> tuple[HubServer, SlowConnects]:
        cfg = HubConfig.from_dict({
            "rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
            "data_dir": tmp_path / f"hub{len(made)}", "heartbeat_interval": 0.2, "sim": {"auto_tick": False},
            **overrides})
        broker = make_broker(cfg)
        spy = SlowConnects(str(cfg.sim_dir))
        broker._trader_factory = spy
        server = HubServer(cfg, broker=broker)
        made.append(server)
        return server, spy

    yield make
    for server in made:
        server.stop()
        assert server.wait(10), "hub loop did not end"


def test_loop_keeps_serving_while_a_reconnect_hangs(slow_hub, connect):
    server, spy = slow_hub(reconnect_interval=0.2)
    server.start()
    assert server.status()["broker"]["state"] == "up"
    c = connect(server)
    c.hello("alpha")
    spy.hang = 3.0
    exchange_of(server).disconnect_all()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "reconnecting", timeout=3)
    t_hang = time.monotonic()

    # while connect() sleeps: calls answered at once, heartbeats keep coming (state reconnecting)
    c.events.clear()
    slowest = 0.0
    while time.monotonic() - t_hang < 2.5:
        t0 = time.monotonic()
        assert c.call("ping", timeout=1.0) is not None
        st = c.call("status", timeout=1.0)
        assert st["broker"]["state"] == "reconnecting"
        err = c.error("order_stock", {**ORDER, "client_order_id": "while-down"}, timeout=1.0)
        assert err["code"] == "BROKER_DOWN"
        slowest = max(slowest, time.monotonic() - t0)
        c.poll_events(0.05)
    assert slowest < 0.5, slowest
    assert spy.running == 1  # still inside the hanging connect()
    beats = [e for e in c.events if e["_topic"] == "hub.heartbeat"]
    assert len(beats) >= 8 and {b["data"]["broker"] for b in beats} == {"reconnecting"}
    stamps = [b["ts"] for b in beats]
    assert max(b - a for a, b in zip(stamps, stamps[1:])) < 0.6

    # the attempt's result is applied afterwards: reconciled, up, orders go through
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=5)
    assert time.monotonic() - t_hang >= 2.5
    assert c.call("order_stock", {**ORDER, "client_order_id": "after"})["order_id"] > 0
    st = c.call("status")
    assert st["broker"]["state"] == "up" and st["counters"]["broker_reconnects"] == 1
    # one attempt at a time, each connected on the thread that created its trader, never the loop
    assert spy.max_running == 1
    assert all(made == used == "hub-broker-connect" for made, used in spy.connects), spy.connects
    assert len(spy.traders) == 2 and spy.traders[0]._stopped.is_set() and not spy.traders[1]._stopped.is_set()


def test_failed_attempts_count_and_give_up(slow_hub, connect):
    server, spy = slow_hub(reconnect_interval=0.1, reconnect_max_attempts=3)
    server.start()
    c = connect(server)
    c.hello("watch", role="monitor")  # hub.broker events are pushed to sessions only
    spy.hang, spy.fail = 0.3, True
    exchange_of(server).disconnect_all()
    ev = c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "down"
                      and "gave up" in p["data"]["reason"], timeout=10)
    assert "3 reconnect attempts" in ev["data"]["reason"]
    assert spy.max_running == 1 and len(spy.connects) == 1 + 3
    assert all(t._stopped.is_set() for t in spy.traders)  # every failed trader stopped, none leaked
    time.sleep(0.5)
    assert len(spy.connects) == 4  # no attempts after giving up
    assert c.call("ping") is not None


def test_stop_during_a_hanging_attempt_is_bounded_and_stops_the_late_trader(slow_hub, connect):
    server, spy = slow_hub(reconnect_interval=0.1)
    server.start()
    c = connect(server)
    c.hello("watch", role="monitor")  # hub.broker events are pushed to sessions only
    spy.hang = 3.0
    exchange_of(server).disconnect_all()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "reconnecting", timeout=3)
    time.sleep(0.2)
    assert spy.running == 1
    t0 = time.monotonic()
    server.stop()
    assert server.wait(5)
    assert time.monotonic() - t0 < 2.8  # did not wait for the hanging connect()
    late = spy.traders[-1]
    deadline = time.monotonic() + 6
    while not late._stopped.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert late._stopped.is_set() and spy.running == 0  # the trader connected after the stop was stopped
    assert spy.traders[0]._stopped.is_set()


def test_the_hub_starts_when_the_broker_is_not_there_yet_and_connects_when_it_appears(slow_hub, connect):
    """MiniQMT not up at boot: the hub starts, serves, says why the broker is down, and connects later."""
    server, spy = slow_hub(reconnect_interval=0.2)
    spy.fail = True
    server.start()
    assert spy.connects and spy.connects[0] == ("hub-broker-connect", "hub-broker-connect")
    assert all(t._stopped.is_set() for t in spy.traders)  # the failed trader was stopped
    c = connect(server)
    c.hello("alpha")
    st = c.call("status")
    assert st["broker"]["state"] in ("down", "reconnecting")
    assert "returned -1" in st["broker"]["reason"] and st["counters"]["broker_reconnects"] == 0
    err = c.error("order_stock", {**ORDER, "client_order_id": "early"})
    assert err["code"] == "BROKER_DOWN" and "nothing was sent" in err["message"]
    for method in ("query_stock_asset", "query_stock_orders", "query_stock_positions"):
        err = c.error(method, {})
        assert err["code"] == "BROKER_DOWN" and "not reached the broker since it started" in err["message"], err
    assert len(spy.connects) >= 1
    spy.fail = False  # the broker appears
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=10)
    st = c.call("status")
    assert st["broker"]["state"] == "up" and st["broker"]["reason"] == "connected"
    assert st["counters"]["broker_reconnects"] == 0  # a first connect, not a reconnect
    assert c.call("query_stock_asset")["total_asset"] > 0  # reconciled: the account is known
    assert c.call("order_stock", {**ORDER, "client_order_id": "late"})["order_id"] > 0
