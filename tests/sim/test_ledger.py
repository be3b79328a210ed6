"""hub.sim.ledger on its own: freeze, release, fills and the day's settlement, to the cent."""

from __future__ import annotations

from xtquant import xtconstant as C

from hub.sim import ledger
from hub.sim.models import Account, Order, Position


def buy(volume: int = 1000, frozen: float = 10_105.0) -> Order:
    o = Order(1, "a", "600000.SH", C.STOCK_BUY, volume, C.FIX_PRICE, 10.1)
    o.frozen_cash = frozen
    return o


def sell(volume: int = 500) -> Order:
    return Order(2, "a", "600000.SH", C.STOCK_SELL, volume, C.FIX_PRICE, 10.0)


def test_a_buy_freezes_its_cash_and_release_gives_back_the_rest():
    acc, o = Account("a", cash=100_000.0), buy()
    ledger.freeze(o, acc, None)
    assert (acc.cash, acc.frozen_cash) == (89_895.0, 10_105.0)
    ledger.release(o, acc, None)
    assert (acc.cash, acc.frozen_cash, o.frozen_cash) == (100_000.0, 0.0, 0.0)


def test_a_buy_fill_is_paid_from_frozen_cash_and_opens_a_position_sellable_tomorrow():
    acc, o, pos = Account("a", cash=100_000.0), buy(), Position("a", "600000.SH")
    ledger.freeze(o, acc, None)
    amount = ledger.apply_fill(o, acc, pos, 10.05, 600, 5.0)
    assert amount == 6030.0
    assert (o.traded_volume, o.traded_amount, o.fees_paid, o.frozen_cash) == (600, 6030.0, 5.0, 4070.0)
    assert (acc.cash, acc.frozen_cash) == (89_895.0, 4070.0)
    assert (pos.volume, pos.can_use_volume, pos.cost, pos.open_amount, pos.open_volume) == (600, 0, 6035.0, 6030.0, 600)
    ledger.release(o, acc, None)  # the order ends: what it still froze comes back
    assert (acc.cash, acc.frozen_cash) == (93_965.0, 0.0)
    assert acc.cash + pos.cost == 100_000.0


def test_a_fill_costing_more_than_frozen_takes_the_excess_from_cash():
    acc, o, pos = Account("a", cash=1_000.0), buy(volume=100, frozen=100.0), Position("a", "600000.SH")
    ledger.freeze(o, acc, None)
    ledger.apply_fill(o, acc, pos, 1.0, 100, 5.0)
    assert (acc.cash, acc.frozen_cash, o.frozen_cash) == (895.0, 0.0, 0.0)


def test_t_plus_zero_shares_are_sellable_at_once():
    acc, o, pos = Account("a", cash=100_000.0), buy(volume=10), Position("a", "113001.SH")
    ledger.apply_fill(o, acc, pos, 100.0, 10, 0.0, t_plus_zero=True)
    assert (pos.volume, pos.can_use_volume) == (10, 10)


def test_a_sell_freezes_shares_its_fill_pays_proceeds_not_withdrawable_today():
    acc = Account("a", cash=0.0)
    pos = Position("a", "600000.SH", volume=1000, can_use_volume=1000, yesterday_volume=1000, cost=9_000.0)
    o = sell(500)
    ledger.freeze(o, acc, pos)
    assert (pos.can_use_volume, pos.frozen_volume) == (500, 500)
    ledger.apply_fill(o, acc, pos, 10.0, 300, 7.5)
    assert (acc.cash, acc.unwithdrawable) == (2992.5, 2992.5)
    assert (pos.volume, pos.frozen_volume, pos.cost) == (700, 200, 6300.0)
    ledger.release(o, acc, pos)  # the unfilled 200 shares come back
    assert (pos.can_use_volume, pos.frozen_volume) == (700, 0)


def test_settle_day_frees_cash_drops_closed_positions_and_makes_shares_sellable():
    acc = Account("a", cash=1000.0, frozen_cash=250.0, unwithdrawable=300.0)
    held = Position("a", "600000.SH", volume=800, can_use_volume=0, yesterday_volume=0, frozen_volume=100)
    closed = Position("a", "000001.SZ", volume=0)
    positions = {("a", "600000.SH"): held, ("a", "000001.SZ"): closed}
    kept = ledger.settle_day(positions, [acc])
    assert kept == [held] and list(positions) == [("a", "600000.SH")]
    assert (held.volume, held.can_use_volume, held.yesterday_volume, held.frozen_volume) == (800, 800, 800, 0)
    assert (acc.cash, acc.frozen_cash, acc.unwithdrawable) == (1250.0, 0.0, 0.0)
