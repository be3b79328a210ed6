"""The broker's sync queries (a reconcile's snapshot) run on the broker-connect thread, never the caller's.

`BrokerConnector.snapshot` returns at once however long the broker takes to answer; the
outcome waits in `take_snapshot()` and the loop is woken by `notify`. A trader whose query
fails (None: the connection is gone) gives a failed snapshot, not an empty account.
"""

from __future__ import annotations

import threading
import time

from hub.broker.adapter import Broker, BrokerUnavailable
from hub.broker.connector import BrokerConnector


class SlowTrader:
    def __init__(self, gate: threading.Event, orders: list | None):
        self.gate, self.orders, self.thread = gate, orders, None

    def _q(self, value):
        self.thread = threading.current_thread()
        self.gate.wait(10)
        return value

    def query_stock_asset(self, acc):
        return self._q(None)

    def query_stock_orders(self, acc, cancelable_only=False):
        return self._q(self.orders)

    def query_stock_trades(self, acc):
        return self._q([])

    def query_stock_positions(self, acc):
        return self._q([])

    def query_account_status(self):
        return []

    def query_account_infos(self):
        return []


def _broker() -> Broker:
    return Broker("sim", "A1", lambda session: None, object, object(), None)


def test_snapshot_runs_on_the_connect_thread_and_never_blocks_the_caller():
    woken = threading.Event()
    connector = BrokerConnector(_broker(), woken.set)
    gate = threading.Event()
    trader = SlowTrader(gate, [])
    try:
        t0 = time.monotonic()
        assert connector.snapshot(trader, token=("reconnect", 3)) is True
        assert time.monotonic() - t0 < 0.1
        assert connector.snapshot(trader) is False  # one at a time
        time.sleep(0.2)
        assert connector.take_snapshot() is None and connector.snapshot_busy  # the broker is still thinking
        gate.set()
        assert woken.wait(5)
        snap = connector.take_snapshot()
        assert snap.token == ("reconnect", 3) and snap.reason == "" and snap.data["orders"] == []
        assert trader.thread is not threading.current_thread() and trader.thread.name == "hub-broker-connect"
        assert not connector.snapshot_busy and connector.take_snapshot() is None
    finally:
        gate.set()
        assert connector.close()


def test_a_failed_query_is_a_failed_snapshot_not_an_empty_account():
    woken = threading.Event()
    connector = BrokerConnector(_broker(), woken.set)
    gate = threading.Event()
    gate.set()
    try:
        assert connector.snapshot(SlowTrader(gate, None), token=1)  # query_stock_orders -> None
        assert woken.wait(5)
        snap = connector.take_snapshot()
        assert snap.data is None and "query_stock_orders" in snap.reason
    finally:
        assert connector.close()
    try:
        _broker().snapshot(SlowTrader(gate, None))
    except BrokerUnavailable as exc:
        assert "None" in str(exc)
    else:
        raise AssertionError("a failed query must not read as an empty account")


def _slow_snapshots(server, monkeypatch, seconds: float) -> list:
    calls = []
    real = server.broker.snapshot

    def slow(trader=None):
        calls.append(threading.current_thread().name)
        time.sleep(seconds)  # a broker slow to answer its queries (or dying mid-query)
        return real(trader)

    monkeypatch.setattr(server.broker, "snapshot", slow)
    return calls


def _slowest_ping(c, seconds: float) -> float:
    slowest, t_end = 0.0, time.monotonic() + seconds
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        assert c.call("ping", timeout=5.0) is not None
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.02)
    return slowest


def test_reconcile_after_a_reconnect_never_blocks_the_loop(make_hub, connect, monkeypatch):
    from core_helpers import exchange_of

    server = make_hub(reconnect_interval=0.2)
    c = connect(server)
    c.hello("alpha")
    calls = _slow_snapshots(server, monkeypatch, 1.5)
    exchange_of(server).disconnect_all()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "reconnecting", timeout=5)
    assert _slowest_ping(c, 1.5) < 0.5  # answered while the broker's queries take 1.5 s
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=10)
    assert calls and all(name == "hub-broker-connect" for name in calls), calls


def test_periodic_reconcile_never_blocks_the_loop(make_hub, connect, monkeypatch):
    server = make_hub(reconcile_interval=0.3)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    calls = _slow_snapshots(server, monkeypatch, 0.8)
    assert _slowest_ping(c, 2.0) < 0.4
    assert len(calls) >= 2 and all(name == "hub-broker-connect" for name in calls), calls
    oid = c.call("order_stock", {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100,
                                 "price_type": 11, "price": 9.5})["order_id"]
    assert oid > 0 and server.status()["broker"]["state"] == "up"
