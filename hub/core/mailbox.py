"""The mailbox: how broker and quote-source threads hand work to the hub's loop thread.

Producers (any thread) `put(kind, payload)`: the item goes on a queue.Queue and a
one-byte wake-up goes over an inproc PUSH socket to the loop's PULL socket, which
sits in the loop's poller. The PUSH socket is shared under a lock (a lock is the full
memory barrier ZeroMQ asks for when a socket is used from several threads), so no
producer ever touches another socket and the loop never busy-waits.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import zmq


class Mailbox:
    def __init__(self, ctx: zmq.Context, name: str):
        self.endpoint = f"inproc://hub-mailbox-{name}"
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.pull = ctx.socket(zmq.PULL)
        self.pull.setsockopt(zmq.LINGER, 0)
        self.pull.bind(self.endpoint)
        self._push = ctx.socket(zmq.PUSH)
        self._push.setsockopt(zmq.LINGER, 0)
        self._push.setsockopt(zmq.SNDHWM, 1000)
        self._push.connect(self.endpoint)
        self._lock = threading.Lock()
        self._closed = False

    def put(self, kind: str, payload: Any = None) -> None:
        """Thread-safe: queue an item for the loop and wake it."""
        self._queue.put((kind, payload))
        with self._lock:
            if self._closed:
                return
            try:
                self._push.send(b"", zmq.NOBLOCK)
            except zmq.ZMQError:  # HWM reached: the loop is already awake and will drain the queue
                pass

    def drain(self, limit: int = 10000) -> list[tuple[str, Any]]:
        """Loop thread: clear wake-ups and take queued items."""
        while True:
            try:
                self.pull.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
        items = []
        for _ in range(limit):
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def pending(self) -> bool:
        return not self._queue.empty()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._push.close(0)
        self.pull.close(0)
