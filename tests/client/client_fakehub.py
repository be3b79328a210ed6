"""A small scripted hub for client tests: ROUTER + PUB in a thread, answering per docs/protocol.md.

As the real hub does, it pushes journaled events over the ROUTER to each session entitled to
them (`protocol.visible_to`), and puts only ticks and the public heartbeat on the PUB.

It keeps a journal (which survives ``restart()``, as the real hub's SQLite does) and can be
told to drop events on the wire, go silent, restart with a new hub_id, delay replies,
swallow the first N order_stock requests, or forget every session.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import Any

import zmq

from rpc_client import protocol as P
from rpc_client.protocol import ErrorCode, HubError


class FakeHub:
    def __init__(self, rpc: str, pub: str, account_id: str = "1000000365", heartbeat: float = 0.2):
        self.rpc, self.pub = rpc, pub
        self.account_id = account_id
        self.heartbeat = heartbeat
        self.hub_id = uuid.uuid4().hex[:12]
        self.journal: list[dict] = []
        self.seq = 0
        self.heads: dict[str, int] = {}
        self.sessions: dict[bytes, dict] = {}
        self.requests: list[tuple[str, dict]] = []
        self.orders: dict[tuple[str, str], dict] = {}  # (strategy, client_order_id) -> result
        self.broker_orders = 0
        self.next_order_id = 1000
        self.quotes: dict[str, set] = {}
        # knobs
        self.silent = False
        self.reply_delay = 0.0
        self.swallow_orders = 0  # do not answer this many order_stock requests (they still place the order)
        self.replay_limit = 1000
        self.order_error: tuple[str, str] | None = None  # (code, message) answer to order_stock
        self._cmds: queue.SimpleQueue = queue.SimpleQueue()
        self._delayed: list[tuple[float, bytes, bytes]] = []
        self._ctx = zmq.Context()
        self._stop = threading.Event()
        self._bound = threading.Event()
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- control
    def start(self) -> "FakeHub":
        self._stop.clear()
        self._bound.clear()
        self._thread = threading.Thread(target=self._run, name="fake-hub", daemon=True)
        self._thread.start()
        assert self._bound.wait(5), "fake hub failed to bind"
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self._ctx.term()

    def restart(self, new_hub_id: bool = True, down_for: float = 0.0) -> None:
        """Stop, forget sessions (and optionally the hub_id), start again: the journal stays."""
        self.stop()
        self.sessions.clear()
        if new_hub_id:
            self.hub_id = uuid.uuid4().hex[:12]
        if down_for:
            time.sleep(down_for)
        self.start()

    def do(self, fn, *args) -> Any:
        """Run fn on the hub thread and wait for its result."""
        done: queue.Queue = queue.Queue()
        self._cmds.put((fn, args, done))
        return done.get(timeout=5)

    def publish(self, topic: str, data: dict, drop: bool = False, **extra: Any) -> dict:
        """Journal an event and publish it (unless drop: then it is lost on the wire)."""
        return self.do(self._publish, topic, data, drop, extra)

    def resend(self, payload: dict) -> None:
        """Publish a journaled event again (a duplicate on the wire)."""
        self.do(self._send_event, payload["topic"], payload)

    def tick(self, code: str, tseq: int, data: dict | None = None) -> None:
        self.do(self._tick, code, tseq, data or {"lastPrice": 10.0})

    def batch(self, market: str, ticks: dict[str, tuple[int, dict]]) -> None:
        """A `ticks.<market>` frame, as the hub sends a whole market: {code: (tseq, tick)}."""
        self.do(self._batch, market, ticks)

    def methods(self, name: str) -> list[dict]:
        return [p for m, p in list(self.requests) if m == name]

    # -------------------------------------------------------------- thread
    def _run(self) -> None:
        router = self._ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.LINGER, 0)
        pubs = self._ctx.socket(zmq.PUB)
        pubs.setsockopt(zmq.LINGER, 0)
        for attempt in range(50):  # a restart may find the port still held for a moment
            try:
                router.bind(self.rpc)
                break
            except zmq.ZMQError:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        for attempt in range(50):
            try:
                pubs.bind(self.pub)
                break
            except zmq.ZMQError:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        self._router, self._pubs = router, pubs
        self._bound.set()
        next_hb = 0.0
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        try:
            while not self._stop.is_set():
                socks = dict(poller.poll(10))
                while True:
                    try:
                        fn, args, done = self._cmds.get_nowait()
                    except queue.Empty:
                        break
                    done.put(fn(*args))
                if router in socks:
                    while True:
                        try:
                            frames = router.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self._handle(frames[0], frames[-1])
                now = time.monotonic()
                for item in [d for d in self._delayed if d[0] <= now]:
                    self._delayed.remove(item)
                    if not self.silent:
                        router.send_multipart([item[1], item[2]])
                if now >= next_hb and not self.silent:
                    next_hb = now + self.heartbeat
                    self._send_event(P.Topic.HEARTBEAT, P.event(None, self.hub_id, time.time(), P.Topic.HEARTBEAT, {
                        "last_seq": self.seq, "broker": "up", "halted": False,
                        "uptime": 1.0, "clients": len(self.sessions)}))
        finally:
            router.close(0)
            pubs.close(0)

    def _send_event(self, topic: str, payload: dict) -> None:
        if payload.get("seq") is None:  # ticks, heartbeat: public
            self._pubs.send_multipart([topic.encode(), P.pack(payload)])
            return
        frame = P.pack(P.event_message(payload))
        for ident, s in list(self.sessions.items()):
            if P.visible_to(topic, s["role"], s["strategy"]) and s.get("events", True):
                self._router.send_multipart([ident, frame])

    def _publish(self, topic: str, data: dict, drop: bool, extra: dict) -> dict:
        stream = P.stream_of(topic)
        self.seq += 1
        self.heads[stream] = self.heads.get(stream, 0) + 1
        payload = P.event(self.seq, self.hub_id, time.time(), topic, data, stream=stream,
                          sseq=self.heads[stream], **extra)
        self.journal.append(payload)
        if not drop and not self.silent:
            self._send_event(topic, payload)
        return payload

    def _tick(self, code: str, tseq: int, data: dict) -> None:
        topic = P.tick_topic(code)
        self._send_event(topic, P.event(None, self.hub_id, time.time(), topic, data, code=code, tseq=tseq))

    def _batch(self, market: str, ticks: dict[str, tuple[int, dict]]) -> None:
        payload = P.batch_event(self.hub_id, time.time(), market, {c: t for c, (_, t) in ticks.items()},
                                {c: n for c, (n, _) in ticks.items()})
        self._send_event(P.ticks_topic(market), payload)

    # -------------------------------------------------------------- calls
    def _handle(self, ident: bytes, body: bytes) -> None:
        if self.silent:
            return
        try:
            msg = P.unpack(body)
            req_id, method, params = msg["id"], msg["method"], msg.get("params") or {}
        except Exception:
            self._reply(ident, P.error(None, ErrorCode.BAD_FRAME, "bad frame"))
            return
        self.requests.append((method, params))
        try:
            spec = P.METHODS.get(method)
            if spec is None:
                raise HubError(ErrorCode.UNKNOWN_METHOD, f"no such method {method}")
            params = spec.validate(params)
            session = self.sessions.get(ident)
            if spec.needs_session and session is None and method != "hello":
                raise HubError(ErrorCode.NO_SESSION, "call hello first")
            result = getattr(self, "_m_" + method)(ident, session, params)
        except HubError as exc:
            self._reply(ident, P.error(req_id, exc.code, exc.message, exc.data))
            return
        if result is _NO_REPLY:
            return
        self._reply(ident, P.ok(req_id, result))

    def _reply(self, ident: bytes, msg: dict) -> None:
        if self.reply_delay:
            self._delayed.append((time.monotonic() + self.reply_delay, ident, P.pack(msg)))
        else:
            self._router.send_multipart([ident, P.pack(msg)])

    def _m_hello(self, ident, session, p):
        for other_ident, s in list(self.sessions.items()):
            if s["strategy"] == p["strategy"] and other_ident != ident:
                if p["instance"] and s["instance"] == p["instance"]:
                    del self.sessions[other_ident]  # takeover of its own session
                else:
                    raise HubError(ErrorCode.NAME_TAKEN, f"{p['strategy']} is connected")
        self.sessions[ident] = {"strategy": p["strategy"], "role": p["role"], "instance": p["instance"],
                                "cancel_on_disconnect": p["cancel_on_disconnect"], "events": p["events"]}
        return {"hub_id": self.hub_id, "session": uuid.uuid4().hex[:8], "account_id": self.account_id,
                "role": p["role"], "strategy": p["strategy"], "last_seq": self.seq, "heads": dict(self.heads),
                "broker": "up", "heartbeat_interval": self.heartbeat, "client_dead_after": 10.0,
                "max_message_size": P.MAX_MESSAGE_SIZE, "server_time": time.time()}

    def _m_bye(self, ident, session, p):
        self.sessions.pop(ident, None)
        return {}

    def _m_ping(self, ident, session, p):
        # every journaled event was handed to the sockets when it was published (or dropped on the
        # wire): the heads of the caller's streams are the journal's
        streams = P.streams_for(session["role"], session["strategy"]) if session else []
        heads = dict(self.heads) if streams is None else {s: self.heads.get(s, 0) for s in streams}
        return {"server_time": time.time(), "hub_id": self.hub_id, "session": session is not None,
                "last_seq": self.seq, "heads": heads}

    def _m_status(self, ident, session, p):
        return {"hub_id": self.hub_id, "account_id": self.account_id, "last_seq": self.seq, "clients": 1}

    def _m_order_stock(self, ident, session, p):
        if self.order_error:
            raise HubError(*self.order_error)
        key = (session["strategy"], p["client_order_id"] or uuid.uuid4().hex)
        if key in self.orders:
            result = {**self.orders[key], "duplicate": True}
        else:
            self.next_order_id += 1
            self.broker_orders += 1
            result = {"order_id": self.next_order_id, "client_order_id": key[1], "duplicate": False}
            self.orders[key] = result
        if self.swallow_orders > 0:
            self.swallow_orders -= 1
            return _NO_REPLY
        return result

    def _m_cancel_order_stock(self, ident, session, p):
        return {"cancel_result": 0}

    def _m_cancel_order_stock_sysid(self, ident, session, p):
        return {"cancel_result": 0}

    def _m_query_stock_asset(self, ident, session, p):
        return {"account_type": 2, "account_id": self.account_id, "cash": 1e6, "frozen_cash": 0.0,
                "market_value": 0.0, "total_asset": 1e6, "fetch_balance": 1e6}

    def _order(self, oid):
        return {"account_id": self.account_id, "stock_code": "600000.SH", "order_id": oid, "order_sysid": str(oid),
                "order_volume": 100, "price": 10.5, "order_status": 50, "order_type": 23}

    def _m_query_stock_order(self, ident, session, p):
        if p["order_id"] == 404:
            raise HubError(ErrorCode.UNKNOWN_ORDER, "no order 404 today")
        return self._order(p["order_id"])

    def _m_query_stock_orders(self, ident, session, p):
        return [self._order(r["order_id"]) for (s, _), r in self.orders.items() if s == session["strategy"]]

    def _m_query_stock_trades(self, ident, session, p):
        return []

    def _m_query_stock_positions(self, ident, session, p):
        return [{"account_id": self.account_id, "stock_code": "600000.SH", "volume": 200, "can_use_volume": 100}]

    def _m_query_stock_position(self, ident, session, p):
        if p["stock_code"] != "600000.SH":
            return None
        return self._m_query_stock_positions(ident, session, p)[0]

    def _m_query_account_status(self, ident, session, p):
        return [{"account_type": 2, "account_id": self.account_id, "status": 0}]

    def _m_query_account_infos(self, ident, session, p):
        return [{"account_type": 2, "account_id": self.account_id, "login_status": 0}]

    def _m_subscribe_quote(self, ident, session, p):
        self.quotes.setdefault(session["strategy"], set()).update(p["codes"])
        return {"codes": p["codes"]}

    _m_subscribe_whole_quote = _m_subscribe_quote

    def _m_unsubscribe_quote(self, ident, session, p):
        self.quotes.setdefault(session["strategy"], set()).difference_update(p["codes"])
        return {"codes": p["codes"]}

    def _m_get_full_tick(self, ident, session, p):
        return {c: {"lastPrice": 10.0, "time": 0} for c in p["codes"]}

    def _m_replay(self, ident, session, p):
        role, strategy = session["role"], session["strategy"]
        if p["stream"] is None:
            evs = [e for e in self.journal if e["seq"] > p["after"] and P.visible_to(e["topic"], role, strategy)]
            head = self.seq
        else:
            if role == P.Role.STRATEGY and p["stream"] not in (strategy, P.ACCOUNT_STREAM):
                raise HubError(ErrorCode.FORBIDDEN, "not your stream")
            evs = [e for e in self.journal if e["stream"] == p["stream"] and e["sseq"] > p["after"]]
            head = self.heads.get(p["stream"], 0)
        limit = min(p["limit"], self.replay_limit)
        return {"events": evs[:limit], "head": head, "more": len(evs) > limit}

    def _m_clients(self, ident, session, p):
        return [dict(s) for s in self.sessions.values()]

    def _m_halt(self, ident, session, p):
        return {"halted": True, "cancelled": []}

    def _m_resume(self, ident, session, p):
        return {"halted": False}

    def _m_cancel_all(self, ident, session, p):
        return {"cancelled": []}


_NO_REPLY = object()
