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


def _literals_spelling(values: set[str]) -> list[str]:
    """Where a tuple, list or set literal in hub/ or rpc_client/ holds all of `values` (read with ast)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*(root / "hub").rglob("*.py"), *(root / "rpc_client").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                consts = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if values <= consts:
                    found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_markets_and_callback_names_are_spelled_once():
    """The markets and the callback table are stated in rpc_client/xt.py only; everyone else imports them
    (they used to be spelled seven and four times, and the copies drifted)."""
    assert [f.split(":")[0] for f in _literals_spelling(set(xt.MARKETS))] == ["rpc_client/xt.py"]
    callbacks = {"on_stock_order", "on_stock_trade", "on_order_error", "on_cancel_error"}
    assert callbacks <= set(xt.CALLBACK_KIND)
    assert _literals_spelling(callbacks) == []  # xt.py states them as a dict's keys, not a literal list


def test_the_spelling_finder_finds_a_copy():
    # the simulator's sectors name ("SH", "SZ") pairs as data (not the vocabulary): the finder must see them
    assert any(f.startswith("hub/sim/marketdata.py:") for f in _literals_spelling({"SH", "SZ"}))
