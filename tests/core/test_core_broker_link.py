"""BrokerLink without sockets: a fake trader behind the real Broker and connect thread.

The link's job: one live trader, the published broker state, reconnect by generations, and
the reconcile that brings the book in line. The loop's mailbox is a list here: the test plays
the loop and hands each item to the link the way the server's mail table does.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from rpc_client.protocol import ErrorCode, HubError

from hub.broker.adapter import Broker, _Account
from hub.core.book import Book
from hub.core.broker_events import BrokerEvents
from hub.core.broker_link import BROKER_DOWN, BROKER_RECONNECTING, BROKER_UP, BrokerLink

pytestmark = pytest.mark.timeout(30)


class FakeTrader:
    """The XtQuantTrader subset the Broker calls; `rc` is what connect() returns."""

    def __init__(self, session: int, rc: int = 0, orders: list | None = None):
        self.session, self.rc = session, rc
        self.callback: Any = None
        self.started = self.stopped = False
        self.stop_thread: str | None = None
        self.connected = True
        self.orders = orders or []

    def register_callback(self, cb: Any) -> None:
        self.callback = cb

    def start(self) -> None:
        self.started = True

    def connect(self) -> int:
        return self.rc

    def subscribe(self, account: Any) -> int:
        return 0

    def stop(self) -> None:
        self.stopped = True
        self.stop_thread = threading.current_thread().name

    def query_stock_asset(self, acc: Any) -> dict:
        return {"account_id": "A1", "cash": 1000.0, "total_asset": 1000.0}

    def query_stock_orders(self, acc: Any, cancelable_only: bool) -> list:
        return list(self.orders)

    def query_stock_trades(self, acc: Any) -> list:
        return []

    def query_stock_positions(self, acc: Any) -> list:
        return [{"stock_code": "600000.SH", "volume": 100}]

    def query_account_status(self) -> list:
        return [{"account_id": "A1", "status": 0}, {"account_id": "OTHER", "status": 0}]

    def query_account_infos(self) -> list:
        return [{"account_id": "A1"}]


class Recorder:
    """Publisher and desk stand-ins: what the link told them."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []
        self.lost: list[str] = []
        self.seen: list[tuple[Any, Any]] = []

    def publish(self, topic: str, data: Any) -> None:
        self.published.append((topic, data))

    def broker_lost(self, reason: str) -> None:
        self.lost.append(reason)

    def seen_at_broker(self, tag: Any, order_id: Any) -> None:
        self.seen.append((tag, order_id))

    def states(self) -> list[str]:
        return [d["state"] for t, d in self.published if t == "hub.broker"]


class FakeQuotes:
    def __init__(self, refs: int = 0):
        self.refs = {("quote", f"{i:06d}.SH"): {"k"} for i in range(refs)}
        self.missing = 0
        self.resubscribed = 0

    def resubscribe(self, only_missing: bool = False) -> int:
        self.resubscribed += 1
        return len(self.refs)


class Rig:
    def __init__(self, rcs: list[int] | None = None, max_attempts: int = 0, quotes: int = 0,
                 orders: list | None = None):
        self.rcs = list(rcs or [])
        self.traders: list[FakeTrader] = []
        self.mail: list[tuple[str, Any]] = []
        self.mail_ready = threading.Event()
        self.rec = Recorder()
        self.book = Book()
        self.orders = orders

        def factory(session: int) -> FakeTrader:
            t = FakeTrader(session, self.rcs.pop(0) if self.rcs else 0, self.orders)
            self.traders.append(t)
            return t

        self.broker = Broker("fake", "A1", factory, type("CB", (), {}), _Account("A1"), None, where="memory")
        self.quotes = FakeQuotes(quotes)
        events = BrokerEvents(self.book, self.rec, self.rec)
        config = SimpleNamespace(broker="sim", reconnect_max_attempts=max_attempts, reconnect_interval=0.0,
                                 reconnect_max_interval=0.0)  # no backoff between the test's attempts
        self.link = BrokerLink(self.broker, config, self.rec, self.rec, events, self.quotes, self.post)

    def post(self, kind: str, payload: Any = None) -> None:
        self.mail.append((kind, payload))
        self.mail_ready.set()

    def wait_attempt(self) -> None:
        """Play the loop: hand each outcome of the connect thread (the attempt, then the
        reconnect's snapshot) to the link as it arrives, until nothing is running there."""
        assert self.link.connector.wait(5), "the connect attempt never finished"
        connector = self.link.connector
        while True:
            assert self.mail_ready.wait(5), "the connect thread never woke the loop"
            assert "broker_attempt" in [k for k, _ in self.mail]
            self.mail.clear()
            self.mail_ready.clear()
            self.link.apply_attempt()
            if not connector.busy and not connector.snapshot_busy:
                return

    def up(self) -> None:
        """The start, as the server does it (the first attempt's wake-up is not applied again)."""
        self.link.connect_first(lambda: False)
        self.link.synced = True  # what the server's start reconcile sets (this rig skips that reconcile)
        self.link.set_state(BROKER_UP, "connected")
        self.mail.clear()
        self.mail_ready.clear()

    def close(self) -> None:
        self.link.close()


@pytest.fixture
def rig():
    made: list[Rig] = []

    def make(**kw: Any) -> Rig:
        r = Rig(**kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_first_connect_reconcile_and_up(rig):
    r = rig(orders=[{"order_id": 7, "order_remark": "", "order_status": 50, "traded_volume": 0}])
    r.link.connect_first(lambda: False)
    assert r.broker.has_trader and r.traders[0].started
    assert r.link.down_error() is not None  # connected, but not said up yet
    r.link.reconcile()
    r.link.set_state(BROKER_UP, "connected")
    assert r.link.is_up and r.link.down_error() is None
    r.link.require_up()
    topics = [t for t, _ in r.rec.published]
    # the other account's status is not ours; nothing is published twice
    assert topics == ["asset", "position", "order._external", "account", "hub.broker"]
    assert r.book.account_infos == [{"account_id": "A1"}] and r.rec.seen == [("", 7)]
    r.link.reconcile()  # nothing changed at the broker: no new events
    assert len(r.rec.published) == 5
    assert r.link.status_counters() == {"broker_reconnects": 0}


def test_first_connect_failure_leaves_the_broker_down_with_the_reason_and_the_next_attempt_connects(rig):
    """The hub starts when the broker is not there yet (MiniQMT starts later): down, why, and a later connect."""
    r = rig(rcs=[-1])
    assert r.link.connect_first(lambda: False) is False
    assert r.traders[0].stopped and not r.broker.has_trader
    state = r.link.state
    assert state["state"] == "down" and "not connected since start" in state["reason"]
    assert "returned -1" in state["reason"] and "next try in" in state["reason"]
    assert r.rec.published[-1] == ("hub.broker", state)  # said once, on hub.broker
    err = r.link.down_error()
    assert err is not None and err.code == "BROKER_DOWN" and "returned -1" in err.message
    with pytest.raises(HubError) as known:  # account queries too: the book knows nothing of the broker yet
        r.link.require_known()
    assert known.value.code == "BROKER_DOWN" and "not reached the broker since it started" in known.value.message
    r.link.maybe_reconnect()  # the timer: the next attempt (no backoff in this rig)
    r.wait_attempt()
    assert r.link.is_up and r.link.state["reason"] == "connected" and r.link.synced
    assert r.link.status_counters() == {"broker_reconnects": 0}  # a first connect, not a reconnect
    r.link.require_known()
    assert r.rec.states()[-2:] == ["reconnecting", "up"]


def test_disconnect_reconnect_generations_and_resubscribe(rig):
    r = rig(quotes=3)
    r.up()
    first = r.traders[0]
    # the trader's callback carries its generation
    first.callback.on_disconnected()
    assert r.mail == [("disconnected", 1)]
    r.link.on_disconnected(r.mail.pop()[1])
    assert r.rec.lost == ["the broker reported a disconnect"] and r.link.state["state"] == BROKER_DOWN
    with pytest.raises(HubError) as info:
        r.link.require_up()
    assert info.value.code == ErrorCode.BROKER_DOWN and info.value.data["broker"]["state"] == BROKER_DOWN
    r.link.maybe_reconnect()
    assert r.link.state["state"] == BROKER_RECONNECTING and r.link.reconnect_attempts == 1
    r.link.maybe_reconnect()  # one attempt at a time
    assert r.link.reconnect_attempts == 1
    r.wait_attempt()
    assert r.rec.states() == [BROKER_UP, BROKER_DOWN, BROKER_RECONNECTING, BROKER_UP]
    assert r.link.reconnects == 1 and r.link.reconnect_attempts == 0 and r.quotes.resubscribed == 1
    # the old trader was stopped on the connect thread, never on the loop's
    assert first.stopped and first.stop_thread == "hub-broker-connect"
    # a late disconnect of the replaced trader (generation 1) cannot mark its successor down
    r.link.on_disconnected(1)
    assert r.link.is_up and len(r.rec.lost) == 1
    r.link.maybe_reconnect()  # up: nothing to do
    assert len(r.traders) == 2


def test_a_disconnect_before_the_attempt_is_applied_discards_it(rig):
    r = rig()
    r.up()
    r.link.lost("test")
    r.link.maybe_reconnect()
    assert r.link.connector.wait(5)
    r.link.on_disconnected(2)  # generation 2: the attempt whose outcome the loop has not applied yet
    r.wait_attempt()
    assert r.link.state["state"] == BROKER_RECONNECTING
    assert "disconnected right after connecting" in r.link.state["reason"]
    assert not r.broker.has_trader


def test_gives_up_after_the_configured_attempts(rig):
    r = rig(rcs=[0, -1, -1], max_attempts=2)
    r.up()
    r.link.lost("test")
    for n in (1, 2):
        r.link.maybe_reconnect()
        r.wait_attempt()
        assert r.link.reconnect_attempts == n
    assert r.link.gave_up and r.link.state["state"] == BROKER_DOWN
    assert "gave up after 2 reconnect attempts" in r.link.state["reason"]
    r.link.maybe_reconnect()
    assert len(r.traders) == 3  # no further attempt


def test_on_push_converts_on_the_broker_thread_and_posts(rig):
    r = rig()
    r.link.on_push("order", SimpleNamespace(order_id=5, order_status=50))
    r.link.on_push("disconnected", None, 4)
    assert r.mail == [("order", {"order_id": 5, "order_status": 50}), ("disconnected", 4)]
