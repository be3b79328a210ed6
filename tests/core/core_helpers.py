"""Raw DEALER/SUB helpers for hub tests (the client library is written separately)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from typing import Any

import zmq

from rpc_client.protocol import event_of, pack, request, unpack
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)


class RawClient:
    """A plain DEALER (calls, and the account events the hub pushes to this session) + SUB (ticks,
    heartbeat) pair speaking the protocol by hand. `events` holds both kinds, each with `_topic`."""

    def __init__(self, rpc: str, pub: str | None = None, topics: tuple[str, ...] = ("",),
                 identity: bytes | None = None, keepalive: float | None = None):
        #: seconds between the pings `wait_event` sends while it waits (None: none), so that a
        #: watcher keeps its session (and so its pushed events) through a long wait
        self.keepalive = keepalive
        self._next_ping = 0.0
        self.ctx = zmq.Context.instance()
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        self.dealer.setsockopt(zmq.ROUTING_ID, identity or uuid.uuid4().bytes)
        self.dealer.connect(rpc)
        self.sub = None
        if pub is not None:
            self.sub = self.ctx.socket(zmq.SUB)
            self.sub.setsockopt(zmq.LINGER, 0)
            for t in topics:
                self.sub.setsockopt(zmq.SUBSCRIBE, t.encode())
            self.sub.connect(pub)
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []  # account events that came on the DEALER (all of them do)
        self._replies: deque[dict[str, Any]] = deque()

    def send_raw(self, *frames: bytes) -> None:
        self.dealer.send_multipart(list(frames))

    def _take_dealer(self) -> None:
        """Read what the DEALER holds: pushed events to `events`, replies to the reply queue."""
        while True:
            try:
                frames = self.dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            msg = unpack(frames[-1])
            ev = event_of(msg)
            if ev is None:
                self._replies.append(msg)
            else:
                ev["_topic"] = ev.get("topic", "")
                ev["_socket"] = "dealer"
                self.events.append(ev)
                self.pushed.append(ev)

    def recv_reply(self, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self._replies:
            left = deadline - time.monotonic()
            if left <= 0 or not self.dealer.poll(max(1, int(left * 1000))):
                raise TimeoutError("no reply from the hub")
            self._take_dealer()
        return self._replies.popleft()

    def call_raw(self, method: str, params: dict | None = None, timeout: float = 5.0) -> dict[str, Any]:
        req_id = next(self._ids)
        self.dealer.send(pack(request(req_id, method, params)))
        deadline = time.monotonic() + timeout
        while True:
            reply = self.recv_reply(max(0.01, deadline - time.monotonic()))
            if reply.get("id") == req_id:
                return reply

    def call(self, method: str, params: dict | None = None, timeout: float = 5.0) -> Any:
        reply = self.call_raw(method, params, timeout)
        assert reply["ok"], reply
        return reply["result"]

    def error(self, method: str, params: dict | None = None, timeout: float = 5.0) -> dict[str, Any]:
        reply = self.call_raw(method, params, timeout)
        assert not reply["ok"], reply
        return reply["error"]

    def hello(self, name: str, role: str = "strategy", **extra: Any) -> dict[str, Any]:
        return self.call("hello", {"protocol": 1, "strategy": name, "role": role, **extra})

    def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until the SUB receives something (heartbeat), i.e. the subscription is live."""
        self.wait_event(lambda t, p: True, timeout)

    def poll_events(self, timeout: float = 0.0) -> None:
        poller = zmq.Poller()
        poller.register(self.dealer, zmq.POLLIN)
        if self.sub is not None:
            poller.register(self.sub, zmq.POLLIN)
        while True:
            ready = dict(poller.poll(int(timeout * 1000)))
            if not ready:
                return
            if self.dealer in ready:
                self._take_dealer()
            if self.sub is not None and self.sub in ready:
                while True:
                    try:
                        topic, payload = self.sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    ev = unpack(payload)
                    ev["_topic"] = topic.decode()
                    ev["_socket"] = "sub"
                    self.events.append(ev)
            timeout = 0

    def wait_event(self, pred, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for ev in self.events[seen:]:
                if pred(ev["_topic"], ev):
                    return ev
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"event not seen; got topics {[e['_topic'] for e in self.events][-20:]}")
            if self.keepalive is not None and time.monotonic() >= self._next_ping:
                self._next_ping = time.monotonic() + self.keepalive
                self.dealer.send(pack(request("keepalive", "ping", {})))  # its reply is read and dropped
            self.poll_events(min(left, 0.1))

    def journaled(self, topic_prefix: str = "") -> list[dict[str, Any]]:
        self.poll_events()
        return [e for e in self.events if e.get("seq") is not None and e["_topic"].startswith(topic_prefix)]

    def close(self) -> None:
        self.dealer.close(0)
        if self.sub is not None:
            self.sub.close(0)




def exchange_of(server):
    """The simulated exchange behind a hub started with the sim broker."""
    import hub.sim

    return hub.sim.get_exchange(str(server.config.sim_dir))
