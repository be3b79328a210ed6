"""The simulator's own records, and their conversion to xtquant's objects.

Records travel as plain dicts keyed by xtquant's attribute names (so the same
dict can be pushed to an in-process trader or over msgpack to a remote one);
`to_xt` turns such a dict into the real `xtquant.xttype` object at the edge.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from xtquant import xtconstant as C
from xtquant import xttype

from rpc_client.xt import CANCEL_PENDING, CANCELABLE as OPEN_STATES, FINAL as FINAL_STATES  # noqa: F401
from rpc_client.xt import counter_price_type


@dataclass
class Account:
    account_id: str
    account_type: int = C.SECURITY_ACCOUNT
    cash: float = 0.0  # available
    frozen_cash: float = 0.0
    unwithdrawable: float = 0.0  # today's sell proceeds: usable, not withdrawable until T+1


@dataclass
class Position:
    account_id: str
    stock_code: str
    volume: int = 0
    can_use_volume: int = 0
    yesterday_volume: int = 0
    frozen_volume: int = 0
    cost: float = 0.0  # total cost basis incl. fees, for avg_price
    open_amount: float = 0.0  # buy amount excl. fees, for open_price
    open_volume: int = 0


@dataclass
class Order:
    order_id: int
    account_id: str
    stock_code: str
    order_type: int
    order_volume: int
    price_type: int
    price: float
    order_sysid: str = ""
    order_time: int = 0
    traded_volume: int = 0
    traded_amount: float = 0.0
    order_status: int = C.ORDER_UNREPORTED
    status_msg: str = ""
    strategy_name: str = ""
    order_remark: str = ""
    limit_price: float | None = None  # price the order rests/matches at; None = market sweep
    frozen_cash: float = 0.0  # cash still frozen by this (buy) order
    fees_paid: float = 0.0
    trading_day: str = ""
    history: list[int] = field(default_factory=list)  # every status it went through

    @property
    def is_buy(self) -> bool:
        return self.order_type == C.STOCK_BUY

    @property
    def remaining(self) -> int:
        return self.order_volume - self.traded_volume

    @property
    def is_open(self) -> bool:
        return self.order_status in OPEN_STATES

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d["history"] = ",".join(map(str, self.history))
        return d


@dataclass
class Trade:
    traded_id: str
    account_id: str
    stock_code: str
    order_type: int
    traded_time: int
    traded_price: float
    traded_volume: int
    traded_amount: float
    order_id: int
    order_sysid: str
    strategy_name: str
    order_remark: str
    commission: float  # all fees of this fill (commission + stamp duty + transfer fee)
    trading_day: str = ""


@dataclass(frozen=True)
class OrderRequest:
    """One order request as the trader sent it (values unchecked: the exchange validates them)."""

    session: Any  # the TraderSink that gets the order_response / order_error pushes, or None
    account_id: Any
    account_type: Any
    stock_code: Any
    order_type: Any
    order_volume: Any
    price_type: Any
    price: Any
    strategy_name: Any = ""
    order_remark: Any = ""
    seq: int | None = None  # an async request's seq: its order_response carries it

    def plain(self) -> "OrderRequest":
        """Account, code and names as str (the remark cut to 24 characters, as MiniQMT keeps it)."""
        def text(v: Any) -> str:
            return v if isinstance(v, str) else str(v)

        return replace(self, account_id=text(self.account_id), stock_code=text(self.stock_code),
                       strategy_name=text(self.strategy_name), order_remark=text(self.order_remark)[:24])


@dataclass(frozen=True)
class CancelRequest:
    """One cancel request: by `order_id`, or by `market` + `sysid` (the exchange's order number)."""

    session: Any
    account_id: Any
    order_id: Any = None
    market: Any = None
    sysid: Any = None
    seq: int | None = None


def _offset(order_type: int) -> int:
    return C.OFFSET_FLAG_OPEN if order_type == C.STOCK_BUY else C.OFFSET_FLAG_CLOSE


def order_dict(o: Order, name: str) -> dict[str, Any]:
    return {
        "account_type": C.SECURITY_ACCOUNT, "account_id": o.account_id, "stock_code": o.stock_code,
        "order_id": o.order_id, "order_sysid": o.order_sysid, "order_time": o.order_time,
        "order_type": o.order_type, "order_volume": o.order_volume,
        "price_type": counter_price_type(o.price_type),  # the counter's enum, as MiniQMT reports it
        "price": o.price, "traded_volume": o.traded_volume,
        "traded_price": round(o.traded_amount / o.traded_volume, 4) if o.traded_volume else 0.0,
        "order_status": o.order_status, "status_msg": o.status_msg, "strategy_name": o.strategy_name,
        "order_remark": o.order_remark, "direction": C.DIRECTION_FLAG_LONG,
        "offset_flag": _offset(o.order_type), "secu_account": _secu(o.account_id, o.stock_code),
        "instrument_name": name,
    }


def trade_dict(t: Trade, name: str) -> dict[str, Any]:
    return {
        "account_type": C.SECURITY_ACCOUNT, "account_id": t.account_id, "stock_code": t.stock_code,
        "order_type": t.order_type, "traded_id": t.traded_id, "traded_time": t.traded_time,
        "traded_price": t.traded_price, "traded_volume": t.traded_volume,
        "traded_amount": t.traded_amount, "order_id": t.order_id, "order_sysid": t.order_sysid,
        "strategy_name": t.strategy_name, "order_remark": t.order_remark,
        "direction": C.DIRECTION_FLAG_LONG, "offset_flag": _offset(t.order_type),
        "commission": t.commission, "secu_account": _secu(t.account_id, t.stock_code),
        "instrument_name": name,
    }


def position_dict(p: Position, name: str, last_price: float) -> dict[str, Any]:
    market_value = round(p.volume * last_price, 2)
    avg = round(p.cost / p.volume, 4) if p.volume else 0.0
    open_price = round(p.open_amount / p.open_volume, 4) if p.open_volume else 0.0
    float_profit = round(market_value - p.cost, 2) if p.volume else 0.0
    return {
        "account_type": C.SECURITY_ACCOUNT, "account_id": p.account_id, "stock_code": p.stock_code,
        "volume": p.volume, "can_use_volume": p.can_use_volume, "open_price": open_price,
        "market_value": market_value, "frozen_volume": p.frozen_volume, "on_road_volume": 0,
        "yesterday_volume": p.yesterday_volume, "avg_price": avg, "direction": C.DIRECTION_FLAG_LONG,
        "last_price": last_price,
        "profit_rate": round((last_price - avg) / avg, 6) if avg else 0.0,
        "secu_account": _secu(p.account_id, p.stock_code), "instrument_name": name,
        "float_profit": float_profit, "open_date": "", "position_profit": 0.0,
    }


def asset_dict(a: Account, market_value: float) -> dict[str, Any]:
    total = round(a.cash + a.frozen_cash + market_value, 2)
    return {
        "account_type": C.SECURITY_ACCOUNT, "account_id": a.account_id, "cash": round(a.cash, 2),
        "frozen_cash": round(a.frozen_cash, 2), "market_value": round(market_value, 2),
        "total_asset": total, "fetch_balance": round(max(a.cash - a.unwithdrawable, 0.0), 2),
    }


def _secu(account_id: str, code: str) -> str:
    """A stable fake shareholder code per account and exchange (A + 9 digits on SH, 0 + 9 on SZ)."""
    digits = "".join(ch for ch in account_id if ch.isdigit())[-9:].rjust(9, "0")
    return {"SH": "A", "SZ": "0", "BJ": "8"}.get(code[-2:], "A") + digits


class XtAccountInfo:
    """xtquant documents `XtAccountInfo` but its xttype module does not define it."""

    def __init__(self, account_id: str, account_type: int, broker_type: int, platform_id: int,
                 account_classification: int, login_status: int) -> None:
        self.account_type = account_type
        self.account_id = account_id
        self.broker_type = broker_type
        self.platform_id = platform_id
        self.account_classification = account_classification
        self.login_status = login_status


_CLASSES: dict[str, type] = {
    "order": xttype.XtOrder, "trade": xttype.XtTrade, "position": xttype.XtPosition,
    "asset": xttype.XtAsset, "order_error": xttype.XtOrderError, "cancel_error": xttype.XtCancelError,
    "order_response": xttype.XtOrderResponse, "cancel_response": xttype.XtCancelOrderResponse,
    "account_status": xttype.XtAccountStatus, "account_info": XtAccountInfo,
}
_PARAMS: dict[str, list[str]] = {
    k: [p for p in inspect.signature(cls.__init__).parameters if p != "self"] for k, cls in _CLASSES.items()
}


def to_xt(kind: str, d: dict[str, Any]) -> Any:
    """Build the xttype object of `kind` from a dict of its attributes (extra keys become attributes too)."""
    cls = _CLASSES[kind]
    obj = cls(**{p: d.get(p) for p in _PARAMS[kind]})
    for k, v in d.items():
        setattr(obj, k, v)
    return obj
