"""RpcGateway: a strategy's connection to the hub.

::

    from rpc_client import RpcGateway

    with RpcGateway() as gw:                       # tcp://127.0.0.1:5555 / :5556
        gw.on_stock_order = lambda order: print(order.order_id, order.order_status)
        gw.connect(strategy="alpha")
        order_id = gw.order_stock("600000.SH", 23, 100, 11, 10.5)

Every call ``foo(...)`` is a one-line wrapper over ``foo_async(...)``, which returns a
``concurrent.futures.Future`` (and takes an optional ``callback(future)``, run on the
callback thread). Each call has one timeout; errors raise :class:`HubError`.

Events (run on one callback thread, in event order, exactly once per stream). Set them
by assignment (``gw.on_tick = fn``), on a callback object (``RpcGateway(callback=obj)``)
or in a subclass:

==========================  ===========================================================
``on_stock_order(order)``   :class:`XtOrder` of this strategy (monitors: every order)
``on_stock_trade(trade)``   :class:`XtTrade`
``on_order_error(error)``   :class:`XtOrderError` (broker rejected an order)
``on_cancel_error(error)``  :class:`XtCancelError`
``on_stock_position(pos)``  :class:`XtPosition` (account-wide)
``on_stock_asset(asset)``   :class:`XtAsset`
``on_account_status(st)``   :class:`XtAccountStatus`
``on_tick(code, tick)``     tick dict as xtdata gives it (subscribed codes only)
``on_ticks(ticks)``         a whole-market batch ``{code: tick}`` (one ``ticks.<market>`` frame,
                            at most 20 codes of one market), as xtdata's
                            ``subscribe_whole_quote`` callback gets it; ``on_tick`` still
                            runs for each of its codes
``on_connected()``          session open and caught up (after every reconnect too)
``on_disconnected()``       the hub went silent or restarted; reconnecting on its own
``on_event(topic, payload)`` every event above as the raw payload, plus ``hub.*`` events
                            (``hub.heartbeat`` about once a second, for every role) and
                            client notices (``client.gap``, ``client.gave_up``...)
==========================  ===========================================================
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Iterable, Mapping

from rpc_client import protocol as P
from rpc_client.dispatcher import Dispatcher
from rpc_client.endpoints import pub_for
from rpc_client.protocol import ErrorCode, HubError, Role, Topic
from rpc_client.records import (XtAccountInfo, XtAccountStatus, XtAsset, XtCancelError, XtOrder, XtOrderError,
                                XtPosition, XtTrade)
from rpc_client.security import ENV_CURVE, CurveKeys, resolve_curve
from rpc_client.transport import (BACKOFF_INITIAL, BACKOFF_MAX, DEFAULT_TIMEOUT, CallFuture, Heartbeat, Transport,
                                  client_info)
from rpc_client.xt import CALLBACK_KIND

log = logging.getLogger("rpc_client")

#: The callbacks an RpcGateway user may set: xtquant's pushes (from the vocabulary module; the async
#: responses belong to the drop-in trader, whose seq they answer), then ticks (one, or a whole-market
#: batch) and every raw event.
CALLBACK_NAMES = tuple(name for name in CALLBACK_KIND if not name.endswith("_async_response")) + (
    "on_tick", "on_ticks", "on_event")

#: Attempts of a timed-out order_stock (same client_order_id each time; the hub deduplicates).
ORDER_ATTEMPTS = 3
#: Seconds a blocking call waits beyond its own deadline(s) for the socket thread to resolve it. The
#: socket thread resolves every call by its deadline; this bound is only for when it cannot (stuck or gone).
WAIT_GRACE = 5.0


def _plain(value: Any) -> Any:
    """numpy scalars and the like -> plain Python values msgpack can carry."""
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _codes(codes: str | Iterable[str]) -> list[str]:
    return [codes] if isinstance(codes, str) else [str(c) for c in codes]


def wait_result(fut: Future) -> Any:
    """The result of a call; never waits forever (the transport resolves every future by its deadline,
    and a `CallFuture`'s ``wait_budget`` bounds the wait should the socket thread not do so)."""
    budget = fut.wait_budget if isinstance(fut, CallFuture) else None
    try:
        return fut.result(budget)
    except concurrent.futures.TimeoutError:
        if fut.done():  # resolved with a TIMEOUT-like exception of its own: not ours to rename
            raise
        method = (fut.method if isinstance(fut, CallFuture) else "") or "call"
        raise HubError(ErrorCode.TIMEOUT, f"no result for '{method}' within {budget:g} s: the client's socket "
                       "thread did not resolve it (stuck or gone); close() and connect() again",
                       {"method": method, "stuck": True}) from None


_wait = wait_result  # the old private name, for callers not yet moved to the public one


class RpcGateway:
    """One strategy's (or monitor's) connection to the hub. See the module docstring."""

    def __init__(self, rpc: str = P.DEFAULT_RPC_ENDPOINT, pub: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 callback: Any = None, *, heartbeat_interval: float = P.HEARTBEAT_INTERVAL,
                 dead_after: float = P.HUB_DEAD_AFTER, backoff_initial: float = BACKOFF_INITIAL,
                 backoff_max: float = BACKOFF_MAX, max_reconnect_attempts: int | None = None,
                 order_attempts: int = ORDER_ATTEMPTS, max_pending_ticks: int = 10000,
                 follow_events: bool = True, curve: CurveKeys | None = None,
                 curve_dir: str | os.PathLike[str] | None = None, instance: str | None = None):
        """
        :param rpc: the hub's call endpoint (``hub start --rpc``).
        :param pub: the hub's event endpoint; default: the rpc port + 1.
        :param timeout: seconds to wait for each reply.
        :param callback: optional object with ``on_*`` methods (xtquant's names).
        :param max_reconnect_attempts: None (default) retries forever.
        :param follow_events: False: ticks only, no account events (used by ``rpc_client.xtdata``).
        :param curve: CurveZMQ keys for a hub started with ``curve = true`` (see ``rpc_client.security``).
        :param instance: the ``hello`` instance id (default: random per connect). A process that keeps it
            across restarts (the runner, per task name) takes over its own dead session at once instead
            of waiting ``client_dead_after`` for the hub to free the name.
        :param curve_dir: instead of `curve`: the folder ``hub keys add-client`` wrote (``server.key`` and
            one client keypair). Neither given: ``$QMT_HUB_CURVE`` if set, else plain TCP.
            Bad or missing key files raise :class:`rpc_client.security.CurveKeyError` here.
        """
        self.rpc = rpc
        self.pub = pub or pub_for(rpc)
        self.timeout = float(timeout)
        self.callback = callback
        self.curve = resolve_curve(curve, curve_dir)
        self.order_attempts = max(1, int(order_attempts))
        self._opts = dict(heartbeat_interval=heartbeat_interval, dead_after=dead_after,
                          backoff_initial=backoff_initial, backoff_max=backoff_max,
                          max_reconnect_attempts=max_reconnect_attempts, follow_events=follow_events,
                          curve=self.curve)
        self._max_pending_ticks = max_pending_ticks
        self._instance = instance
        self.wait_grace = WAIT_GRACE
        self._transport: Transport | None = None
        self._dispatcher: Dispatcher | None = None
        self._session_lock = threading.Lock()  # connect() / close() from several threads at once
        self.session: dict[str, Any] = {}

    # ------------------------------------------------------------------
    # Session
    # ------------------------------------------------------------------
    def connect(self, strategy: str, role: str = Role.STRATEGY, token: str | None = None,
                cancel_on_disconnect: bool = False, *, resume_from: Mapping[str, int] | None = None,
                timeout: float | None = None) -> dict[str, Any]:
        """Open the session (SUB first, then ``hello``, then catch up). Returns the hello result.

        ``resume_from`` ({stream: last sseq}) replays events after those points; by default
        a new client starts at the hub's current heads (query the book for the present state).
        Raises HubError (TIMEOUT when no hub answers, NAME_TAKEN, FORBIDDEN, ...).
        """
        with self._session_lock:
            return self._connect(strategy, role, token, cancel_on_disconnect, resume_from, timeout)

    def _connect(self, strategy: str, role: str, token: str | None, cancel_on_disconnect: bool,
                 resume_from: Mapping[str, int] | None, timeout: float | None) -> dict[str, Any]:
        if self._transport is not None and self._transport.state != "closed":
            raise HubError(ErrorCode.CLOSED, "already connected; close() first")
        hello: dict[str, Any] = {"protocol": P.PROTOCOL_VERSION, "strategy": strategy, "role": role,
                                 "cancel_on_disconnect": bool(cancel_on_disconnect), "client": client_info()}
        if token:
            hello["token"] = token
        P.METHODS["hello"].validate({**hello, "instance": "x"})  # bad name/role: fail here, clearly
        self._dispatcher = Dispatcher(max_pending_ticks=self._max_pending_ticks)
        self._transport = Transport(self.rpc, self.pub, dispatcher=self._dispatcher, timeout=self.timeout,
                                    on_event=self._on_event, on_tick=self._on_tick, on_ticks=self._on_ticks,
                                    on_connected=self._on_connected, on_disconnected=self._on_disconnected,
                                    on_notice=self._on_notice, on_heartbeat=self._on_heartbeat, **self._opts)
        if self._instance:
            self._transport.instance = self._instance
        t = float(timeout or self.timeout)
        # hello (t), then catching up (replays, each bounded by the call timeout): bounded, never forever
        budget = 4 * max(t, self.timeout) + self.wait_grace
        try:
            try:
                self.session = self._transport.connect(hello, resume_from, timeout).result(budget)
            except concurrent.futures.TimeoutError:
                raise HubError(ErrorCode.TIMEOUT, f"not connected within {budget:g} s", {"stuck": True}) from None
        except BaseException as exc:
            self._close()
            if isinstance(exc, HubError) and exc.code == ErrorCode.TIMEOUT:
                raise HubError(ErrorCode.TIMEOUT,
                               f"no hub answered at {self.rpc} within {timeout or self.timeout:g} s. Is `hub start` "
                               f"running, and is {self.rpc} its --rpc endpoint (and {self.pub} its --pub)?"
                               + (f" With CurveZMQ (key {self.curve.name or '?'}): is this client's public key in "
                                  f"the hub's authorized/ folder, and server.key the hub's current key?"
                                  if self.curve is not None else
                                  f" If the hub runs with curve = true, give this client its keys "
                                  f"(${ENV_CURVE} or curve_dir=)."),
                               exc.data) from None
            raise
        return self.session

    def close(self) -> None:
        """Say bye, stop the socket thread and the callback thread. Safe to call twice, and from a callback.

        Bounded: returns within a few seconds even if the hub or a callback hangs."""
        if self._session_lock.acquire(timeout=4 * self.timeout + self.wait_grace):
            try:
                self._close()
            finally:
                self._session_lock.release()
        else:  # a connect() in another thread is stuck: close what is there anyway
            self._close()

    def _close(self) -> None:
        t, d = self._transport, self._dispatcher
        if t is not None:
            t.close()
        if d is not None:
            d.stop()

    def __enter__(self) -> "RpcGateway":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._transport is not None and self._transport.connected

    @property
    def is_open(self) -> bool:
        """Connected once and not closed since (it may be reconnecting right now)."""
        return self._transport is not None and self._transport.state != "closed"

    def set_timeout(self, timeout: float) -> None:
        """Seconds each later call waits for its reply (the session's calls in flight keep theirs)."""
        self.timeout = float(timeout)
        if self._transport is not None:
            self._transport.timeout = self.timeout

    def post(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` on the callback thread, after the callbacks already queued (False, and
        nothing done, when the gateway has no running callback thread: not connected or closed)."""
        d = self._dispatcher
        if d is None or not d.alive:
            return False
        d.post(fn, *args)
        return True

    @property
    def hub_id(self) -> str | None:
        return self._transport.hub_id if self._transport else None

    @property
    def account_id(self) -> str:
        s = (self._transport.hello_result if self._transport else None) or self.session
        return str(s.get("account_id", ""))

    @property
    def strategy(self) -> str:
        return self._transport.strategy if self._transport else ""

    @property
    def last_heartbeat(self) -> Heartbeat | None:
        """The last ``hub.heartbeat``: ``.payload`` (``data``: last_seq, heads, broker, halted, uptime,
        clients), ``.received_at`` (local ``time.time()``), ``.age()`` (seconds since). None before the first."""
        return self._transport.last_heartbeat if self._transport else None

    @property
    def missed_ticks(self) -> dict[str, int]:
        """Ticks lost on the wire per code (gaps in ``tseq``)."""
        return dict(self._transport.missed_ticks) if self._transport else {}

    @property
    def missed_ticks_total(self) -> int:
        return self._transport.missed_ticks_total if self._transport else 0

    @property
    def dropped_ticks(self) -> int:
        """Ticks dropped here because the callbacks fell too far behind."""
        return self._dispatcher.dropped_ticks if self._dispatcher else 0

    def stats(self) -> dict[str, Any]:
        t = self._transport
        if t is None:
            return {}
        return {"state": t.state, "hub_id": t.hub_id, "missed_ticks": dict(t.missed_ticks),
                "missed_ticks_total": t.missed_ticks_total, "dropped_ticks": self.dropped_ticks,
                "duplicates": t.duplicates, "replays": t.replays, "reconnects": t.reconnects,
                "lost_events": t.lost_events, "bad_frames": t.bad_frames, "positions": t.positions()}

    # ------------------------------------------------------------------
    # Generic call
    # ------------------------------------------------------------------
    def call_async(self, method: str, _callback: Callable[[Future], Any] | None = None, *,
                   _convert: Callable[[Any], Any] | None = None, _retries: int = 0,
                   _timeout: float | None = None, _explain: Callable[[HubError], HubError] | None = None,
                   **params: Any) -> Future:
        """Send one call; the Future resolves with the (converted) result or a HubError."""
        out = CallFuture(self._dispatcher, method=method)
        params = {k: _plain(v) for k, v in params.items() if v is not None}
        t = self._transport
        err: HubError | None = None
        if t is None:
            err = HubError(ErrorCode.CLOSED, f"not connected: call connect() before '{method}'")
        elif method not in P.METHODS:
            err = HubError(ErrorCode.UNKNOWN_METHOD, f"no such method '{method}'")
        else:
            try:
                P.METHODS[method].validate(params)  # fail fast, with the hub's own wording
            except HubError as exc:
                err = exc
        if err is not None:
            out.set_exception(err)
        else:
            assert t is not None
            raw: Future = Future()  # plain: its done-callback runs on the socket thread (cheap conversion only)
            raw.add_done_callback(lambda f: _transfer(f, out, _convert, _explain))
            per_try = float(_timeout if _timeout is not None else t.timeout)
            out.wait_budget = per_try * (_retries + 1) + self.wait_grace
            t.call(method, params, timeout=_timeout, retries=_retries, future=raw)
        if _callback is not None:
            out.add_done_callback(_callback)
        return out

    def call(self, method: str, **params: Any) -> Any:
        """Any protocol method by name, e.g. ``gw.call('status')``."""
        return wait_result(self.call_async(method, **params))

    # ------------------------------------------------------------------
    # Trading
    # ------------------------------------------------------------------
    def order_stock_async(self, stock_code: str, order_type: int, order_volume: int, price_type: int,
                          price: float = 0.0, order_remark: str = "", client_order_id: str | None = None,
                          callback: Callable[[Future], Any] | None = None, *,
                          strategy_name: str | None = None) -> Future:
        """Place an order; resolves with the broker's order id (int).

        Always sends a ``client_order_id`` (uuid4 hex unless given) and retries a timed-out
        call with the same id (the hub never sends a repeat to the broker). The id is on the
        returned future as ``future.client_order_id``. ``strategy_name`` (xtquant's argument) comes
        back in this order's records as given.
        """
        coid = client_order_id or uuid.uuid4().hex

        def explain(err: HubError) -> HubError:
            if err.code == ErrorCode.TIMEOUT:
                return HubError(err.code, f"{err.message} The order may or may not have reached the broker: query "
                                f"your orders, or call order_stock again with client_order_id={coid!r} (the hub "
                                "never sends the same client_order_id twice).", {**err.data, "client_order_id": coid})
            if err.code == ErrorCode.UNKNOWN_OUTCOME:
                return HubError(err.code, f"{err.message} (client_order_id {coid!r}): query your orders "
                                "(query_stock_orders) before placing it again with a new id.",
                                {**err.data, "client_order_id": coid})
            return err

        fut = self.call_async("order_stock", callback, _convert=_order_id, _retries=self.order_attempts - 1,
                              _explain=explain,
                              stock_code=stock_code, order_type=order_type, order_volume=order_volume,
                              price_type=price_type, price=float(_plain(price)), order_remark=order_remark,
                              client_order_id=coid, strategy_name=strategy_name)
        fut.client_order_id = coid
        return fut

    def order_stock(self, stock_code: str, order_type: int, order_volume: int, price_type: int, price: float = 0.0,
                    order_remark: str = "", client_order_id: str | None = None, *,
                    strategy_name: str | None = None) -> int:
        return wait_result(self.order_stock_async(stock_code, order_type, order_volume, price_type, price, order_remark,
                                            client_order_id, strategy_name=strategy_name))

    def cancel_order_stock_async(self, order_id: int, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("cancel_order_stock", callback, _convert=_cancel_result, order_id=order_id)

    def cancel_order_stock(self, order_id: int) -> int:
        return wait_result(self.cancel_order_stock_async(order_id))

    def cancel_order_stock_sysid_async(self, market: int, sysid: str,
                                       callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("cancel_order_stock_sysid", callback, _convert=_cancel_result, market=market,
                               order_sysid=str(sysid))

    def cancel_order_stock_sysid(self, market: int, sysid: str) -> int:
        return wait_result(self.cancel_order_stock_sysid_async(market, sysid))

    # ------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------
    def query_stock_asset_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_stock_asset", callback, _convert=XtAsset.from_dict)

    def query_stock_asset(self) -> XtAsset | None:
        return wait_result(self.query_stock_asset_async())

    def query_stock_order_async(self, order_id: int, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_stock_order", callback, _convert=XtOrder.from_dict, order_id=order_id)

    def query_stock_order(self, order_id: int) -> XtOrder | None:
        return wait_result(self.query_stock_order_async(order_id))

    def query_stock_orders_async(self, cancelable_only: bool = False, callback: Callable[[Future], Any] | None = None,
                                 strategy: str | None = None) -> Future:
        return self.call_async("query_stock_orders", callback, _convert=XtOrder.from_list,
                               cancelable_only=bool(cancelable_only), strategy=strategy)

    def query_stock_orders(self, cancelable_only: bool = False, strategy: str | None = None) -> list[XtOrder]:
        return wait_result(self.query_stock_orders_async(cancelable_only, strategy=strategy))

    def query_stock_trades_async(self, callback: Callable[[Future], Any] | None = None,
                                 strategy: str | None = None) -> Future:
        return self.call_async("query_stock_trades", callback, _convert=XtTrade.from_list, strategy=strategy)

    def query_stock_trades(self, strategy: str | None = None) -> list[XtTrade]:
        return wait_result(self.query_stock_trades_async(strategy=strategy))

    def query_stock_positions_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_stock_positions", callback, _convert=XtPosition.from_list)

    def query_stock_positions(self) -> list[XtPosition]:
        return wait_result(self.query_stock_positions_async())

    def query_stock_position_async(self, stock_code: str, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_stock_position", callback, _convert=XtPosition.from_dict, stock_code=stock_code)

    def query_stock_position(self, stock_code: str) -> XtPosition | None:
        return wait_result(self.query_stock_position_async(stock_code))

    def query_account_status_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_account_status", callback, _convert=XtAccountStatus.from_list)

    def query_account_status(self) -> list[XtAccountStatus]:
        return wait_result(self.query_account_status_async())

    def query_account_infos_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("query_account_infos", callback, _convert=XtAccountInfo.from_list)

    def query_account_infos(self) -> list[XtAccountInfo]:
        return wait_result(self.query_account_infos_async())

    # ------------------------------------------------------------------
    # Quotes (the client re-subscribes on its own after a reconnect)
    # ------------------------------------------------------------------
    def _quotes_async(self, op: str, codes: str | Iterable[str], whole: bool,
                      callback: Callable[[Future], Any] | None) -> Future:
        codes = _codes(codes)
        method = "unsubscribe_quote" if op == "unsub" else ("subscribe_whole_quote" if whole else "subscribe_quote")
        if self._transport is None:
            return self.call_async(method, callback, codes=codes)  # fails with CLOSED
        try:
            P.METHODS[method].validate({"codes": codes})
        except HubError as exc:
            fut = CallFuture(self._dispatcher, method=method)
            fut.set_exception(exc)
            return fut
        fut = self._transport.quotes(op, codes, whole)
        fut.method, fut.wait_budget = method, self._transport.timeout + self.wait_grace
        if callback is not None:
            fut.add_done_callback(callback)
        return fut

    def subscribe_quote_async(self, codes: str | Iterable[str], callback: Callable[[Future], Any] | None = None):
        return self._quotes_async("sub", codes, False, callback)

    def subscribe_quote(self, codes: str | Iterable[str]) -> dict:
        return wait_result(self.subscribe_quote_async(codes))

    def subscribe_whole_quote_async(self, codes: str | Iterable[str],
                                    callback: Callable[[Future], Any] | None = None) -> Future:
        return self._quotes_async("sub", codes, True, callback)

    def subscribe_whole_quote(self, codes: str | Iterable[str]) -> dict:
        """Markets ('SH', 'SZ', 'BJ') or codes."""
        return wait_result(self.subscribe_whole_quote_async(codes))

    def unsubscribe_quote_async(self, codes: str | Iterable[str],
                                callback: Callable[[Future], Any] | None = None) -> Future:
        return self._quotes_async("unsub", codes, False, callback)

    def unsubscribe_quote(self, codes: str | Iterable[str]) -> dict:
        return wait_result(self.unsubscribe_quote_async(codes))

    def get_full_tick_async(self, codes: str | Iterable[str], callback: Callable[[Future], Any] | None = None):
        return self.call_async("get_full_tick", callback, _convert=lambda r: dict(r or {}), codes=_codes(codes))

    def get_full_tick(self, codes: str | Iterable[str]) -> dict[str, dict]:
        return wait_result(self.get_full_tick_async(codes))

    # ------------------------------------------------------------------
    # Hub state and operator actions
    # ------------------------------------------------------------------
    def status_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("status", callback)

    def status(self) -> dict:
        return wait_result(self.status_async())

    def clients_async(self, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("clients", callback)

    def clients(self) -> list[dict]:
        return wait_result(self.clients_async())

    def halt_async(self, strategy: str | None = None, cancel_open: bool = False, reason: str | None = None,
                   callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("halt", callback, strategy=strategy, cancel_open=bool(cancel_open), reason=reason)

    def halt(self, strategy: str | None = None, cancel_open: bool = False, reason: str | None = None) -> dict:
        return wait_result(self.halt_async(strategy, cancel_open, reason))

    def resume_async(self, strategy: str | None = None, callback: Callable[[Future], Any] | None = None) -> Future:
        return self.call_async("resume", callback, strategy=strategy)

    def resume(self, strategy: str | None = None) -> dict:
        return wait_result(self.resume_async(strategy))

    def cancel_all_async(self, strategy: str | None = None, callback: Callable[[Future], Any] | None = None):
        return self.call_async("cancel_all", callback, strategy=strategy)

    def cancel_all(self, strategy: str | None = None) -> dict:
        return wait_result(self.cancel_all_async(strategy))

    # ------------------------------------------------------------------
    # Event routing (runs on the callback thread)
    # ------------------------------------------------------------------
    def _handler(self, name: str) -> Callable[..., Any] | None:
        fn = self.__dict__.get(name)
        if fn is None and self.callback is not None:
            fn = getattr(self.callback, name, None)
        if fn is None and getattr(type(self), name, None) is not None:
            fn = getattr(self, name)
        return fn

    def _emit(self, name: str, *args: Any) -> None:
        fn = self._handler(name)
        if fn is None:
            return
        try:
            fn(*args)
        except BaseException:  # noqa: B036 - one failing callback must not keep the event from the next
            # one (on_stock_order raising must not cost on_event the same order); logged and counted
            if self._dispatcher is not None:
                self._dispatcher.errors += 1
            log.exception("rpc_client: callback %s raised", name)

    def _on_event(self, topic: str, payload: dict) -> None:
        kind, _owner = P.split_topic(topic)
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        if kind == Topic.ORDER:
            self._emit("on_stock_order", XtOrder(data))
        elif kind == Topic.TRADE:
            self._emit("on_stock_trade", XtTrade(data))
        elif kind == Topic.ERROR:
            if data.get("kind") == "cancel":
                self._emit("on_cancel_error", XtCancelError(data))
            else:
                self._emit("on_order_error", XtOrderError(data))
        elif kind == Topic.POSITION:
            self._emit("on_stock_position", XtPosition(data))
        elif kind == Topic.ASSET:
            self._emit("on_stock_asset", XtAsset(data))
        elif kind == Topic.ACCOUNT:
            self._emit("on_account_status", XtAccountStatus(data))
        self._emit("on_event", topic, payload)

    def _on_tick(self, code: str, tick: Any, payload: dict) -> None:
        self._emit("on_tick", code, tick)
        if self._handler("on_event") is not None:
            self._emit("on_event", str(payload.get("topic") or P.tick_topic(code)), payload)

    def _on_ticks(self, market: str, ticks: dict, fresh: list, payload: dict) -> None:
        """A whole-market batch: on_tick for each code not delivered yet, then on_ticks once."""
        on_tick = self._handler("on_tick")
        if on_tick is not None:
            for code in fresh:
                self._emit("on_tick", code, ticks[code])
        self._emit("on_ticks", ticks)
        if self._handler("on_event") is not None:
            self._emit("on_event", str(payload.get("topic") or P.ticks_topic(market)), payload)

    def _on_heartbeat(self, payload: dict) -> None:
        # raw payload only: no record conversion (once a second, for every role)
        if self._handler("on_event") is not None:
            self._emit("on_event", Topic.HEARTBEAT, payload)

    def _on_connected(self, hello: dict) -> None:
        self.session = hello
        self._emit("on_connected")

    def _on_disconnected(self, reason: str) -> None:
        self._emit("on_disconnected")

    def _on_notice(self, name: str, info: dict) -> None:
        self._emit("on_event", name, info)


def _transfer(src: Future, dst: Future, convert: Callable[[Any], Any] | None,
              explain: Callable[[HubError], HubError] | None = None) -> None:
    if dst.done():
        return
    exc = src.exception()
    if exc is not None:
        if explain is not None and isinstance(exc, HubError):
            exc = explain(exc)
        dst.set_exception(exc)
        return
    try:
        dst.set_result(convert(src.result()) if convert else src.result())
    except Exception as e:  # a malformed result
        dst.set_exception(HubError(ErrorCode.BAD_FRAME, f"unexpected result shape: {e}"))


def _order_id(result: Any) -> int:
    return int(result["order_id"]) if isinstance(result, dict) else int(result)


def _cancel_result(result: Any) -> int:
    return int(result["cancel_result"]) if isinstance(result, dict) else int(result)


__all__ = ["RpcGateway", "Heartbeat", "CallFuture", "wait_result", "CALLBACK_NAMES", "ORDER_ATTEMPTS"]
