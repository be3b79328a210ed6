"""State lives in SQLite: a restarted simulator keeps the trading day; config loading."""

from __future__ import annotations

import pytest
from xtquant import xtconstant as C
from xtquant.xttype import StockAccount

from hub.sim import SimConfig, XtQuantTrader, configure, get_exchange, shutdown_exchange
from tests.sim.conftest import ACCOUNT, Recorder, frozen_config

CODE = "600000.SH"


def session(path, sid=1):
    cb = Recorder()
    t = XtQuantTrader(str(path), sid, cb)
    t.start()
    assert t.connect() == 0 and t.subscribe(StockAccount(ACCOUNT)) == 0
    return t, cb


def test_state_survives_a_restart(sim_path):
    acc = StockAccount(ACCOUNT)
    ex = get_exchange(sim_path, frozen_config())
    t, _ = session(sim_path)
    filled = t.order_stock(acc, CODE, C.STOCK_BUY, 1000, C.FIX_PRICE, 10.21)  # 500 now, rest resting
    resting = t.order_stock(acc, "000001.SZ", C.STOCK_BUY, 100, C.FIX_PRICE, 10.90)
    before = {
        "asset": vars(t.query_stock_asset(acc)),
        "orders": [vars(o) for o in t.query_stock_orders(acc)],
        "trades": [vars(x) for x in t.query_stock_trades(acc)],
        "positions": [vars(p) for p in t.query_stock_positions(acc)],
    }
    day = ex.trading_day
    t.stop()
    shutdown_exchange(sim_path)

    ex2 = get_exchange(sim_path, frozen_config())
    assert ex2 is not ex and ex2.trading_day == day
    t2, cb2 = session(sim_path, 2)
    after = {
        "asset": vars(t2.query_stock_asset(acc)),
        "orders": [vars(o) for o in t2.query_stock_orders(acc)],
        "trades": [vars(x) for x in t2.query_stock_trades(acc)],
        "positions": [vars(p) for p in t2.query_stock_positions(acc)],
    }
    assert after == before
    # the resting orders are still live: the partly filled one completes, the other cancels
    ex2.advance(3)
    assert t2.query_stock_order(acc, filled).order_status == C.ORDER_SUCCEEDED
    assert t2.cancel_order_stock(acc, resting) == 0
    assert t2.order_stock(acc, CODE, C.STOCK_BUY, 100, C.FIX_PRICE, 10.0) > resting
    assert len(t2.query_stock_trades(acc)) == 2
    t2.stop()


def test_day_roll_survives_a_restart(sim_path):
    acc = StockAccount(ACCOUNT)
    ex = get_exchange(sim_path, frozen_config())
    t, _ = session(sim_path)
    t.order_stock(acc, CODE, C.STOCK_BUY, 500, C.FIX_PRICE, 10.21)
    new_day = ex.roll_day()
    t.stop()
    shutdown_exchange(sim_path)
    ex2 = get_exchange(sim_path, frozen_config())
    assert ex2.trading_day == new_day
    t2, _ = session(sim_path, 2)
    p = t2.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.yesterday_volume) == (500, 500, 500)
    assert t2.query_stock_orders(acc) == []
    t2.stop()


def test_starting_positions_are_sellable_at_once(sim_path, make_session):
    get_exchange(sim_path, frozen_config(starting_positions={CODE: 1000}, default_cash=50_000))
    s = make_session()
    acc = StockAccount(ACCOUNT)
    assert s.trader.query_stock_asset(acc).cash == 50_000
    p = s.trader.query_stock_position(acc, CODE)
    assert (p.volume, p.can_use_volume, p.yesterday_volume, p.avg_price) == (1000, 1000, 1000, 10.2)
    oid = s.trader.order_stock(acc, CODE, C.STOCK_SELL, 1000, C.FIX_PRICE, 10.16)
    assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED


def test_configure_before_first_use_and_conflicts(sim_path):
    cfg = frozen_config(default_cash=123.0)
    configure(sim_path, cfg)
    ex = get_exchange(sim_path)
    assert ex.config.default_cash == 123.0
    assert get_exchange(sim_path, cfg) is ex
    with pytest.raises(RuntimeError, match="another config"):
        get_exchange(sim_path, frozen_config(default_cash=1.0))


def test_config_from_dict():
    cfg = SimConfig.from_dict({"default_cash": 5e5, "commission_rate": 0.0003, "starting_positions": {CODE: 100}})
    assert (cfg.default_cash, cfg.commission_rate, cfg.commission_min) == (5e5, 0.0003, 5.0)
    assert SimConfig.from_dict(None) == SimConfig()
    with pytest.raises(ValueError, match="unknown \\[sim\\] setting\\(s\\): cash_default"):
        SimConfig.from_dict({"cash_default": 1})
    with pytest.raises(ValueError, match="speed"):
        SimConfig.from_dict({"speed": 0})


def test_custom_fee_rates(sim_path, make_session):
    get_exchange(sim_path, frozen_config(commission_rate=0.001, commission_min=0.0, transfer_fee_rate=0.0))
    s = make_session()
    acc = StockAccount(ACCOUNT)
    s.trader.order_stock(acc, CODE, C.STOCK_BUY, 500, C.FIX_PRICE, 10.21)
    assert s.trader.query_stock_trades(acc)[0].commission == 5.11  # 5105.00 x 0.1 % = 5.105 -> 5.11
