"""The xtquant vocabulary, spelled once: order states and their groups, sides, markets, callbacks.

Every part of the project (hub core, simulator, client, monitor, tests) imports these names
instead of writing the numbers again; copies had started to disagree (the hub's open-order set
left out 52 while the monitor's included it). The values are xtquant's own
(`xtquant.xtconstant`), written out here because importing xtquant runs a network update check
and the monitor may run where xtquant is not installed. This module imports nothing from the
project and nothing outside the standard library, so anything may import it.
"""

from __future__ import annotations

from typing import Any

# ---- order states (XtOrder.order_status) -------------------------------------------------
ORDER_UNREPORTED = 48       # 未报
ORDER_WAIT_REPORTING = 49   # 待报
ORDER_REPORTED = 50         # 已报
ORDER_REPORTED_CANCEL = 51  # 已报待撤
ORDER_PARTSUCC_CANCEL = 52  # 部成待撤
ORDER_PART_CANCEL = 53      # 部撤
ORDER_CANCELED = 54         # 已撤
ORDER_PART_SUCC = 55        # 部成
ORDER_SUCCEEDED = 56        # 已成
ORDER_JUNK = 57             # 废单
ORDER_UNKNOWN = 255         # 未知

#: Working orders: they can still trade and a cancel may be sent for them.
CANCELABLE = frozenset({ORDER_UNREPORTED, ORDER_WAIT_REPORTING, ORDER_REPORTED, ORDER_PART_SUCC})
#: A cancel is under way; the order may still trade until the exchange confirms it.
CANCEL_PENDING = frozenset({ORDER_REPORTED_CANCEL, ORDER_PARTSUCC_CANCEL})
#: Not final: working or waiting for its cancel. What "open" means everywhere (counts, views).
OPEN = CANCELABLE | CANCEL_PENDING
#: Final: nothing more will happen to the order.
FINAL = frozenset({ORDER_PART_CANCEL, ORDER_CANCELED, ORDER_SUCCEEDED, ORDER_JUNK})


def is_open(status: Any) -> bool:
    """True while the order is not final (52 部成待撤 included)."""
    return status in OPEN


def is_final(status: Any) -> bool:
    return status in FINAL


def moved_backwards(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when `new` is an older state of the order than `old` (a push overtaken by a reconcile).

    Order states only move forward: filled volume never shrinks and a final state is never left.
    A push queued before a reconcile's query may arrive after it; applying it would show the
    order going backwards, so the book and the monitor both drop such a push.
    """
    try:
        if int(new.get("traded_volume") or 0) < int(old.get("traded_volume") or 0):
            return True
    except (TypeError, ValueError):
        return False
    return old.get("order_status") in FINAL and new.get("order_status") not in FINAL


# ---- sides and price types -----------------------------------------------------------------
STOCK_BUY = 23
STOCK_SELL = 24
SIDES = frozenset({STOCK_BUY, STOCK_SELL})

FIX_PRICE = 11      # limit order
LATEST_PRICE = 5    # market at the latest price
# the exchanges' market-order types (what a script passes as order_stock's price_type)
MARKET_SH_CONVERT_5_CANCEL = 42     # SH/BJ 最优五档即时成交剩余撤销
MARKET_SH_CONVERT_5_LIMIT = 43      # SH/BJ 最优五档即时成交剩转限价
MARKET_PEER_PRICE_FIRST = 44        # 对手方最优价格委托
MARKET_MINE_PRICE_FIRST = 45        # 本方最优价格委托
MARKET_SZ_INSTBUSI_RESTCANCEL = 46  # SZ 即时成交剩余撤销委托
MARKET_SZ_CONVERT_5_CANCEL = 47     # SZ 最优五档即时成交剩余撤销
MARKET_SZ_FULL_OR_CANCEL = 48       # SZ 全额成交或撤销委托
#: Price types whose `price` means something; for every other (market) type the price is ignored,
#: whatever its value (scripts pass 0 or -1), as MiniQMT does.
PRICED_TYPES = frozenset({FIX_PRICE})

# ---- the counter's price types (XtOrder.price_type as MiniQMT reports it) ----------------
# MiniQMT reports an order's price_type in the counter's own enum (EBrokerPriceType), not the
# value the order was sent with: "该字段在返回时为柜台返回类型，不等价于下单传入的price_type".
# A limit order comes back as 50; programs key on that (vnpy_xt ignores any other value,
# easytrader names it 限价).
BROKER_PRICE_ANY = 49                        # 市价
BROKER_PRICE_LIMIT = 50                      # 限价
BROKER_PRICE_BEST = 51                       # 最优价
BROKER_PRICE_PROP_PEER_PRICE_FIRST = 84      # 对手方最优价格
BROKER_PRICE_PROP_L5_FIRST_LIMITPX = 85      # 最优五档即时成交剩余转限价
BROKER_PRICE_PROP_MIME_PRICE_FIRST = 86      # 本方最优价格
BROKER_PRICE_PROP_INSTBUSI_RESTCANCEL = 87   # 即时成交剩余撤销
BROKER_PRICE_PROP_L5_FIRST_CANCEL = 88       # 最优五档即时成交剩余撤销
BROKER_PRICE_PROP_FULL_REAL_CANCEL = 89      # 全额成交并撤单

#: Request price type (xtconstant) -> the counter's price type reported in XtOrder.price_type.
#: The one table: the simulator reports through it, docs/client.md prints it.
COUNTER_PRICE_TYPE = {
    FIX_PRICE: BROKER_PRICE_LIMIT,
    LATEST_PRICE: BROKER_PRICE_LIMIT,  # sent to the counter as a limit order at the latest price
    MARKET_PEER_PRICE_FIRST: BROKER_PRICE_PROP_PEER_PRICE_FIRST,
    MARKET_MINE_PRICE_FIRST: BROKER_PRICE_PROP_MIME_PRICE_FIRST,
    MARKET_SH_CONVERT_5_CANCEL: BROKER_PRICE_PROP_L5_FIRST_CANCEL,
    MARKET_SH_CONVERT_5_LIMIT: BROKER_PRICE_PROP_L5_FIRST_LIMITPX,
    MARKET_SZ_INSTBUSI_RESTCANCEL: BROKER_PRICE_PROP_INSTBUSI_RESTCANCEL,
    MARKET_SZ_CONVERT_5_CANCEL: BROKER_PRICE_PROP_L5_FIRST_CANCEL,
    MARKET_SZ_FULL_OR_CANCEL: BROKER_PRICE_PROP_FULL_REAL_CANCEL,
}


def counter_price_type(price_type: Any) -> Any:
    """The counter's price type MiniQMT reports for an order sent with `price_type` (unknown: as given)."""
    return COUNTER_PRICE_TYPE.get(price_type, price_type)

# ---- markets -------------------------------------------------------------------------------
#: Market suffixes of stock codes ('600000.SH'); as a code on its own, a whole-market subscription.
MARKETS = ("SH", "SZ", "BJ")
#: Market suffix -> xtquant's market enum (XtPosition/XtOrder carry it in some records).
MARKET_ENUM = {"SH": 0, "SZ": 1, "BJ": 70}


def is_market(code: Any) -> bool:
    """True for a bare market ('SH'), which xtdata's whole-quote calls take in place of a code."""
    return code in MARKETS


# ---- callbacks -----------------------------------------------------------------------------
#: XtQuantTraderCallback method -> the push kind the hub, the simulator and the client use.
CALLBACK_KIND = {
    "on_connected": "connected",
    "on_disconnected": "disconnected",
    "on_account_status": "account_status",
    "on_stock_asset": "asset",
    "on_stock_order": "order",
    "on_stock_trade": "trade",
    "on_stock_position": "position",
    "on_order_error": "order_error",
    "on_cancel_error": "cancel_error",
    "on_order_stock_async_response": "order_response",
    "on_cancel_order_stock_async_response": "cancel_response",
}
#: Push kind -> XtQuantTraderCallback method.
CALLBACK_OF_KIND = {kind: name for name, kind in CALLBACK_KIND.items()}


class XtQuantTraderCallback:
    """The callback base of ``xtquant.xttrader``: override the pushes you need.

    One class for both drop-in traders (the simulator's and the hub client's), so a strategy's
    subclass works with either. Who calls these and on which thread is said by each trader.
    """

    def on_connected(self) -> None:
        """Connection established."""

    def on_disconnected(self) -> None:
        """Connection lost; a new trader (new session id) is needed to reconnect."""

    def on_account_status(self, status: Any) -> None:
        """XtAccountStatus."""

    def on_stock_asset(self, asset: Any) -> None:
        """XtAsset."""

    def on_stock_order(self, order: Any) -> None:
        """XtOrder."""

    def on_stock_trade(self, trade: Any) -> None:
        """XtTrade."""

    def on_stock_position(self, position: Any) -> None:
        """XtPosition."""

    def on_order_error(self, order_error: Any) -> None:
        """XtOrderError."""

    def on_cancel_error(self, cancel_error: Any) -> None:
        """XtCancelError."""

    def on_order_stock_async_response(self, response: Any) -> None:
        """XtOrderResponse."""

    def on_cancel_order_stock_async_response(self, response: Any) -> None:
        """XtCancelOrderResponse."""

    def on_smt_appointment_async_response(self, response: Any) -> None:
        """Not served."""

    def on_bank_transfer_async_response(self, response: Any) -> None:
        """Not served."""

    def on_ctp_internal_transfer_async_response(self, response: Any) -> None:
        """Not served."""

    def on_smart_algo_order_async_response(self, response: Any) -> None:
        """Not served."""

    def on_operate_smart_task_async_response(self, response: Any) -> None:
        """Not served."""
