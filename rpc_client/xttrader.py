"""Drop-in replacement for ``xtquant.xttrader`` (stock trading) that goes through the hub.

Run an xtquant program unchanged with ``python -m rpc_client.run SCRIPT`` (an import hook serves
``xtquant.xttrader`` from here), or change one import line::

    # from xtquant.xttrader import XtQuantTrader, XtQuantTraderCallback
    from rpc_client.xttrader import XtQuantTrader, XtQuantTraderCallback

* ``XtQuantTrader(path, session_id, callback=None, strategy_name=None)``: ``path`` may be the hub's
  rpc endpoint (``tcp://host:port``; events on port + 1 unless ``QMT_HUB_PUB`` says otherwise).
  Anything else (such as the MiniQMT ``userdata_mini`` folder the code was written with) means the
  default hub ``tcp://127.0.0.1:5555``, which the ``QMT_HUB`` environment variable can change.
* The strategy name the hub knows this process by (it owns the strategy's orders, so it must stay
  the same across restarts): ``strategy_name=`` if given, else the ``QMT_HUB_STRATEGY`` environment
  variable, else the main script's file name (``ma_cross.py`` -> ``ma_cross``); never the session id,
  which programs draw at random on every start. A second process running the same script while
  the first is connected is refused (``connect()`` -1, and the log says to set ``QMT_HUB_STRATEGY``).
* Failures follow xtquant's conventions rather than raising: ``connect()`` 0 / -1, order ids or -1
  (and ``on_order_error``), cancel 0 / -1 (and ``on_cancel_error``), ``None`` for a failed query.
  The reason is logged (logger ``rpc_client``) and carried in ``error_msg``.
* ``account``: a ``StockAccount`` (or anything with ``account_id``, or the id itself). An account
  other than the hub's fails like a wrong account does in xtquant: -1 / ``on_order_error`` / None.
* As in xtquant, ``on_connected`` is never called and ``on_disconnected`` only when the hub is really
  lost (silent past its heartbeat deadline), not when it answers again at once (a quick restart).
  The session then comes back by itself (missed pushes replayed), and a program that builds a new
  trader in ``on_disconnected``, as xtquant programs must, gets the same session and strategy back
  (its ``connect()`` returns 0 at once, however long the hub stays away).
* MiniQMT's conventions: ``int()`` on volumes, a market order's ``price`` ignored whatever it is,
  records that are ``xtquant.xttype`` instances when xtquant is importable, and a function of
  xtquant's trader that the hub does not serve raises :class:`NotServedError` naming it.
* Callbacks run on one callback thread (never the socket thread), so synchronous calls inside a
  callback are safe; ``set_relaxed_response_order_enabled`` is accepted and has nothing to change.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import logging
import os
import re
import sys
import threading
import time
import time as _time
from concurrent.futures import Future
from typing import Any, Callable

from rpc_client.endpoints import resolve
from rpc_client.gateway import RpcGateway, wait_result as _wait
from rpc_client.protocol import HEARTBEAT_INTERVAL, STRATEGY_NAME_RE, ErrorCode, HubError
from rpc_client.records import (XtCancelError, XtCancelOrderResponse, XtOrderError, XtOrderResponse,
                                as_xttype)
from rpc_client.transport import DEFAULT_TIMEOUT
from rpc_client.xt import MARKET_ENUM, PRICED_TYPES, XtQuantTraderCallback  # noqa: F401 (re-exported)

log = logging.getLogger("rpc_client")

ENV_STRATEGY = "QMT_HUB_STRATEGY"


def strategy_for_session(session: Any) -> str:
    """A strategy name made from an xtquant session id: 123456 -> 'xt123456'.

    No longer the default (programs draw their session id at random, so the name changed on every
    start and a restarted program lost its orders); kept for code that passes it explicitly."""
    name = "xt" + re.sub(r"[^A-Za-z0-9_-]", "_", str(session))
    return name[:32] if STRATEGY_NAME_RE.match(name[:32]) else "xt"


def name_from_text(text: str) -> str:
    """A valid strategy name (letters, digits, '_' / '-', <= 32) made from `text`, the same every time."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", text).strip("_-")[:32]
    if STRATEGY_NAME_RE.match(name) and re.search(r"[A-Za-z0-9]", name):
        return name
    # nothing usable left (e.g. a Chinese file name): a stable name from its hash
    return "xt-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def script_strategy_name() -> str:
    """The main script's file name without extension (``python ma_cross.py`` -> 'ma_cross').

    ``python -m pkg.mod`` gives 'mod'; a package's ``__main__.py`` gives the package's name; an
    interactive session (no script) gives 'xtquant'."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-")
                                               else None)
    if not path:
        return "xtquant"
    stem, parent = os.path.splitext(os.path.basename(path))[0], os.path.basename(os.path.dirname(path))
    if stem == "__main__" and parent:
        stem = parent
    return name_from_text(stem or "xtquant")


def default_strategy_name(strategy_name: str | None = None) -> str:
    """``strategy_name`` if given, else ``$QMT_HUB_STRATEGY``, else the main script's name."""
    return (strategy_name or "").strip() or os.environ.get(ENV_STRATEGY, "").strip() or script_strategy_name()


class NotServedError(AttributeError):
    """A function of ``xtquant.xttrader.XtQuantTrader`` that the hub does not serve."""


#: xtquant's XtQuantTrader functions the hub does not serve (credit, bank, SMT, algo, exports...).
NOT_SERVED = (
    "query_credit_detail", "query_credit_detail_async", "query_stk_compacts", "query_stk_compacts_async",
    "query_credit_subjects", "query_credit_subjects_async", "query_credit_slo_code",
    "query_credit_slo_code_async", "query_credit_assure", "query_credit_assure_async",
    "query_new_purchase_limit", "query_new_purchase_limit_async", "query_ipo_data", "query_ipo_data_async",
    "fund_transfer", "secu_transfer", "query_com_fund", "query_com_position", "smt_query_quoter",
    "smt_negotiate_order_async", "smt_appointment_order_async", "smt_appointment_cancel_async",
    "smt_query_order", "smt_query_compact", "smt_compact_renewal_async", "smt_compact_return_async",
    "query_position_statistics", "export_data", "query_data", "sync_transaction_from_external",
    "bank_transfer_in", "bank_transfer_in_async", "bank_transfer_out", "bank_transfer_out_async",
    "query_bank_info", "query_bank_amount", "query_bank_transfer_stream", "query_secu_account",
    "ctp_transfer_option_to_future", "ctp_transfer_option_to_future_async", "ctp_transfer_future_to_option",
    "ctp_transfer_future_to_option_async", "get_smart_algo_param", "smart_algo_order_async",
    "query_smart_algo_task", "cancel_smart_algo_task_async", "common_op_async_with_seq",
    "common_op_sync_with_seq",
)

#: Options of the drop-in's gateway. Reconnect attempts at most 2 s apart (not the gateway's 30 s):
#: an xtquant program expects its trader back as soon as the hub is.
GATEWAY_OPTIONS: dict[str, Any] = {"backoff_max": 2.0}

#: Seconds connect() waits for a name held by a silent client to be freed (the hub's silence timeout,
#: ``client_dead_after``, is 10 s by default).
NAME_WAIT = 30.0

#: Rehello reasons: the hub answered again at once, so the program is not told it was lost.
_RESUMED_AT_ONCE = ("NO_SESSION", "new hub_id")

#: (hub rpc endpoint, strategy) -> the trader of this process holding that session.
_LIVE: dict[tuple[str, str], "XtQuantTrader"] = {}
_LIVE_LOCK = threading.Lock()


class _Relay:
    """The gateway's callback object: hands each push to whichever trader holds the session now
    (a trader rebuilt after on_disconnected takes the session over), as xttype records."""

    def __init__(self, trader: "XtQuantTrader") -> None:
        self.trader = trader

    def _to(self, name: str, record: Any) -> None:
        fn = self.trader._cb(name)
        if fn is not None:
            fn(as_xttype(record))

    def on_stock_order(self, order: Any) -> None:
        self._to("on_stock_order", order)

    def on_stock_trade(self, trade: Any) -> None:
        self._to("on_stock_trade", trade)

    def on_order_error(self, error: Any) -> None:
        self._to("on_order_error", error)

    def on_cancel_error(self, error: Any) -> None:
        self._to("on_cancel_error", error)

    def on_stock_position(self, position: Any) -> None:
        self._to("on_stock_position", position)

    def on_stock_asset(self, asset: Any) -> None:
        self._to("on_stock_asset", asset)

    def on_account_status(self, status: Any) -> None:
        self._to("on_account_status", status)


class _TraderGateway(RpcGateway):
    """The drop-in's gateway: no on_connected (xtquant never calls it), and on_disconnected only when
    the hub was really lost, not when it answered again at once (NO_SESSION, a quick restart)."""

    def _on_disconnected(self, reason: str) -> None:
        if str(reason).startswith(_RESUMED_AT_ONCE):
            log.info("rpc_client: session resumed at once (%s); not reported as a disconnect", reason)
            return
        relay = self.callback
        trader = relay.trader if isinstance(relay, _Relay) else None
        if trader is None:
            return
        trader._lost = True
        fn = trader._cb("on_disconnected")
        if fn is not None:
            fn()


@atexit.register
def _close_all() -> None:
    """Say bye for every session at exit, so a restarted program gets its strategy name back at once."""
    with _LIVE_LOCK:
        traders = list(_LIVE.values())
    for t in traders:
        try:
            t.stop()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


def _account_id(account: Any) -> str:
    return str(getattr(account, "account_id", account) or "")


def _order_args(order_volume: Any, price_type: Any, price: Any) -> tuple[int, float]:
    """As xtquant: int() on the volume; the price only for a priced type (a market order's price is
    ignored, whatever it is: scripts pass 0 or -1)."""
    return int(order_volume), (float(price) if price_type in PRICED_TYPES else 0.0)


def _xt(result: Any) -> Any:
    """Query results as xttype instances (lists element-wise)."""
    if isinstance(result, list):
        return [as_xttype(r) for r in result]
    return as_xttype(result) if hasattr(result, "to_dict") else result


class XtQuantTrader:
    """``xtquant.xttrader.XtQuantTrader``'s stock surface, served by the hub."""

    def __init__(self, path: Any, session: Any, callback: Any = None, strategy_name: str | None = None):
        self.path = path
        self.session = session
        self.callback = callback
        self.rpc, self.pub = resolve(path)
        self.strategy_name = default_strategy_name(strategy_name)
        self.connected = False
        self.relaxed_resp_order_enabled = False
        self._timeout = DEFAULT_TIMEOUT
        self._gw: RpcGateway | None = None
        self._lost = False  # on_disconnected was delivered for the session this trader holds
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._stopped = threading.Event()

    def __getattr__(self, name: str) -> Any:
        if name in NOT_SERVED:
            raise NotServedError(f"XtQuantTrader.{name} is not served by the hub: qmt-hub serves xtquant's stock "
                                 "trading and queries only (see docs/client.md for what is served)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ lifecycle
    def register_callback(self, callback: Any) -> None:
        self.callback = callback

    def start(self) -> None:
        self._stopped.clear()

    def stop(self) -> None:
        gw, self._gw = self._gw, None
        self.connected = False
        with _LIVE_LOCK:
            if _LIVE.get((self.rpc, self.strategy_name)) is self:
                del _LIVE[(self.rpc, self.strategy_name)]
        if gw is not None:
            gw.close()
        self._stopped.set()

    def connect(self) -> int:
        """0 when the hub accepted the session, -1 otherwise (the reason is logged).

        A trader built after an earlier one of this process (same hub, same strategy) was told
        ``on_disconnected`` takes that session over: 0 at once, and the session reconnects on its
        own however long the hub stays away. One still connected is not replaced: -1."""
        key = (self.rpc, self.strategy_name)
        with _LIVE_LOCK:
            holder = _LIVE.get(key)
            if holder is self and self._gw is not None:
                self.connected = True
                return 0
            if holder is not None and holder._gw is not None:
                if not holder._lost:
                    log.error("rpc_client: strategy %r is already connected to the hub at %s by another "
                              "XtQuantTrader of this process; give this one its own strategy_name=", self.strategy_name,
                              self.rpc)
                    return -1
                self._take_over(holder)
                _LIVE[key] = self
                return 0
        gw = _TraderGateway(self.rpc, self.pub, timeout=self._timeout, callback=_Relay(self), **GATEWAY_OPTIONS)
        try:
            self._hello(gw)
        except HubError as exc:
            if exc.code == ErrorCode.NAME_TAKEN:
                log.error("rpc_client: the hub at %s already has a client connected as strategy %r (another "
                          "instance of this script?). To run a second one, give it its own name: set %s=<name> "
                          "or pass strategy_name=. Hub says: %s", self.rpc, self.strategy_name, ENV_STRATEGY,
                          exc.message)
            else:
                log.error("rpc_client: connect to the hub at %s as %r failed: %s", self.rpc, self.strategy_name, exc)
            gw.close()
            return -1
        with _LIVE_LOCK:
            _LIVE[key] = self
        self._gw = gw
        self._lost = False
        self.connected = True
        return 0

    def _hello(self, gw: RpcGateway) -> None:
        """Open the session. A name held by a client that has gone silent (the previous run of this
        program, killed without saying bye) is waited for: the hub frees it after its silence
        timeout, and the restarted program gets its strategy back. A name held by a live client (it
        pings every heartbeat) fails with NAME_TAKEN, after one look a few heartbeats later."""
        deadline = time.monotonic() + NAME_WAIT
        looked_again = False
        while True:
            try:
                gw.connect(strategy=self.strategy_name)
                return
            except HubError as exc:
                if exc.code != ErrorCode.NAME_TAKEN or time.monotonic() > deadline:
                    raise
                heard = float((exc.data or {}).get("last_heard_s") or 0)
                if heard >= 2 * HEARTBEAT_INTERVAL:  # missed its pings: gone
                    log.warning("rpc_client: strategy %r is still held by a client silent for %.1f s (the previous "
                                "run, gone without a bye?); waiting for the hub to free the name",
                                self.strategy_name, heard)
                    _time.sleep(HEARTBEAT_INTERVAL)
                elif not looked_again:  # heard from just now: look again once it would have pinged
                    looked_again = True
                    _time.sleep(2.5 * HEARTBEAT_INTERVAL)
                else:
                    raise

    def _take_over(self, old: "XtQuantTrader") -> None:
        """Hold `old`'s session from now on (its pushes come here); `old` is left disconnected."""
        gw, old._gw = old._gw, None
        old.connected = False
        assert gw is not None
        if isinstance(gw.callback, _Relay):
            gw.callback.trader = self
        self._gw = gw
        self._lost = False
        self.connected = True
        log.info("rpc_client: the new XtQuantTrader takes over strategy %r's session (%s)", self.strategy_name,
                 "connected" if gw.connected else "reconnecting")

    def sleep(self, time: float) -> None:  # noqa: A002 (xtquant's parameter name)
        _time.sleep(time)

    def run_forever(self) -> None:
        """Block until stop() (from a callback or another thread); Ctrl+C stops the trader and re-raises."""
        # Poll with time.sleep and the lock-free is_set(): a Ctrl+C landing inside Event.wait()'s
        # lock handling could otherwise leave the event's lock taken, and stop() would then block.
        try:
            while not self._stopped.is_set():
                time.sleep(0.2)
        except KeyboardInterrupt:
            self.stop()
            raise

    def set_relaxed_response_order_enabled(self, enabled: bool) -> None:
        self.relaxed_resp_order_enabled = bool(enabled)

    def set_timeout(self, timeout: float = 0) -> None:
        """Seconds to wait for each hub reply (0: the library default)."""
        self._timeout = float(timeout) if timeout and timeout > 0 else DEFAULT_TIMEOUT
        if self._gw is not None:
            self._gw.set_timeout(self._timeout)

    # ------------------------------------------------------------------ helpers
    def _next_seq(self) -> int:
        with self._seq_lock:
            return next(self._seq)

    def _check(self, account: Any, what: str) -> str | None:
        """None when the call may go ahead, else the reason it cannot."""
        gw = self._gw
        if gw is None or not self.connected:
            return f"{what}: not connected to the hub (call start() and connect() first)"
        if account is None:
            return None
        want = _account_id(account)
        have = gw.account_id
        if want != have:
            return f"{what}: account {want!r} is not the hub's account {have!r}"
        return None

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        gw = self._gw
        if gw is None or not gw.post(fn, *args):
            threading.Thread(target=fn, args=args, daemon=True).start()

    def _cb(self, name: str) -> Callable[..., Any] | None:
        return getattr(self.callback, name, None) if self.callback is not None else None

    def _emit(self, name: str, *args: Any) -> None:
        fn = self._cb(name)
        if fn is not None:
            self._post(fn, *args)

    def _query(self, account: Any, what: str, call: Callable[[RpcGateway], Any]) -> Any:
        reason = self._check(account, what)
        if reason:
            log.warning("rpc_client: %s", reason)
            return None
        try:
            return _xt(call(self._gw))  # type: ignore[arg-type]
        except HubError as exc:
            log.warning("rpc_client: %s failed: %s", what, exc)
            return None

    def _query_async(self, account: Any, what: str, start: Callable[[RpcGateway], Future],
                     callback: Callable[[Any], Any] | None) -> int:
        seq = self._next_seq()
        reason = self._check(account, what)
        if reason:
            log.warning("rpc_client: %s", reason)
            if callback is not None:
                self._post(callback, None)
            return seq

        def done(fut: Future) -> None:
            exc = fut.exception()
            if exc is not None:
                log.warning("rpc_client: %s failed: %s", what, exc)
            if callback is not None:
                callback(None if exc is not None else _xt(fut.result()))

        start(self._gw).add_done_callback(done)  # type: ignore[arg-type]
        return seq

    # ------------------------------------------------------------------ account subscription
    def subscribe(self, account: Any) -> int:
        """0 if the account is the hub's (its events are delivered from connect() on), else -1."""
        reason = self._check(account, "subscribe")
        if reason:
            log.warning("rpc_client: %s", reason)
            return -1
        return 0

    def unsubscribe(self, account: Any) -> int:
        return -1 if self._check(account, "unsubscribe") else 0

    # ------------------------------------------------------------------ orders
    def _order_error(self, account: Any, order_id: int, exc: BaseException | str, strategy_name: str,
                     order_remark: str) -> XtOrderError:
        msg = f"[{exc.code}] {exc.message}" if isinstance(exc, HubError) else str(exc)
        return as_xttype(XtOrderError(account_id=_account_id(account), order_id=order_id, error_id=-1,
                                      error_msg=msg, strategy_name=strategy_name, order_remark=order_remark))

    def order_stock(self, account: Any, stock_code: str, order_type: int, order_volume: int, price_type: int,
                    price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """The broker's order id, or -1 (then ``on_order_error`` tells why)."""
        order_volume, price = _order_args(order_volume, price_type, price)
        reason = self._check(account, "order_stock")
        if reason:
            log.warning("rpc_client: %s", reason)
            self._emit("on_order_error", self._order_error(account, -1, reason, strategy_name, order_remark))
            return -1
        try:
            return self._gw.order_stock(stock_code, order_type, order_volume, price_type, price,  # type: ignore
                                        order_remark, strategy_name=str(strategy_name or "")[:64])
        except HubError as exc:
            log.warning("rpc_client: order_stock %s failed: %s", stock_code, exc)
            self._emit("on_order_error", self._order_error(account, -1, exc, strategy_name, order_remark))
            return -1

    def order_stock_async(self, account: Any, stock_code: str, order_type: int, order_volume: int,
                          price_type: int, price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """A request seq; ``on_order_stock_async_response`` follows with the same seq (order_id -1 on failure)."""
        order_volume, price = _order_args(order_volume, price_type, price)
        seq = self._next_seq()
        acc = _account_id(account)

        def respond(order_id: int, error: BaseException | str | None) -> None:
            msg = "" if error is None else (f"[{error.code}] {error.message}" if isinstance(error, HubError)
                                            else str(error))
            resp = as_xttype(XtOrderResponse(account_id=acc, order_id=order_id, strategy_name=strategy_name,
                                             order_remark=order_remark, error_msg=msg, seq=seq))
            fn = self._cb("on_order_stock_async_response")
            if fn is not None:
                fn(resp)
            if error is not None:
                fn = self._cb("on_order_error")
                if fn is not None:
                    fn(self._order_error(account, order_id, error, strategy_name, order_remark))

        reason = self._check(account, "order_stock_async")
        if reason:
            log.warning("rpc_client: %s", reason)
            self._post(respond, -1, reason)
            return seq

        def done(fut: Future) -> None:
            exc = fut.exception()
            if exc is not None:
                log.warning("rpc_client: order_stock_async %s failed: %s", stock_code, exc)
                respond(-1, exc)
            else:
                respond(fut.result(), None)

        self._gw.order_stock_async(stock_code, order_type, order_volume, price_type, price,  # type: ignore
                                   order_remark, strategy_name=str(strategy_name or "")[:64]).add_done_callback(done)
        return seq

    def _cancel_error(self, account: Any, order_id: int, market: Any, sysid: str, exc: BaseException | str):
        msg = f"[{exc.code}] {exc.message}" if isinstance(exc, HubError) else str(exc)
        return as_xttype(XtCancelError(account_id=_account_id(account), order_id=order_id, market=market,
                                       order_sysid=sysid, error_id=-1, error_msg=msg))

    def _cancel(self, account: Any, what: str, start: Callable[[RpcGateway], Future], order_id: int,
                market: Any, sysid: str) -> int:
        reason = self._check(account, what)
        if reason:
            log.warning("rpc_client: %s", reason)
            self._emit("on_cancel_error", self._cancel_error(account, order_id, market, sysid, reason))
            return -1
        try:
            return int(_wait(start(self._gw)))  # type: ignore[arg-type]  # bounded, like every sync call
        except HubError as exc:
            log.warning("rpc_client: %s failed: %s", what, exc)
            self._emit("on_cancel_error", self._cancel_error(account, order_id, market, sysid, exc))
            return -1

    def _cancel_async(self, account: Any, what: str, start: Callable[[RpcGateway], Future], order_id: int,
                      market: Any, sysid: str) -> int:
        seq = self._next_seq()
        acc = _account_id(account)

        def respond(result: int, error: BaseException | str | None) -> None:
            msg = "" if error is None else (f"[{error.code}] {error.message}" if isinstance(error, HubError)
                                            else str(error))
            fn = self._cb("on_cancel_order_stock_async_response")
            if fn is not None:
                fn(as_xttype(XtCancelOrderResponse(account_id=acc, cancel_result=result, order_id=order_id,
                                                   order_sysid=sysid, seq=seq, error_msg=msg)))
            if error is not None:
                fn = self._cb("on_cancel_error")
                if fn is not None:
                    fn(self._cancel_error(account, order_id, market, sysid, error))

        reason = self._check(account, what)
        if reason:
            log.warning("rpc_client: %s", reason)
            self._post(respond, -1, reason)
            return seq

        def done(fut: Future) -> None:
            exc = fut.exception()
            if exc is not None:
                log.warning("rpc_client: %s failed: %s", what, exc)
            respond(-1 if exc is not None else int(fut.result()), exc)

        start(self._gw).add_done_callback(done)  # type: ignore[arg-type]
        return seq

    def cancel_order_stock(self, account: Any, order_id: int) -> int:
        """0: the cancel was sent; -1: it failed (``on_cancel_error`` tells why)."""
        return self._cancel(account, "cancel_order_stock", lambda gw: gw.cancel_order_stock_async(order_id),
                            order_id, None, "")

    def cancel_order_stock_async(self, account: Any, order_id: int) -> int:
        return self._cancel_async(account, "cancel_order_stock_async",
                                  lambda gw: gw.cancel_order_stock_async(order_id), order_id, None, "")

    def cancel_order_stock_sysid(self, account: Any, market: Any, sysid: str) -> int:
        m = MARKET_ENUM.get(market, -1) if isinstance(market, str) else market
        return self._cancel(account, "cancel_order_stock_sysid",
                            lambda gw: gw.cancel_order_stock_sysid_async(m, sysid), 0, m, sysid)

    def cancel_order_stock_sysid_async(self, account: Any, market: Any, sysid: str) -> int:
        m = MARKET_ENUM.get(market, -1) if isinstance(market, str) else market
        return self._cancel_async(account, "cancel_order_stock_sysid_async",
                                  lambda gw: gw.cancel_order_stock_sysid_async(m, sysid), 0, m, sysid)

    # ------------------------------------------------------------------ queries
    def query_account_infos(self):
        return self._query(None, "query_account_infos", lambda gw: gw.query_account_infos())

    query_account_info = query_account_infos

    def query_account_infos_async(self, callback):
        return self._query_async(None, "query_account_infos", lambda gw: gw.query_account_infos_async(), callback)

    def query_account_status(self):
        return self._query(None, "query_account_status", lambda gw: gw.query_account_status())

    def query_account_status_async(self, callback):
        return self._query_async(None, "query_account_status", lambda gw: gw.query_account_status_async(),
                                 callback)

    def query_stock_asset(self, account):
        return self._query(account, "query_stock_asset", lambda gw: gw.query_stock_asset())

    def query_stock_asset_async(self, account, callback):
        self._query_async(account, "query_stock_asset", lambda gw: gw.query_stock_asset_async(), callback)
        return None  # as xtquant's

    def query_stock_order(self, account, order_id):
        return self._query(account, "query_stock_order", lambda gw: gw.query_stock_order(order_id))

    def query_stock_orders(self, account, cancelable_only=False):
        return self._query(account, "query_stock_orders", lambda gw: gw.query_stock_orders(cancelable_only))

    def query_stock_orders_async(self, account, callback, cancelable_only=False):
        return self._query_async(account, "query_stock_orders",
                                 lambda gw: gw.query_stock_orders_async(cancelable_only), callback)

    def query_stock_trades(self, account):
        return self._query(account, "query_stock_trades", lambda gw: gw.query_stock_trades())

    def query_stock_trades_async(self, account, callback):
        return self._query_async(account, "query_stock_trades", lambda gw: gw.query_stock_trades_async(), callback)

    def query_stock_position(self, account, stock_code):
        return self._query(account, "query_stock_position", lambda gw: gw.query_stock_position(stock_code))

    def query_stock_positions(self, account):
        return self._query(account, "query_stock_positions", lambda gw: gw.query_stock_positions())

    def query_stock_positions_async(self, account, callback):
        return self._query_async(account, "query_stock_positions", lambda gw: gw.query_stock_positions_async(),
                                 callback)

    # ------------------------------------------------------------------ extras (not in xtquant)
    @property
    def gateway(self) -> RpcGateway | None:
        """The underlying RpcGateway (hub status, missed ticks, ...)."""
        return self._gw


__all__ = ["XtQuantTrader", "XtQuantTraderCallback", "NotServedError", "NOT_SERVED", "default_strategy_name",
           "script_strategy_name", "strategy_for_session", "ENV_STRATEGY"]
