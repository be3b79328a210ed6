"""Each pre-trade check tripped on its own: the code, check, limit and value of the refusal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_helpers import BUY, CODE, FIX, LATEST, MKT_SH, SELL, Clock, engine, order, place, push_order, refused  # noqa: E402

from hub.risk import Refusal  # noqa: E402
from hub.risk.checks import ORDER  # noqa: E402


def trip(risk=None, strategies=None, who="alpha", **kw):
    e, _ = engine(risk, strategies)
    return refused(e, who, **kw)


def test_the_documented_order():
    assert [f.__name__ for f in ORDER] == [
        "check_trading", "check_static", "check_price_band", "check_sleeve", "check_per_order", "check_daily",
        "check_lists", "check_open_orders", "check_self_trade", "check_rate"]


def test_trading_off():
    r = trip({"trading": "off"})
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "trading", "off", "order")


@pytest.mark.parametrize("side", [0, 25, 9999])
def test_order_type_neither_buy_nor_sell(side):
    # the protocol table lets any order_type in 0..9999 through (tests/risk/test_risk_hub.py: on the wire)
    e, _ = engine()
    r = refused(e, "alpha", side=side)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "order_type", [BUY, SELL], side)
    assert f"got {side}" in r.message and not e.ledger.reservations
    assert e.refusals == {"order_type": 1}


def test_order_type_is_checked_after_the_trading_switch():
    r = trip({"trading": "off"}, side=25)
    assert (r.check, r.limit, r.value) == ("trading", "off", "order")


@pytest.mark.parametrize("kw, check, limit, value", [
    ({"volume": 150}, "lot", 100, 150),
    ({"code": "688981.SH", "volume": 100, "price": 50.0}, "lot", 200, 100),
    ({"price": 10.001}, "tick", 0.01, 10.001),
    ({"price": 11.01}, "limit_price", [9.0, 11.0], 11.01),
    ({"price": 8.99}, "limit_price", [9.0, 11.0], 8.99),
])
def test_static_validity(kw, check, limit, value):
    e, _ = engine(prices={CODE: (10.0, 10.0), "688981.SH": (50.0, 50.0)})
    r = refused(e, "alpha", **kw)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", check, limit, value)


def test_price_type_for_the_exchange():
    # 48 = MARKET_SZ_FULL_OR_CANCEL, valid only on SZ, sent for an SH code; the limit is what SH takes:
    # LATEST_PRICE 5, FIX_PRICE 11 and the SH/BJ market types 42-45 (docs/protocol.md's price types)
    from xtquant import xtconstant as C

    r = trip(price_type=C.MARKET_SZ_FULL_OR_CANCEL)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "price_type", [5, 11, 42, 43, 44, 45], 48)
    r = trip(code="000001.SZ", price_type=C.MARKET_SH_CONVERT_5_LIMIT)  # 43: SH/BJ only
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "price_type", [5, 11, 44, 45, 46, 47, 48], 43)


def test_market_buy_needs_a_reference_price():
    e, _ = engine(prices={})
    r = refused(e, "alpha", price_type=MKT_SH, price=0.0)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "market_price", "a limit-up or last price", 0)


def test_market_buy_reserves_at_limit_up():
    e, _ = engine()
    o = place(e, "alpha", "t1", price_type=MKT_SH, price=0.0, volume=1000)
    assert o.ref_price == 11.0 and o.notional == 1_100_000  # cents
    assert e.ledger.pool.reserved_cash == o.cash == 1_100_000 + 500 + 11


def test_static_checks_can_be_left_to_the_broker():
    e, _ = engine({"static_checks": False})
    e.evaluate("alpha", order(volume=150))  # passes: the broker will judge the lot


def test_price_band():
    e, _ = engine({"price_band_pct": 3})
    r = refused(e, "alpha", price=10.40)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "price_band", 3.0, 4.0)
    e.evaluate("alpha", order(price=10.30))


def test_sleeve_cash_of_an_allotted_strategy():
    e, _ = engine(strategies={"alpha": {"cash": 10_000}})
    r = refused(e, "alpha", volume=1000, price=10.0)  # 10,000 + 5.00 commission + 0.10 transfer
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "sleeve_cash", 10_000.0, 10_005.1)
    assert "10,005.10" in r.message and "10,000.00" in r.message


def test_sleeve_cash_of_the_pool():
    e, _ = engine(cash=5_000)
    r = refused(e, "gamma", volume=500, price=10.0)
    assert (r.check, r.limit, r.value) == ("sleeve_cash", 5_000.0, 5_005.05)


def test_require_allotment():
    e, _ = engine({"require_allotment": True})
    r = refused(e, "gamma")  # 100 x 10.00 = 1,000.00 + commission 5.00 (its minimum) + transfer fee 0.01
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "sleeve_cash", 0, 1005.01)


def test_sleeve_position_beta_cannot_sell_alphas_shares():
    e, _ = engine(strategies={"alpha": {"cash": 1000, "positions": {CODE: 1000}}, "beta": {"cash": 1000}})
    r = refused(e, "beta", side=SELL, volume=100)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "sleeve_position", 0, 100)
    place(e, "alpha", "t1", side=SELL, volume=600)
    r = refused(e, "alpha", side=SELL, volume=500)  # 1000 owned, 600 held by the open sell
    assert (r.check, r.limit, r.value) == ("sleeve_position", 400, 500)


def test_shares_bought_today_are_not_sellable():
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    place(e, "alpha", "t1", volume=1000)
    from risk_helpers import push_trade
    push_trade(e, "t1", "alpha", 1, "x1", BUY, 1000, 10.0, 5.1)
    push_order(e, "t1", "alpha", 1, 56, 1000)
    r = refused(e, "alpha", side=SELL, volume=100)
    assert (r.check, r.limit, r.value) == ("sleeve_position", 0, 100)
    e.roll("20261203")
    e.evaluate("alpha", order(side=SELL, volume=1000))


@pytest.mark.parametrize("limits, kw, check, limit, value", [
    ({"max_order_volume": 500}, {"volume": 600}, "max_order_volume", 500, 600),
    ({"max_order_notional": 5000}, {"volume": 600}, "max_order_notional", 5000.0, 6000.0),
    ({"symbols_allow": ["000001.SZ"]}, {}, "symbols_allow", ["000001.SZ"], CODE),
    ({"symbols_block": [CODE]}, {}, "symbols_block", [CODE], CODE),
    ({"price_types": [FIX]}, {"price_type": LATEST}, "price_types", [FIX], LATEST),
])
def test_per_order_and_list_limits(limits, kw, check, limit, value):
    r = trip(strategies={"alpha": limits}, **kw)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", check, limit, value)


def test_daily_limits():
    e, _ = engine(strategies={"alpha": {"max_daily_orders": 2, "max_daily_volume": 350, "max_daily_notional": 5000}})
    place(e, "alpha", "t1", volume=100)
    r = refused(e, "alpha", volume=300)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "max_daily_volume", 350, 400)
    r = refused(e, "alpha", volume=200, price=25.0, code="600036.SH")
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "max_daily_notional", 5000.0, 6000.0)
    place(e, "alpha", "t2", volume=100)
    r = refused(e, "alpha", volume=100)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "max_daily_orders", 2, 3)


def test_daily_cancels_stop_new_orders_but_never_cancels():
    e, _ = engine(strategies={"alpha": {"max_daily_cancels": 2}})
    e.on_cancel("alpha")
    e.on_cancel("alpha")
    r = refused(e, "alpha")
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "max_daily_cancels", 2, 2)
    e.on_cancel("alpha")  # a cancel is still taken and counted
    assert e.ledger.sleeve("alpha").cancels_today == 3


def test_open_orders():
    e, _ = engine(strategies={"alpha": {"max_open_orders": 2}})
    place(e, "alpha", "t1", price=9.0)
    place(e, "alpha", "t2", price=9.1)
    r = refused(e, "alpha", price=9.2)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "max_open_orders", 2, 3)
    push_order(e, "t1", "alpha", 7, 54)  # cancelled: one slot free again
    e.evaluate("alpha", order(price=9.2))


@pytest.mark.parametrize("incoming", ["beta", "alpha"])
def test_self_trade_rejects_incoming_and_names_the_resting_order(incoming):
    e, _ = engine()
    place(e, "alpha", "t1", side=SELL, volume=100, price=10.0)
    push_order(e, "t1", "alpha", 41, 50)
    r = refused(e, incoming, side=BUY, price=10.0)
    assert (r.code, r.check, r.limit, r.value) == ("RISK_REJECTED", "self_trade", "reject_incoming", 41)
    assert "41" in r.message and r.extra["resting"][0]["strategy"] == "alpha"
    e.evaluate(incoming, order(side=BUY, price=9.99))  # below the resting sell: no cross
    r = refused(e, incoming, side=BUY, price=0.0, price_type=MKT_SH)  # a market order crosses any
    assert r.check == "self_trade"


def test_self_trade_with_an_external_order_in_the_book():
    e, _ = engine()
    e.on_order({"owner_tag": "", "owner": "_external", "order_id": 900, "order_status": 50, "order_type": BUY,
                "stock_code": CODE, "price": 9.8})
    r = refused(e, "alpha", side=SELL, price=9.8)
    assert (r.check, r.value) == ("self_trade", 900)
    e.on_order({"owner_tag": "", "owner": "_external", "order_id": 900, "order_status": 54, "order_type": BUY,
                "stock_code": CODE, "price": 9.8})
    e.evaluate("alpha", order(side=SELL, price=9.8))


def test_cancel_resting_returns_the_crossing_orders():
    e, _ = engine({"self_trade": "cancel_resting"})
    place(e, "alpha", "t1", side=SELL, price=10.0)
    r = refused(e, "beta", side=BUY, price=10.0)  # no order id yet: cannot be cancelled, refused
    assert r.check == "self_trade"
    push_order(e, "t1", "alpha", 41, 50)
    o = e.evaluate("beta", order(side=BUY, price=10.0))
    assert [c.order_id for c in o.crossing] == [41]


def test_rate_per_strategy_refuses_orders_counts_cancels():
    clock = Clock()
    e, _ = engine(strategies={"alpha": {"max_actions_per_second": 3}}, clock=clock)
    for i in range(3):
        place(e, "alpha", f"t{i}", price=9.0 + i / 100)
    r = refused(e, "alpha", price=9.5)
    assert (r.code, r.check, r.limit, r.value) == ("RATE_LIMITED", "max_actions_per_second", 3, 4)
    e.on_cancel("alpha")  # never refused
    clock.t += 1.001
    e.evaluate("alpha", order(price=9.5))


def test_account_guard_keeps_headroom_for_cancels():
    clock = Clock()
    e, _ = engine({"account_max_actions_per_second": 20}, clock=clock)
    sent, values = 0, []
    for i, who in enumerate(["alpha", "beta", "gamma"] * 10):
        try:
            place(e, who, f"t{i}", price=round(9.0 + i / 100, 2))
            sent += 1
        except Refusal as r:
            assert (r.code, r.check, r.limit) == ("RATE_LIMITED", "account_max_actions_per_second", 20)
            values.append(r.value)
    assert sent == 18  # 20 minus the 10 % headroom
    assert values == [19] * 12  # the window holds 18: this order would be the 19th action in the second
    e.on_cancel("alpha")
    e.on_cancel("beta")
    assert e.rate.account.count(clock.t) == 20 and e.rate.account.peak == 20


def test_account_day_guard():
    clock = Clock()
    e, _ = engine({"account_max_actions_per_day": 10}, clock=clock)
    for i in range(9):
        place(e, "alpha", f"t{i}", price=round(9.0 + i / 100, 2))
        clock.t += 2
    r = refused(e, "alpha", price=9.5)
    assert (r.code, r.check, r.limit, r.value) == ("RATE_LIMITED", "account_max_actions_per_day", 10, 10)


def test_refusals_are_counted_per_check():
    e, _ = engine(strategies={"alpha": {"max_order_volume": 100}})
    for _ in range(2):
        refused(e, "alpha", volume=200)
    refused(e, "alpha", volume=150)
    assert e.refusals == {"max_order_volume": 2, "lot": 1}
    assert e.refusals_by_strategy == {"alpha": 3}


def test_limits_set_at_run_time_are_journaled_and_effective():
    e, recs = engine()
    e.evaluate("alpha", order(volume=200))  # its checks are worked out (none of its limits on) ...
    e.set_limits("alpha", {"max_order_volume": 100})  # ... and worked out again for the next order
    assert recs[-1] == {"k": "limits", "s": "alpha", "set": {"max_order_volume": 100}}
    r = refused(e, "alpha", volume=200)
    assert (r.check, r.limit, r.value) == ("max_order_volume", 100, 200)
    with pytest.raises(ValueError, match="unknown limit"):
        e.set_limits("alpha", {"max_ordr_volume": 1})


def test_latest_price_buy_reserves_like_a_market_order():
    e, _ = engine()
    o = place(e, "alpha", "t1", price_type=LATEST, price=0.0, volume=100)
    assert o.market and o.ref_price == 11.0 and o.cash == 110_000 + 500 + 1


def test_cancel_resting_refuses_the_held_order_when_the_resting_one_is_not_final_within_order_timeout():
    from types import SimpleNamespace

    from hub.risk.stage import HELD, Port, RiskStage

    e, _ = engine({"self_trade": "cancel_resting"})
    place(e, "alpha", "t1", side=SELL, price=10.0)
    push_order(e, "t1", "alpha", 41, 50)
    published, cancels, replies, resubmitted = [], [], [], []
    port = Port(publish=lambda topic, data: published.append((topic, data)),
                cancel=lambda order_id: cancels.append(order_id) or True,
                resubmit=lambda *a: resubmitted.append(a), reply_error=lambda call, err: replies.append((call, err)),
                commit=lambda: None, account_id=lambda: "SIM0001", order_timeout=0.0)
    stage = RiskStage(e, None, port)
    ticket = SimpleNamespace(call="the call", strategy="alpha", params=order(side=BUY, price=10.0))
    assert stage.check(None, ticket) is HELD and cancels == [41] and e.held_count("alpha") == 1
    stage.tick()  # order_timeout passed and order 41 is still open
    assert not resubmitted and not stage.held and e.held_count("alpha") == 0
    [(call, err)] = replies
    assert call == "the call"
    assert (err.code, err.data["check"], err.data["limit"], err.data["value"], err.data["strategy"]) == \
        ("RISK_REJECTED", "self_trade", "cancel_resting", 41, "alpha")
    assert "not cancelled within 0s" in err.message and err.data["resting"][0]["order_id"] == 41
    assert published == [("hub.risk", {"event": "refused", "code": "RISK_REJECTED", "message": err.message,
                                       **err.data})]
    stage.on_order({"owner_tag": "t1", "owner": "alpha", "order_id": 41, "order_status": 54})  # cancelled late
    assert not resubmitted  # the refused order is not sent after all


def test_only_the_checks_a_strategy_can_fail_run_in_the_documented_order():
    from hub.risk.checks import (check_daily, check_lists, check_open_orders, check_per_order, check_price_band,
                                 check_trading)

    e, _ = engine(strategies={"alpha": {"max_daily_orders": 5, "max_open_orders": 3}})
    names = lambda s: [f.__name__ for f in e.plan_of(s)[1]]  # noqa: E731
    assert names("beta") == ["check_static", "check_sleeve", "check_self_trade", "check_rate"]
    assert names("alpha") == ["check_static", "check_sleeve", "check_daily", "check_open_orders",
                              "check_self_trade", "check_rate"]
    assert [f for f in ORDER if f in e.plan_of("alpha")[1]] == list(e.plan_of("alpha")[1])  # order kept
    e.set_limits("beta", {"symbols_block": [CODE], "max_order_notional": 10})
    assert check_lists in e.plan_of("beta")[1] and check_per_order in e.plan_of("beta")[1]
    r = refused(e, "beta", volume=100)
    assert (r.check, r.limit) == ("max_order_notional", 10)  # per-order limits before the lists, as documented
    e.set_limits("beta", {"max_order_notional": 0})
    assert check_per_order not in e.plan_of("beta")[1]
    assert refused(e, "beta", volume=100).check == "symbols_block"
    off, _ = engine({"trading": "off", "price_band_pct": 3})
    assert {check_trading, check_price_band} <= set(off.plan_of("alpha")[1])
    assert check_daily not in off.plan_of("alpha")[1] and check_open_orders not in off.plan_of("alpha")[1]
