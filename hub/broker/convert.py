"""The one converter from xtquant objects to plain maps (xtquant's attribute names).

The real xtquant hands the callbacks either its Python classes from `xttype` or
native objects with the same attribute names; the simulator hands plain Python
objects. We read the documented attributes by name (so both kinds work) and add
any further public attribute a Python object carries.
"""

from __future__ import annotations

from typing import Any

_COMMON = ("account_type", "account_id")

FIELDS: dict[str, tuple[str, ...]] = {
    "order": _COMMON + ("stock_code", "order_id", "order_sysid", "order_time", "order_type", "order_volume",
                        "price_type", "price", "traded_volume", "traded_price", "order_status", "status_msg",
                        "strategy_name", "order_remark", "direction", "offset_flag", "secu_account",
                        "instrument_name"),
    "trade": _COMMON + ("order_type", "stock_code", "traded_id", "traded_time", "traded_price", "traded_volume",
                        "traded_amount", "order_id", "order_sysid", "strategy_name", "order_remark", "direction",
                        "offset_flag", "commission", "secu_account", "instrument_name"),
    "position": _COMMON + ("stock_code", "volume", "can_use_volume", "open_price", "market_value",
                           "frozen_volume", "on_road_volume", "yesterday_volume", "avg_price", "direction",
                           "last_price", "profit_rate", "secu_account", "instrument_name"),
    "asset": _COMMON + ("cash", "frozen_cash", "market_value", "total_asset", "fetch_balance"),
    "order_error": _COMMON + ("order_id", "error_id", "error_msg", "strategy_name", "order_remark"),
    "cancel_error": _COMMON + ("order_id", "market", "order_sysid", "error_id", "error_msg"),
    "order_response": _COMMON + ("order_id", "strategy_name", "order_remark", "error_msg", "seq"),
    "cancel_response": _COMMON + ("cancel_result", "order_id", "order_sysid", "seq", "error_msg"),
    "account_status": _COMMON + ("status",),
    "account_info": _COMMON + ("broker_type", "platform_id", "account_classification", "login_status"),
}


def plain(value: Any, depth: int = 0) -> Any:
    """A msgpack-safe copy of a value (numbers, strings, lists, maps)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if depth > 6:
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v, depth + 1) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars/arrays from xtdata
        return plain(value.tolist(), depth + 1)
    if hasattr(value, "__dict__"):
        return to_dict(value)
    return str(value)


def to_dict(obj: Any, kind: str | None = None) -> dict[str, Any]:
    """An xtquant object (XtOrder, XtTrade, ...) as a plain map with xtquant's attribute names."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    out: dict[str, Any] = {}
    for name in FIELDS.get(kind or "", ()):
        if hasattr(obj, name):
            out[name] = plain(getattr(obj, name))
    try:
        attrs = vars(obj)
    except TypeError:
        attrs = {}
    for name, value in attrs.items():
        if not name.startswith("_") and name not in out and not callable(value):
            out[name] = plain(value)
    if not out and kind is None:
        for name in dir(obj):
            if name.startswith("_"):
                continue
            value = getattr(obj, name, None)
            if not callable(value):
                out[name] = plain(value)
    return out
