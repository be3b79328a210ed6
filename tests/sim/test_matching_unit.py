"""hub.sim.matching on its own: an order against a hand-made book, no exchange, store or sockets."""

from __future__ import annotations

import pytest
from xtquant import xtconstant as C

from hub.sim.matching import Fill, enter_book, match, match_order
from hub.sim.models import Order
from hub.sim.quotes import Quote
from hub.sim.universe import Universe

UNI = Universe()


def book(code: str = "600000.SH", ask=((10.01, 300), (10.02, 500), (10.03, 1000)),
         bid=((10.0, 400), (9.99, 600))) -> Quote:
    q = Quote(UNI.get(code), 10.0, 9.0, 11.0, 10.0, fair=10.0)
    q.ask = [[p, v] for p, v in ask]
    q.bid = [[p, v] for p, v in bid]
    return q


def order(side: int = C.STOCK_BUY, volume: int = 600, pt: int = C.FIX_PRICE, limit: float | None = 10.02,
          code: str = "600000.SH") -> Order:
    o = Order(1, "acct", code, side, volume, pt, limit or 0.0)
    o.limit_price = limit
    o.order_status = C.ORDER_REPORTED
    return o


def test_a_buy_walks_the_asks_within_its_limit_and_takes_the_shares_out_of_the_book():
    q = book()
    assert match(True, 1000, 10.02, q, 1.0) == [Fill(10.01, 300), Fill(10.02, 500)]
    assert q.ask == [[10.03, 1000]]  # emptied levels are gone
    assert q.bid == [[10.0, 400], [9.99, 600]]  # the own side is untouched


def test_a_sell_walks_the_bids_down_to_its_limit():
    q = book()
    assert match(False, 2000, 9.995, q, 1.0) == [Fill(10.0, 400)]
    assert q.bid == [[9.99, 600]]


def test_fill_ratio_and_whole_lots_for_a_partial_fill_an_odd_rest_at_the_end():
    q = book(ask=((10.01, 1000),))
    assert match(True, 1000, None, q, 0.25) == [Fill(10.01, 200)]  # 250 shown -> 2 lots
    assert q.ask == [[10.01, 800]]
    q = book(ask=((10.01, 1000),))
    assert match(True, 150, None, q, 1.0) == [Fill(10.01, 150)]  # the whole rest, odd or not


def test_nothing_crosses_no_fill_and_the_book_is_unchanged():
    q = book()
    assert match(True, 100, 10.0, q, 1.0) == []
    assert q.ask[0] == [10.01, 300]


def test_match_order_uses_the_orders_rest_and_limit():
    q = book()
    o = order(volume=500, limit=10.01)
    o.traded_volume = 200
    assert match_order(o, q, 1.0) == [Fill(10.01, 300)]


def test_limit_order_enters_fills_what_crosses_and_rests():
    e = enter_book(order(volume=1000, limit=10.02), book(), 1.0)
    assert e.fills == [Fill(10.01, 300), Fill(10.02, 500)] and e.cancel is None and e.rest_at is None


@pytest.mark.parametrize("pt,limit", [(C.MARKET_PEER_PRICE_FIRST, 10.01), (C.MARKET_MINE_PRICE_FIRST, 10.0)])
def test_best_price_types_take_their_limit_from_the_book(pt, limit):
    e = enter_book(order(volume=1000, pt=pt, limit=None), book(), 1.0)
    assert e.limit == limit
    assert e.fills == ([Fill(10.01, 300)] if pt == C.MARKET_PEER_PRICE_FIRST else [])
    assert e.cancel is None


def test_best_price_with_an_empty_side_cancels():
    e = enter_book(order(pt=C.MARKET_PEER_PRICE_FIRST, limit=None), book(ask=()), 1.0)
    assert e.fills == [] and "no best price" in e.cancel


def test_full_or_cancel_fills_all_or_nothing():
    q = book("000001.SZ")
    e = enter_book(order(volume=2000, pt=C.MARKET_SZ_FULL_OR_CANCEL, limit=None, code="000001.SZ"), q, 1.0)
    assert e.fills == [] and "only 1800 of 2000" in e.cancel and q.ask[0] == [10.01, 300]
    e = enter_book(order(volume=1800, pt=C.MARKET_SZ_FULL_OR_CANCEL, limit=None, code="000001.SZ"), q, 1.0)
    assert sum(f.qty for f in e.fills) == 1800 and e.cancel is None and q.ask == []


def test_market_order_cancels_its_unfilled_rest():
    e = enter_book(order(volume=2000, pt=C.MARKET_SH_CONVERT_5_CANCEL, limit=None), book(), 1.0)
    assert sum(f.qty for f in e.fills) == 1800 and "剩余撤销" in e.cancel


def test_convert_to_limit_rests_at_its_last_fill_price_or_cancels_with_no_fill():
    e = enter_book(order(volume=2000, pt=C.MARKET_SH_CONVERT_5_LIMIT, limit=None), book(), 1.0)
    assert e.rest_at == 10.03 and e.cancel is None
    e = enter_book(order(volume=100, pt=C.MARKET_SH_CONVERT_5_LIMIT, limit=None), book(ask=()), 1.0)
    assert e.fills == [] and e.rest_at is None and e.cancel
