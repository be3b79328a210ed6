"""The mailbox: how broker and quote-source threads hand work to the hub's loop thread.

Producers (any thread) `put(kind, payload)`: the item goes on a deque and, unless a wake-up
is already on its way, a one-byte wake-up goes over an inproc PUSH socket to the loop's PULL
socket, which sits in the loop's poller. The PUSH socket is shared under a lock (a lock is
the full memory barrier ZeroMQ asks for when a socket is used from several threads), so no
producer ever touches another socket and the loop never busy-waits.

At most one wake-up is outstanding: `drain` takes it first, then re-arms, then takes the
items, so an item put at any moment is either taken by this drain or announced by a fresh
wake-up. Nothing on either side raises in the normal course (no `zmq.Again`, no
`queue.Empty`).

Ticks do not come through here: the quote source's callbacks fill the hub's `TickStore`
(latest tick per code, hub/core/quotes.py) and only call `wake`, so a tick flood never puts
anything in front of a broker or account event in this FIFO.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import zmq

_EVENTS, _POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)


class Mailbox:
    def __init__(self, ctx: zmq.Context, name: str):
        self.endpoint = f"inproc://hub-mailbox-{name}"
        self._queue: deque[tuple[str, Any]] = deque()
        self.pull = ctx.socket(zmq.PULL)
        self.pull.setsockopt(zmq.LINGER, 0)
        self.pull.bind(self.endpoint)
        self._push = ctx.socket(zmq.PUSH)
        self._push.setsockopt(zmq.LINGER, 0)
        self._push.setsockopt(zmq.SNDHWM, 1000)
        self._push.connect(self.endpoint)
        self._lock = threading.Lock()
        self._armed = True  # no wake-up outstanding: the next put sends one
        self._closed = False

    def put(self, kind: str, payload: Any = None) -> None:
        """Thread-safe: queue an item for the loop and wake it."""
        self._queue.append((kind, payload))
        self.wake()

    def wake(self) -> None:
        """Thread-safe: wake the loop without queuing an item (the tick store keeps its own; the
        loop looks at it after every drain, so the same one-outstanding rule covers it)."""
        with self._lock:
            if self._closed or not self._armed:
                return
            self._armed = False
            try:
                self._push.send(b"", zmq.NOBLOCK)
            except zmq.ZMQError:  # cannot happen with one wake-up in flight; never block a producer
                self._armed = True

    def drain(self, limit: int = 10000) -> list[tuple[str, Any]]:
        """Loop thread: take the wake-up, re-arm, then take up to `limit` queued items."""
        pull = self.pull
        while pull.getsockopt(_EVENTS) & _POLLIN:
            pull.recv(zmq.NOBLOCK)
        with self._lock:
            self._armed = True
        q = self._queue
        n = min(len(q), limit)
        popleft = q.popleft
        return [popleft() for _ in range(n)]

    def pending(self) -> bool:
        return bool(self._queue)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._push.close(0)
        self.pull.close(0)
