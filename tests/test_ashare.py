"""rpc_client/ashare.py: the A-share rules in one leaf, and the simulator's instruments reading them."""

from __future__ import annotations

from datetime import date

from xtquant import xtconstant as C

from rpc_client import ashare
from hub.sim import rules
from hub.sim.universe import Universe


def test_boards_and_kinds():
    assert [ashare.board_of(c) for c in ("600000.SH", "688981.SH", "000001.SZ", "300750.SZ", "830809.BJ")] == \
        [ashare.MAIN, ashare.STAR, ashare.MAIN, ashare.CHINEXT, ashare.BSE]
    assert ashare.board_of("510300.SH") is None and ashare.board_of(600000) is None
    assert [ashare.kind_of(c) for c in ("510300.SH", "159915.SZ", "113050.SH", "399001.SZ", "900901.SH")] == \
        [ashare.ETF, ashare.ETF, ashare.BOND, ashare.INDEX, None]


def test_limits_per_board_half_up_to_the_tick():
    assert ashare.limits(10.0, ashare.limit_pct(ashare.MAIN)) == (9.0, 11.0)
    assert ashare.limits(10.05, ashare.limit_pct(ashare.STAR)) == (8.04, 12.06)
    assert ashare.limits(1.234, ashare.limit_pct(ashare.ETF, "510300.SH"), 0.001) == (1.111, 1.357)
    assert ashare.limit_pct(ashare.ETF, "588000.SH") == 0.20
    assert ashare.limit_pct(ashare.MAIN, st=True, day=date(2026, 7, 5)) == 0.05
    assert ashare.limit_pct(ashare.MAIN, st=True, day=date(2026, 7, 6)) == 0.10
    assert ashare.limits(0.05, 0.10) == (0.05, 0.06)  # never below one tick (0.045 rounds half-up to 0.05)


def test_lots_and_price_types():
    assert (ashare.buy_min(ashare.STAR), ashare.buy_step(ashare.STAR)) == (200, 1)
    assert (ashare.buy_min(ashare.BOND), ashare.buy_step(ashare.BOND), ashare.lot_of(ashare.BOND)) == (10, 10, 10)
    assert (ashare.buy_min(ashare.MAIN), ashare.buy_step(ashare.MAIN)) == (100, 100)
    assert ashare.price_type_ok("000001.SZ", C.MARKET_SZ_FULL_OR_CANCEL)
    assert not ashare.price_type_ok("600000.SH", C.MARKET_SZ_FULL_OR_CANCEL)
    assert ashare.price_type_ok("830809.BJ", C.MARKET_SH_CONVERT_5_LIMIT)


def test_the_simulator_states_no_rule_of_its_own():
    assert rules.MARKET_TYPES is ashare.MARKET_TYPES and rules.LIMIT_TYPES is ashare.LIMIT_TYPES
    inst = Universe().get("113050.SH")
    assert (inst.tick, inst.lot, inst.buy_min, inst.t_plus_zero) == (0.001, 10, 10, True)
    assert inst.limits(120.0, date(2026, 12, 1)) == ashare.limits(120.0, 0.20, 0.001) == (96.0, 144.0)
