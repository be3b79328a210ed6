"""ETF and convertible-bond orders trade through the hub under their own rules."""

from __future__ import annotations

import time

from xtquant import xtconstant as C

from rpc_client import RpcGateway


def _wait(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("condition not met")


def test_etf_and_bond_orders_through_the_hub(md_hub):
    ex = md_hub.broker.quotes.source._ex
    ex.set_book("113052.SH", last=110.0, ask=[(110.005, 1000)], bid=[(109.995, 1000)])
    ex.set_book("510500.SH", last=6.0, ask=[(6.001, 10000)], bid=[(5.999, 10000)])
    gw = RpcGateway(md_hub.config.rpc, md_hub.config.pub)
    try:
        gw.connect(strategy="etf-bond")
        bond = gw.order_stock("113052.SH", C.STOCK_BUY, 20, C.FIX_PRICE, 110.005)
        etf = gw.order_stock("510500.SH", C.STOCK_BUY, 300, C.FIX_PRICE, 6.001)
        odd = gw.order_stock("113052.SH", C.STOCK_BUY, 15, C.FIX_PRICE, 110.005)  # not a lot of 10
        def settled(ids):
            mine = {o.order_id: o for o in gw.query_stock_orders() if o.order_id in ids}
            done = len(mine) == len(ids) and all(o.order_status in (C.ORDER_SUCCEEDED, C.ORDER_JUNK)
                                                 for o in mine.values())
            return mine if done else None

        orders = _wait(lambda: settled({bond, etf, odd}))
        assert (orders[bond].order_status, orders[bond].traded_price) == (C.ORDER_SUCCEEDED, 110.005)
        assert (orders[etf].order_status, orders[etf].traded_price) == (C.ORDER_SUCCEEDED, 6.001)
        assert orders[odd].order_status == C.ORDER_JUNK
        positions = {p.stock_code: p for p in gw.query_stock_positions()}
        assert (positions["113052.SH"].volume, positions["113052.SH"].can_use_volume) == (20, 20)  # T+0
        assert (positions["510500.SH"].volume, positions["510500.SH"].can_use_volume) == (300, 0)  # T+1
        sell = gw.order_stock("113052.SH", C.STOCK_SELL, 20, C.FIX_PRICE, 109.995)
        assert _wait(lambda: settled({sell}))[sell].order_status == C.ORDER_SUCCEEDED
    finally:
        gw.close()
