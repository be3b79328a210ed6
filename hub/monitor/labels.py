"""Readable names for xtquant codes, in Chinese (as the QMT terminal shows them) or English.

The codes themselves come from `rpc_client.xt`, the one vocabulary module (it never imports
xtquant, whose import runs a network update check, so the monitor runs without it).
"""

from __future__ import annotations

from rpc_client.xt import (FINAL as DONE_STATES, OPEN as OPEN_STATES, ORDER_CANCELED, ORDER_JUNK,  # noqa: F401
                           ORDER_PART_CANCEL, ORDER_PART_SUCC, ORDER_PARTSUCC_CANCEL, ORDER_REPORTED,
                           ORDER_REPORTED_CANCEL, ORDER_SUCCEEDED, ORDER_UNKNOWN, ORDER_UNREPORTED,
                           ORDER_WAIT_REPORTING, STOCK_BUY, STOCK_SELL, is_open)

LANGS = ("zh", "en")

_ORDER_STATUS = {
    ORDER_UNREPORTED: ("未报", "unreported"),
    ORDER_WAIT_REPORTING: ("待报", "pending"),
    ORDER_REPORTED: ("已报", "reported"),
    ORDER_REPORTED_CANCEL: ("已报待撤", "cancelling"),
    ORDER_PARTSUCC_CANCEL: ("部成待撤", "part-cancelling"),
    ORDER_PART_CANCEL: ("部撤", "part-cancelled"),
    ORDER_CANCELED: ("已撤", "cancelled"),
    ORDER_PART_SUCC: ("部成", "part-filled"),
    ORDER_SUCCEEDED: ("已成", "filled"),
    ORDER_JUNK: ("废单", "rejected"),
    ORDER_UNKNOWN: ("未知", "unknown"),
}

_SIDE = {STOCK_BUY: ("买入", "buy"), STOCK_SELL: ("卖出", "sell")}

_BROKER = {"up": ("正常", "up"), "down": ("断开", "down"), "reconnecting": ("重连中", "reconnecting")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def order_status_name(status: object, lang: str = "zh") -> str:
    pair = _ORDER_STATUS.get(status)  # type: ignore[arg-type]
    return _pick(pair, lang) if pair else str(status)


def side_name(order_type: object, lang: str = "zh") -> str:
    pair = _SIDE.get(order_type)  # type: ignore[arg-type]
    return _pick(pair, lang) if pair else str(order_type)


def broker_state_name(state: object, lang: str = "zh") -> str:
    pair = _BROKER.get(str(state))
    return _pick(pair, lang) if pair else str(state or "?")

