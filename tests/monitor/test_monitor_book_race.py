"""The 10 s book re-read must never undo an event the monitor already applied (deterministic)."""

from __future__ import annotations

from monitor_fakehub import FakeHub, FakeLink
from monitor_sample import ev, order

from hub.monitor.feed import Feed
from hub.monitor.state import MonitorState

T0 = 1_763_700_000.0


def fresh() -> MonitorState:
    s = MonitorState(rpc="tcp://127.0.0.1:5555")
    s.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)], taken_at=T0 - 10)
    return s


def test_event_then_older_snapshot_keeps_the_event_state():
    s = fresh()
    filled = order(7, "alpha", "600000.SH", 56, vol=200, traded=200, t=T0 - 60)
    s.apply_event("order.alpha", ev("order.alpha", filled, seq=11), T0 + 1)
    # a snapshot whose read began before the event arrived still says "reported, nothing filled"
    s.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)], taken_at=T0)
    assert s.orders[7]["order_status"] == 56 and s.orders[7]["traded_volume"] == 200


def test_snapshot_never_moves_an_order_backwards_even_when_newer():
    """The hub's rule (hub/core/book.py): traded_volume never decreases, a final state is final."""
    s = fresh()
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 55, vol=200, traded=100,
                                                         t=T0 - 60), seq=11), T0 + 1)
    s.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, traded=0, t=T0 - 60)], taken_at=T0 + 5)
    assert (s.orders[7]["order_status"], s.orders[7]["traded_volume"]) == (55, 100)
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 54, vol=200, traded=100,
                                                         t=T0 - 60), seq=12), T0 + 6)
    s.apply_orders([order(7, "alpha", "600000.SH", 55, vol=200, traded=100, t=T0 - 60)], taken_at=T0 + 9)
    assert s.orders[7]["order_status"] == 54  # cancelled is final


def test_newer_snapshot_still_wins_over_older_events():
    s = fresh()
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 51, vol=200, t=T0 - 60),
                                    seq=11), T0 + 1)
    # read began after the event: the snapshot is the newer word (e.g. the cancel went through)
    s.apply_orders([order(7, "alpha", "600000.SH", 54, vol=200, t=T0 - 60)], taken_at=T0 + 2)
    assert s.orders[7]["order_status"] == 54
    # a status the monotonic rule cannot order (50 -> 51, cancel pending) is kept by time
    s2 = fresh()
    s2.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 51, vol=200, t=T0 - 60),
                                     seq=11), T0 + 1)
    s2.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)], taken_at=T0)
    assert s2.orders[7]["order_status"] == 51


def test_orders_fills_positions_and_asset_that_arrived_during_the_read_are_kept():
    s = fresh()
    s.apply_positions([{"stock_code": "600000.SH", "volume": 100}], taken_at=T0 - 10)
    s.apply_asset({"cash": 1000.0}, taken_at=T0 - 10)
    s.apply_event("order.beta", ev("order.beta", order(8, "beta", "000001.SZ", 50, t=T0 + 1), seq=12), T0 + 1)
    s.apply_event("trade.alpha", ev("trade.alpha", {"traded_id": "T9", "order_id": 7, "owner": "alpha",
                                                    "stock_code": "600000.SH", "traded_volume": 200}, seq=13), T0 + 1)
    s.apply_event("position", ev("position", {"stock_code": "600000.SH", "volume": 300}, seq=14), T0 + 1)
    s.apply_event("position", ev("position", {"stock_code": "000002.SZ", "volume": 0}, seq=15), T0 + 1)
    s.apply_event("asset", ev("asset", {"cash": 500.0}, seq=16), T0 + 1)
    s.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)], taken_at=T0)
    s.apply_trades([], taken_at=T0)
    s.apply_positions([{"stock_code": "600000.SH", "volume": 100}, {"stock_code": "000002.SZ", "volume": 50}],
                      taken_at=T0)
    s.apply_asset({"cash": 1000.0}, taken_at=T0)
    assert set(s.orders) == {7, 8}
    assert list(s.trades) == [("T9", 7)]
    assert s.positions == {"600000.SH": {"stock_code": "600000.SH", "volume": 300}}
    assert s.asset["cash"] == 500.0
    # the next read (begun after those events) is the truth again
    s.apply_orders([order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)], taken_at=T0 + 10)
    s.apply_positions([{"stock_code": "600000.SH", "volume": 100}], taken_at=T0 + 10)
    s.apply_asset({"cash": 1000.0}, taken_at=T0 + 10)
    assert set(s.orders) == {7} and s.positions["600000.SH"]["volume"] == 100 and s.asset["cash"] == 1000.0


def test_older_event_and_replayed_history_do_not_roll_an_order_back():
    s = fresh()
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 51, vol=200, t=T0 - 60),
                                    seq=20), T0 + 1)
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60),
                                    seq=19), T0 + 2)
    assert s.orders[7]["order_status"] == 51
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60),
                                    seq=3), T0 + 3, history=True)
    assert s.orders[7]["order_status"] == 51


def test_an_order_id_reused_on_another_day_is_not_held_back():
    s = fresh()
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 56, vol=200, traded=200,
                                                         t=T0 - 60), seq=11), T0 + 1)
    s.apply_orders([order(7, "alpha", "000001.SZ", 50, vol=100, t=T0 + 86400)], taken_at=T0 + 86400)
    assert s.orders[7]["stock_code"] == "000001.SZ" and s.orders[7]["order_status"] == 50


class RacingLink(FakeLink):
    """Delivers an order event (as the client library's callback thread would) while a book read is in flight."""

    race: dict | None = None

    def call(self, method, **params):
        result = super().call(method, **params)
        if method == "query_stock_orders" and self.race is not None:
            payload, self.race = self.race, None
            self.on_event("order.alpha", payload)
        return result


def test_feed_event_during_the_book_read_survives_the_snapshot():
    hub = FakeHub()
    clock = [T0]
    links: list[RacingLink] = []

    def make_link():
        lk = RacingLink(hub, "tcp://127.0.0.1:5555", "monitor", "")
        links.append(lk)
        return lk

    state = MonitorState(rpc="tcp://127.0.0.1:5555")
    feed = Feed(state, make_link, clock=lambda: clock[0], book_every=10.0)
    reported = order(7, "alpha", "600000.SH", 50, vol=200, t=T0 - 60)
    hub.results["query_stock_orders"] = [reported]
    feed.step()
    assert state.orders[7]["order_status"] == 50

    # 10 s later the book is read again; the hub's answer is from just before the fill, and the fill's
    # event arrives while the read is in flight
    clock[0] = T0 + 10.5
    filled = order(7, "alpha", "600000.SH", 56, vol=200, traded=200, t=T0 - 60)
    links[-1].race = ev("order.alpha", filled, seq=5, hub_id="h-1")
    feed.step()
    assert state.orders[7]["order_status"] == 56 and state.orders[7]["traded_volume"] == 200
    clock[0] = T0 + 10.6
    feed.step()
    assert state.orders[7]["order_status"] == 56
    feed.stop()


def test_snapshot_ahead_of_an_event_that_arrived_during_the_read_wins():
    """The event socket may lag the reply: an event applied during the read can be older than the snapshot."""
    s = fresh()
    s.apply_event("order.alpha", ev("order.alpha", order(7, "alpha", "600000.SH", 55, vol=200, traded=100,
                                                         t=T0 - 60), seq=11), T0 + 1)
    s.apply_orders([order(7, "alpha", "600000.SH", 56, vol=200, traded=200, t=T0 - 60)], taken_at=T0)
    assert (s.orders[7]["order_status"], s.orders[7]["traded_volume"]) == (56, 200)
