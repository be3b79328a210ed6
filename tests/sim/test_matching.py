"""Fills against the book over time, cancels, frozen cash, fees, T+1 and market order types.

The fixture market does not move (volatility 0) and shows 500 shares at each of
five levels: 600000.SH asks 10.21..10.25, bids 10.20..10.16.
"""

from __future__ import annotations

import pytest
from xtquant import xtconstant as C

from hub.sim import get_exchange
from tests.sim.conftest import frozen_config

CODE = "600000.SH"


def test_partial_then_full_fill_over_time(ex, s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 1000, C.FIX_PRICE, 10.21)
    o = s.trader.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume) == (C.ORDER_PART_SUCC, 500)
    ex.advance(3)  # one snapshot: the book refills
    o = s.trader.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume, o.traded_price) == (C.ORDER_SUCCEEDED, 1000, 10.21)
    s.cb.wait("order", lambda x: x.order_status == C.ORDER_SUCCEEDED)
    statuses = [x.order_status for x in s.cb.of("order")]
    assert statuses == [C.ORDER_REPORTED, C.ORDER_PART_SUCC, C.ORDER_SUCCEEDED]
    assert [t.traded_volume for t in s.trader.query_stock_trades(acc)] == [500, 500]


def test_sweep_levels_up_to_the_limit_price(s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 1300, C.FIX_PRICE, 10.23)
    trades = s.trader.query_stock_trades(acc)
    assert [(t.traded_price, t.traded_volume) for t in trades] == [(10.21, 500), (10.22, 500), (10.23, 300)]
    o = s.trader.query_stock_order(acc, oid)
    assert o.order_status == C.ORDER_SUCCEEDED and o.traded_price == round((5105 + 5110 + 3069) / 1300, 4)


def test_cancel_partly_filled_order_gives_part_cancel_and_releases_cash(ex, s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 1000, C.FIX_PRICE, 10.21)
    assert s.trader.query_stock_asset(acc).frozen_cash > 0
    assert s.trader.cancel_order_stock(acc, oid) == 0
    o = s.trader.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume) == (C.ORDER_PART_CANCEL, 500)
    s.cb.wait("order", lambda x: x.order_status == C.ORDER_PART_CANCEL)
    assert [x.order_status for x in s.cb.of("order")][-2:] == [C.ORDER_PARTSUCC_CANCEL, C.ORDER_PART_CANCEL]
    a = s.trader.query_stock_asset(acc)
    # 500 @ 10.21 = 5105.00; commission min 5.00; transfer fee 0.05
    assert (a.frozen_cash, a.cash) == (0.0, 1_000_000 - 5110.05)
    ex.advance(3)
    assert s.trader.query_stock_order(acc, oid).traded_volume == 500  # a cancelled order never fills again


def test_frozen_cash_returns_on_cancel(s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 1000, C.FIX_PRICE, 10.00)  # below the ask: rests
    a = s.trader.query_stock_asset(acc)
    # 10000.00 + commission 5.00 (min) + transfer fee 0.10
    assert (a.cash, a.frozen_cash, a.total_asset) == (989_994.90, 10_005.10, 1_000_000.0)
    assert s.trader.cancel_order_stock(acc, oid) == 0
    a = s.trader.query_stock_asset(acc)
    assert (a.cash, a.frozen_cash) == (1_000_000.0, 0.0)
    assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_CANCELED
    assert s.trader.cancel_order_stock(acc, oid) == -1  # cancelling twice fails


def test_fees_to_the_cent_and_t_plus_1(ex, s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 1000, C.FIX_PRICE, 10.25)
    trades = s.trader.query_stock_trades(acc)
    assert [(t.traded_price, t.traded_volume) for t in trades] == [(10.21, 500), (10.22, 500)]
    # 5105.00 -> commission 5.00 (min, 1.28 by rate) + transfer 0.05; then 5110.00 -> commission 0.00
    # (the order's cumulative 2.55 stays under the 5.00 minimum already paid) + transfer 0.05
    assert [t.commission for t in trades] == [5.05, 0.05]
    a = s.trader.query_stock_asset(acc)
    assert (a.cash, a.frozen_cash) == (1_000_000 - 10_220.10, 0.0)  # 10215.00 + 5.10 fees

    # T+1: bought today, not sellable today
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.yesterday_volume, p.avg_price) == (1000, 0, 0, 10.2201)
    bad = s.trader.order_stock(acc, CODE, C.STOCK_SELL, 1000, C.FIX_PRICE, 10.20)
    assert "only 0 shares sellable" in s.trader.query_stock_order(acc, bad).status_msg

    ex.roll_day()
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.yesterday_volume) == (1000, 1000, 1000)
    assert s.trader.query_stock_orders(acc) == [] and s.trader.query_stock_trades(acc) == []
    ex.set_book(CODE, bid=[(11.00, 5000)])
    sell = s.trader.order_stock(acc, CODE, C.STOCK_SELL, 1000, C.FIX_PRICE, 11.00)
    t = s.trader.query_stock_trades(acc)[0]
    # 11000.00: commission 5.00 (2.75 by rate) + stamp duty 5.50 + transfer fee 0.11
    assert (t.order_id, t.traded_amount, t.commission) == (sell, 11_000.0, 10.61)
    a = s.trader.query_stock_asset(acc)
    assert a.cash == round(1_000_000 - 10_220.10 + 10_989.39, 2) == 1_000_769.29
    assert a.fetch_balance == round(a.cash - 10_989.39, 2)  # sell proceeds withdrawable from T+1
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.frozen_volume) == (0, 0, 0)


def test_sell_freezes_shares_until_filled_or_cancelled(sim_path, make_session, acc):
    get_exchange(sim_path, frozen_config(starting_positions={CODE: 1000}))
    s = make_session()
    oid = s.trader.order_stock(acc, CODE, C.STOCK_SELL, 600, C.FIX_PRICE, 10.30)  # above the bid: rests
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.frozen_volume) == (1000, 400, 600)
    assert s.trader.cancel_order_stock(acc, oid) == 0
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.can_use_volume, p.frozen_volume) == (1000, 0)


def test_latest_price_order(s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 100, C.LATEST_PRICE, 0)
    o = s.trader.query_stock_order(acc, oid)
    assert (o.price, o.order_status) == (10.20, C.ORDER_REPORTED)  # rests at the last price, below the ask


@pytest.mark.parametrize("code,ptype,volume,status,traded", [
    # five levels x 500 = 2500 shares on the ask side
    ("600000.SH", C.MARKET_SH_CONVERT_5_CANCEL, 3000, C.ORDER_PART_CANCEL, 2500),
    ("600000.SH", C.MARKET_SH_CONVERT_5_CANCEL, 2000, C.ORDER_SUCCEEDED, 2000),
    ("600000.SH", C.MARKET_SH_CONVERT_5_LIMIT, 3000, C.ORDER_PART_SUCC, 2500),
    ("600000.SH", C.MARKET_PEER_PRICE_FIRST, 800, C.ORDER_PART_SUCC, 500),
    ("600000.SH", C.MARKET_MINE_PRICE_FIRST, 800, C.ORDER_REPORTED, 0),
    ("000001.SZ", C.MARKET_SZ_CONVERT_5_CANCEL, 3000, C.ORDER_PART_CANCEL, 2500),
    ("000001.SZ", C.MARKET_SZ_INSTBUSI_RESTCANCEL, 3000, C.ORDER_PART_CANCEL, 2500),
    ("000001.SZ", C.MARKET_SZ_FULL_OR_CANCEL, 3000, C.ORDER_CANCELED, 0),
    ("000001.SZ", C.MARKET_SZ_FULL_OR_CANCEL, 2500, C.ORDER_SUCCEEDED, 2500),
    ("000001.SZ", C.MARKET_PEER_PRICE_FIRST, 600, C.ORDER_PART_SUCC, 500),
    ("430047.BJ", C.MARKET_SH_CONVERT_5_CANCEL, 3000, C.ORDER_PART_CANCEL, 2500),
])
def test_market_order_types(s, acc, code, ptype, volume, status, traded):
    oid = s.trader.order_stock(acc, code, C.STOCK_BUY, volume, ptype, 0)
    o = s.trader.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume) == (status, traded), o.status_msg
    a = s.trader.query_stock_asset(acc)
    if status in (C.ORDER_PART_CANCEL, C.ORDER_CANCELED, C.ORDER_SUCCEEDED):
        assert a.frozen_cash == 0.0  # a finished market order keeps nothing frozen


def test_convert_to_limit_rests_at_last_fill_price_then_fills(ex, s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 3000, C.MARKET_SH_CONVERT_5_LIMIT, 0)
    ex.set_book(CODE, ask=[(10.25, 500), (10.26, 500)])
    o = s.trader.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume) == (C.ORDER_SUCCEEDED, 3000)
    assert s.trader.query_stock_trades(acc)[-1].traded_price == 10.25


def test_market_order_without_counterparty_is_cancelled(ex, s, acc):
    ex.set_book(CODE, ask=[])
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 100, C.MARKET_PEER_PRICE_FIRST, 0)
    o = s.trader.query_stock_order(acc, oid)
    assert o.order_status == C.ORDER_CANCELED and "no best price" in o.status_msg
    assert s.trader.query_stock_asset(acc).frozen_cash == 0.0


def test_day_roll_expires_open_orders(ex, s, acc):
    oid = s.trader.order_stock(acc, CODE, C.STOCK_BUY, 100, C.FIX_PRICE, 10.0)
    day = ex.trading_day
    new_day = ex.roll_day()
    assert new_day > day and new_day.weekday() < 5
    s.cb.wait("order", lambda o: o.order_id == oid and o.order_status == C.ORDER_CANCELED)
    assert s.trader.query_stock_asset(acc).frozen_cash == 0.0
    assert s.trader.query_stock_order(acc, oid) is None
    assert s.trader.order_stock(acc, CODE, C.STOCK_BUY, 100, C.FIX_PRICE, 10.0) > oid  # ids keep growing


def test_day_roll_moves_reference_price_to_close(ex, s, acc):
    ex.set_book(CODE, last=10.50)
    ex.roll_day()
    q = ex.quote(CODE)
    assert (q.last_close, q.limit_down, q.limit_up) == (10.50, 9.45, 11.55)
