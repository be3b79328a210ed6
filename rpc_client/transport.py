"""The socket thread: one agent owns the DEALER (calls and account events) and the SUB (ticks, heartbeat).

ZeroMQ sockets are not thread-safe, so (as in the zguide's clone.py agent) exactly one
background thread touches them. Application threads hand it commands through a
thread-safe queue and wake it through an inproc PUSH/PULL pair; it hands results back
through futures (resolved here, on the socket thread) and everything that runs user
code through the :class:`~rpc_client.dispatcher.Dispatcher` (never here).

What the agent does:

* Calls (the table is `rpc_client.calls.CallTable`): futures keyed by request id; a reply for an
  unknown id is dropped. Every call has a deadline; a call may carry retries (Lazy Pirate: resend
  under a new request id, same params; a late reply to an earlier attempt is accepted too).
* Session: SUB first (ticks of re-subscribed codes flow at once), then ``hello``, with the
  same ``instance`` id on every reconnect so the hub hands the old session over. Fresh
  random routing id per connection.
* Liveness (Paranoid Pirate): ``ping`` every heartbeat interval; the hub is dead after
  ``dead_after`` seconds without any message (heartbeat events count); then reconnect
  with backoff 1 s doubling to 30 s. ``NO_SESSION``, a pong saying ``session: false`` or a
  new ``hub_id`` re-hellos at once.
* Account events arrive on the DEALER, pushed by the hub to this session only
  (``{v, event}`` frames, told from replies by having no ``id``); never on the SUB.
* Events exactly once, in order, per stream (the rules are `rpc_client.sequencer`, socket-free):
  last delivered ``sseq`` per stream (global ``seq`` for monitors), duplicates dropped, gaps
  held and filled by ``replay``, the ``heads`` in each pong compared to catch a lost last event,
  replay after every (re)connect. This module sends the replays and delivers what comes back.
* Ticks: never replayed; gaps in each code's ``tseq`` are counted in ``missed_ticks``.
"""

from __future__ import annotations

import logging
import os
import socket as _socket
import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Mapping, NamedTuple

import zmq

from rpc_client import protocol as P
from rpc_client.calls import CallTable, PendingCall
from rpc_client.dispatcher import Dispatcher
from rpc_client.inbox import Inbox
from rpc_client.protocol import ErrorCode, HubError, Role, Topic
from rpc_client.endpoints import via_relay
from rpc_client.security import CurveKeys
from rpc_client.quotebook import QuoteBook
from rpc_client.sequencer import GLOBAL, Step, StreamSequencer

log = logging.getLogger("rpc_client")

DEFAULT_TIMEOUT = 10.0
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
_POLL_MS = 100

# internal states
IDLE, CONNECTING, SYNCING, READY, BACKOFF, CLOSED = "idle", "connecting", "syncing", "ready", "backoff", "closed"


class CallFuture(Future):
    """A Future whose done-callbacks run on the dispatcher thread, never on the socket thread.

    It says what it is for: `method`, the `client_order_id` of an order (the one to send again after
    a TIMEOUT) and `wait_budget`, the longest a blocking caller should wait for it (its deadlines
    with retries, plus a grace); `rpc_client.gateway.wait_result` reads it.
    """

    def __init__(self, dispatcher: Dispatcher | None = None, *, method: str = "",
                 wait_budget: float | None = None, client_order_id: str | None = None):
        super().__init__()
        self._dispatcher = dispatcher
        self.method = method
        self.wait_budget = wait_budget
        self.client_order_id = client_order_id

    def add_done_callback(self, fn: Callable[[Future], Any]) -> None:
        d = self._dispatcher
        if d is None:
            super().add_done_callback(fn)
        else:
            super().add_done_callback(lambda f: d.post(fn, f))


class Heartbeat(NamedTuple):
    """The last ``hub.heartbeat`` received: its payload and when it arrived here."""

    payload: dict
    received_at: float  # time.time() on arrival (wall clock, for display)
    received_monotonic: float  # time.monotonic() on arrival (for ages)

    def age(self, now_monotonic: float | None = None) -> float:
        """Seconds since it arrived."""
        return (time.monotonic() if now_monotonic is None else now_monotonic) - self.received_monotonic


class Transport:
    """Owns the sockets and the session. Thread-safe public methods; everything else runs on its thread."""

    def __init__(self, rpc: str, pub: str, *, dispatcher: Dispatcher,
                 on_event: Callable[[str, dict], None] | None = None,
                 on_tick: Callable[[str, Any, dict], None] | None = None,
                 on_ticks: Callable[[str, dict, list, dict], None] | None = None,
                 on_connected: Callable[[dict], None] | None = None,
                 on_disconnected: Callable[[str], None] | None = None,
                 on_notice: Callable[[str, dict], None] | None = None,
                 on_heartbeat: Callable[[dict], None] | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 heartbeat_interval: float = P.HEARTBEAT_INTERVAL,
                 dead_after: float = P.HUB_DEAD_AFTER,
                 backoff_initial: float = BACKOFF_INITIAL,
                 backoff_max: float = BACKOFF_MAX,
                 max_reconnect_attempts: int | None = None,
                 follow_events: bool = True,
                 curve: CurveKeys | None = None):
        self.rpc, self.pub = rpc, pub
        #: CurveZMQ keys applied to the DEALER and the SUB at every (re)connect; None: plain TCP
        self.curve = curve
        self.timeout = float(timeout)
        self.heartbeat_interval = heartbeat_interval
        self.dead_after = dead_after
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.max_reconnect_attempts = max_reconnect_attempts
        self.follow_events = follow_events
        self._dispatcher = dispatcher
        self._cb_event, self._cb_tick, self._cb_ticks = on_event, on_tick, on_ticks
        self._cb_connected, self._cb_disconnected, self._cb_notice = on_connected, on_disconnected, on_notice
        self._cb_heartbeat = on_heartbeat

        self.instance = uuid.uuid4().hex
        self.state = IDLE
        self.hub_id: str | None = None
        self.hello_result: dict | None = None
        self.strategy = ""
        self.role = Role.STRATEGY
        self._hello_params: dict | None = None
        self._resume_from: dict = {}

        # counters (read from any thread)
        self.reconnects = 0
        self.bad_frames = 0
        #: the last hub.heartbeat (payload + arrival time); replaced whole, so safe to read from any thread
        self.last_heartbeat: Heartbeat | None = None

        self._ctx = zmq.Context()
        self._inbox = Inbox(self._ctx, self.instance)
        self._stop_reason = "closed"
        self._poller = zmq.Poller()
        self._poller.register(self._inbox.pull, zmq.POLLIN)

        # owned by the socket thread only
        self._dealer: zmq.Socket | None = None
        self._sub: zmq.Socket | None = None
        self._conn = 0
        self._calls = CallTable()
        self._seq = StreamSequencer()
        self._quotes_book = QuoteBook()
        #: ticks missed per code (the quote book's, read from any thread)
        self.missed_ticks = self._quotes_book.missed
        self._connect_future: Future | None = None
        self._close_future: Future | None = None
        self._close_deadline = 0.0
        self._last_heard = 0.0
        self._next_ping = 0.0
        self._backoff = backoff_initial
        self._next_attempt = 0.0
        self._attempts = 0
        self._announced = False
        self._stop = False

        self._thread = threading.Thread(target=self._run, name="rpc-client-sockets", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------
    # Public, thread-safe
    # ------------------------------------------------------------------
    def _send_cmd(self, *cmd: Any) -> None:
        if not self._inbox.put(cmd):
            self._reject_cmd(cmd, HubError(ErrorCode.CLOSED, f"the client is closed ({self._stop_reason})"))

    @staticmethod
    def _reject_cmd(cmd: tuple, err: HubError) -> None:
        fut = cmd[1].future if cmd[0] == "call" else cmd[-1]
        if fut is None or fut.done():
            return
        if cmd[0] == "close":
            fut.set_result(None)
        else:
            fut.set_exception(err)

    def connect(self, hello: Mapping[str, Any], resume_from: Mapping[str, int] | None = None,
                timeout: float | None = None) -> Future:
        """Open the session: SUB first, then hello, then catch up. Resolves with the hello result."""
        fut: Future = Future()
        self._send_cmd("connect", dict(hello), dict(resume_from or {}), timeout or self.timeout, fut)
        return fut

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None,
             retries: int = 0, future: Future | None = None) -> Future:
        fut = future if future is not None else CallFuture(self._dispatcher)
        t = float(timeout if timeout is not None else self.timeout)
        if self.state == CLOSED or self._stop:
            fut.set_exception(HubError(ErrorCode.CLOSED, f"the client is closed; '{method}' was not sent"))
            return fut
        params = dict(params or {})
        try:
            P.pack(params)  # in the caller's thread: an unencodable value fails here, not on the socket thread
        except Exception as exc:
            fut.set_exception(HubError(ErrorCode.INVALID_PARAMS, f"'{method}' params cannot be encoded: {exc}"))
            return fut
        call = PendingCall.make(method, params, t, future=fut, retries=retries,
                                needs_session=P.METHODS[method].needs_session if method in P.METHODS else True)
        self._send_cmd("call", call)
        return fut

    def quotes(self, op: str, codes: list[str], whole: bool = False, *, timeout: float | None = None) -> CallFuture:
        """op 'sub' or 'unsub': change SUB filters and the hub-side subscription together."""
        fut = CallFuture(self._dispatcher)
        self._send_cmd("quotes", op, list(codes), whole, float(timeout or self.timeout), fut)
        return fut

    def close(self, timeout: float = 2.0) -> None:
        if self._thread is threading.current_thread():
            raise RuntimeError("close() called on the socket thread")
        if not self._thread.is_alive():
            return
        fut: Future = Future()
        self._send_cmd("close", fut)
        try:
            fut.result(timeout)
        except Exception:
            pass
        self._thread.join(timeout)

    @property
    def connected(self) -> bool:
        return self.state in (SYNCING, READY)

    @property
    def missed_ticks_total(self) -> int:
        return self._quotes_book.missed_total

    def positions(self) -> dict[str, int | None]:
        """Last delivered sseq per followed stream ('*' = global seq for monitors)."""
        return self._seq.positions()

    @property
    def duplicates(self) -> int:
        return self._seq.duplicates

    @property
    def replays(self) -> int:
        return self._seq.replays

    @property
    def lost_events(self) -> int:
        return self._seq.lost_events

    # ------------------------------------------------------------------
    # The socket thread
    # ------------------------------------------------------------------
    def _run(self) -> None:
        poller = self._poller
        try:
            while not self._stop:
                socks = dict(poller.poll(_POLL_MS))
                for cmd in self._inbox.take(self._inbox.pull in socks):
                    self._command(cmd, poller)
                if self._dealer is not None and socks.get(self._dealer):
                    self._drain(self._dealer, self._on_reply_frames)
                if self._sub is not None and socks.get(self._sub):
                    self._drain(self._sub, self._on_event_frames)
                self._timers(poller)
        except Exception:  # never expected; keep the failure visible and fail the callers
            log.exception("rpc_client: socket thread failed")
            self._stop_reason = "the client's socket thread failed"
        finally:
            self._shutdown(poller, self._stop_reason)

    def _drain(self, sock: zmq.Socket, handle: Callable[[list], None]) -> None:
        for _ in range(1000):  # bounded so timers and commands still run under a flood
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if sock is not self._dealer and sock is not self._sub:
                return  # the socket was replaced while handling a frame
            try:
                handle(frames)
            except Exception:
                self.bad_frames += 1
                log.exception("rpc_client: failed to handle a message")
            if sock is not self._dealer and sock is not self._sub:
                return

    # -- commands --------------------------------------------------------
    def _command(self, cmd: tuple, poller: zmq.Poller) -> None:
        kind = cmd[0]
        if kind == "call":
            call: PendingCall = cmd[1]
            self._submit(call)
        elif kind == "connect":
            _, hello, resume, timeout, fut = cmd
            if self.state not in (IDLE,):
                fut.set_exception(HubError(ErrorCode.CLOSED, f"connect() called twice (state {self.state})"))
                return
            self._hello_params = hello
            self.strategy = hello["strategy"]
            self.role = hello.get("role", Role.STRATEGY)
            self._resume_from = resume
            self._connect_future = fut
            self._open(poller, hello_timeout=timeout)
        elif kind == "quotes":
            self._quotes(*cmd[1:])
        elif kind == "close":
            fut = cmd[1]
            self._close_future = fut
            if self.state in (SYNCING, READY) and self._dealer is not None:
                self._close_deadline = time.monotonic() + 0.5
                self._internal("bye", {}, lambda ok, r: self._finish_close(), timeout=0.5)
            else:
                self._finish_close()

    def _finish_close(self) -> None:
        self._stop = True

    # -- connection ------------------------------------------------------
    def _open(self, poller: zmq.Poller, hello_timeout: float | None = None) -> None:
        """New SUB (subscribed first) and DEALER with a fresh routing id, then hello."""
        self._close_sockets(poller)
        self._conn += 1
        sub = self._ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 100000)
        for prefix in self._sub_prefixes():
            sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        if self.curve is not None and not via_relay(self.rpc, self.pub):
            self.curve.apply(sub)
        sub.connect(self.pub)
        dealer = self._ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.ROUTING_ID, b"c-" + uuid.uuid4().hex.encode())
        if self.curve is not None:
            self.curve.apply(dealer)
        dealer.connect(self.rpc)
        self._sub, self._dealer = sub, dealer
        poller.register(dealer, zmq.POLLIN)
        poller.register(sub, zmq.POLLIN)
        self.state = CONNECTING
        self._seq.stop()  # events are held until the new hello says where we stand
        self._last_heard = time.monotonic()
        # calls that went out on the old connection: resent after the hello if safe, else failed
        for call in self._calls.on_reconnect():
            self._fail(call, HubError(ErrorCode.TIMEOUT,
                                      f"the connection to the hub at {self.rpc} was lost while '{call.method}' "
                                      "was in flight: its outcome is unknown; query before retrying",
                                      {"method": call.method, "in_flight": True}))
        params = dict(self._hello_params or {})
        params["instance"] = self.instance
        if not self.follow_events:
            params["events"] = False  # a data-only client: the hub pushes it no account events
        t = hello_timeout if hello_timeout is not None else max(self.dead_after, 2 * self.heartbeat_interval)
        self._internal("hello", params, self._on_hello, timeout=t, needs_session=False)

    def _close_sockets(self, poller: zmq.Poller | None) -> None:
        for s in (self._dealer, self._sub):
            if s is not None:
                if poller is not None:
                    try:
                        poller.unregister(s)
                    except KeyError:
                        pass
                s.close(0)
        self._dealer = self._sub = None

    def _sub_prefixes(self) -> list[str]:
        """The SUB carries only the public heartbeat and ticks; account events come on the DEALER."""
        return [Topic.HEARTBEAT] + self._quotes_book.prefixes()

    def _on_hello(self, ok: bool, result: Any) -> None:
        poller = self._poller
        if not ok:
            err: HubError = result
            if self._connect_future is not None:  # first connect: report, do not retry
                fut, self._connect_future = self._connect_future, None
                self._close_sockets(poller)
                self.state = IDLE
                fut.set_exception(err)
                return
            log.warning("rpc_client: hello to %s failed: %s", self.rpc, err)
            self._notice("client.reconnect_failed", {"error": err.to_wire()})
            self._lost(f"hello failed: {err}")
            return
        res = result if isinstance(result, dict) else {}
        new_hub = self.hub_id is not None and res.get("hub_id") != self.hub_id
        if new_hub:
            log.warning("rpc_client: the hub restarted (hub_id %s -> %s)", self.hub_id, res.get("hub_id"))
            self._quotes_book.new_hub()
        first = self.hello_result is None
        self.hub_id = res.get("hub_id")
        self.hello_result = res
        self.state = SYNCING
        self._backoff = self.backoff_initial
        self._attempts = 0
        self._next_ping = time.monotonic() + self.heartbeat_interval
        heads = dict(res.get("heads") or {}) if isinstance(res.get("heads"), dict) else {}
        heads[GLOBAL] = res.get("last_seq") or 0
        for key in self._seq.start(self._followed() if self.follow_events else [], heads, first, self._resume_from):
            self._replay(key)
        # put the hub-side quote subscriptions back
        if not first:
            for method, params in self._quotes_book.resubscribe():
                self._internal(method, params, None)
        for call in self._calls.take_waiting():
            self._send(call)
        self._maybe_ready()

    def _followed(self) -> list[str]:
        streams = P.streams_for(self.role, self.strategy)
        return [GLOBAL] if streams is None else streams

    def _maybe_ready(self) -> None:
        if self.state == SYNCING and self._seq.synced:
            self.state = READY
            res = self.hello_result or {}
            self._announced = True
            if self._cb_connected:
                self._dispatcher.post(self._cb_connected, res)
            if self._connect_future is not None:
                fut, self._connect_future = self._connect_future, None
                fut.set_result(res)

    def _lost(self, reason: str) -> None:
        """The connection is gone: tell the user once, then back off and try again."""
        poller = self._poller
        self._close_sockets(poller)
        if self._announced:
            self._announced = False
            log.warning("rpc_client: lost the hub at %s: %s", self.rpc, reason)
            if self._cb_disconnected:
                self._dispatcher.post(self._cb_disconnected, reason)
        self.state = BACKOFF
        self._next_attempt = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.backoff_max)
        self._seq.stop()

    def _rehello(self, reason: str) -> None:
        """Same hub or a restarted one answers, but our session is gone: hello again now."""
        if self.state in (CONNECTING, BACKOFF, IDLE, CLOSED):
            return
        log.info("rpc_client: re-hello (%s)", reason)
        self.reconnects += 1
        if self._announced:
            self._announced = False
            if self._cb_disconnected:
                self._dispatcher.post(self._cb_disconnected, reason)
        self._open(self._poller)

    # -- calls -----------------------------------------------------------
    def _internal(self, method: str, params: dict, handler: Callable[[bool, Any], None] | None,
                  timeout: float | None = None, needs_session: bool = True) -> None:
        t = timeout if timeout is not None else self.timeout
        call = PendingCall.make(method, params, t, handler=handler or (lambda ok, r: None),
                                needs_session=needs_session)
        self._send(call)

    def _submit(self, call: PendingCall) -> None:
        if self.state == CLOSED:
            self._fail(call, HubError(ErrorCode.CLOSED, f"the client is closed; '{call.method}' was not sent"))
        elif self.state == IDLE:
            self._fail(call, HubError(ErrorCode.CLOSED, f"not connected: call connect() before '{call.method}'"))
        elif self.state in (SYNCING, READY) or (not call.needs_session and self._dealer is not None):
            self._send(call)
        else:
            self._calls.waiting.append(call)

    def _send(self, call: PendingCall) -> None:
        if self._dealer is None:
            self._calls.waiting.append(call)
            return
        req_id = self._calls.next_id()
        try:
            data = P.pack(P.request(req_id, call.method, call.params))
        except Exception as exc:
            self._fail(call, HubError(ErrorCode.INVALID_PARAMS, f"'{call.method}' params cannot be encoded: {exc}"))
            return
        if len(data) > P.MAX_MESSAGE_SIZE:
            self._fail(call, HubError(ErrorCode.TOO_LARGE, f"'{call.method}' request is {len(data)} bytes, "
                                                           f"more than the hub accepts ({P.MAX_MESSAGE_SIZE})"))
            return
        self._calls.sent(call, req_id, self._conn)
        try:
            self._dealer.send(data, zmq.NOBLOCK)
        except zmq.Again:
            pass  # stays pending; times out (or is retried) at its deadline

    def _fail(self, call: PendingCall, err: HubError) -> None:
        self._calls.fail(call, err)

    def _succeed(self, call: PendingCall, result: Any) -> None:
        self._calls.succeed(call, result)

    def _on_reply_frames(self, frames: list) -> None:
        self._last_heard = time.monotonic()
        try:
            msg = P.unpack(frames[-1])
        except ValueError:
            self.bad_frames += 1
            return
        if not isinstance(msg, dict):
            self.bad_frames += 1
            return
        pushed = P.event_of(msg)
        if pushed is not None:
            self._on_pushed_event(pushed)
            return
        call = self._calls.get(msg.get("id"))
        if call is None:
            return  # a late or unknown reply: dropped
        if msg.get("ok"):
            self._succeed(call, msg.get("result"))
            return
        err = HubError.from_wire(msg.get("error") or {})
        if err.code == ErrorCode.NO_SESSION and call.method != "hello":
            # the hub lost our session (it restarted, or timed us out): hello again, then resend
            self._calls.forget(call)
            if call.handler is None:
                call.conn = -1
                self._calls.waiting.append(call)
            else:
                call.done = True
            self._rehello("NO_SESSION")
            return
        self._fail(call, err)

    # -- quotes ----------------------------------------------------------
    def _quotes(self, op: str, codes: list[str], whole: bool, timeout: float, fut: Future) -> None:
        added, subscribe, unsubscribe = self._quotes_book.change(op, codes, whole)
        self._filter(subscribe, unsubscribe)
        method = {"sub": "subscribe_whole_quote" if whole else "subscribe_quote", "unsub": "unsubscribe_quote"}[op]

        def done(ok: bool, result: Any) -> None:
            if ok:
                if not fut.done():
                    fut.set_result(result)
                return
            if op == "sub":  # the hub refused: forget what this call added
                self._filter([], self._quotes_book.undo(added, whole))
            if not fut.done():
                fut.set_exception(result)

        call = PendingCall.make(method, {"codes": list(codes)}, timeout, handler=done, keep=True)
        self._submit(call)

    def _filter(self, subscribe: list[str], unsubscribe: list[str]) -> None:
        if self._sub is not None:
            for p in subscribe:
                self._sub.setsockopt(zmq.SUBSCRIBE, p.encode())
            for p in unsubscribe:
                self._sub.setsockopt(zmq.UNSUBSCRIBE, p.encode())

    # -- events ----------------------------------------------------------
    def _check_hub_id(self, payload: dict) -> None:
        hub_id = payload.get("hub_id")
        if hub_id and self.hub_id and hub_id != self.hub_id and self.state in (SYNCING, READY):
            self._rehello(f"new hub_id {hub_id}")
            # fall through: journaled events are held by sseq until the new session replays

    def _on_event_frames(self, frames: list) -> None:
        """The SUB: the public heartbeat and ticks. (Account events never come this way.)"""
        self._last_heard = time.monotonic()
        if len(frames) < 2:
            self.bad_frames += 1
            return
        try:
            topic = frames[0].decode("utf-8")
            payload = P.unpack(frames[-1])
        except (ValueError, UnicodeDecodeError):
            self.bad_frames += 1
            return
        if not isinstance(payload, dict):
            self.bad_frames += 1
            return
        self._check_hub_id(payload)
        if topic == Topic.HEARTBEAT:
            self.last_heartbeat = Heartbeat(payload, time.time(), self._last_heard)
            if self._cb_heartbeat:
                self._dispatcher.post(self._cb_heartbeat, payload)
            return
        kind, rest = P.split_topic(topic)
        if kind == Topic.TICK:
            self._on_tick(rest or "", payload)
        elif kind == Topic.TICKS:
            self._on_batch(rest or "", payload)

    def _on_pushed_event(self, payload: dict) -> None:
        """An account event the hub pushed to this session on the DEALER."""
        self._check_hub_id(payload)
        if self.follow_events:
            self._on_journaled(str(payload.get("topic", "")), payload)

    def _check_heads(self, result: dict) -> None:
        """A pong's heads: the last event of each stream sent to us before the pong. One we have
        not delivered was lost on the wire (e.g. at the hub's ROUTER high-water mark): replay it."""
        if not self.follow_events or self.state not in (SYNCING, READY):
            return
        heads = dict(result.get("heads") or {}) if isinstance(result.get("heads"), dict) else {}
        heads[GLOBAL] = result.get("last_seq")
        for key in self._seq.behind(heads):
            self._replay(key)

    def _on_tick(self, code: str, payload: dict) -> None:
        code = payload.get("code") or code
        if not self._quotes_book.wants(code):
            return
        if not self._quotes_book.fresh(code, payload.get("tseq")):
            return  # delivered already, in its market's batch
        if self._cb_tick:
            self._dispatcher.post_tick(self._cb_tick, code, payload.get("data"), payload)

    def _on_batch(self, market: str, payload: dict) -> None:
        """A `ticks.<market>` frame: one callback with {code: tick} and the codes not delivered yet."""
        book = self._quotes_book
        if not book.follows_market(market):
            return
        ticks: dict[str, Any] = {}
        fresh: list[str] = []
        for code, tick, tseq in P.batch_ticks(payload):
            ticks[code] = tick
            if book.fresh(code, tseq):
                fresh.append(code)
        if not ticks:
            return
        if self._cb_ticks:
            self._dispatcher.post_tick(self._cb_ticks, market, ticks, fresh, payload, weight=len(ticks))
        elif self._cb_tick:
            for code in fresh:
                self._dispatcher.post_tick(self._cb_tick, code, ticks[code], payload)

    def _on_journaled(self, topic: str, payload: dict) -> None:
        if not P.visible_to(topic, self.role, self.strategy):
            return  # not ours (the hub pushes only what we may see; kept as a second fence)
        if self.role in (Role.MONITOR, Role.ADMIN):
            key, idx = GLOBAL, payload.get("seq")
        else:
            key = payload.get("stream") or P.stream_of(topic)
            idx = payload.get("sseq")
            if key not in self._followed():
                return
        if not isinstance(idx, int) or isinstance(idx, bool):
            self._deliver(payload)  # not sequenced: pass through
            return
        self._apply(key, self._seq.offer(key, idx, payload))

    def _apply(self, key: str, step: Step) -> None:
        """Do what the sequencer decided: deliver, report gaps, replay, and say ready when synced."""
        for payload in step.deliver:
            self._deliver(payload)
        for gap in step.gaps:
            self._notice("client.gap", gap.notice())
        if step.replay:
            self._replay(key)
        elif step.synced:
            self._maybe_ready()

    def _deliver(self, payload: dict) -> None:
        if self._cb_event:
            self._dispatcher.post(self._cb_event, str(payload.get("topic", "")), payload)

    def _replay(self, key: str) -> None:
        if self._dealer is None:
            return
        after = self._seq.begin_replay(key)
        if after is None:
            return
        params: dict[str, Any] = {"after": after}
        if key != GLOBAL:
            params["stream"] = key
        conn = self._conn

        def done(ok: bool, result: Any) -> None:
            if conn != self._conn:
                return  # answer for an older connection; the new hello replays again
            if ok:
                step = self._seq.on_replay(key, result if isinstance(result, dict) else {})
            elif result.code == ErrorCode.REPLAY_UNAVAILABLE:
                step = self._seq.on_unavailable(key, result.data, result.message)
            else:
                log.warning("rpc_client: replay of %s after %s failed: %s", key, after, result)
                step = self._seq.on_replay_failed(key)
            self._apply(key, step)

        self._internal("replay", params, done)

    def _notice(self, name: str, info: dict) -> None:
        if self._cb_notice:
            self._dispatcher.post(self._cb_notice, name, info)

    # -- timers ----------------------------------------------------------
    def _timers(self, poller: zmq.Poller) -> None:
        now = time.monotonic()
        if self._stop:
            return
        if self._close_future is not None and now >= self._close_deadline:
            self._finish_close()
            return
        # call deadlines (Lazy Pirate retries)
        resend, expired = self._calls.due(now)
        for call in resend:
            log.warning("rpc_client: no reply to %s from %s, retrying (attempt %d)", call.method, self.rpc,
                        call.attempts + 1)
            if self.state in (SYNCING, READY):
                self._send(call)  # old ids stay mapped: a late reply to them is accepted too
        for call in expired:
            self._fail(call, self._timeout_error(call))
        if self.state in (SYNCING, READY):
            if now - self._last_heard > self.dead_after:
                self._lost(f"no message from the hub for {now - self._last_heard:.1f} s")
                return
            if now >= self._next_ping:
                self._next_ping = now + self.heartbeat_interval
                stats = {"missed_ticks": self.missed_ticks_total, "dropped_ticks": self._dispatcher.dropped_ticks}
                self._internal("ping", {"stats": stats}, self._on_pong, timeout=self.dead_after,
                               needs_session=False)
        elif self.state == BACKOFF and now >= self._next_attempt:
            self._attempts += 1
            if self.max_reconnect_attempts is not None and self._attempts > self.max_reconnect_attempts:
                log.error("rpc_client: giving up on the hub at %s after %d reconnect attempts", self.rpc,
                          self._attempts - 1)
                self._notice("client.gave_up", {"attempts": self._attempts - 1})
                self._stop_reason = f"gave up reconnecting to {self.rpc}"
                self._stop = True
                return
            self.reconnects += 1
            self._open(poller)

    def _on_pong(self, ok: bool, result: Any) -> None:
        if ok and isinstance(result, dict):
            hub_id = result.get("hub_id")
            if hub_id and self.hub_id and hub_id != self.hub_id:
                self._rehello(f"new hub_id {hub_id}")
            elif result.get("session") is False:
                self._rehello("the hub has no session for us (ping)")
            else:
                self._check_heads(result)

    def _timeout_error(self, call: PendingCall) -> HubError:
        if call.conn == -1 and call.attempts == 0:
            msg = (f"'{call.method}' was not sent: not connected to the hub at {self.rpc} within "
                   f"{call.timeout:g} s (state: {self.state}). Is `hub start` running, and is {self.rpc} its "
                   "--rpc endpoint?")
        else:
            tries = f" after {call.attempts} attempts" if call.attempts > 1 else ""
            msg = (f"no reply from the hub at {self.rpc} to '{call.method}' within {call.timeout:g} s{tries}. "
                   f"Is `hub start` running, and is {self.rpc} its --rpc endpoint?")
        return HubError(ErrorCode.TIMEOUT, msg, {"method": call.method, "rpc": self.rpc,
                                                 "attempts": call.attempts})

    # -- shutdown --------------------------------------------------------
    def _shutdown(self, poller: zmq.Poller, reason: str) -> None:
        self.state = CLOSED
        self._stop = True
        err = HubError(ErrorCode.CLOSED, f"the client was closed ({reason})")
        for call in self._calls.clear():
            if call.handler is None or call.keep:
                self._fail(call, err)  # user futures (and quote changes, which wrap one)
            else:
                call.done = True  # internal bookkeeping (hello, ping, replay): nothing waits on it
        if self._connect_future is not None and not self._connect_future.done():
            self._connect_future.set_exception(err)
        self._close_sockets(poller)
        for cmd in self._inbox.close():  # commands that raced with the stop; later ones _send_cmd rejects
            self._reject_cmd(cmd, err)
        self._ctx.term()
        if self._close_future is not None and not self._close_future.done():
            self._close_future.set_result(None)


def client_info() -> dict[str, Any]:
    try:
        host = _socket.gethostname()
    except OSError:
        host = ""
    return {"pid": os.getpid(), "host": host, "lib": "rpc_client", "protocol": P.PROTOCOL_VERSION}
