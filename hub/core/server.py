"""The hub's event loop: one thread owns the ROUTER, the PUB and the broker mailbox.

    server = HubServer(HubConfig(rpc=..., pub=..., data_dir=...)).start()   # background thread
    ...
    server.stop()

`start()` returns once the hub listens, the book is loaded and the first broker connect
attempt has ended, or raises `HubStartError` with a message for the user (port in use, a
broker that cannot exist here such as xtquant on Linux). A broker that is merely not reachable
yet (MiniQMT not started) does not stop the start: the hub serves with the broker `down`, says
why in `status`, and connects when the broker appears (hub.core.broker_link).

This module is the loop and nothing else: sockets, poller, timers, the mailbox drain, the
flush order (commit, then replies, then events) and the one error boundary (`_dispatch`: an
exception in any handler becomes an `INTERNAL` reply; nothing a client sends can stop the
loop). The state it drives lives in its owners, built in `_setup` and handed to the handlers
as one `HubContext`: the book, the order desk and the order path, the journal, the sessions,
the quotes, the halts, the broker link, the publisher and the statistics (docs/architecture.md).

Everything that touches a socket, the book or the journal runs on the loop thread.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
import time
import uuid
from typing import Any, Callable

import zmq

from rpc_client.protocol import (HARD_MESSAGE_SIZE, HUB_DEAD_AFTER, MAX_MESSAGE_SIZE, METHODS, TICK_BATCH_MAX,
                                 DecodeError, ErrorCode, HubError, Topic, check_envelope, decode_request, error,
                                 market_of, ok, pack, preview, request_id, tick_topic)
from rpc_client.security import CurveKeyError

from hub import security
from hub.broker import Broker, BrokerUnavailable, make_broker
from hub.broker.adapter import clock_of
from hub.config import HubConfig
from hub.core import methods
from hub.core.book import Book
from hub.core.broker_events import BrokerEvents
from hub.core.broker_link import BROKER_DOWN, BROKER_RECONNECTING, BROKER_UP, BrokerLink
from hub.core.call import DEFERRED, Call, HubStartError, call_body
from hub.core.context import HubContext
from hub.core.departures import drop_session
from hub.core.halts import Halts, cancel_one
from hub.core.journal import Journal, trading_day
from hub.core.mailbox import Mailbox
from hub.core.order_path import OrderPath, build_stages
from hub.core.orders import OrderDesk
from hub.core.publisher import Publisher
from hub.core.quotes import WHOLE, QuoteFanout, TickStore
from hub.core.sessions import Session, Sessions, load_or_create_token
from hub.core.stats import HubStats
from hub.marketdata import MarketData, handlers as _md_handlers  # noqa: F401 - registers the md methods
from hub.risk.wiring import attach as attach_risk, install as install_risk

log = logging.getLogger("hub.server")

__all__ = ["BROKER_DOWN", "BROKER_RECONNECTING", "BROKER_UP", "Call", "HubServer", "HubStartError"]

_EVENTS, _POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)  # plain ints: no enum objects per call


class HubServer:
    def __init__(self, config: HubConfig | None = None, broker: Broker | None = None):
        self.config = config or HubConfig()
        self.hub_id = uuid.uuid4().hex[:12]
        self._broker_override = broker
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._start_error: BaseException | None = None
        self.token = ""
        self.stats = HubStats()
        self.counters = self.stats.counters  # the loop's own counters (the same dict)
        self._timers: list[list[Any]] = []
        self._replies: list[tuple[list[bytes], bytes, Session | None]] = []  # waiting for the journal's commit
        self._mail: dict[str, Callable[[Any], None]] = {}
        self.curve: security.CurveServer | None = None
        # born in _setup (None until then; _teardown closes what exists)
        self.ctx: HubContext | None = None
        self.link: BrokerLink | None = None
        self.mailbox: Mailbox | None = None
        self.journal: Journal | None = None
        self.zmq_ctx: zmq.Context | None = None
        # `router` and `pub` (the sockets) are born in _setup only: no attribute, no socket
        self.quotes: QuoteFanout | None = None
        self.day = trading_day()

    # ---- what callers and tests read ---------------------------------------------------
    @property
    def broker(self) -> Broker | None:
        return self.link.broker if self.link is not None else None

    @property
    def broker_state(self) -> dict[str, Any]:
        if self.link is None:
            return {"state": BROKER_DOWN, "since": self.stats.started_at, "reason": "not started"}
        return self.link.state

    @property
    def account_id(self) -> str:
        return self.link.account_id if self.link is not None else self.config.account_id

    @property
    def started_at(self) -> float:
        return self.stats.started_at

    @property
    def uptime(self) -> float:
        return self.stats.uptime

    @property
    def status_sources(self) -> dict[str, Any]:
        """name -> callable: extra parts of `status` from the hub's companions (hub.observe)."""
        return self.stats.status_sources

    def status(self) -> dict[str, Any]:
        """The `status` map (hub.core.stats)."""
        return self.stats.status()

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
        mailbox = self.mailbox
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
        self.journal = journal = Journal(cfg.journal_path)
        self._prune()
        self.zmq_ctx = zctx = zmq.Context()
        if self.curve is not None:
            self.curve.start(zctx)  # the ZAP handler must exist before a CURVE socket binds
        self.router = zctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.MAXMSGSIZE, HARD_MESSAGE_SIZE)
        self.router.setsockopt(zmq.SNDHWM, 10000)
        self.pub = zctx.socket(zmq.PUB)
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
        self.mailbox = mailbox = Mailbox(zctx, self.hub_id)
        self.sessions = Sessions(self.token)
        #: a whole market's batches go out while one of its holders was heard within this (docs/decisions.md)
        self.whole_silent_after = max(HUB_DEAD_AFTER, 3 * cfg.heartbeat_interval)
        self._live: tuple[float, frozenset[str], frozenset[str]] = (0.0, frozenset(), frozenset())
        self.publisher = publisher = Publisher(self.pub, journal, self.hub_id, router=self.router,
                                               sessions=self.sessions)
        self.book = book = Book()
        # the kill switch's cancel for an order numbered after a cancel-open (ctx exists by then)
        self.desk = desk = OrderDesk(journal, book, cfg.order_timeout, self.reply, self.reply_error,
                                     cancel_on_arrival=lambda order_id: cancel_one(self.ctx, order_id))
        desk.recover(self.day)
        self._recover_book()
        halts = Halts(journal, publisher)
        halts.load()
        # broker: connected on the broker-connect thread, as every reconnect is; start() waits for it
        try:
            broker = self._broker_override or make_broker(cfg)
        except BrokerUnavailable as exc:
            raise HubStartError(str(exc)) from None
        # ticks bypass the mailbox's FIFO: latest per code in the store, the mailbox only wakes the loop
        self.tick_store = TickStore(mailbox.wake)
        self.quotes = QuoteFanout(broker.quotes, self.tick_store.put)
        self.events = events = BrokerEvents(book, desk, publisher)
        self.link = link = BrokerLink(broker, cfg, publisher, desk, events, self.quotes, mailbox.put)
        connected = link.connect_first(self._stop.is_set)
        self.marketdata = MarketData(broker.quotes.source if broker.quotes is not None else None,
                                     mailbox.put, self.reply, self.reply_error, lambda: self.day,
                                     timeout=cfg.marketdata_timeout,
                                     download_timeout=cfg.marketdata_download_timeout,
                                     thread=getattr(broker.quotes, "runner", None))
        self.stats.status_sources["marketdata"] = self.marketdata.stats
        risk = install_risk(self, events, link)  # issue 11: the ledger restored before the first reconcile
        if connected:
            link.reconcile()
            link.set_state(BROKER_UP, "connected")
        self.ctx = ctx = HubContext(hub_id=self.hub_id, config=cfg, book=book, desk=desk, journal=journal,
                                    sessions=self.sessions, quotes=self.quotes, halts=halts, link=link,
                                    publisher=publisher, stats=self.stats, marketdata=self.marketdata)
        attach_risk(self, risk)  # sets ctx.risk (the risk stage), before the stages are built
        ctx.orders = OrderPath(ctx, build_stages(ctx))
        self.stats.bind(ctx, [publisher, desk, link, self.quotes, self.tick_store], self.curve, lambda: self.day)
        self._mail = {**events.handlers(), "order_response": desk.on_response,
                      "cancel_response": desk.on_cancel_response, "disconnected": link.on_disconnected,
                      "broker_attempt": link.apply_attempt, "md_done": self.marketdata.finish,
                      "connected": _log_connected, "stop": self._on_stop}
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)
        self.poller.register(mailbox.pull, zmq.POLLIN)
        self._every(cfg.heartbeat_interval, self._heartbeat)
        self._every(min(0.5, cfg.client_dead_after / 4), self._check_clients)
        self._every(1.0, self._mark_rates)
        self._every(cfg.reconnect_interval, link.maybe_reconnect)
        self._every(2.0, link.retry_quotes)
        self._every(0.5, self.marketdata.expire)
        if cfg.reconcile_interval > 0:
            self._every(cfg.reconcile_interval, link.reconcile_if_up)
        log.info("hub %s listening on %s (calls) and %s (events); account %s; data dir %s",
                 self.hub_id, cfg.rpc, cfg.pub, self.account_id, cfg.data_dir)

    def _teardown(self) -> None:
        if self.ctx is not None and self.ctx.risk is not None:
            try:
                self.ctx.risk.maybe_snapshot(force=True)  # a clean stop restores from one snapshot
            except Exception:  # noqa: BLE001
                log.exception("risk: the ledger snapshot at stop failed")
        for name in ("marketdata", "quotes"):
            obj = getattr(self, name, None)
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001
                    log.exception("closing %s failed", name)
        if self.link is not None:
            self.link.close()
        if self.mailbox is not None:
            self.mailbox.close()
        for sock in (getattr(self, "router", None), getattr(self, "pub", None)):
            if sock is not None:
                sock.close(0)
        if self.journal is not None:
            try:
                self.journal.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the journal failed")
        if self.curve is not None:
            self.curve.stop()
        if self.zmq_ctx is not None:
            self.zmq_ctx.term()

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
    #: ticks taken at a time while a whole market is followed (cut into frames of TICK_BATCH_MAX codes)
    TICK_BATCH = 500

    def _publish_ticks(self) -> None:
        """Publish pending ticks, oldest code first, for about `TICK_BUDGET`; the rest wait.

        While someone follows a whole market, ticks are taken `TICK_BATCH` at a time and those of
        followed markets go out as `ticks.<market>` frames of at most `TICK_BATCH_MAX` codes (a code
        also followed by itself additionally as its own `tick.<code>` frame, with the same tseq)."""
        take, stamp, publisher, quotes = self.tick_store.take, self.quotes.stamp, self.publisher, self.quotes
        deadline = time.perf_counter() + self.TICK_BUDGET
        while True:
            markets = quotes.whole_markets
            live = self._live_markets(markets) if markets else markets
            batches: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
            held = quotes.codes_held
            for code, tick in take(self.TICK_BATCH if markets else self.TICK_SLICE):
                try:
                    n = stamp(code, tick)
                    if n is None:
                        continue
                    market = market_of(code) if markets else None
                    if market in markets:
                        if market in live:
                            batch = batches.get(market)
                            if batch is None:  # (not setdefault: no two dicts built per tick)
                                batch = batches[market] = ({}, {})
                            batch[0][code], batch[1][code] = tick, n
                            if len(batch[0]) >= TICK_BATCH_MAX:
                                del batches[market]
                                self._publish_batch(market, *batch)
                        else:
                            quotes.unsent += 1  # stamped: the holder sees the gap in tseq when back
                        if code not in held:
                            continue  # followed only through its market
                    publisher.publish_unjournaled(tick_topic(code), tick, code=code, tseq=n)
                    publisher.ticks += 1
                except Exception:  # noqa: BLE001 - one bad tick must not kill the loop
                    self.counters["internal"] += 1
                    log.exception("publishing the tick of %s failed", code)
            for market, (ticks, tseqs) in batches.items():
                self._publish_batch(market, ticks, tseqs)
            if not self.tick_store.pending() or time.perf_counter() >= deadline:
                return

    def _live_markets(self, markets: frozenset[str]) -> frozenset[str]:
        """The followed markets one of whose holders was heard within `whole_silent_after` s
        (recomputed at most every 0.5 s). A market whose every holder is silent (a frozen or
        stopped process still connected) gets no batches: its SUB pipe would otherwise fill with
        up to pub_hwm batch frames, each 20 ticks; its ticks still get their tseq, so the holder
        counts what it missed when it is back."""
        now = time.monotonic()
        at, for_markets, live = self._live
        if now < at and for_markets is markets:
            return live
        heard_after = now - self.whole_silent_after
        keys = {s.key for s in self.sessions.by_identity.values() if s.last_heard >= heard_after}
        refs = self.quotes.refs
        live = frozenset(m for m in markets if refs.get((WHOLE, m), set()) & keys)
        self._live = (now + 0.5, markets, live)
        return live

    def _publish_batch(self, market: str, ticks: dict[str, Any], tseqs: dict[str, int]) -> None:
        try:
            self.publisher.publish_batch(market, ticks, tseqs)
        except Exception:  # noqa: BLE001 - one bad batch must not kill the loop
            self.counters["internal"] += 1
            log.exception("publishing a batch of %d ticks of %s failed", len(ticks), market)

    def _flush_out(self) -> None:
        """Commit what this iteration journaled, then send the replies and events that waited for it."""
        self.events.flush()  # the iteration's asset event (conflated per account), inside its commit
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
            self.stats.count_error(ErrorCode.INTERNAL)
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

    def reply(self, call: Call, result: Any) -> None:
        self._send(call.route, ok(call.req_id, result), call.session)
        self.stats.done(call)

    def reply_error(self, call: Call, err: HubError) -> None:
        self.stats.count_error(err.code)
        if call.session is not None and call.method == "order_stock":
            self.counters["rejects"] += 1
        self._send(call.route, error(call.req_id, err.code, err.message, err.data), call.session)
        self.stats.done(call)

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
        if result is not DEFERRED:
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
        return handler(self.ctx, call, params)

    # ---- broker mail (loop thread) ----------------------------------------------------
    def _on_mail(self, kind: str, data: Any) -> None:
        """One item from the mailbox: a broker push, a connect attempt's outcome, or stop."""
        handle = self._mail.get(kind)
        if handle is not None:
            handle(data)
        else:
            log.debug("ignored broker push %s", kind)

    def _on_stop(self, _data: Any = None) -> None:
        self._stop.set()

    # ---- recovery, clients, heartbeat, day roll (loop thread) -----------------------------
    def _recover_book(self) -> None:
        """Today's last known order/trade/position/asset states from the journal (no new events)."""
        journal, book = self.journal, self.book
        for ev in journal.latest_by_topic_prefix(self.day, Topic.ORDER + "."):
            book.restore_order(ev["data"])
        for ev in journal.latest_by_topic_prefix(self.day, Topic.TRADE + "."):
            book.restore_trade(ev["data"])
        for ev in journal.latest_by_topic_prefix(self.day, Topic.POSITION):
            if ev["topic"] == Topic.POSITION:
                book.positions[ev["data"].get("stock_code", "")] = ev["data"]
        for ev in journal.latest_by_topic_prefix(self.day, Topic.ASSET):
            if ev["topic"] == Topic.ASSET:
                book.asset = ev["data"]

    def _check_clients(self) -> None:
        dead_after = self.config.client_dead_after
        for session in self.sessions.silent(dead_after):
            log.info("client %s silent for more than %gs: session freed", session.name, dead_after)
            drop_session(self.ctx, session, "timed_out", f"silent for more than {dead_after:g}s")

    def _heartbeat(self) -> None:
        # public (any subscriber gets it): no stream heads, which would name every strategy; each
        # session learns its own heads from its ping replies
        ctx = self.ctx
        self.publisher.publish_unjournaled(Topic.HEARTBEAT, {
            "last_seq": self.journal.last_seq,
            "broker": ctx.link.state["state"], "halted": ctx.halts.all,
            "uptime": round(self.stats.uptime, 3), "clients": len(self.sessions), "clock": clock_of(self.broker)})
        day = trading_day()
        if day != self.day:
            self._new_day(day)

    def _new_day(self, day: str) -> None:
        """A new trading day: today's orders and trades start empty; idempotency keys are per day."""
        log.info("new trading day %s (was %s)", day, self.day)
        self.day = day
        self.book.new_day()
        self.desk.new_day(day)
        if self.ctx.risk is not None:  # T+1 settles, daily counts restart
            self.ctx.risk.roll(day)
        self._prune()
        self.ctx.link.reconcile_if_up()

    def _prune(self) -> None:
        keep = self.config.keep_days
        pruned = self.journal.prune(keep)
        if pruned:
            log.info("journal: pruned %d events older than the last %d trading days", pruned, keep)

    def _mark_rates(self) -> None:
        self.stats.mark_rates(self.publisher.events, self.publisher.ticks)


def _log_connected(_data: Any = None) -> None:
    log.info("broker reports connected")
