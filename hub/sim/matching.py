"""Matching: an order against a quote's five-level book, decided without accounts, store or events.

`match` walks the opposite side within a limit and takes the shares it fills out of the
book's levels; `enter_book` runs a price type's semantics for a new order (limit, best
price of either side, full-or-cancel, market with the rest cancelled or resting). Both
return what happened (`Fill`s, a reason to cancel, a price to rest at); the exchange books
the fills (`hub.sim.ledger`), writes them and pushes their events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xtquant import xtconstant as C

from hub.sim.models import Order
from hub.sim.quotes import Quote
from hub.sim.rules import LIMIT_TYPES

LOT = 100  # a partial fill comes in whole lots; the order's last fill may be an odd rest


@dataclass(frozen=True)
class Fill:
    price: float
    qty: int


@dataclass
class Entry:
    """What entering the book did to a new order: its fills, then at most one of
    `cancel` (the reason the unfilled rest is cancelled) or `rest_at` (a new limit to rest at)."""

    fills: list[Fill] = field(default_factory=list)
    limit: float | None = None  # the limit the order took from the book (best price of a side)
    cancel: str | None = None
    rest_at: float | None = None


def match(is_buy: bool, volume: int, limit: float | None, q: Quote, fill_ratio: float) -> list[Fill]:
    """Fill up to `volume` shares against `q`'s opposite side, best level first, within `limit`
    (None: any price). Each level gives at most `fill_ratio` of its shown shares. The filled
    shares leave the book (emptied levels are dropped)."""
    fills: list[Fill] = []
    remaining = volume
    for lvl in q.ask if is_buy else q.bid:
        if remaining <= 0:
            break
        price, shown = lvl[0], int(lvl[1])
        if limit is not None:
            if is_buy and price > limit + 1e-9:
                break
            if not is_buy and price < limit - 1e-9:
                break
        qty = min(remaining, int(shown * fill_ratio))
        if qty < remaining:
            qty -= qty % LOT
        if qty <= 0:
            continue
        lvl[1] = shown - qty
        remaining -= qty
        fills.append(Fill(price, qty))
    q.ask = [lvl for lvl in q.ask if lvl[1] > 0]
    q.bid = [lvl for lvl in q.bid if lvl[1] > 0]
    return fills


def match_order(o: Order, q: Quote, fill_ratio: float) -> list[Fill]:
    """`match` for an order's unfilled rest at its own limit."""
    return match(o.is_buy, o.remaining, o.limit_price, q, fill_ratio)


def enter_book(o: Order, q: Quote, fill_ratio: float) -> Entry:
    """A new order's first contact with the book, by its price type (MiniQMT's semantics)."""
    pt = o.price_type
    opposite = q.ask if o.is_buy else q.bid
    own = q.bid if o.is_buy else q.ask
    if pt in LIMIT_TYPES:
        return Entry(match_order(o, q, fill_ratio))
    if pt == C.MARKET_PEER_PRICE_FIRST or pt == C.MARKET_MINE_PRICE_FIRST:
        side = opposite if pt == C.MARKET_PEER_PRICE_FIRST else own
        if not side:
            return Entry(cancel="no best price on that side: order cancelled (无对手方/本方价格)")
        limit = side[0][0]
        return Entry(match(o.is_buy, o.remaining, limit, q, fill_ratio), limit=limit)
    if pt == C.MARKET_SZ_FULL_OR_CANCEL:
        avail = sum(int(v * fill_ratio) for _, v in opposite[:5])
        if avail < o.order_volume:
            return Entry(cancel=f"full-or-cancel: only {avail} of {o.order_volume} shares available")
    fills = match_order(o, q, fill_ratio)
    if sum(f.qty for f in fills) >= o.remaining:
        return Entry(fills)
    if pt == C.MARKET_SH_CONVERT_5_LIMIT and fills:
        return Entry(fills, rest_at=fills[-1].price)
    return Entry(fills, cancel="market order: unfilled rest cancelled (剩余撤销)")
