"""Exactly-once, in-order event delivery; reconnects; ticks. Against the scripted fake hub."""

from __future__ import annotations

import threading
import time

from client_helpers import wait_for
from rpc_client import XtAsset, XtCancelError, XtOrder, XtOrderError, XtTrade


class Recorder:
    """A callback object with xtquant's method names that records what it gets, and on which thread."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def _rec(self, *item):
        with self.lock:
            self.calls.append(item)
            self.threads.add(threading.current_thread().name)

    def on_stock_order(self, o):
        self._rec("order", o.order_id)

    def on_stock_trade(self, t):
        self._rec("trade", t.traded_id)

    def on_order_error(self, e):
        self._rec("order_error", e.order_id, e.error_msg)

    def on_cancel_error(self, e):
        self._rec("cancel_error", e.order_id)

    def on_stock_position(self, p):
        self._rec("position", p.stock_code, p.volume)

    def on_stock_asset(self, a):
        self._rec("asset", a.cash)

    def on_account_status(self, s):
        self._rec("account", s.status)

    def on_connected(self):
        self._rec("connected")

    def on_disconnected(self):
        self._rec("disconnected")

    def of(self, *kinds):
        with self.lock:
            return [c for c in self.calls if c[0] in kinds]


def _orders(rec):
    return [c[1] for c in rec.of("order")]


def test_events_reach_the_right_callbacks_in_order(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1, "order_status": 50})
    fake_hub.publish("order.alpha2", {"order_id": 99})  # prefix of ours, but not ours
    fake_hub.publish("order.beta", {"order_id": 98})
    fake_hub.publish("trade.alpha", {"traded_id": "t1", "order_id": 1})
    fake_hub.publish("error.alpha", {"order_id": 2, "error_id": -1, "error_msg": "no money", "kind": "order"})
    fake_hub.publish("error.alpha", {"order_id": 1, "error_id": -1, "error_msg": "too late", "kind": "cancel"})
    fake_hub.publish("position", {"stock_code": "600000.SH", "volume": 100})
    fake_hub.publish("asset", {"cash": 5.0})
    fake_hub.publish("account", {"status": 0})
    want = [("connected",), ("order", 1), ("trade", "t1"), ("order_error", 2, "no money"), ("cancel_error", 1),
            ("position", "600000.SH", 100), ("asset", 5.0), ("account", 0)]
    assert wait_for(lambda: rec.calls == want), rec.calls
    assert rec.threads == {"rpc-client-callbacks"}


def test_assignment_subclass_and_on_event(make_gw, fake_hub):
    seen, raw = [], []
    gw = make_gw()
    gw.on_stock_order = lambda o: seen.append(type(o).__name__)
    gw.on_event = lambda topic, payload: raw.append((topic, payload["sseq"]))
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("trade.alpha", {"traded_id": "x"})
    assert wait_for(lambda: len(raw) == 2)
    assert seen == ["XtOrder"] and raw == [("order.alpha", 1), ("trade.alpha", 2)]

    from rpc_client import RpcGateway

    class Mine(RpcGateway):
        got: list = []

        def on_stock_trade(self, trade):
            self.got.append(isinstance(trade, XtTrade))

    from client_helpers import FAST
    m = Mine(fake_hub.rpc, fake_hub.pub, **FAST)
    try:
        m.connect(strategy="beta")
        fake_hub.publish("trade.beta", {"traded_id": "y"})
        assert wait_for(lambda: Mine.got == [True])
    finally:
        m.close()


def test_gap_is_filled_by_replay_in_order(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("order.alpha", {"order_id": 2}, drop=True)
    fake_hub.publish("order.alpha", {"order_id": 3}, drop=True)
    fake_hub.publish("order.alpha", {"order_id": 4})
    assert wait_for(lambda: _orders(rec) == [1, 2, 3, 4]), rec.calls
    assert any(p.get("stream") == "alpha" and p["after"] == 1 for p in fake_hub.methods("replay"))


def test_lost_last_event_is_caught_by_the_heads_in_ping_replies(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    fake_hub.publish("asset", {"cash": 1.0}, drop=True)
    assert wait_for(lambda: rec.of("asset") == [("asset", 1.0)], 3)


def test_duplicates_are_dropped(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    ev = fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.resend(ev)
    fake_hub.resend(ev)
    fake_hub.publish("order.alpha", {"order_id": 2})
    assert wait_for(lambda: _orders(rec) == [1, 2])
    time.sleep(0.2)
    assert _orders(rec) == [1, 2] and gw.stats()["duplicates"] >= 2


def test_new_client_starts_at_the_current_heads_and_can_resume(make_gw, fake_hub):
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("order.alpha", {"order_id": 2})
    rec = Recorder()
    make_gw(callback=rec).connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 3})
    assert wait_for(lambda: _orders(rec) == [3])
    rec2 = Recorder()
    make_gw(callback=rec2).connect(strategy="alpha-b", resume_from={"alpha-b": 0})
    rec3 = Recorder()
    gw3 = make_gw(callback=rec3)
    gw3.close()
    # resume: a restarted strategy that remembers where it was gets what it missed
    fake_hub.publish("order.gamma", {"order_id": 10})
    fake_hub.publish("order.gamma", {"order_id": 11})
    rec4 = Recorder()
    make_gw(callback=rec4).connect(strategy="gamma", resume_from={"gamma": 1})
    assert wait_for(lambda: _orders(rec4) == [11])


def test_replay_pages_with_more(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    fake_hub.replay_limit = 3
    fake_hub.publish("order.alpha", {"order_id": 0})
    for i in range(1, 10):
        fake_hub.publish("order.alpha", {"order_id": i}, drop=True)
    fake_hub.publish("order.alpha", {"order_id": 10})
    assert wait_for(lambda: _orders(rec) == list(range(11))), rec.calls
    assert len(fake_hub.methods("replay")) >= 3


def test_silent_hub_disconnects_then_reconnects_and_replays(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha", )
    gw.subscribe_quote(["600000.SH"])
    first_ids = {p["instance"] for p in fake_hub.methods("hello")}
    fake_hub.silent = True
    assert wait_for(lambda: rec.of("disconnected") == [("disconnected",)], 3)
    assert not gw.connected
    fake_hub.publish("order.alpha", {"order_id": 7})  # journaled while the client cannot hear
    fake_hub.silent = False
    assert wait_for(lambda: len(rec.of("connected")) == 2, 5)
    assert wait_for(lambda: _orders(rec) == [7])
    hellos = fake_hub.methods("hello")
    assert len(hellos) >= 2 and {p["instance"] for p in hellos} == first_ids  # same instance: takes over
    assert wait_for(lambda: "600000.SH" in fake_hub.quotes.get("alpha", set()))
    assert gw.query_stock_asset().cash == 1e6
    # on_connected comes after the replayed events were delivered
    kinds = [c[0] for c in rec.calls]
    assert kinds == ["connected", "disconnected", "order", "connected"] or \
        kinds == ["connected", "disconnected", "connected", "order"]


def test_hub_restart_with_new_hub_id_rehellos_and_resubscribes(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="alpha")
    gw.subscribe_quote("600000.SH")
    old = gw.hub_id
    fake_hub.publish("order.alpha", {"order_id": 1})
    assert wait_for(lambda: _orders(rec) == [1])
    fake_hub.stop()
    fake_hub.sessions.clear()
    fake_hub.quotes.clear()
    fake_hub.journal.append({"seq": fake_hub.seq + 1, "stream": "alpha", "sseq": 2, "ts": 0.0,
                             "hub_id": "x", "topic": "order.alpha", "data": {"order_id": 2}})
    fake_hub.seq += 1
    fake_hub.heads["alpha"] = 2
    fake_hub.restart(new_hub_id=True)
    assert wait_for(lambda: gw.hub_id == fake_hub.hub_id and gw.hub_id != old, 5)
    assert wait_for(lambda: _orders(rec) == [1, 2], 5), rec.calls
    assert wait_for(lambda: fake_hub.quotes.get("alpha") == {"600000.SH"}, 5)
    fake_hub.publish("order.alpha", {"order_id": 3})
    assert wait_for(lambda: _orders(rec) == [1, 2, 3])


def test_no_session_reply_rehellos_and_the_call_goes_through(make_gw, fake_hub):
    gw = make_gw()
    gw.connect(strategy="alpha")
    n = len(fake_hub.methods("hello"))
    fake_hub.do(fake_hub.sessions.clear)
    assert gw.query_stock_asset().cash == 1e6
    assert len(fake_hub.methods("hello")) == n + 1


def test_in_flight_calls_survive_a_reconnect(make_gw, fake_hub):
    gw = make_gw(timeout=4.0)
    gw.connect(strategy="alpha")
    fake_hub.silent = True
    fut = gw.query_stock_asset_async()
    time.sleep(0.8)  # the client declares the hub dead meanwhile
    fake_hub.silent = False
    assert fut.result(5).cash == 1e6


def test_ticks_exact_codes_and_missed_count(make_gw, fake_hub):
    ticks = []
    gw = make_gw()
    gw.on_tick = lambda code, tick: ticks.append((code, tick["lastPrice"]))
    gw.connect(strategy="alpha")
    assert gw.subscribe_quote(["600000.SH"]) == {"codes": ["600000.SH"]}
    time.sleep(0.2)  # let the SUB filter reach the publisher
    fake_hub.tick("600000.SH", 1)
    fake_hub.tick("600000.SHX", 1, {"lastPrice": 1.0})  # prefix match only: filtered out
    fake_hub.tick("600000.SH", 2)
    fake_hub.tick("600000.SH", 5)  # 3 and 4 lost
    assert wait_for(lambda: len(ticks) == 3)
    assert ticks == [("600000.SH", 10.0)] * 3
    assert gw.missed_ticks == {"600000.SH": 2} and gw.missed_ticks_total == 2
    assert wait_for(lambda: any(p.get("stats", {}).get("missed_ticks") == 2 for p in fake_hub.methods("ping")))
    gw.unsubscribe_quote(["600000.SH"])
    time.sleep(0.2)
    fake_hub.tick("600000.SH", 6)
    time.sleep(0.2)
    assert len(ticks) == 3


def test_whole_market_ticks(make_gw, fake_hub):
    """A followed market comes as `ticks.<market>` batches: on_ticks once per batch, on_tick per code."""
    ticks, batches = [], []
    gw = make_gw()
    gw.on_tick = lambda code, tick: ticks.append(code)
    gw.on_ticks = batches.append
    gw.connect(strategy="alpha")
    gw.subscribe_whole_quote(["SZ"])
    time.sleep(0.2)
    fake_hub.batch("SZ", {"000001.SZ": (1, {"lastPrice": 11.0}), "300750.SZ": (1, {"lastPrice": 200.0})})
    fake_hub.batch("SH", {"600000.SH": (1, {"lastPrice": 10.0})})  # a market not followed
    fake_hub.tick("000002.SZ", 1)  # a single tick of the market: not this client's filter
    assert wait_for(lambda: ticks == ["000001.SZ", "300750.SZ"])
    assert batches == [{"000001.SZ": {"lastPrice": 11.0}, "300750.SZ": {"lastPrice": 200.0}}]


def test_a_code_followed_by_itself_and_through_its_market_is_delivered_once(make_gw, fake_hub):
    ticks, batches = [], []
    gw = make_gw()
    gw.on_tick = lambda code, tick: ticks.append((code, tick["lastPrice"]))
    gw.on_ticks = batches.append
    gw.connect(strategy="alpha")
    gw.subscribe_quote(["000001.SZ"])
    gw.subscribe_whole_quote(["SZ"])
    time.sleep(0.2)
    # the hub sends the code's own frame, then the batch with the same tseq
    fake_hub.tick("000001.SZ", 1, {"lastPrice": 11.0})
    fake_hub.batch("SZ", {"000001.SZ": (1, {"lastPrice": 11.0}), "300750.SZ": (1, {"lastPrice": 200.0})})
    fake_hub.batch("SZ", {"000001.SZ": (2, {"lastPrice": 11.1})})
    fake_hub.tick("000001.SZ", 2, {"lastPrice": 11.1})
    assert wait_for(lambda: len(batches) == 2)
    time.sleep(0.2)
    assert ticks == [("000001.SZ", 11.0), ("300750.SZ", 200.0), ("000001.SZ", 11.1)]
    assert batches[0] == {"000001.SZ": {"lastPrice": 11.0}, "300750.SZ": {"lastPrice": 200.0}}
    assert gw.missed_ticks_total == 0


def test_slow_callback_does_not_stall_the_socket_thread(make_gw, fake_hub):
    rec = Recorder()
    release = threading.Event()
    gw = make_gw(callback=rec, max_pending_ticks=5)
    gw.on_tick = lambda code, tick: release.wait(5)
    gw.connect(strategy="alpha")
    gw.subscribe_quote(["600000.SH"])
    time.sleep(0.2)
    for i in range(1, 21):
        fake_hub.tick("600000.SH", i)
    for i in range(5):
        fake_hub.publish("order.alpha", {"order_id": i})
    time.sleep(1.0)  # longer than dead_after: heartbeats still flow while the callback blocks
    assert gw.connected and gw.query_stock_asset().cash == 1e6
    assert rec.of("disconnected") == []
    assert wait_for(lambda: gw.dropped_ticks >= 14)
    release.set()
    assert wait_for(lambda: _orders(rec) == [0, 1, 2, 3, 4])  # account events are never dropped


def test_monitor_follows_the_global_seq(make_gw, fake_hub):
    rec = Recorder()
    gw = make_gw(callback=rec)
    gw.connect(strategy="mon", role="monitor")
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("order.beta", {"order_id": 2}, drop=True)
    fake_hub.publish("asset", {"cash": 3.0})
    assert wait_for(lambda: _orders(rec) == [1, 2] and rec.of("asset") == [("asset", 3.0)])
    assert any(p.get("stream") is None for p in fake_hub.methods("replay"))


def test_records_behave_like_xtquant_objects_and_dicts():
    o = XtOrder({"order_id": 5, "stock_code": "600000.SH", "client_order_id": "c1"})
    assert o.order_id == 5 and o.order_status is None and o.account_type == 2
    assert o.client_order_id == "c1" and o["stock_code"] == "600000.SH"
    assert o.to_dict()["client_order_id"] == "c1" and XtOrder(o.to_dict()) == o
    assert XtAsset.from_dict(None) is None
    assert XtOrderError({"error_msg": "x"}).error_msg == "x" and XtCancelError().order_sysid is None
    assert "order_id=5" in repr(o)
