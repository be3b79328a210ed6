"""Light record objects with xtquant's attribute names.

The hub sends plain maps with xtquant's field names. Callbacks and query results
wrap them in these small classes so strategy code reads ``order.order_status`` just
as it does with ``xtquant.xttype.XtOrder`` -- without importing xtquant (which is
slow to import and needs the Windows native modules for its trader part).

Every record also keeps fields it does not declare (``client_order_id``, ``owner``
...), compares equal to another record with the same fields, and converts back
with ``to_dict()``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable, Mapping

#: xtconstant.SECURITY_ACCOUNT: the account type every stock record carries by default.
SECURITY_ACCOUNT = 2


class XtRecord:
    """A map with attribute access. Subclasses list their xtquant fields and defaults."""

    FIELDS: ClassVar[dict[str, Any]] = {}

    def __init__(self, data: Mapping[str, Any] | None = None, **fields: Any):
        values = dict(self.FIELDS)
        if data:
            values.update(data)
        values.update(fields)
        self.__dict__.update(values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None):
        return None if data is None else cls(data)

    @classmethod
    def from_list(cls, items: Iterable[Mapping[str, Any]] | None) -> list:
        return [cls(item) for item in (items or [])]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def __getitem__(self, name: str) -> Any:
        return self.__dict__[name]

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, XtRecord):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        return NotImplemented

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k in self.FIELDS or not self.FIELDS)
        return f"{type(self).__name__}({shown})"


def _fields(*names: str, **defaults: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"account_type": SECURITY_ACCOUNT, "account_id": ""}
    for n in names:
        out[n] = defaults.get(n)
    return out


class XtAsset(XtRecord):
    FIELDS = _fields("cash", "frozen_cash", "market_value", "total_asset", "fetch_balance")


class XtOrder(XtRecord):
    FIELDS = _fields("stock_code", "order_id", "order_sysid", "order_time", "order_type", "order_volume",
                     "price_type", "price", "traded_volume", "traded_price", "order_status", "status_msg",
                     "strategy_name", "order_remark", "direction", "offset_flag", "secu_account",
                     "instrument_name")


class XtTrade(XtRecord):
    FIELDS = _fields("order_type", "stock_code", "traded_id", "traded_time", "traded_price", "traded_volume",
                     "traded_amount", "order_id", "order_sysid", "strategy_name", "order_remark", "direction",
                     "offset_flag", "commission", "secu_account", "instrument_name")


class XtPosition(XtRecord):
    FIELDS = _fields("stock_code", "volume", "can_use_volume", "open_price", "market_value", "frozen_volume",
                     "on_road_volume", "yesterday_volume", "avg_price", "direction", "last_price", "profit_rate",
                     "secu_account", "instrument_name")


class XtOrderError(XtRecord):
    FIELDS = _fields("order_id", "error_id", "error_msg", "strategy_name", "order_remark")


class XtCancelError(XtRecord):
    FIELDS = _fields("order_id", "market", "order_sysid", "error_id", "error_msg")


class XtOrderResponse(XtRecord):
    FIELDS = _fields("order_id", "strategy_name", "order_remark", "error_msg", "seq")


class XtCancelOrderResponse(XtRecord):
    FIELDS = _fields("cancel_result", "order_id", "order_sysid", "seq", "error_msg")


class XtAccountStatus(XtRecord):
    FIELDS = _fields("status")


class XtAccountInfo(XtRecord):
    FIELDS = _fields("broker_type", "platform_id", "account_classification", "login_status")


_XTTYPE_CLASSES: dict[type, type] = {}


def _xttype_module() -> Any:
    """``xtquant.xttype`` when xtquant is installed (its pure-Python part loads everywhere), else None."""
    import importlib.util
    import sys

    mod = sys.modules.get("xtquant.xttype")
    if mod is not None:
        return mod
    try:
        if importlib.util.find_spec("xtquant") is None:
            return None
        import xtquant.xttype as mod  # noqa: PLC0415 - only for the xtquant drop-in, and only once
    except Exception:  # noqa: BLE001 - a broken xtquant install: plain records then
        return None
    return mod


def as_xttype(record: XtRecord | None) -> Any:
    """The record as an instance of ``xtquant.xttype``'s class of the same name too, when xtquant is
    importable: code that checks ``isinstance(order, xttype.XtOrder)`` works as with MiniQMT, and
    the record keeps its ``to_dict()`` / ``get()`` / equality. Without xtquant: the record itself."""
    if record is None:
        return None
    cls = type(record)
    both = _XTTYPE_CLASSES.get(cls)
    if both is None:
        mod = _xttype_module()
        base = getattr(mod, cls.__name__, None) if mod is not None else None
        both = cls if not isinstance(base, type) or issubclass(cls, base) else \
            type(cls.__name__, (cls, base), {"__module__": __name__, "__doc__": cls.__doc__})
        _XTTYPE_CLASSES[cls] = both
    if both is cls:
        return record
    out = both.__new__(both)
    out.__dict__.update(record.__dict__)
    return out


__all__ = ["as_xttype", "XtRecord", "XtAsset", "XtOrder", "XtTrade", "XtPosition", "XtOrderError", "XtCancelError",
           "XtOrderResponse", "XtCancelOrderResponse", "XtAccountStatus", "XtAccountInfo", "SECURITY_ACCOUNT"]
