"""Every rejection reason: the call returns an id, the order ends ORDER_JUNK, on_order_error explains."""

from __future__ import annotations

from datetime import date

import pytest
from xtquant import xtconstant as C
from xtquant.xttype import StockAccount

from hub.sim import errors as E
from hub.sim import get_exchange
from hub.sim.universe import BUILTIN, Universe, board_of, derived_price
from tests.sim.conftest import ACCOUNT, frozen_config

NAN = float("nan")

# (code, side, volume, price_type, price, error id, words in the message)
REJECTIONS = [
    ("600000.XX", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2, E.UNKNOWN_CODE, "not an A-share stock code"),
    ("900901.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2, E.UNKNOWN_CODE, "证券代码不存在"),
    ("600000.SH", C.STOCK_BUY, 150, C.FIX_PRICE, 10.2, E.BAD_VOLUME, "multiple of 100"),
    ("688981.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 50.0, E.BAD_VOLUME, "at least 200"),
    ("600000.SH", C.STOCK_BUY, 1_000_100, C.FIX_PRICE, 10.2, E.BAD_VOLUME, "maximum"),
    ("600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.205, E.BAD_PRICE_TICK, "0.01 tick"),
    ("600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 11.23, E.PRICE_OUT_OF_LIMITS, "[9.18, 11.22]"),
    ("600000.SH", C.STOCK_SELL, 100, C.FIX_PRICE, 9.17, E.PRICE_OUT_OF_LIMITS, "outside today's limits"),
    ("600519.SH", C.STOCK_BUY, 1000, C.FIX_PRICE, 1500.0, E.NO_CASH, "need 1500390.00, available 1000000.00"),
    ("600000.SH", C.STOCK_SELL, 100, C.FIX_PRICE, 10.2, E.NO_VOLUME, "only 0 shares sellable"),
    ("600000.SH", C.STOCK_BUY, 100, C.MARKET_SZ_FULL_OR_CANCEL, 0, E.BAD_PRICE_TYPE, "valid only on SZ"),
    ("000001.SZ", C.STOCK_BUY, 100, C.MARKET_SH_CONVERT_5_LIMIT, 0, E.BAD_PRICE_TYPE, "valid only on SH/BJ"),
    ("000001.SZ", C.STOCK_BUY, 100, C.MARKET_CANCEL_5, 0, E.BAD_PRICE_TYPE, "not a stock price type"),
    ("600000.SH", C.STOCK_BUY, -100, C.FIX_PRICE, 10.2, E.BAD_ARGUMENT, "must be > 0"),
    ("600000.SH", C.STOCK_BUY, 100.5, C.FIX_PRICE, 10.2, E.BAD_ARGUMENT, "whole number"),
    ("600000.SH", C.STOCK_BUY, "100", C.FIX_PRICE, 10.2, E.BAD_ARGUMENT, "whole number"),
    ("600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, NAN, E.BAD_ARGUMENT, "finite number"),
    ("600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, -1.0, E.BAD_ARGUMENT, "finite number"),
    ("600000.SH", 99, 100, C.FIX_PRICE, 10.2, E.BAD_ARGUMENT, "STOCK_BUY (23) or STOCK_SELL (24)"),
]


@pytest.mark.parametrize("code,side,volume,ptype,price,err_id,words", REJECTIONS)
def test_rejection(s, acc, code, side, volume, ptype, price, err_id, words):
    if isinstance(volume, int):
        oid = s.trader.order_stock(acc, code, side, volume, ptype, price, "strat", "why")
    else:  # the trader int()s the volume as xtquant does; the exchange's own rule is checked directly
        oid = s.trader._ex.place_order(s.trader, ACCOUNT, C.SECURITY_ACCOUNT, code, side, volume, ptype, price,
                                       "strat", "why")
    assert oid > 0
    err = s.cb.wait("order_error")
    assert (err.order_id, err.error_id, err.account_id) == (oid, err_id, ACCOUNT)
    assert words in err.error_msg
    assert (err.strategy_name, err.order_remark) == ("strat", "why")
    junk = s.trader.query_stock_order(acc, oid)
    assert junk.order_status == C.ORDER_JUNK and junk.status_msg == err.error_msg and junk.order_sysid == ""
    assert s.cb.wait("order").order_status == C.ORDER_JUNK
    asset = s.trader.query_stock_asset(acc)
    assert (asset.cash, asset.frozen_cash) == (1_000_000.0, 0.0)  # nothing frozen by a junk order


@pytest.mark.parametrize("account", [StockAccount("never-subscribed"), StockAccount(ACCOUNT, "CREDIT"), ACCOUNT])
def test_wrong_account(s, account):
    oid = s.trader.order_stock(account, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2)
    assert oid > 0
    err = s.cb.wait("order_error")
    assert err.error_id == E.WRONG_ACCOUNT and "not a subscribed stock account" in err.error_msg


def test_outside_trading_hours_when_enforced(sim_path, make_session, acc):
    ex = get_exchange(sim_path, frozen_config(enforce_trading_hours=True, start_time="2024-03-04 08:00:00"))
    s = make_session()
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    err = s.cb.wait("order_error")
    assert err.order_id == oid and err.error_id == E.CLOSED and "08:00:00" in err.error_msg
    ex.clock.set("2024-03-04 09:30:00")
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED
    ex.clock.set("2024-03-04 12:00:00")  # lunch break
    s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    assert len([e for e in s.cb.of("order_error")]) >= 1
    assert s.cb.wait("order_error", lambda e: "12:00:00" in e.error_msg)


def test_hours_off_by_default_trade_on_sunday_night(sim_path, make_session, acc):
    get_exchange(sim_path, frozen_config(start_time="2024-03-03 23:00:00"))
    s = make_session()
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED


def test_star_board_lots(s, acc):
    ok = s.trader.order_stock(acc, "688981.SH", C.STOCK_BUY, 201, C.FIX_PRICE, 50.01)
    assert s.trader.query_stock_order(acc, ok).order_status == C.ORDER_SUCCEEDED


def test_odd_lot_sell_only_as_the_whole_odd_part(sim_path, make_session, acc):
    get_exchange(sim_path, frozen_config(starting_positions={"600000.SH": 250, "688981.SH": 250}))
    s = make_session()
    bad = s.trader.order_stock(acc, "600000.SH", C.STOCK_SELL, 30, C.FIX_PRICE, 10.2)
    assert s.cb.wait("order_error").order_id == bad
    assert "odd lot of 50" in s.trader.query_stock_order(acc, bad).status_msg
    for vol in (50, 100, 100):  # the odd 50 in one go, then round lots
        oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_SELL, vol, C.FIX_PRICE, 10.2)
        assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED, vol
    assert s.trader.query_stock_position(acc, "600000.SH").volume == 0
    # STAR: below 200 only when selling everything that is sellable
    bad = s.trader.order_stock(acc, "688981.SH", C.STOCK_SELL, 100, C.FIX_PRICE, 50.0)
    assert s.trader.query_stock_order(acc, bad).order_status == C.ORDER_JUNK
    ok = s.trader.order_stock(acc, "688981.SH", C.STOCK_SELL, 201, C.FIX_PRICE, 50.0)
    assert s.trader.query_stock_order(acc, ok).order_status == C.ORDER_SUCCEEDED
    ok = s.trader.order_stock(acc, "688981.SH", C.STOCK_SELL, 49, C.FIX_PRICE, 50.0)
    assert s.trader.query_stock_order(acc, ok).order_status == C.ORDER_SUCCEEDED


@pytest.mark.parametrize("code,close,day,limits", [
    ("600000.SH", 10.20, date(2025, 1, 2), (9.18, 11.22)),   # main ±10 %
    ("000001.SZ", 11.05, date(2025, 1, 2), (9.95, 12.16)),   # rounding half-up
    ("300750.SZ", 200.0, date(2025, 1, 2), (160.0, 240.0)),  # ChiNext ±20 %
    ("688981.SH", 50.0, date(2025, 1, 2), (40.0, 60.0)),     # STAR ±20 %
    ("430047.BJ", 12.0, date(2025, 1, 2), (8.4, 15.6)),      # BSE ±30 %
    ("600001.SH", 4.0, date(2025, 1, 2), (3.8, 4.2)),        # ST ±5 % before 2026-07-06
    ("600001.SH", 4.0, date(2026, 7, 6), (3.6, 4.4)),        # ST ±10 % from 2026-07-06
])
def test_price_limits_by_board(code, close, day, limits):
    u = Universe({"600001.SH": {"name": "*ST测试", "price": 4.0}})
    assert u.get(code).limits(close, day) == limits


def test_st_limit_rejects_orders(sim_path, make_session, acc):
    get_exchange(sim_path, frozen_config(universe={"600001.SH": {"name": "ST示例", "price": 4.0}},
                                         start_time="2025-01-02 10:00:00"))
    s = make_session()
    oid = s.trader.order_stock(acc, "600001.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 4.21)
    assert s.cb.wait("order_error").error_id == E.PRICE_OUT_OF_LIMITS
    assert "[3.80, 4.20]" in s.trader.query_stock_order(acc, oid).status_msg


def test_universe_codes_and_derived_prices():
    assert len(BUILTIN) >= 50
    assert 10.0 <= BUILTIN["600000.SH"][1] <= 10.3
    for code in ("600519.SH", "300750.SZ", "688981.SH", "000001.SZ"):
        assert code in BUILTIN
    assert [board_of(c) for c in ("600000.SH", "688001.SH", "000001.SZ", "301001.SZ", "830001.BJ")] == \
        ["main", "star", "main", "chinext", "bse"]
    assert board_of("510300.SH") is None and board_of("600000") is None and board_of(600000) is None
    u = Universe()
    p = u.get("603999.SH").ref_price
    assert p == derived_price("603999.SH") and 3.0 <= p < 80.0 and p != derived_price("603998.SH")
    assert Universe({"600000.SH": {"price": 12.0}}).get("600000.SH").ref_price == 12.0
