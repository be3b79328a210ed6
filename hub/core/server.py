"""The hub's event loop: one thread owns the ROUTER, the PUB and the broker mailbox.

    server = HubServer(HubConfig(rpc=..., pub=..., data_dir=...)).start()   # background thread
    ...
    server.stop()

`start()` returns once the hub listens, the broker is connected and the book is loaded,
or raises `HubStartError` with a message for the user (port in use, broker unavailable).

Everything that touches a socket, the book or the journal runs on the loop thread.
`_dispatch` is the single error boundary: an exception in any handler becomes an
`INTERNAL` reply; nothing a client sends can stop the loop.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
import time
import uuid
from collections import deque
from typing import Any

import zmq

from rpc_client.protocol import (HARD_MESSAGE_SIZE, MAX_MESSAGE_SIZE, METHODS, ErrorCode, HubError, Topic,
                                 DecodeError, check_envelope, decode_request, error, ok, owned_topic, pack, preview,
                                 request_id, tick_topic)
from rpc_client.security import CurveKeyError

import hub
from hub import security
from hub.broker import Broker, BrokerUnavailable, make_broker, to_dict
from hub.broker.adapter import clock_of
from hub.broker.connector import BrokerConnector
from hub.config import HubConfig
from hub.core import methods
from hub.marketdata import MarketData, handlers as _md_handlers  # noqa: F401 - registers the md methods
from hub.core.book import Book
from hub.core.journal import Journal, trading_day
from hub.core.mailbox import Mailbox
from hub.core.orders import OrderDesk
from hub.core.publisher import Publisher
from hub.core.quotes import QuoteFanout, TickStore
from hub.core.sessions import Session, Sessions, load_or_create_token

log = logging.getLogger("hub.server")

BROKER_UP, BROKER_DOWN, BROKER_RECONNECTING = "up", "down", "reconnecting"
_EVENTS, _POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)  # plain ints: no enum objects per call


class HubStartError(RuntimeError):
    """The hub could not start; the message is meant for the user."""


class Call:
    """One request being answered: who asked, with which id, and when.

    `envelope` holds the frames a REQ socket (or a proxy) put before the payload, ending in the
    empty delimiter; the reply carries them back so a plain REQ client gets its answer.
    """

    __slots__ = ("identity", "req_id", "session", "t0", "method", "envelope")

    def __init__(self, identity: bytes, req_id: Any, session: Session | None, method: str = ""):
        self.identity = identity
        self.req_id = req_id
        self.session = session
        self.method = method
        self.envelope: tuple[bytes, ...] = ()
        self.t0 = time.perf_counter()

    @property
    def route(self) -> list[bytes]:
        return [self.identity, *self.envelope]


#: A REQ client's (or proxy's) envelope: at most this many frames of at most 255 bytes each.
MAX_ENVELOPE_FRAMES = 8


def call_body(call: Call, frames: list[bytes]) -> bytes:
    """The request payload of [identity, *envelope, payload]; sets `call.envelope`.

    A DEALER sends one frame. A REQ socket sends [b"", payload] (and proxies add routing
    frames before the delimiter): that envelope is echoed before the reply, as ROUTER servers
    do, so a plain one-call-at-a-time REQ client works. Anything else is BAD_FRAME.
    """
    rest = frames[1:]
    if len(rest) >= 2 and rest[-2] == b"" and len(rest) - 1 <= MAX_ENVELOPE_FRAMES \
            and all(len(f) <= 255 for f in rest[:-1]):
        call.envelope = tuple(rest[:-1])
        return rest[-1]
    if len(rest) != 1:
        raise HubError(ErrorCode.BAD_FRAME, f"a request is exactly one frame (or a REQ envelope ending in an "
                                            f"empty delimiter, then one frame); got {len(rest)}")
    return rest[0]


class HubServer:
    def __init__(self, config: HubConfig | None = None, broker: Broker | None = None):
        self.config = config or HubConfig()
        self.hub_id = uuid.uuid4().hex[:12]
        self._broker_override = broker
        self.broker: Broker | None = None
        self.started_at = time.time()
        self._t0 = time.monotonic()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._start_error: BaseException | None = None
        self.token = ""
        self.broker_state: dict[str, Any] = {"state": BROKER_DOWN, "since": time.time(), "reason": "not started"}
        self.halted: dict[str, Any] = {"all": False, "reason": "", "strategies": {}}
        self.counters: dict[str, Any] = {"requests": 0, "rejects": 0, "bad_frames": 0, "dropped_replies": 0,
                                         "internal": 0, "encode_failures": 0, "replay_skipped": 0,
                                         "errors": {}}
        self._latency: deque[tuple[float, float]] = deque(maxlen=20000)
        self.calls_by_method: dict[str, int] = {}  # answered calls per method (names come from METHODS only)
        #: name -> callable: extra parts of `status` from the hub's companions (hub.observe); called on the loop
        self.status_sources: dict[str, Any] = {}
        self._rate_marks: deque[tuple[float, int, int, int]] = deque(maxlen=120)
        self._timers: list[list[Any]] = []
        self._replies: list[tuple[list[bytes], bytes, Session | None]] = []  # waiting for the journal's commit
        self._reconnect_attempts = 0
        self._reconnect_gave_up = False
        self.connector: BrokerConnector | None = None
        self.curve: security.CurveServer | None = None
        self._attempt_gen = 0  # generation of the last connect attempt started
        self._broker_gen = 0  # generation of the trader in use (its pushes carry it)
        self._lost_gens: set[int] = set()  # attempts whose trader reported a disconnect before it was installed
        self.broker_reconnects = 0
        self.day = trading_day()

    # ---- lifecycle (any thread) -------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "HubServer":
        self._thread = threading.Thread(target=self._run, name=f"hub-loop-{self.hub_id}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self._stop.set()
            raise HubStartError(f"the hub did not become ready within {timeout:g}s")
        if self._start_error is not None:
            self._thread.join(10)
            err = self._start_error
            raise err if isinstance(err, HubStartError) else HubStartError(str(err))
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        mailbox = getattr(self, "mailbox", None)
        if mailbox is not None:
            mailbox.put("stop")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the loop has ended; True if it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- setup and teardown (loop thread) ---------------------------------------------
    def _setup(self) -> None:
        cfg = self.config
        # checked before any socket exists: a refused exposure never listens, not even for a moment
        problem = security.exposure_problem(cfg)
        if problem:
            raise HubStartError(problem)
        if cfg.curve:
            try:
                self.curve = security.CurveServer(cfg.curve_path)
            except CurveKeyError as exc:
                raise HubStartError(str(exc)) from None
        warning = security.insecure_warning(cfg)
        if warning:
            log.warning("*" * 20 + " %s " + "*" * 20, warning)
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.token = load_or_create_token(cfg.token_path)
        self.journal = Journal(cfg.journal_path)
        pruned = self.journal.prune(cfg.keep_days)
        if pruned:
            log.info("journal: pruned %d events older than the last %d trading days", pruned, cfg.keep_days)
        self.ctx = zmq.Context()
        if self.curve is not None:
            self.curve.start(self.ctx)  # the ZAP handler must exist before a CURVE socket binds
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.MAXMSGSIZE, HARD_MESSAGE_SIZE)
        self.router.setsockopt(zmq.SNDHWM, 10000)
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        # bounds the hub's memory per subscriber that stops reading: at most pub_hwm messages
        # queued for it (then PUB drops for that subscriber only; see docs/guarantees.md)
        self.pub.setsockopt(zmq.SNDHWM, cfg.pub_hwm)
        if self.curve is not None:  # both are CURVE servers: no call and no event without an authorised key
            self.curve.apply(self.router)
            self.curve.apply(self.pub)
        for sock, ep, what in ((self.router, cfg.rpc, "rpc"), (self.pub, cfg.pub, "pub")):
            try:
                sock.bind(ep)
            except zmq.ZMQError as exc:
                if exc.errno == errno.EADDRINUSE or "in use" in str(exc).lower():
                    raise HubStartError(f"cannot listen on {ep} ({what}): address already in use. Is another hub "
                                        f"running? Stop it or choose another --{what} endpoint.") from None
                raise HubStartError(f"cannot listen on {ep} ({what}): {exc}") from None
        self.mailbox = Mailbox(self.ctx, self.hub_id)
        self.sessions = Sessions(self.token)
        self.publisher = Publisher(self.pub, self.journal, self.hub_id, router=self.router, sessions=self.sessions)
        self.book = Book()
        self.desk = OrderDesk(self.journal, self.book, cfg.order_timeout, self.reply, self.reply_error,
                              cancel_on_arrival=self._cancel_one)
        self.desk.recover(self.day)
        self._recover_book()
        halted = self.journal.get_json("halted")
        if isinstance(halted, dict):
            self.halted.update(halted)
        # broker: connected on the broker-connect thread, as every reconnect is; start() waits for it
        try:
            self.broker = self._broker_override or make_broker(cfg)
        except BrokerUnavailable as exc:
            raise HubStartError(str(exc)) from None
        self.connector = BrokerConnector(self.broker, lambda: self.mailbox.put("broker_attempt"))
        self._start_attempt()
        while not self.connector.wait(0.1):
            if self._stop.is_set():
                raise HubStartError("the hub was stopped while connecting to the broker")
        attempt = self.connector.take()
        if attempt is None or attempt.trader is None:
            raise HubStartError(attempt.reason if attempt is not None else "the broker connect attempt vanished")
        self._install(attempt.trader, attempt.token)
        # ticks bypass the mailbox's FIFO: latest per code in the store, the mailbox only wakes the loop
        self.tick_store = TickStore(self.mailbox.wake)
        self.quotes = QuoteFanout(self.broker.quotes, self.tick_store.put)
        self.marketdata = MarketData(self.broker.quotes.source if self.broker.quotes is not None else None,
                                     self.mailbox.put, self.reply, self.reply_error, lambda: self.day,
                                     timeout=cfg.marketdata_timeout,
                                     download_timeout=cfg.marketdata_download_timeout,
                                     thread=getattr(self.broker.quotes, "runner", None))
        self.status_sources["marketdata"] = self.marketdata.stats
        self.reconcile(initial=True)
        self._set_broker_state(BROKER_UP, "connected")
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)
        self.poller.register(self.mailbox.pull, zmq.POLLIN)
        self._every(cfg.heartbeat_interval, self._heartbeat)
        self._every(min(0.5, cfg.client_dead_after / 4), self._check_clients)
        self._every(1.0, self._mark_rates)
        self._every(cfg.reconnect_interval, self._maybe_reconnect)
        self._every(2.0, self._retry_quotes)
        self._every(0.5, self.marketdata.expire)
        if cfg.reconcile_interval > 0:
            self._every(cfg.reconcile_interval, lambda: self.broker_state["state"] == BROKER_UP and self.reconcile())
        log.info("hub %s listening on %s (calls) and %s (events); account %s; data dir %s",
                 self.hub_id, cfg.rpc, cfg.pub, self.account_id, cfg.data_dir)

    def _teardown(self) -> None:
        for name in ("marketdata", "quotes"):
            obj = getattr(self, name, None)
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001
                    log.exception("closing %s failed", name)
        if self.broker is not None:
            if self.connector is not None:
                # the trader is stopped on the thread that created it; an attempt still running
                # stops its own late trader when it ends (bounded wait here, never a hang)
                self.connector.stop_later(self.broker.detach_trader())
                self.connector.close(timeout=2.0)
            try:
                self.broker.close()
            except Exception:  # noqa: BLE001
                log.exception("stopping the broker failed")
        if getattr(self, "mailbox", None) is not None:
            self.mailbox.close()
        for name in ("router", "pub"):
            sock = getattr(self, name, None)
            if sock is not None:
                sock.close(0)
        if getattr(self, "journal", None) is not None:
            try:
                self.journal.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the journal failed")
        if self.curve is not None:
            self.curve.stop()
        if getattr(self, "ctx", None) is not None:
            self.ctx.term()

    def _run(self) -> None:
        try:
            self._setup()
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            if not isinstance(exc, HubStartError):
                log.exception("hub failed to start")
            self._start_error = exc
            try:
                self._teardown()
            finally:
                self._ready.set()
            return
        self._ready.set()
        try:
            self._loop()
        finally:
            log.info("hub %s stopping", self.hub_id)
            self._teardown()

    # ---- timers -----------------------------------------------------------------------
    def _every(self, interval: float, fn: Any) -> None:
        self._timers.append([time.monotonic() + interval, interval, fn])

    TIMER_SLACK = 0.02  # timers due this soon run now, with the others: fewer wake-ups

    def _run_timers(self) -> float | None:
        """Run the timers that are due; seconds until the next one (None: nothing scheduled).

        Order deadlines are not a fixed tick: `desk.expire` runs only when the earliest
        deadline that may still be pending has passed (`desk.next_due`).
        """
        now = time.monotonic()
        soon = now + self.TIMER_SLACK
        nearest = None
        for timer in self._timers:
            if soon >= timer[0]:
                timer[0] = now + timer[1]
                try:
                    timer[2]()
                except Exception:  # noqa: BLE001 - a timer must not kill the loop
                    log.exception("timer %s failed", getattr(timer[2], "__name__", timer[2]))
            if nearest is None or timer[0] < nearest:
                nearest = timer[0]
        desk = self.desk
        if desk.next_due is not None and now >= desk.next_due:
            try:
                desk.expire()
            except Exception:  # noqa: BLE001
                desk.next_due = None
                log.exception("expiring orders failed")
        if desk.next_due is not None and (nearest is None or desk.next_due < nearest):
            nearest = desk.next_due
        return None if nearest is None else max(0.0, nearest - time.monotonic())

    # ---- the loop ---------------------------------------------------------------------
    def _loop(self) -> None:
        """Poll until the next timer is due; take calls, then broker mail, then one slice of
        ticks; commit; send; repeat.

        Calls and account events come first: ticks wait in the tick store (latest per code) and
        each iteration publishes at most one slice of them (`TICK_BUDGET`); while ticks remain,
        the poll does not wait, so a call arriving mid-flood is answered after at most one slice.

        The journal is in group-commit mode: what one iteration journals is committed once, at
        its end (`_flush_out`), and only then are its events published and the replies that
        depend on them sent (journal before publish). An order request is committed on its own
        before the broker is called (`Journal.reserve_order`).
        """
        self.journal.use_group_commit(True)
        router, mailbox, ticks, poll = self.router, self.mailbox, self.tick_store, self.poller.poll
        try:
            while not self._stop.is_set():
                wait = self._run_timers()
                self._flush_out()
                if mailbox.pending() or ticks.pending():
                    wait = 0
                try:
                    ready = poll(-1 if wait is None else math.ceil(wait * 1000))
                except zmq.ZMQError as exc:
                    if exc.errno == errno.EINTR:
                        continue
                    raise
                for sock, _ in ready:
                    if sock is router:
                        self._take_calls()
                if ready or mailbox.pending():
                    self._drain_mailbox()
                if ticks.pending():  # after the drain (which re-arms the wake-up): none is missed
                    self._publish_ticks()
                self._flush_out()
        finally:
            try:
                self._flush_out()
            except Exception:  # noqa: BLE001 - stopping anyway; the journal commits on close
                log.exception("flushing at stop failed")
            self.journal.group = False  # teardown writes commit by themselves (close stops the checkpointer)

    def _take_calls(self) -> None:
        router = self.router
        for _ in range(1000):
            try:
                frames = router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                self._dispatch(frames)
            except Exception:  # noqa: BLE001 - last resort: _dispatch answers its own failures
                self.counters["internal"] += 1
                log.exception("dispatching a request failed outside the error boundary")
            if not router.getsockopt(_EVENTS) & _POLLIN:
                return

    def _drain_mailbox(self) -> None:
        for kind, payload in self.mailbox.drain():
            try:
                self._on_mail(kind, payload)
            except Exception:  # noqa: BLE001 - one bad push must not kill the loop
                self.counters["internal"] += 1
                log.exception("handling broker %s failed: %r", kind, payload)

    TICK_SLICE = 32  # ticks taken from the store at a time
    TICK_BUDGET = 0.001  # seconds of tick publishing per loop iteration (plus at most one take)

    def _publish_ticks(self) -> None:
        """Publish pending ticks, oldest code first, for about `TICK_BUDGET`; the rest wait."""
        take, stamp, publisher = self.tick_store.take, self.quotes.stamp, self.publisher
        deadline = time.perf_counter() + self.TICK_BUDGET
        while True:
            for code, tick in take(self.TICK_SLICE):
                try:
                    n = stamp(code, tick)
                    if n is not None:
                        publisher.publish_unjournaled(tick_topic(code), tick, code=code, tseq=n)
                        publisher.ticks += 1
                except Exception:  # noqa: BLE001 - one bad tick must not kill the loop
                    self.counters["internal"] += 1
                    log.exception("publishing the tick of %s failed", code)
            if not self.tick_store.pending() or time.perf_counter() >= deadline:
                return

    def _flush_out(self) -> None:
        """Commit what this iteration journaled, then send the replies and events that waited for it."""
        if self.journal.in_tx and not self.journal.commit():
            self.counters["internal"] += 1
        if self._replies:
            replies, self._replies = self._replies, []
            for route, frame, session in replies:
                self._send_frame(route, frame, session)
        if self.publisher.pending:
            self.publisher.flush()

    # ---- replies ----------------------------------------------------------------------
    def _send(self, route: list[bytes], msg: dict[str, Any], session: Session | None = None) -> None:
        """Send a reply; while the journal has uncommitted writes it waits for their commit.

        Inside the error boundary: a reply that cannot be encoded is replaced by a bounded
        INTERNAL error (counted, logged), never an exception into the loop.
        """
        try:
            frame = pack(msg)
        except Exception as exc:  # noqa: BLE001 - ValueError (depth), TypeError, OverflowError
            self.counters["internal"] += 1
            self.counters["encode_failures"] += 1
            self._count_error(ErrorCode.INTERNAL)
            log.exception("encoding the reply to request %s failed", preview(msg.get("id")))
            frame = pack(error(msg.get("id"), ErrorCode.INTERNAL,
                               f"the hub could not encode its reply: {type(exc).__name__}: {preview(str(exc), 120)}"))
        if self.journal.in_tx:
            self._replies.append((route, frame, session))
        else:
            self._send_frame(route, frame, session)

    def _send_frame(self, route: list[bytes], frame: bytes, session: Session | None) -> None:
        try:
            self.router.send_multipart([*route, frame], zmq.NOBLOCK)
        except zmq.ZMQError as exc:  # EHOSTUNREACH (client gone) or EAGAIN (its queue is full)
            self.counters["dropped_replies"] += 1
            who = session or self.sessions.get(route[0])
            if who is not None:
                who.dropped += 1
            log.debug("reply to %r dropped: %s", route[0], exc)

    def _done(self, call: Call) -> None:
        self._latency.append((time.monotonic(), (time.perf_counter() - call.t0) * 1000.0))
        if call.method in METHODS:  # a peer's unknown names never become keys
            by_method = self.calls_by_method
            by_method[call.method] = by_method.get(call.method, 0) + 1

    def reply(self, call: Call, result: Any) -> None:
        self._send(call.route, ok(call.req_id, result), call.session)
        self._done(call)

    def reply_error(self, call: Call, err: HubError) -> None:
        self._count_error(err.code)
        if call.session is not None and call.method == "order_stock":
            self.counters["rejects"] += 1
        self._send(call.route, error(call.req_id, err.code, err.message, err.data), call.session)
        self._done(call)

    def _count_error(self, code: str) -> None:
        errors = self.counters["errors"]
        errors[code] = errors.get(code, 0) + 1

    # ---- the single error boundary ----------------------------------------------------
    def _dispatch(self, frames: list[bytes]) -> None:
        """Answer one request: exactly one reply (now or, for DEFERRED, later), whatever it holds.

        Everything after the frames arrive, replying included, is inside the boundary: a
        HubError becomes its error reply, any other exception a bounded INTERNAL one.
        """
        identity = frames[0]
        self.counters["requests"] += 1
        call = Call(identity, None, self.sessions.get(identity))
        try:
            result = self._handle(call, frames)
        except HubError as err:
            if err.code == ErrorCode.BAD_FRAME:
                self.counters["bad_frames"] += 1
            self.reply_error(call, err)
            return
        except Exception as exc:  # noqa: BLE001 - the error boundary
            self.counters["internal"] += 1
            log.exception("handler %s failed", preview(call.method))
            self.reply_error(call, HubError(ErrorCode.INTERNAL, f"the hub failed handling {preview(call.method)}: "
                                                                f"{type(exc).__name__}: {preview(str(exc), 120)}"))
            return
        if result is not methods.DEFERRED:
            self.reply(call, result)

    def _handle(self, call: Call, frames: list[bytes]) -> Any:
        body = call_body(call, frames)
        if len(body) > MAX_MESSAGE_SIZE:
            raise HubError(ErrorCode.TOO_LARGE, f"request of {len(body)} bytes is larger than the "
                                                f"limit of {MAX_MESSAGE_SIZE} bytes")
        try:
            msg = decode_request(body)
        except DecodeError as exc:
            call.req_id = exc.req_id
            raise HubError(ErrorCode.BAD_FRAME, str(exc)) from None
        call.req_id = request_id(msg)
        name, raw_params = check_envelope(msg)
        call.method = name
        method = METHODS.get(name)
        handler = methods.HANDLERS.get(name)
        if method is None or handler is None:
            raise HubError(ErrorCode.UNKNOWN_METHOD, f"no method {preview(name, 60)}", {"method": name[:60]})
        session = call.session
        if session is not None:
            session.touch()
            session.requests += 1
        elif method.needs_session:
            raise HubError(ErrorCode.NO_SESSION, f"call hello before {name} (this connection has no session: "
                                                 "it never said hello, or the hub restarted or dropped it "
                                                 "after a silence)")
        if session is not None and name != "hello" and session.role not in method.roles:
            raise HubError(ErrorCode.FORBIDDEN, f"role {session.role} may not call {name} "
                                                f"(allowed: {', '.join(method.roles)})")
        params = method.validate(raw_params)
        return handler(self, call, params)

    # ---- broker pushes (loop thread) --------------------------------------------------
    def _on_broker(self, kind: str, obj: Any, gen: int | None = None) -> None:
        """Broker thread: convert and hand over. Never touches sockets or the book.

        `gen` is the connect attempt whose trader pushed this; a disconnect carries it so that
        a late one from a replaced trader cannot mark its successor down.
        """
        if kind == "disconnected":
            self.mailbox.put(kind, gen)
            return
        try:
            data = to_dict(obj, kind) if obj is not None else None
        except Exception:  # noqa: BLE001
            log.exception("converting broker %s failed", kind)
            return
        self.mailbox.put(kind, data)

    def _on_mail(self, kind: str, data: Any) -> None:
        if kind == "stop":
            self._stop.set()
        elif kind == "order":
            self._publish_order(data)
        elif kind == "trade":
            self._publish_trade(data)
        elif kind in ("order_error", "cancel_error"):
            self._publish_error(data, "order" if kind == "order_error" else "cancel")
        elif kind == "position":
            if self.book.apply_position(data) is not None:
                self.publisher.publish(Topic.POSITION, data)
        elif kind == "asset":
            if self.book.apply_asset(data) is not None:
                self.publisher.publish(Topic.ASSET, data)
        elif kind == "account_status":
            if self.book.apply_account_status(data) is not None:
                self.publisher.publish(Topic.ACCOUNT, data)
        elif kind == "order_response":
            self.desk.on_response(data)
        elif kind == "cancel_response":
            self.desk.on_cancel_response(data)
        elif kind == "disconnected":
            gen = data if isinstance(data, int) else self._broker_gen
            if gen == self._broker_gen and self.broker is not None and self.broker.has_trader:
                self._broker_lost("the broker reported a disconnect")
            elif gen > self._broker_gen:  # the trader of an attempt not yet applied
                self._lost_gens.add(gen)
            else:
                log.debug("ignored a disconnect from a replaced trader (attempt %d)", gen)
        elif kind == "broker_attempt":
            self._apply_attempt()
        elif kind == "md_done":
            self.marketdata.finish(data)
        elif kind == "connected":
            log.info("broker reports connected")
        else:
            log.debug("ignored broker push %s", kind)

    def _publish_order(self, raw: dict[str, Any]) -> None:
        self.desk.seen_at_broker(raw.get("order_remark"), raw.get("order_id"))
        data = self.book.apply_order(raw)
        if data is not None:
            self.publisher.publish(owned_topic(Topic.ORDER, data["owner"]), data)

    def _publish_trade(self, raw: dict[str, Any]) -> None:
        self.desk.seen_at_broker(raw.get("order_remark"), raw.get("order_id"))
        data = self.book.apply_trade(raw)
        if data is not None:
            self.publisher.publish(owned_topic(Topic.TRADE, data["owner"]), data)

    def _publish_error(self, raw: dict[str, Any], kind: str) -> None:
        data = self.book.apply_error(raw, kind)
        self.publisher.publish(owned_topic(Topic.ERROR, data["owner"]), data)

    # ---- broker state -----------------------------------------------------------------
    def _set_broker_state(self, state: str, reason: str) -> None:
        if self.broker_state["state"] == state:
            return
        self.broker_state = {"state": state, "since": time.time(), "reason": reason}
        self.publisher.publish(Topic.BROKER, dict(self.broker_state))

    def _broker_lost(self, reason: str) -> None:
        if self.broker is not None:
            self.broker.mark_down()
        self._set_broker_state(BROKER_DOWN, reason)
        self.desk.broker_lost(reason)

    def _start_attempt(self) -> None:
        """Hand the old trader and a connect attempt to the broker-connect thread (never blocks)."""
        self._attempt_gen += 1
        gen = self._attempt_gen
        old = self.broker.detach_trader()
        self.connector.attempt(lambda kind, obj: self._on_broker(kind, obj, gen), old, token=gen)

    def _install(self, trader: Any, gen: int) -> None:
        self.broker.install(trader)
        self._broker_gen = gen
        self._lost_gens = {g for g in self._lost_gens if g > gen}

    def _maybe_reconnect(self) -> None:
        """Timer: while the broker is not up, start one reconnect attempt per reconnect_interval.

        The attempt runs on the broker-connect thread (hub.broker.connector): it stops the old
        trader and connects a fresh one with a fresh session id while this loop keeps serving
        (orders get BROKER_DOWN). Its outcome comes back through the mailbox (`_apply_attempt`).
        One attempt at a time; after `reconnect_max_attempts` failures (0 = never give up) the
        broker stays down (published) until the hub is restarted.
        """
        if self.broker is None or self.broker_state["state"] == BROKER_UP or self._reconnect_gave_up:
            return
        if self.connector is None or self.connector.busy:
            return  # the previous attempt is still running
        self._reconnect_attempts += 1
        self._set_broker_state(BROKER_RECONNECTING, "trying a fresh connection")
        self._start_attempt()

    def _apply_attempt(self) -> None:
        """Loop thread: the outcome of a connect attempt; on success reconcile, then say up."""
        attempt = self.connector.take() if self.connector is not None else None
        if attempt is None:
            return
        trader, reason = attempt.trader, attempt.reason
        if trader is not None and attempt.token in self._lost_gens:
            self._lost_gens.discard(attempt.token)
            self.connector.stop_later(trader)
            trader, reason = None, "the broker disconnected right after connecting"
        if trader is None:
            limit = self.config.reconnect_max_attempts
            log.warning("broker reconnect attempt %d failed: %s", self._reconnect_attempts, reason)
            self.broker_state["reason"] = f"attempt {self._reconnect_attempts}: {reason}"
            if limit and self._reconnect_attempts >= limit:
                self._reconnect_gave_up = True
                log.error("broker: giving up after %d reconnect attempts; restart the hub", self._reconnect_attempts)
                self._set_broker_state(BROKER_DOWN, f"gave up after {self._reconnect_attempts} reconnect attempts "
                                                    f"({reason}); restart the hub")
            return
        self._install(trader, attempt.token)
        try:
            self.reconcile()
        except Exception as exc:  # noqa: BLE001 - a failed reconcile means not up yet
            log.exception("reconcile after reconnect failed")
            self.broker.mark_down()
            self.broker_state["reason"] = f"reconcile failed: {exc}"
            return
        # a restarted broker/terminal (MiniQMT, `hub sim`) has forgotten the quote subscriptions
        if self.quotes.refs:
            try:
                n = self.quotes.resubscribe()
                log.info("re-subscribed %d of %d quote items after the reconnect", n, len(self.quotes.refs))
            except Exception:  # noqa: BLE001 - quotes must not keep the broker down
                log.exception("re-subscribing quotes after the reconnect failed")
        self._reconnect_attempts = 0
        self.broker_reconnects += 1
        self._set_broker_state(BROKER_UP, "reconnected")

    def _retry_quotes(self) -> None:
        """Timer: items clients hold whose re-subscribe after a reconnect was refused, again."""
        if self.broker_state["state"] == BROKER_UP and self.quotes.missing:
            n = self.quotes.resubscribe(only_missing=True)
            if n:
                log.info("re-subscribed %d quote items", n)

    def reconcile(self, initial: bool = False) -> None:
        """Bring the book in line with the broker's own view; publish what changed."""
        snap = self.broker.snapshot()
        if snap.get("asset") is not None and self.book.apply_asset(snap["asset"]) is not None:
            self.publisher.publish(Topic.ASSET, snap["asset"])
        for pos in snap.get("positions", []):
            if self.book.apply_position(pos) is not None:
                self.publisher.publish(Topic.POSITION, pos)
        for order in snap.get("orders", []):
            self._publish_order(order)
        for trade in snap.get("trades", []):
            self._publish_trade(trade)
        for status in snap.get("account_status", []):
            if status.get("account_id") in (None, "", self.account_id) and \
                    self.book.apply_account_status(status) is not None:
                self.publisher.publish(Topic.ACCOUNT, status)
        self.book.account_infos = snap.get("account_infos", [])
        log.info("reconciled with the broker: %d orders, %d trades, %d positions", len(snap.get("orders", [])),
                 len(snap.get("trades", [])), len(snap.get("positions", [])))

    def _recover_book(self) -> None:
        """Today's last known order/trade/position/asset states from the journal (no new events)."""
        for ev in self.journal.latest_by_topic_prefix(self.day, Topic.ORDER + "."):
            self.book.restore_order(ev["data"])
        for ev in self.journal.latest_by_topic_prefix(self.day, Topic.TRADE + "."):
            self.book.restore_trade(ev["data"])
        for ev in self.journal.latest_by_topic_prefix(self.day, Topic.POSITION):
            if ev["topic"] == Topic.POSITION:
                self.book.positions[ev["data"].get("stock_code", "")] = ev["data"]
        for ev in self.journal.latest_by_topic_prefix(self.day, Topic.ASSET):
            if ev["topic"] == Topic.ASSET:
                self.book.asset = ev["data"]

    # ---- sessions ---------------------------------------------------------------------
    def drop_session(self, session: Session, event: str, reason: str = "") -> None:
        self.sessions.remove(session)
        self.quotes.drop(session.key)
        self.marketdata.drop_session(session.key)
        cancelled: list[int] = []
        if session.cancel_on_disconnect and event != "taken_over" and session.role == "strategy" \
                and self.sessions.named(session.name) is None:
            cancelled = self.cancel_open(session.name)
        self.publisher.publish(Topic.CLIENT, {"strategy": session.name, "role": session.role, "event": event,
                                              "reason": reason, "cancelled": cancelled, "session": session.key})

    def _check_clients(self) -> None:
        for session in self.sessions.silent(self.config.client_dead_after):
            log.info("client %s silent for more than %gs: session freed", session.name,
                     self.config.client_dead_after)
            self.drop_session(session, "timed_out", f"silent for more than {self.config.client_dead_after:g}s")

    def cancel_open(self, strategy: str | None) -> list[int]:
        """Ask the broker to cancel every open order (of one owner, or all). Returns the order ids.

        A kill switch must not miss an order just placed: besides the book's open orders it
        cancels orders the broker numbered whose first push has not arrived yet, and flags
        placements still waiting for their id so they are cancelled the moment it comes.
        """
        if self.broker is None or self.broker_state["state"] != BROKER_UP:
            return []
        numbered, _waiting = self.desk.in_flight(strategy)
        ids = [o.get("order_id") for o in self.book.open_orders(strategy)]
        ids += [i for i in numbered if i not in ids]
        return [order_id for order_id in ids if self._cancel_one(order_id)]

    def _cancel_one(self, order_id: int) -> bool:
        """A hub-initiated cancel (no caller waits for it); True when the broker took the request."""
        if self.broker is None or self.broker_state["state"] != BROKER_UP:
            return False
        try:
            seq = self.broker.cancel_async(order_id)
        except Exception:  # noqa: BLE001
            log.exception("cancel of %s failed", order_id)
            return False
        self.desk.cancel(None, order_id, seq)
        return isinstance(seq, int) and seq >= 0

    # ---- halts ------------------------------------------------------------------------
    def halt_reason(self, strategy: str) -> str | None:
        if self.halted["all"]:
            return self.halted["reason"] or "halted"
        return self.halted["strategies"].get(strategy)

    def set_halt(self, strategy: str | None, halted: bool, reason: str) -> None:
        if strategy is None:
            self.halted["all"] = halted
            self.halted["reason"] = reason if halted else ""
            if not halted:
                self.halted["strategies"] = {}
        elif halted:
            self.halted["strategies"][strategy] = reason
        else:
            self.halted["strategies"].pop(strategy, None)
        self.journal.set_json("halted", self.halted)
        self.publisher.publish(Topic.HALT, {"strategy": strategy, "halted": halted, "reason": reason})

    # ---- heartbeat and status -------------------------------------------------------
    @property
    def account_id(self) -> str:
        return self.broker.account_id if self.broker is not None else self.config.account_id

    @property
    def uptime(self) -> float:
        return time.monotonic() - self._t0

    def _heartbeat(self) -> None:
        # public (any subscriber gets it): no stream heads, which would name every strategy; each
        # session learns its own heads from its ping replies
        self.publisher.publish_unjournaled(Topic.HEARTBEAT, {
            "last_seq": self.journal.last_seq,
            "broker": self.broker_state["state"], "halted": self.halted["all"],
            "uptime": round(self.uptime, 3), "clients": len(self.sessions), "clock": clock_of(self.broker)})
        day = trading_day()
        if day != self.day:
            self._new_day(day)

    def _new_day(self, day: str) -> None:
        """A new trading day: today's orders and trades start empty; idempotency keys are per day."""
        log.info("new trading day %s (was %s)", day, self.day)
        self.day = day
        self.book.orders.clear()
        self.book.trades.clear()
        self.book.tag_of_order.clear()
        for key in [k for k, p in self.desk.by_key.items() if k[0] != day and p.seq not in self.desk.by_seq]:
            p = self.desk.by_key.pop(key)
            self.desk.by_tag.pop(p.tag, None)
        pruned = self.journal.prune(self.config.keep_days)
        if pruned:
            log.info("journal: pruned %d events older than the last %d trading days", pruned, self.config.keep_days)
        if self.broker_state["state"] == BROKER_UP:
            self.reconcile()

    def _mark_rates(self) -> None:
        self._rate_marks.append((time.monotonic(), self.counters["requests"], self.publisher.events,
                                 self.publisher.ticks))

    def rates(self) -> dict[str, float]:
        if len(self._rate_marks) < 2:
            return {"requests_per_s": 0.0, "events_per_s": 0.0, "ticks_per_s": 0.0}
        t1, r1, e1, k1 = self._rate_marks[-1]
        older = [m for m in self._rate_marks if t1 - m[0] <= 10.0]
        t0, r0, e0, k0 = older[0]
        dt = max(t1 - t0, 1e-9)
        return {"requests_per_s": round((r1 - r0) / dt, 2), "events_per_s": round((e1 - e0) / dt, 2),
                "ticks_per_s": round((k1 - k0) / dt, 2)}

    def latency(self) -> dict[str, float | None]:
        cutoff = time.monotonic() - 60.0
        values = sorted(ms for t, ms in self._latency if t >= cutoff)
        if not values:
            return {"p50": None, "p99": None}
        return {"p50": round(values[len(values) // 2], 3),
                "p99": round(values[min(len(values) - 1, int(len(values) * 0.99))], 3)}

    def status(self) -> dict[str, Any]:
        rss = None
        try:
            import psutil
            rss = psutil.Process().memory_info().rss
        except Exception:  # noqa: BLE001
            pass
        counters = dict(self.counters)
        counters["errors"] = dict(self.counters["errors"])
        counters.update({"events": self.publisher.events, "ticks": self.publisher.ticks,
                         "orders": self.desk.counters["orders"], "cancels": self.desk.counters["cancels"],
                         "duplicates": self.desk.counters["duplicates"],
                         "unknown_outcomes": self.desk.counters["unknown_outcomes"],
                         "resolved_by_broker": self.desk.counters["resolved_by_broker"],
                         "broker_reconnects": self.broker_reconnects,
                         "pending_orders": self.desk.pending_count(), "dropped_events": self.publisher.dropped,
                         "session_events": self.publisher.session_events,
                         "dropped_session_events": self.publisher.session_dropped,
                         "quote_upstream": self.quotes.upstream_count,
                         "ticks_conflated": self.tick_store.conflated, "ticks_pending": len(self.tick_store)})
        counters["by_method"] = dict(self.calls_by_method)
        if self.curve is not None:
            counters.update(self.curve.counters())
        return {"hub_id": self.hub_id, "version": hub.__version__, "account_id": self.account_id,
                "broker_name": self.config.broker,
                "endpoints": {"rpc": self.config.rpc, "pub": self.config.pub},
                "security": security.summary(self.config, len(self.curve.keys) if self.curve is not None else None),
                "data_dir": str(self.config.data_dir), "started_at": self.started_at,
                "uptime": round(self.uptime, 3), "broker": dict(self.broker_state),
                "halted": {"all": self.halted["all"], "reason": self.halted["reason"],
                           "strategies": dict(self.halted["strategies"])},
                "last_seq": self.journal.last_seq, "heads": dict(self.journal.heads),
                "clients": len(self.sessions), "counters": counters, "rates": self.rates(),
                "latency_ms": self.latency(), "rss_bytes": rss, "trading_day": self.day,
                **self._extra_status()}

    def _extra_status(self) -> dict[str, Any]:
        """What the hub's companions add to `status` (alerts, metrics: hub.observe), each under its name."""
        out: dict[str, Any] = {}
        for name, source in list(self.status_sources.items()):
            try:
                out[name] = source()
            except Exception as exc:  # noqa: BLE001 - a companion's bug must not cost the status call
                out[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        return out
