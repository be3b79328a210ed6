"""The sleeves ledger: reservations settle to the cent, T+1, allotments, the pool, replay after a crash."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_helpers import BUY, CODE, SELL, engine, place, push_order, push_trade  # noqa: E402

from hub.risk import POOL, LedgerError, RiskEngine  # noqa: E402
from hub.risk.config import parse  # noqa: E402
from hub.risk.ledger import Ledger, to_cents  # noqa: E402


def test_buy_partly_filled_then_cancelled_returns_the_reservation_to_the_cent():
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    s = e.ledger.sleeve("alpha")
    o = place(e, "alpha", "t1", volume=3000, price=10.01)
    assert s.reserved_cash == o.cash == 3_003_000 + 751 + 30  # 30,030.00 + commission 7.51 + transfer 0.30
    push_order(e, "t1", "alpha", 5, 50)
    push_trade(e, "t1", "alpha", 5, "a", BUY, 700, 10.01, 5.07)
    push_trade(e, "t1", "alpha", 5, "b", BUY, 1100, 10.0, 2.82)
    assert 0 < s.reserved_cash < o.cash
    push_order(e, "t1", "alpha", 5, 53, 1800)  # part cancelled
    assert s.reserved_cash == 0 and not e.ledger.reservations
    spent = to_cents(7007.0) + 507 + to_cents(11000.0) + 282
    assert s.cash == 10_000_000 - spent
    assert s.holdings[CODE].volume == 1800 and s.holdings[CODE].sellable == 0
    assert s.holdings[CODE].cost == spent and s.fees == 789


def test_final_state_before_the_last_fill_keeps_what_the_fill_needs():
    e, _ = engine(strategies={"alpha": {"cash": 100_000, "positions": {CODE: 1000}}})
    s = e.ledger.sleeve("alpha")
    place(e, "alpha", "t1", side=SELL, volume=1000, price=10.0)
    push_order(e, "t1", "alpha", 5, 56, 1000)  # filled, the trade not here yet
    assert s.holdings[CODE].reserved == 1000 and "t1" in e.ledger.reservations
    push_trade(e, "t1", "alpha", 5, "a", SELL, 1000, 10.0, 10.1)
    assert s.holdings.get(CODE) is None or s.holdings[CODE].volume == 0
    assert not e.ledger.reservations
    assert s.cash == 10_000_000 + 1_000_000 - 1010
    assert s.realized == 1_000_000 - 1010 - 900_000  # allotted at the pool's cost 9.00


def test_rejection_and_refused_placement_release_everything():
    e, _ = engine()
    pool = e.ledger.pool
    place(e, "alpha", "t1", volume=1000)
    place(e, "beta", "t2", side=SELL, volume=500, price=10.5)
    assert pool.reserved_cash > 0 and pool.holdings[CODE].reserved == 500
    push_order(e, "t1", "alpha", 5, 57)  # junk
    e.placement_failed("t2")  # order_stock_async returned -1
    assert pool.reserved_cash == 0 and pool.holdings[CODE].reserved == 0 and not e.ledger.reservations
    assert pool.cash == 100_000_000


def test_a_fill_seen_twice_books_once():
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    place(e, "alpha", "t1", volume=100)
    for _ in range(2):
        push_trade(e, "t1", "alpha", 5, "a", BUY, 100, 10.0, 5.01)
    assert e.ledger.sleeve("alpha").holdings[CODE].volume == 100


def test_unallotted_strategies_share_the_pool_and_cannot_overdraw_it():
    e, _ = engine(cash=30_000, positions={CODE: 1000})
    place(e, "alpha", "t1", volume=1000)  # 10,005.10
    place(e, "beta", "t2", volume=1000)
    from risk_helpers import refused
    r = refused(e, "gamma", volume=1000)
    assert (r.check, r.limit) == ("sleeve_cash", 9_989.8)
    place(e, "alpha", "t3", side=SELL, volume=600, price=10.5)
    r = refused(e, "beta", side=SELL, volume=500, price=10.5)
    assert (r.check, r.limit, r.value) == ("sleeve_position", 400, 500)


def test_sale_proceeds_return_where_the_cash_came_from():
    e, _ = engine(strategies={"alpha": {"cash": 50_000}})
    place(e, "gamma", "t1", side=SELL, volume=100)  # gamma: no allotment, sells pool shares
    push_trade(e, "t1", "gamma", 5, "a", SELL, 100, 10.0, 5.51)
    assert e.ledger.pool.cash == 95_000_000 + 100_000 - 551
    assert e.ledger.sleeve("gamma").realized == 100_000 - 551 - 90_000


def test_allot_more_than_the_pool_holds_is_refused_with_the_figures():
    e, _ = engine(cash=1000)
    with pytest.raises(LedgerError, match=r"_external has 1,000.00 free cash .* cannot move 2,000.00 to alpha"):
        e.allot("alpha", cash=2000)
    with pytest.raises(LedgerError, match=r"_external holds 10000 600000.SH .* cannot move 20000 to alpha"):
        e.allot("alpha", code=CODE, volume=20000)
    e.allot("alpha", cash=600)
    e.transfer("alpha", "beta", cash=100)
    assert [e.ledger.sleeve(n).cash for n in (POOL, "alpha", "beta")] == [40_000, 50_000, 10_000]
    e.allot("alpha", code=CODE, volume=300)
    e.transfer("alpha", "beta", code=CODE, volume=100)
    assert e.ledger.sleeve("beta").holdings[CODE].sellable == 100
    assert e.ledger.sleeve("beta").has_shares and e.ledger.sleeve("beta").has_cash


def test_config_allotment_applies_once_then_only_changes():
    e, recs = engine(strategies={"alpha": {"cash": 200_000, "positions": {CODE: 1000}}})
    assert e.ledger.sleeve("alpha").cash == 20_000_000
    n = len(recs)
    assert e.apply_config() == [] and len(recs) == n
    e.config_limits = parse({}, {"alpha": {"cash": 250_000, "positions": {CODE: 400}}}).strategies
    assert e.apply_config() == []
    s = e.ledger.sleeve("alpha")
    assert s.cash == 25_000_000 and s.holdings[CODE].volume == 400
    assert e.ledger.pool.holdings[CODE].volume == 9600


def test_config_allotment_beyond_the_pool_is_reported_not_applied():
    e, _ = engine(cash=1000)
    e.config_limits = parse({}, {"alpha": {"cash": 5000}}).strategies
    problems = e.apply_config()
    assert problems and "cannot move 5,000.00" in problems[0]
    assert e.ledger.sleeve("alpha").cash == 0


def test_replaying_the_records_rebuilds_the_same_state():
    e, recs = engine(strategies={"alpha": {"cash": 100_000, "positions": {CODE: 500}}})
    place(e, "alpha", "t1", volume=1000)
    push_trade(e, "t1", "alpha", 5, "a", BUY, 400, 10.0, 5.0)
    place(e, "alpha", "t2", side=SELL, volume=200, price=10.5)
    place(e, "beta", "t3", volume=100, price=9.5)
    e.on_cancel("beta")
    e.set_limits("beta", {"max_order_volume": 900})
    again = RiskEngine(parse({}, {"alpha": {"cash": 100_000, "positions": {CODE: 500}}}))
    again.restore(None, recs)
    assert again.ledger.to_dict() == e.ledger.to_dict()
    assert again.limits_of("beta").max_order_volume == 900
    assert set(again.resting.by_key) == {"t1", "t2", "t3"}
    # from a snapshot plus the records after it
    snap = Ledger.from_dict(e.ledger.to_dict()).to_dict()
    place(e, "alpha", "t4", volume=100, price=9.0)
    later = [r for r in recs if r not in recs[:len(recs) - 1]]
    third = RiskEngine()
    third.restore(snap, later)
    assert third.ledger.to_dict() == e.ledger.to_dict()


def test_reconcile_books_a_confirmed_difference_to_the_pool_never_a_strategy():
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    alpha = dict(e.ledger.sleeve("alpha").__dict__)
    asset = {"cash": 1_000_000 - 10_005.1, "frozen_cash": 0.0}
    positions = [{"stock_code": CODE, "volume": 11000, "can_use_volume": 10000, "avg_price": 9.0}]
    first = e.reconcile(asset, positions)
    assert first["pending"] and not first["booked"]  # seen once: may be a fill racing the queries
    second = e.reconcile(asset, positions)
    assert second["booked"] == [{"to": POOL, "cash": -10_005.1, "why": "reconciliation"},
                                {"to": POOL, "code": CODE, "volume": 1000, "why": "reconciliation"}]
    assert e.reconcile(asset, positions)["ok"]
    assert dict(e.ledger.sleeve("alpha").__dict__) == alpha
    ph = e.ledger.pool.holdings[CODE]
    assert (ph.volume, ph.sellable) == (11000, 10000)


def test_external_fills_go_to_the_pool():
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    e.on_trade({"owner_tag": "", "owner": POOL, "order_id": 77, "traded_id": "z", "order_type": BUY,
                "stock_code": CODE, "traded_volume": 100, "traded_amount": 1000.0, "commission": 5.01})
    assert e.ledger.pool.holdings[CODE].volume == 10100 and e.ledger.pool.cash == 90_000_000 - 100_501
    assert e.ledger.externals[0]["booked_to"] == POOL and e.ledger.externals[0]["order_id"] == 77
    assert e.ledger.sleeve("alpha").cash == 10_000_000


def test_the_day_roll_releases_what_open_orders_still_held():
    e, recs = engine(strategies={"alpha": {"cash": 100_000, "positions": {CODE: 500}}})
    place(e, "alpha", "t1", volume=1000)
    place(e, "alpha", "t2", side=SELL, volume=200, price=10.5)
    e.roll("20261203")
    s = e.ledger.sleeve("alpha")
    assert s.reserved_cash == 0 and s.holdings[CODE].reserved == 0 and not e.ledger.reservations
    again = RiskEngine()
    again.restore(None, recs)
    assert again.ledger.to_dict() == e.ledger.to_dict()


def test_floating_pnl_is_last_price_times_volume_minus_the_cost_with_buy_fees():
    # docs/risk.md: floating P&L = last price x volume - cost, the cost in cents with the buy fees;
    # the last price is the hub's latest tick of the code (stage.reference_from, as wired in the hub)
    from hub.risk.stage import reference_from

    latest: dict = {}
    e = RiskEngine(parse({}, {"alpha": {"cash": 100_000}}), reference=reference_from(latest, {}))
    e.roll("20261202")
    e.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])
    assert e.apply_config() == []
    latest[CODE] = {"lastPrice": 10.0, "lastClose": 10.0}
    place(e, "alpha", "t1", volume=1000, price=10.01)
    push_trade(e, "t1", "alpha", 5, "a", BUY, 400, 10.0, 5.0)  # 4,000.00 + 5.00
    push_trade(e, "t1", "alpha", 5, "b", BUY, 600, 10.01, 1.55)  # 6,006.00 + 1.55
    push_order(e, "t1", "alpha", 5, 56, 1000)
    cost = 4000_00 + 500 + 6006_00 + 155  # cents: 10,012.55

    def floating() -> tuple[float, float, float]:
        s = e.sleeves_view(["alpha"])[0]
        p = e.sleeve_position("alpha", CODE)
        assert s["floating_pnl"] == p["float_profit"] and s["market_value"] == p["market_value"]
        return s["floating_pnl"], p["market_value"], p["last_price"]

    assert e.ledger.sleeve("alpha").holdings[CODE].cost == cost
    assert floating() == (-12.55, 10_000.0, 10.0)  # 10,000.00 - 10,012.55: the fees and 0.01 on 600
    latest[CODE] = {"lastPrice": 10.37, "lastClose": 10.0}  # a tick moves the last price
    assert floating() == (357.45, 10_370.0, 10.37)  # 10,370.00 - 10,012.55
    latest[CODE] = {"lastPrice": 9.83, "lastClose": 10.0}
    assert floating() == (-182.55, 9_830.0, 9.83)  # 9,830.00 - 10,012.55
    e.roll("20261203")  # sellable now: a sale of 300 takes 3/10 of the cost (average cost), the rest floats
    place(e, "alpha", "t2", side=SELL, volume=300, price=9.83)
    push_trade(e, "t2", "alpha", 6, "c", SELL, 300, 9.83, 6.47)
    push_order(e, "t2", "alpha", 6, 56, 300)
    left = cost - cost * 300 // 1000  # 10,012.55 x 7/10 = 7,008.785: 7,008.79 left (the sale took 3,003.76)
    assert e.ledger.sleeve("alpha").holdings[CODE].cost == left == 7008_79
    assert floating() == (-127.79, 6_881.0, 9.83)  # 700 x 9.83 = 6,881.00 - 7,008.79
    assert e.ledger.sleeve("alpha").realized == 300 * 983 - 647 - (cost - left)  # 2,949.00 - 6.47 - 3,003.76


def test_open_order_counts_follow_the_reservations():
    e, recs = engine(strategies={"alpha": {"cash": 100_000, "positions": {CODE: 500}}})
    scan = lambda led, s: sum(1 for r in led.reservations.values() if r.strategy == s)  # noqa: E731
    place(e, "alpha", "t1", volume=1000)
    place(e, "alpha", "t2", side=SELL, volume=200, price=10.5)
    place(e, "beta", "t3", volume=100, price=9.5)
    assert (e.ledger.open_orders("alpha"), e.ledger.open_orders("beta")) == (2, 1)
    push_order(e, "t1", "alpha", 5, 54)  # cancelled, nothing traded: gone
    push_order(e, "t2", "alpha", 6, 53, traded=100)  # part-cancelled, its fill still on the way: kept
    assert e.ledger.open_orders("alpha") == scan(e.ledger, "alpha") == 1
    push_trade(e, "t2", "alpha", 6, "f", SELL, 100, 10.5, 5.0)
    assert e.ledger.open_orders("alpha") == scan(e.ledger, "alpha") == 0
    again = RiskEngine()
    again.restore(Ledger.from_dict(e.ledger.to_dict()).to_dict(), [])
    assert (again.ledger.open_orders("alpha"), again.ledger.open_orders("beta")) == (0, 1)
    e.roll("20261203")
    assert e.ledger.open_orders("beta") == 0 and e.ledger.open_count == {}


def test_a_snapshot_is_due_after_as_many_records_as_the_ledger_holds():
    from hub.core.journal import Journal
    from hub.risk.store import SNAPSHOT_EVERY, RiskStore

    import tempfile
    with tempfile.TemporaryDirectory() as d:
        j = Journal(Path(d) / "j.db")
        store = RiskStore(j)
        for _ in range(SNAPSHOT_EVERY - 1):
            store.write({"k": "cancel", "s": "alpha"})
        assert not store.due(0)
        store.write({"k": "cancel", "s": "alpha"})
        assert store.due(0) and store.due(SNAPSHOT_EVERY)
        assert not store.due(3 * SNAPSHOT_EVERY)  # a bigger ledger waits for as many records as it holds
        store.snapshot(Ledger())
        assert not store.due(0)
        j.close()
