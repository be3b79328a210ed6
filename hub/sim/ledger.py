"""The account ledger: what an order freezes and releases, what a fill books, what a day's end settles.

Plain arithmetic on `Account`, `Position` and `Order` records, to the cent (`fees.cents`),
with no store, lock or events: the exchange decides when (under its lock) and writes the
records it is handed back. The rules, as a Chinese A-share counter keeps them:
- a buy freezes its worst-case cost (amount at its limit, or the limit-up price for a market
  order, plus fees); a sell freezes the shares it sells, out of today's sellable ones;
- a fill pays from the order's frozen cash first (any excess from available cash); a sell's
  proceeds are usable at once but not withdrawable until the next day;
- shares bought today are sellable tomorrow (T+1), except T+0 instruments (convertible bonds);
- at the day's end frozen cash comes back, closed positions go and every share becomes sellable.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from hub.sim.fees import cents
from hub.sim.models import Account, Order, Position


def freeze(o: Order, acc: Account, pos: Position | None) -> None:
    """An accepted order takes what it may need: cash (`o.frozen_cash`, set when it was checked) or shares."""
    if o.is_buy:
        acc.cash = cents(acc.cash - o.frozen_cash)
        acc.frozen_cash = cents(acc.frozen_cash + o.frozen_cash)
    else:
        assert pos is not None, "a sell is checked against a position"
        pos.can_use_volume -= o.order_volume
        pos.frozen_volume += o.order_volume


def release(o: Order, acc: Account, pos: Position | None) -> None:
    """Give back what an order still has frozen (the buy's cash, or the sell's unfilled shares)."""
    if o.is_buy:
        acc.cash = cents(acc.cash + o.frozen_cash)
        acc.frozen_cash = cents(acc.frozen_cash - o.frozen_cash)
        o.frozen_cash = 0.0
    else:
        assert pos is not None, "a sell order has a position"
        pos.frozen_volume -= o.remaining
        pos.can_use_volume += o.remaining


def apply_fill(o: Order, acc: Account, pos: Position, price: float, qty: int, fees: float,
               t_plus_zero: bool = False) -> float:
    """Book one fill of `qty` shares at `price` costing `fees` on order, account and position.

    Returns the fill's amount (price x qty, to the cent). A buy that is now complete keeps
    whatever it froze beyond its cost: call `release` for it.
    """
    amount = cents(price * qty)
    o.traded_volume += qty
    o.traded_amount = cents(o.traded_amount + amount)
    o.fees_paid = cents(o.fees_paid + fees)
    if o.is_buy:
        cost = cents(amount + fees)
        from_frozen = min(cost, o.frozen_cash)
        o.frozen_cash = cents(o.frozen_cash - from_frozen)
        acc.frozen_cash = cents(acc.frozen_cash - from_frozen)
        acc.cash = cents(acc.cash - (cost - from_frozen))
        pos.volume += qty
        if t_plus_zero:  # convertible bonds: sellable the day they are bought
            pos.can_use_volume += qty
        pos.cost = cents(pos.cost + cost)
        pos.open_amount = cents(pos.open_amount + amount)
        pos.open_volume += qty
    else:
        proceeds = cents(amount - fees)
        acc.cash = cents(acc.cash + proceeds)
        acc.unwithdrawable = cents(acc.unwithdrawable + proceeds)
        pos.cost = cents(pos.cost * (pos.volume - qty) / pos.volume) if pos.volume else 0.0
        pos.volume -= qty
        pos.frozen_volume -= qty
    return amount


def settle_day(positions: MutableMapping[tuple[str, str], Position], accounts: Iterable[Account]) -> list[Position]:
    """The day's end (after every open order has been released): closed positions are removed
    from `positions`, the rest become sellable (T+1); cash frozen comes back and the day's
    proceeds become withdrawable. Returns the positions that remain, to be written."""
    kept: list[Position] = []
    for key, p in list(positions.items()):
        if p.volume == 0:
            del positions[key]
            continue
        p.yesterday_volume = p.can_use_volume = p.volume
        p.frozen_volume = 0
        kept.append(p)
    for a in accounts:
        a.cash = cents(a.cash + a.frozen_cash)
        a.frozen_cash = 0.0
        a.unwithdrawable = 0.0
    return kept
