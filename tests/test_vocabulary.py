"""One xtquant vocabulary (rpc_client.xt): its groups, and every part of the project agreeing on them."""

from __future__ import annotations

from xtquant import xtconstant as C

from hub.core.book import Book
from hub.monitor.state import MonitorState
from rpc_client import xt


def test_values_are_xtquants():
    for name in ("ORDER_UNREPORTED", "ORDER_WAIT_REPORTING", "ORDER_REPORTED", "ORDER_REPORTED_CANCEL",
                 "ORDER_PARTSUCC_CANCEL", "ORDER_PART_CANCEL", "ORDER_CANCELED", "ORDER_PART_SUCC",
                 "ORDER_SUCCEEDED", "ORDER_JUNK", "ORDER_UNKNOWN", "STOCK_BUY", "STOCK_SELL", "FIX_PRICE",
                 "LATEST_PRICE"):
        assert getattr(xt, name) == getattr(C, name), name
    assert xt.MARKET_ENUM == {"SH": C.SH_MARKET, "SZ": C.SZ_MARKET, "BJ": C.MARKET_ENUM_BEIJING}


def test_groups_partition_the_states():
    every = {48, 49, 50, 51, 52, 53, 54, 55, 56, 57}
    assert xt.OPEN | xt.FINAL == every and not xt.OPEN & xt.FINAL
    assert xt.CANCELABLE | xt.CANCEL_PENDING == xt.OPEN and not xt.CANCELABLE & xt.CANCEL_PENDING
    assert xt.is_open(xt.ORDER_PARTSUCC_CANCEL) and xt.is_open(xt.ORDER_REPORTED_CANCEL)
    assert not xt.is_open(xt.ORDER_SUCCEEDED) and xt.is_final(xt.ORDER_JUNK)


def test_moved_backwards():
    old = {"order_status": xt.ORDER_PART_SUCC, "traded_volume": 200}
    assert xt.moved_backwards(old, {"order_status": xt.ORDER_REPORTED, "traded_volume": 100})
    assert not xt.moved_backwards(old, {"order_status": xt.ORDER_SUCCEEDED, "traded_volume": 400})
    done = {"order_status": xt.ORDER_CANCELED, "traded_volume": 0}
    assert xt.moved_backwards(done, {"order_status": xt.ORDER_REPORTED, "traded_volume": 0})


def _order(order_id: int, status: int, remark: str = "") -> dict:
    return {"order_id": order_id, "order_status": status, "stock_code": "600000.SH", "order_type": xt.STOCK_BUY,
            "order_volume": 300, "traded_volume": 100, "order_time": 1700000000 + order_id,
            "order_remark": remark, "strategy_name": ""}


def test_part_filled_cancel_pending_is_open_in_the_hub_and_the_monitor():
    """52 (部成待撤) is open everywhere: `hub clients` and the monitor count the same (it was left out by the book)."""
    book = Book()
    book.register_tag("qh1", "alpha", None, "")
    for oid, status in ((1, xt.ORDER_PARTSUCC_CANCEL), (2, xt.ORDER_REPORTED_CANCEL), (3, xt.ORDER_PART_SUCC),
                        (4, xt.ORDER_SUCCEEDED)):
        book.bind_order(oid, "qh1")
        book.apply_order(_order(oid, status, "qh1"))
    hub_counts = book.counts("alpha")
    assert hub_counts["open_orders"] == 3

    monitor = MonitorState()
    monitor.apply_orders(list(book.orders.values()))
    assert monitor.strategy_counts("alpha")["open_orders"] == hub_counts["open_orders"]


def test_one_callback_table_and_base():
    from hub.broker.adapter import CALLBACKS
    from hub.sim.trader import XtQuantTraderCallback as SimCallback
    from rpc_client.xttrader import XtQuantTraderCallback as ClientCallback

    assert CALLBACKS is xt.CALLBACK_KIND
    assert SimCallback is ClientCallback is xt.XtQuantTraderCallback
    for method in xt.CALLBACK_KIND:
        assert callable(getattr(xt.XtQuantTraderCallback, method)), method
