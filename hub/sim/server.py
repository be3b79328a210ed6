"""Serve one simulated terminal over ZeroMQ, so the broker can run as its own process.

One thread owns a ROUTER socket. Each client (a trader's `RemoteExchange`, DEALER)
sends msgpack requests `{id, method, params}` and gets `{id, ok, result}` or
`{id, ok: false, error}`; pushes travel on the same connection as
`{event, data}` so they keep the broker order relative to replies, and a
`{event: "heartbeat"}` every `HEARTBEAT` seconds lets clients notice a dead
simulator. Quotes (`RemoteSimXtData`, `QUOTE_METHODS`): a client subscribes under
its own key and gets `{event: "ticks", data: {key, ticks}}` pushes shaped as
xtdata's callbacks; its subscriptions end with its session (timeout or server
stop). No pickle: msgpack only (`hub.sim.wire`), and only the methods in `METHODS` and
`QUOTE_METHODS`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import zmq

from hub.sim.exchange import SimExchange
from hub.sim.wire import ATTACHED_ONLY, METHODS, QUOTE_METHODS, pack, unpack  # noqa: F401 (names of this wire)
from hub.sim.xtdata import SimXtData

log = logging.getLogger(__name__)

HEARTBEAT = 0.3  # seconds between server heartbeats
CLIENT_TIMEOUT = 10.0  # a silent client's sessions are dropped after this
MAX_MESSAGE = 1 << 20


class _RemoteSession:
    """The exchange's `TraderSink` for one remote client: pushes go to the server's outbox."""

    def __init__(self, server: "SimServer", identity: bytes) -> None:
        self.server, self.identity = server, identity
        self.last_seen = time.monotonic()
        self.quote_subs: dict[Any, int] = {}  # the client's key -> our SimXtData seq

    def push(self, kind: str, data: dict[str, Any]) -> None:
        self.server.outbox.put((self.identity, {"event": kind, "data": data}))

    def disconnected(self) -> None:
        self.server.outbox.put((self.identity, {"event": "disconnected", "data": None}))


class SimServer:
    """Runs `exchange` behind `endpoint` (e.g. tcp://127.0.0.1:5560) until `stop()`."""

    def __init__(self, exchange: SimExchange, endpoint: str) -> None:
        self.exchange = exchange
        self.endpoint = endpoint
        self.outbox: queue.Queue = queue.Queue()
        self._sessions: dict[bytes, _RemoteSession] = {}
        self._stop = threading.Event()
        self._ctx = zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        self._sock.bind(endpoint)
        self._thread: threading.Thread | None = None
        self._xtdata: SimXtData | None = None
        # market data (history can take a while to make) runs on its own thread, never on the
        # server loop, which must keep answering and heart-beating the traders
        self._md_jobs: queue.Queue = queue.Queue()
        self._md_thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="sim-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._md_jobs.put(None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """The server loop: requests in, replies and pushes out, heartbeats. Returns after `stop()`."""
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        next_beat = time.monotonic()
        try:
            while not self._stop.is_set():
                if dict(poller.poll(5)).get(self._sock):
                    while True:
                        try:
                            frames = self._sock.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self._handle(frames)
                self._drain()
                now = time.monotonic()
                if now >= next_beat:
                    next_beat = now + HEARTBEAT
                    self._heartbeat(now)
        finally:
            for sess in list(self._sessions.values()):
                self._drop_session(sess)
            self._sessions.clear()
            if self._xtdata is not None:
                self._xtdata.close()
            self._sock.close(0)

    def _drop_session(self, sess: _RemoteSession) -> None:
        self.exchange.detach(sess)
        if self._xtdata is not None:
            for seq in sess.quote_subs.values():
                self._xtdata.unsubscribe_quote(seq)
        sess.quote_subs.clear()

    # ------------------------------------------------------------ internals
    def _drain(self) -> None:
        while True:
            try:
                identity, msg = self.outbox.get_nowait()
            except queue.Empty:
                return
            try:
                self._sock.send_multipart([identity, pack(msg)], zmq.NOBLOCK)
            except zmq.ZMQError:
                log.debug("dropped a message to a gone client")

    def _heartbeat(self, now: float) -> None:
        clock = getattr(self.exchange, "clock", None)  # the virtual clock, which the hub republishes to runners
        self._clock = {"time": clock.timestamp(), "speed": clock.speed} if clock is not None else None
        for ident, sess in list(self._sessions.items()):
            if now - sess.last_seen > CLIENT_TIMEOUT:
                self._drop_session(sess)
                del self._sessions[ident]
                continue
            self.outbox.put((ident, {"event": "heartbeat", "data": {"clock": self._clock}}))
        self._drain()

    def _handle(self, frames: list[bytes]) -> None:
        """The one error boundary: a bad request gets an error reply, the loop carries on."""
        if len(frames) != 2:
            return
        identity, payload = frames
        try:
            req = unpack(payload)
            rid, method, params = req["id"], req["method"], req.get("params") or {}
        except Exception:
            log.warning("dropped a malformed request")
            return
        sess = self._sessions.get(identity)
        if sess is None:
            sess = self._sessions[identity] = _RemoteSession(self, identity)
        sess.last_seen = time.monotonic()
        if (method not in METHODS and method not in QUOTE_METHODS) or not isinstance(params, dict):
            self.outbox.put((identity, {"id": rid, "ok": False, "error": f"unknown method {method!r}"}))
            return
        if method in ATTACHED_ONLY and not self.exchange.is_attached(sess):
            self.outbox.put((identity, {"id": rid, "ok": False, "error": f"{method}: this connection is not "
                                        "attached to this simulator (it may have restarted); connect again"}))
            return
        try:
            if method == "ping":
                result: Any = True
            elif method == "market_data":
                self._queue_market_data(identity, rid, params)
                return
            elif method in QUOTE_METHODS:
                result = getattr(self, "_q_" + method)(sess, **params)
            else:
                fn = getattr(self.exchange, method)
                result = fn(sess, **params) if METHODS[method] else fn(**params)
            reply = {"id": rid, "ok": True, "result": result}
        except Exception as exc:  # noqa: BLE001 - becomes an error reply
            log.exception("sim request %s failed", method)
            reply = {"id": rid, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        self.outbox.put((identity, reply))

    # ------------------------------------------------------------ quotes (server thread)
    def _quotes(self) -> SimXtData:
        if self._xtdata is None:
            self._xtdata = SimXtData(self.exchange.folder, exchange=self.exchange)
        return self._xtdata

    def _q_quote_subscribe(self, sess: _RemoteSession, key: Any, kind: str, codes: list, period: str = "tick") -> int:
        """Subscribe under the client's `key` (again: replaces it). Returns our seq > 0 or -1."""
        xt = self._quotes()
        old = sess.quote_subs.pop(key, None)
        if old is not None:
            xt.unsubscribe_quote(old)
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            return -1
        outbox, ident = self.outbox, sess.identity

        def deliver(ticks: dict) -> None:  # SimXtData's thread: only enqueue
            outbox.put((ident, {"event": "ticks", "data": {"key": key, "ticks": ticks}}))

        if kind == "one":
            seq = xt.subscribe_quote(codes[0], period=period, callback=deliver)
        elif kind == "whole":
            seq = xt.subscribe_whole_quote(codes, callback=deliver)
        else:
            return -1
        if seq > 0:
            sess.quote_subs[key] = seq
        return seq

    def _q_quote_unsubscribe(self, sess: _RemoteSession, key: Any) -> bool:
        seq = sess.quote_subs.pop(key, None)
        if seq is not None and self._xtdata is not None:
            self._xtdata.unsubscribe_quote(seq)
        return seq is not None

    def _queue_market_data(self, identity: bytes, rid: Any, params: dict) -> None:
        self._quotes()  # records today's bars from here on
        if self._md_thread is None:
            self._md_thread = threading.Thread(target=self._market_data_worker, name="sim-server-md", daemon=True)
            self._md_thread.start()
        self._md_jobs.put((identity, rid, params))

    def _market_data_worker(self) -> None:
        """`SimXtData.market_data(kind, **params)` per request; the reply goes out via the outbox."""
        while True:
            job = self._md_jobs.get()
            if job is None:
                return
            identity, rid, params = job
            try:
                result = self._quotes().market_data(str(params.get("kind")), **dict(params.get("params") or {}))
                reply = {"id": rid, "ok": True, "result": result}
            except Exception as exc:  # noqa: BLE001 - becomes an error reply
                reply = {"id": rid, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            self.outbox.put((identity, reply))

    def _q_full_tick(self, sess: _RemoteSession, codes: list) -> dict:
        return self._quotes().get_full_tick(list(codes or []))

    def _q_quote_active(self, sess: _RemoteSession) -> dict:
        return self.exchange.active_subscriptions()
