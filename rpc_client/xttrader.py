"""Drop-in replacement for ``xtquant.xttrader`` (stock trading) that goes through the hub.

Change one import line and xtquant code runs unchanged against the hub::

    # from xtquant.xttrader import XtQuantTrader, XtQuantTraderCallback
    from rpc_client.xttrader import XtQuantTrader, XtQuantTraderCallback

* ``XtQuantTrader(path, session_id, callback=None, strategy_name=None)``: ``path`` may be the hub's
  rpc endpoint (``tcp://host:port``; events on port + 1 unless ``QMT_HUB_PUB`` says otherwise).
  Anything else (such as the MiniQMT ``userdata_mini`` folder the code was written with) means the
  default hub ``tcp://127.0.0.1:5555``, which the ``QMT_HUB`` environment variable can change.
* The strategy name the hub knows this process by: ``strategy_name`` if given, else the
  ``QMT_HUB_STRATEGY`` environment variable, else ``xt<session_id>`` (``123456`` -> ``xt123456``).
  Like xtquant session ids, it must be unique among the processes connected at one time.
* Failures follow xtquant's conventions rather than raising: ``connect()`` 0 / -1, order ids or -1
  (and ``on_order_error``), cancel 0 / -1 (and ``on_cancel_error``), ``None`` for a failed query.
  The reason is logged (logger ``rpc_client``) and carried in ``error_msg``.
* ``account``: a ``StockAccount`` (or anything with ``account_id``, or the id itself). An account
  other than the hub's fails like a wrong account does in xtquant: -1 / ``on_order_error`` / None.
* Unlike xtquant, the connection comes back on its own after the hub restarts or the network
  drops (``on_disconnected`` then ``on_connected`` again); missed order/trade events are replayed.
* Callbacks run on one callback thread (never the socket thread), so synchronous calls inside a
  callback are safe; ``set_relaxed_response_order_enabled`` is accepted and has nothing to change.
* ``order_stock``'s ``strategy_name`` argument is echoed in ``XtOrderResponse`` only: the hub stamps
  the session's strategy name into the broker order (that is how it knows whose order it is).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
import time
import time as _time
from concurrent.futures import Future
from typing import Any, Callable

from rpc_client.endpoints import resolve
from rpc_client.gateway import RpcGateway, _wait
from rpc_client.protocol import STRATEGY_NAME_RE, ErrorCode, HubError
from rpc_client.records import XtCancelError, XtCancelOrderResponse, XtOrderError, XtOrderResponse
from rpc_client.transport import DEFAULT_TIMEOUT
from rpc_client.xt import MARKET_ENUM, XtQuantTraderCallback  # noqa: F401 (re-exported)

log = logging.getLogger("rpc_client")

ENV_STRATEGY = "QMT_HUB_STRATEGY"


def strategy_for_session(session: Any) -> str:
    """The strategy name used for an xtquant session id: 123456 -> 'xt123456'."""
    name = "xt" + re.sub(r"[^A-Za-z0-9_-]", "_", str(session))
    return name[:32] if STRATEGY_NAME_RE.match(name[:32]) else "xt"


def _account_id(account: Any) -> str:
    return str(getattr(account, "account_id", account) or "")


class XtQuantTrader:
    """``xtquant.xttrader.XtQuantTrader``'s stock surface, served by the hub."""

    def __init__(self, path: Any, session: Any, callback: Any = None, strategy_name: str | None = None):
        self.path = path
        self.session = session
        self.callback = callback
        self.rpc, self.pub = resolve(path)
        self.strategy_name = strategy_name or os.environ.get(ENV_STRATEGY, "").strip() or strategy_for_session(session)
        self.connected = False
        self.relaxed_resp_order_enabled = False
        self._timeout = DEFAULT_TIMEOUT
        self._gw: RpcGateway | None = None
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._stopped = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def register_callback(self, callback: Any) -> None:
        self.callback = callback
        if self._gw is not None:
            self._gw.callback = callback

    def start(self) -> None:
        if self._gw is None:
            self._stopped.clear()
            self._gw = RpcGateway(self.rpc, self.pub, timeout=self._timeout, callback=self.callback)

    def stop(self) -> None:
        gw, self._gw = self._gw, None
        self.connected = False
        if gw is not None:
            gw.close()
        self._stopped.set()

    def connect(self) -> int:
        """0 when the hub accepted the session, -1 otherwise (the reason is logged)."""
        self.start()
        assert self._gw is not None
        try:
            self._gw.connect(strategy=self.strategy_name)
        except HubError as exc:
            log.error("rpc_client: connect to the hub at %s as %r failed: %s", self.rpc, self.strategy_name, exc)
            self._gw.close()
            self._gw = None
            return -1
        self.connected = True
        return 0

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
            self._gw.timeout = self._timeout
            if self._gw._transport is not None:
                self._gw._transport.timeout = self._timeout

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
        d = gw._dispatcher if gw is not None else None
        if d is not None and d.alive:
            d.post(fn, *args)
        else:
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
            return call(self._gw)  # type: ignore[arg-type]
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
                callback(None if exc is not None else fut.result())

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
        return XtOrderError(account_id=_account_id(account), order_id=order_id, error_id=-1, error_msg=msg,
                            strategy_name=strategy_name, order_remark=order_remark)

    def order_stock(self, account: Any, stock_code: str, order_type: int, order_volume: int, price_type: int,
                    price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """The broker's order id, or -1 (then ``on_order_error`` tells why)."""
        reason = self._check(account, "order_stock")
        if reason:
            log.warning("rpc_client: %s", reason)
            self._emit("on_order_error", self._order_error(account, -1, reason, strategy_name, order_remark))
            return -1
        try:
            return self._gw.order_stock(stock_code, order_type, order_volume, price_type, price,  # type: ignore
                                        order_remark)
        except HubError as exc:
            log.warning("rpc_client: order_stock %s failed: %s", stock_code, exc)
            self._emit("on_order_error", self._order_error(account, -1, exc, strategy_name, order_remark))
            return -1

    def order_stock_async(self, account: Any, stock_code: str, order_type: int, order_volume: int,
                          price_type: int, price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """A request seq; ``on_order_stock_async_response`` follows with the same seq (order_id -1 on failure)."""
        seq = self._next_seq()
        acc = _account_id(account)

        def respond(order_id: int, error: BaseException | str | None) -> None:
            msg = "" if error is None else (f"[{error.code}] {error.message}" if isinstance(error, HubError)
                                            else str(error))
            resp = XtOrderResponse(account_id=acc, order_id=order_id, strategy_name=strategy_name,
                                   order_remark=order_remark, error_msg=msg, seq=seq)
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
                                   order_remark).add_done_callback(done)
        return seq

    def _cancel_error(self, account: Any, order_id: int, market: Any, sysid: str, exc: BaseException | str):
        msg = f"[{exc.code}] {exc.message}" if isinstance(exc, HubError) else str(exc)
        return XtCancelError(account_id=_account_id(account), order_id=order_id, market=market, order_sysid=sysid,
                             error_id=-1, error_msg=msg)

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
                fn(XtCancelOrderResponse(account_id=acc, cancel_result=result, order_id=order_id,
                                         order_sysid=sysid, seq=seq, error_msg=msg))
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


__all__ = ["XtQuantTrader", "XtQuantTraderCallback", "strategy_for_session", "ENV_STRATEGY"]
