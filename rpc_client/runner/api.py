"""jqtrade's strategy API on top of the hub, so a jqtrade strategy runs unchanged.

The names a strategy uses without importing them (``set_options``, ``run_daily``, ``order``,
``LimitOrderStyle``, ``get_orders``, ``log``, ``g`` ...) are the attributes :meth:`StrategyApi.namespace`
returns; docs/runner.md lists each with its jqtrade counterpart.

Rules kept from jqtrade: ``run_daily`` only inside ``process_initialize``; ``order`` amount > 0 buys,
< 0 sells; ``get_orders`` speaks jqtrade's status names; ``context.portfolio`` spells ``total_assert``
(and ``total_asset``); ``long_positions[code]`` of a code not held is an empty position.
Rules added for the hub: ``set_options(account_no=...)`` must name the hub's account (else the
runner refuses to start, so a strategy never trades on the wrong hub); an order the hub or the
runner refuses is a *rejected order* (``status == "rejected"``, ``err_msg`` says why), never an
exception through the strategy. Codes: ``000001.XSHE`` / ``600000.XSHG`` or ``.SZ`` / ``.SH``, and
every record comes back in the form the strategy gave.

``context.portfolio`` reads ``query_stock_asset`` / ``query_stock_positions``: on a hub with sleeves
those answer from this strategy's own sleeve.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping

from rpc_client import xt
from rpc_client.calendar import to_shanghai
from rpc_client.protocol import HubError
from rpc_client.runner import codes as C
from rpc_client.runner.schedule import CATCH_UP, ScheduleError, parse_period

log = logging.getLogger("rpc_client.runner")

MARKET_SH_CONVERT_5_CANCEL = 42  # xtconstant: best five, rest cancelled (Shanghai, Beijing)
MARKET_SZ_CONVERT_5_CANCEL = 47  # xtconstant: best five, rest cancelled (Shenzhen)

#: xtquant order state -> jqtrade status name
STATUS = {
    xt.ORDER_UNREPORTED: "new", xt.ORDER_WAIT_REPORTING: "new", xt.ORDER_REPORTED: "open",
    xt.ORDER_REPORTED_CANCEL: "canceling", xt.ORDER_PARTSUCC_CANCEL: "canceling",
    xt.ORDER_PART_CANCEL: "partly_canceled", xt.ORDER_CANCELED: "canceled", xt.ORDER_PART_SUCC: "filling",
    xt.ORDER_SUCCEEDED: "filled", xt.ORDER_JUNK: "rejected", xt.ORDER_UNKNOWN: "new",
}
STATUS_NAMES = ("new", "open", "filling", "filled", "canceling", "partly_canceled", "canceled", "rejected")

#: set_options keys that only concern jqtrade's own broker files: accepted, ignored, logged once.
IGNORED_OPTIONS = frozenset({"order_dir", "account_type", "counter_type", "algo_type", "wait_lock_internal",
                             "wait_lock_time_out", "file_encoding", "sync_retry_kwargs", "sync_balance",
                             "sync_order", "sync_period", "trade_gate"})
#: set_options keys the runner uses.
RUNNER_OPTIONS = frozenset({"account_no", "market_period", "runtime_dir", "use_account", "misfire_grace",
                            "catch_up", "max_failures"})


class StrategyError(RuntimeError):
    """The strategy used the API in a way that cannot work (the message says how to fix it)."""


class AccountMismatch(StrategyError):
    """set_options(account_no=...) names another account than the hub trades."""


def _naive(ts: Any) -> datetime | None:
    """Epoch seconds -> naive Shanghai time (jqtrade's datetimes are naive local times)."""
    try:
        return to_shanghai(float(ts)).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# ----------------------------------------------------------------------------- order styles
class LimitOrderStyle:
    """A limit order at ``price``."""

    def __init__(self, price: float) -> None:
        self.price = float(price)
        self.limit_price = self.price

    def __repr__(self) -> str:
        return f"LimitOrderStyle({self.price:g})"


class MarketOrderStyle:
    """A market order (best five, rest cancelled). ``limit_price`` is kept for jqtrade/JoinQuant
    compatibility; the hub sends no price for a market order."""

    def __init__(self, limit_price: float | None = None) -> None:
        self.limit_price = limit_price
        self.price = 0.0

    def __repr__(self) -> str:
        return "MarketOrderStyle()"


# ----------------------------------------------------------------------------- records
class UserOrder:
    """One order, with jqtrade's attribute names."""

    def __init__(self, **kw: Any) -> None:
        self.order_id: str = kw.get("order_id", "")
        self.code: str = kw.get("code", "")
        self.status: str = kw.get("status", "new")
        self.side: str = kw.get("side", "long")
        self.style: Any = kw.get("style")
        self.price: float = float(kw.get("price") or 0.0)
        self.amount: int = int(kw.get("amount") or 0)
        self.filled_amount: int = int(kw.get("filled_amount") or 0)
        self.canceled_amount: int = int(kw.get("canceled_amount") or 0)
        self.avg_cost: float = float(kw.get("avg_cost") or 0.0)
        self.deal_balance: float = float(kw.get("deal_balance") or 0.0)
        self.action: str = kw.get("action", "open")
        self.commission: float = float(kw.get("commission") or 0.0)
        self.err_msg: str = kw.get("err_msg", "")
        self.create_time: datetime | None = kw.get("create_time")
        self.entrust_time: datetime | None = kw.get("entrust_time")
        self.broker_order_id: int | None = kw.get("broker_order_id")  # the hub's / broker's order id

    @property
    def is_buy(self) -> bool:
        return self.action == "open"

    def __repr__(self) -> str:
        return (f"UserOrder(order_id={self.order_id!r}, code={self.code!r}, status={self.status!r}, "
                f"action={self.action!r}, amount={self.amount}, price={self.price:g}, "
                f"filled_amount={self.filled_amount}" + (f", err_msg={self.err_msg!r}" if self.err_msg else "") + ")")


class UserPosition:
    """One position, with jqtrade's (and JoinQuant's) attribute names. Zero for a code not held."""

    def __init__(self, code: str, raw: Mapping[str, Any] | None = None) -> None:
        r = raw or {}
        self.code = code
        self.side = "long"
        self.amount = self.total_amount = int(r.get("volume") or 0)
        self.available_amount = self.closeable_amount = int(r.get("can_use_volume") or 0)
        self.locked_amount = int(r.get("frozen_volume") or 0)
        self.avg_cost = float(r.get("open_price") or r.get("avg_price") or 0.0)
        self.hold_cost = self.avg_cost
        self.last_price = self.price = float(r.get("last_price") or 0.0)
        self.position_value = self.value = float(r.get("market_value") or 0.0)
        self.today_amount = max(0, self.amount - int(r.get("yesterday_volume") or 0)) if r else 0

    def __repr__(self) -> str:
        return (f"UserPosition(code={self.code!r}, amount={self.amount}, available_amount={self.available_amount}, "
                f"avg_cost={self.avg_cost:g}, last_price={self.last_price:g}, value={self.value:g})")


class Positions(Mapping[str, UserPosition]):
    """``long_positions``: a dict of held codes; looking up a code not held gives an empty position.

    Keys are in the strategy's code form; lookups take either form."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], jq_form: bool) -> None:
        self._rows: dict[str, Mapping[str, Any]] = {}
        for r in rows:
            if int(r.get("volume") or 0) > 0 and r.get("stock_code"):
                try:
                    self._rows[C.to_xt(str(r["stock_code"]))] = r
                except C.CodeError:
                    continue
        self._jq = jq_form

    def _key(self, code: object) -> str | None:
        try:
            return C.to_xt(str(code))
        except C.CodeError:
            return None

    def __getitem__(self, code: str) -> UserPosition:
        k = self._key(code)
        return UserPosition(code, self._rows.get(k) if k else None)

    def __contains__(self, code: object) -> bool:
        k = self._key(code)
        return k is not None and k in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter([C.in_form(k, self._jq) for k in self._rows])

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, code: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[code] if code in self else default

    def __repr__(self) -> str:
        return repr({k: self[k] for k in self})


class Portfolio:
    """``context.portfolio``: read from the hub on each access (the strategy's sleeve on a hub with sleeves)."""

    def __init__(self, api: "StrategyApi") -> None:
        self._api = api

    def _asset(self) -> Mapping[str, Any]:
        a = self._api.gateway.query_stock_asset()
        return a.to_dict() if hasattr(a, "to_dict") else dict(a or {})

    @property
    def total_assert(self) -> float:  # jqtrade's spelling
        return float(self._asset().get("total_asset") or 0.0)

    @property
    def total_asset(self) -> float:
        return self.total_assert

    @property
    def total_value(self) -> float:  # JoinQuant's name
        return self.total_assert

    @property
    def available_cash(self) -> float:
        return float(self._asset().get("cash") or 0.0)

    @property
    def locked_cash(self) -> float:
        return float(self._asset().get("frozen_cash") or 0.0)

    @property
    def positions_value(self) -> float:
        return float(self._asset().get("market_value") or 0.0)

    @property
    def long_positions(self) -> Positions:
        rows = [p.to_dict() if hasattr(p, "to_dict") else dict(p) for p in self._api.gateway.query_stock_positions()]
        return Positions(rows, self._api.jq_form)

    @property
    def positions(self) -> Positions:  # JoinQuant's name
        return self.long_positions

    @property
    def short_positions(self) -> Positions:
        return Positions([], self._api.jq_form)  # A-share cash accounts hold no shorts

    def __repr__(self) -> str:
        return "Portfolio(total_assert=..., available_cash=..., locked_cash=..., long_positions=...)"


class Context:
    """``context``: ``current_dt`` (now, on the runner's clock: the simulator's when it drives the hub),
    ``strategy_dt`` (the scheduled time of the running function), ``portfolio``. Naive Shanghai times,
    as jqtrade gives them."""

    def __init__(self, api: "StrategyApi") -> None:
        self._api = api
        self.portfolio = Portfolio(api)
        self.strategy_dt: datetime | None = None

    @property
    def current_dt(self) -> datetime:
        return self._api.clock.now().replace(tzinfo=None)


class G:
    """``g``: the strategy's globals (attribute and item access; jqtrade frees it at exit)."""

    def __getitem__(self, k: str) -> Any:
        return self.__dict__[k]

    def __setitem__(self, k: str, v: Any) -> None:
        self.__dict__[k] = v

    def __contains__(self, k: object) -> bool:
        return k in self.__dict__

    def __repr__(self) -> str:
        return f"g({self.__dict__!r})"


@dataclass
class _Local:
    """What this process knows of an order it placed: the form of its code, its style, a local rejection."""

    code: str
    style: Any
    amount: int
    side: str
    broker_order_id: int | None = None
    rejected: str = ""
    created: datetime | None = None


# ----------------------------------------------------------------------------- the API
@dataclass
class Options:
    account_no: str | None = None
    market_period: Any = None
    runtime_dir: str | None = None
    use_account: bool = True
    misfire_grace: float | None = None
    catch_up: str | None = None
    max_failures: int | None = None
    ignored: list[str] = field(default_factory=list)


class StrategyApi:
    """The jqtrade API of one strategy process, bound to one hub session and one scheduler."""

    def __init__(self, gateway: Any, clock: Any, scheduler: Any, strategy_log: logging.Logger | None = None) -> None:
        self.gateway = gateway
        self.clock = clock
        self.scheduler = scheduler
        self.log = strategy_log or logging.getLogger("strategy")
        self.options = Options()
        self.context = Context(self)
        self.g = G()
        self.jq_form = True  # the form of the last code the strategy gave (jqtrade's by default)
        self.halted = ""  # set by the runner after max_failures: new orders are refused
        self.hub_account: str | None = None  # the hub's account; set_options(account_no=) must match it
        self.in_initialize = False
        self._orders: dict[str, _Local] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------- names for the strategy
    def namespace(self) -> dict[str, Any]:
        """Every name a jqtrade strategy uses without importing it."""
        return {
            "set_options": self.set_options, "run_daily": self.run_daily, "log": self.log, "g": self.g,
            "order": self.order, "cancel_order": self.cancel_order, "batch_submit_orders": self.batch_submit_orders,
            "batch_cancel_orders": self.batch_cancel_orders, "get_orders": self.get_orders,
            "get_trades": self.get_trades, "sync_balance": self.sync_balance, "sync_orders": self.sync_orders,
            "LimitOrderStyle": LimitOrderStyle, "MarketOrderStyle": MarketOrderStyle, "context": self.context,
            "UserOrder": UserOrder, "UserPosition": UserPosition,
        }

    # ------------------------------------------------------------- options and schedule
    def set_options(self, **kwargs: Any) -> None:
        """jqtrade's options; broker-file options are accepted and ignored (one log line)."""
        ignored = []
        for k, v in kwargs.items():
            if k in IGNORED_OPTIONS:
                ignored.append(k)
            elif k == "account_no":
                self.options.account_no = None if v is None else str(v)
                if self.hub_account is not None and self.options.account_no != self.hub_account:
                    raise AccountMismatch(
                        f"set_options(account_no={self.options.account_no!r}) but the hub trades account "
                        f"{self.hub_account!r}: refusing to run, so this strategy never trades on the wrong hub")
            elif k == "market_period":
                self.options.market_period = parse_period(v)
            elif k == "runtime_dir":
                self.options.runtime_dir = str(v)
            elif k == "use_account":
                self.options.use_account = bool(v)
            elif k == "misfire_grace":
                if float(v) < 0:
                    raise StrategyError("misfire_grace must be >= 0 seconds")
                self.options.misfire_grace = float(v)
            elif k == "catch_up":
                if v not in CATCH_UP:
                    raise StrategyError(f"catch_up must be one of {', '.join(CATCH_UP)}")
                self.options.catch_up = str(v)
            elif k == "max_failures":
                self.options.max_failures = int(v)
            else:
                log.warning("set_options: unknown option %r ignored (known: %s)", k,
                            ", ".join(sorted(RUNNER_OPTIONS | IGNORED_OPTIONS)))
        if ignored:
            self.options.ignored.extend(ignored)
            log.info("set_options: %s concern jqtrade's own broker files; the hub ignores them",
                     ", ".join(sorted(ignored)))

    def run_daily(self, func: Callable[..., Any], time: str = "every_minute", *, grace: float | None = None,
                  catch_up: str | None = None) -> None:
        """Run ``func(context)`` on every trading day at ``time`` (see rpc_client.runner.schedule)."""
        if not self.in_initialize:
            raise ScheduleError("run_daily can only be called in process_initialize (as in jqtrade)")
        period = self.options.market_period or parse_period(None)
        self.scheduler.add(func, time, period, grace if grace is not None else self.options.misfire_grace,
                           catch_up or self.options.catch_up)

    # ------------------------------------------------------------- orders
    def _remember(self, code: str) -> None:
        try:
            self.jq_form = C.is_jq(code)
        except C.CodeError:
            pass

    def _reject(self, oid: str, code: str, amount: Any, style: Any, side: str, reason: str) -> str:
        log.warning("order %s %s %s refused: %s", code, amount, style, reason)
        try:
            amt = int(amount)
        except (TypeError, ValueError):
            amt = 0
        with self._lock:
            self._orders[oid] = _Local(str(code), style, amt, side, rejected=reason, created=self.context.current_dt)
        return oid

    def _check(self, code: Any, amount: Any, style: Any, side: str) -> tuple[str, int, int, float] | str:
        """(xt code, xt order type, volume, price) or the reason the order cannot go."""
        if self.halted:
            return f"halted by the runner: {self.halted}"
        if not self.options.use_account:
            return "set_options(use_account=False): the account API is off"
        if self.options.account_no is None:
            return "set_options(account_no=...) was not given in process_initialize: the runner cannot check " \
                   "this strategy trades the hub's account"
        if self.hub_account is not None and self.options.account_no != self.hub_account:
            return f"account_no {self.options.account_no!r} is not the hub's account {self.hub_account!r}"
        if side != "long":
            return f"side {side!r}: only 'long' is supported (as in jqtrade)"
        try:
            xt_code = C.to_xt(str(code))
        except C.CodeError as exc:
            return str(exc)
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or int(amount) != amount or amount == 0:
            return f"amount must be a non-zero whole number of shares (> 0 buys, < 0 sells), got {amount!r}"
        if style is None:
            style = MarketOrderStyle()
        if isinstance(style, LimitOrderStyle):
            if not style.price > 0:
                return f"limit price must be > 0, got {style.price!r}"
            price = style.price
        elif isinstance(style, MarketOrderStyle):
            price = 0.0
        else:
            return f"style must be LimitOrderStyle(price) or MarketOrderStyle(), got {style!r}"
        return xt_code, xt.STOCK_BUY if amount > 0 else xt.STOCK_SELL, abs(int(amount)), price

    @staticmethod
    def _price_type(xt_code: str, style: Any) -> int:
        if isinstance(style, LimitOrderStyle):
            return xt.FIX_PRICE
        return MARKET_SZ_CONVERT_5_CANCEL if xt_code.endswith(".SZ") else MARKET_SH_CONVERT_5_CANCEL

    def order(self, code: str, amount: int, style: Any = None, side: str = "long") -> str:
        """Place an order; returns its id. A refused order is a rejected order (see get_orders), never an exception."""
        return self._submit([{"code": code, "amount": amount, "style": style, "side": side}], batch=False)[0]

    def batch_submit_orders(self, orders: list[dict[str, Any]]) -> list[str | None]:
        """Place several orders at once; one id per order, None for an order that was refused (as in jqtrade)."""
        if not isinstance(orders, (list, tuple)):
            raise StrategyError("batch_submit_orders takes a list of dicts with code, amount[, style, side]")
        return self._submit(list(orders), batch=True)

    def _submit(self, orders: list[Any], batch: bool) -> list[Any]:
        out: list[Any] = []
        pending = []
        for spec in orders:
            oid = f"jq{uuid.uuid4().hex[:20]}"
            if not isinstance(spec, Mapping):
                self._reject(oid, "", 0, None, "long", f"not an order dict: {spec!r}")
                out.append(None if batch else oid)
                continue
            code, amount = spec.get("code"), spec.get("amount")
            style, side = spec.get("style"), spec.get("side", "long")
            if isinstance(code, str):
                self._remember(code)
            checked = self._check(code, amount, style, side)
            if isinstance(checked, str):
                self._reject(oid, str(code), amount, style, side, checked)
                out.append(None if batch else oid)
                continue
            xt_code, otype, volume, price = checked
            style = style if style is not None else MarketOrderStyle()
            with self._lock:
                self._orders[oid] = _Local(str(code), style, int(amount), side, created=self.context.current_dt)
            try:
                fut = self.gateway.order_stock_async(xt_code, otype, volume, self._price_type(xt_code, style),
                                                     price, "", oid)
            except Exception as exc:  # refused before it left (bad parameter, closed session): a rejected order
                reason = f"{exc.code}: {exc.message}" if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
                self._reject(oid, str(code), amount, style, side, reason)
                out.append(None if batch else oid)
                continue
            pending.append((len(out), oid, fut, code, amount, style, side))
            out.append(oid)
        for i, oid, fut, code, amount, style, side in pending:
            try:
                wait = getattr(fut, "wait_budget", None)
                broker_id = int(fut.result(wait))
                with self._lock:
                    self._orders[oid].broker_order_id = broker_id
            except HubError as exc:
                self._reject(oid, str(code), amount, style, side, f"{exc.code}: {exc.message}")
                if batch:
                    out[i] = None
            except Exception as exc:  # never an exception through the strategy
                self._reject(oid, str(code), amount, style, side, f"{type(exc).__name__}: {exc}")
                if batch:
                    out[i] = None
        return out

    def _hub_orders(self) -> list[dict[str, Any]]:
        return [o.to_dict() if hasattr(o, "to_dict") else dict(o) for o in self.gateway.query_stock_orders()]

    def _broker_id(self, order_id: Any) -> int | None:
        with self._lock:
            local = self._orders.get(str(order_id))
        if local is not None:
            return local.broker_order_id
        for o in self._hub_orders():  # placed before a restart, or by id given as the broker's
            if o.get("client_order_id") == order_id or str(o.get("order_id")) == str(order_id):
                return int(o["order_id"])
        return None

    def cancel_order(self, order_id: str) -> None:
        """Cancel one order by its id (as order() returned it). Failures are logged, never raised."""
        broker_id = self._broker_id(order_id)
        if broker_id is None:
            log.warning("cancel_order(%r): no such order (or it never reached the hub)", order_id)
            return None
        try:
            result = self.gateway.cancel_order_stock(broker_id)
            if result != 0:
                log.warning("cancel_order(%r): the broker refused the cancel (%s)", order_id, result)
        except HubError as exc:
            log.warning("cancel_order(%r) refused: %s: %s", order_id, exc.code, exc.message)
        return None

    def batch_cancel_orders(self, order_ids: Iterable[str]) -> None:
        for oid in list(order_ids):
            self.cancel_order(oid)
        return None

    def _user_order(self, o: Mapping[str, Any]) -> UserOrder:
        coid = o.get("client_order_id") or str(o.get("order_id"))
        with self._lock:
            local = self._orders.get(coid)
        xt_code = str(o.get("stock_code") or "")
        code = local.code if local else (C.in_form(xt_code, self.jq_form) if xt_code else "")
        volume = int(o.get("order_volume") or 0)
        traded = int(o.get("traded_volume") or 0)
        status = STATUS.get(o.get("order_status"), "new")
        price = float(o.get("price") or 0.0)
        tprice = float(o.get("traded_price") or 0.0)
        created = _naive(o["order_time"]) if o.get("order_time") else (local.created if local else None)
        style = local.style if local else (LimitOrderStyle(price) if o.get("price_type") == xt.FIX_PRICE and price > 0
                                           else MarketOrderStyle())
        return UserOrder(order_id=coid, code=code, status=status, side="long", style=style, price=price,
                         amount=volume, filled_amount=traded,
                         canceled_amount=volume - traded if status in ("canceled", "partly_canceled") else 0,
                         avg_cost=tprice, deal_balance=round(tprice * traded, 2),
                         action="open" if o.get("order_type") == xt.STOCK_BUY else "close",
                         err_msg=str(o.get("status_msg") or "") if status == "rejected" else "",
                         create_time=created, entrust_time=created, broker_order_id=o.get("order_id"))

    def get_orders(self, order_id: str | None = None, code: str | None = None,
                   status: str | None = None) -> list[UserOrder]:
        """Today's orders of this strategy, filtered (all filters combine with 'and')."""
        if status is not None and status not in STATUS_NAMES:
            raise StrategyError(f"unknown order status {status!r}: use one of {', '.join(STATUS_NAMES)}")
        rows = [self._user_order(o) for o in self._hub_orders()]
        seen = {r.order_id for r in rows}
        today = self.context.current_dt.date()
        with self._lock:  # refused orders are today's too: the hub's book starts empty each trading day
            local = [(oid, lo) for oid, lo in self._orders.items()
                     if lo.rejected and oid not in seen and (lo.created is None or lo.created.date() == today)]
        for oid, lo in local:
            rows.append(UserOrder(order_id=oid, code=lo.code, status="rejected", style=lo.style,
                                  price=getattr(lo.style, "price", 0.0) or 0.0, amount=abs(lo.amount),
                                  action="open" if lo.amount > 0 else "close", err_msg=lo.rejected,
                                  create_time=lo.created))
        want_code = None
        if code is not None:
            try:
                want_code = C.to_xt(code)
            except C.CodeError:
                return []
        out = []
        for r in rows:
            if order_id is not None and r.order_id != order_id and str(r.broker_order_id) != str(order_id):
                continue
            if want_code is not None:
                try:
                    if C.to_xt(r.code) != want_code:
                        continue
                except C.CodeError:
                    continue
            if status is not None and r.status != status:
                continue
            out.append(r)
        return out

    def get_trades(self) -> dict[str, Any]:
        """Today's trades of this strategy: {trade_id: UserTrade} (JoinQuant's shape)."""
        out: dict[str, Any] = {}
        orders = {}
        for o in self._hub_orders():
            orders[o.get("order_id")] = o.get("client_order_id") or str(o.get("order_id"))
        for t in self.gateway.query_stock_trades():
            d = t.to_dict() if hasattr(t, "to_dict") else dict(t)
            oid = d.get("client_order_id") or orders.get(d.get("order_id")) or str(d.get("order_id"))
            with self._lock:
                local = self._orders.get(oid)
            xt_code = str(d.get("stock_code") or "")
            out[str(d.get("traded_id"))] = UserTrade(
                trade_id=str(d.get("traded_id")), order_id=oid,
                code=local.code if local else (C.in_form(xt_code, self.jq_form) if xt_code else ""),
                amount=int(d.get("traded_volume") or 0), price=float(d.get("traded_price") or 0.0),
                commission=float(d.get("commission") or 0.0),
                action="open" if d.get("order_type") == xt.STOCK_BUY else "close",
                time=_naive(d["traded_time"]) if d.get("traded_time") else None)
        return out

    def sync_balance(self) -> None:
        """jqtrade syncs every 5 s; the portfolio here is read from the hub on each access, so nothing to do."""
        return None

    def sync_orders(self) -> None:
        """As sync_balance: get_orders asks the hub each time."""
        return None


@dataclass
class UserTrade:
    trade_id: str
    order_id: str
    code: str
    amount: int
    price: float
    commission: float
    action: str
    time: datetime | None
