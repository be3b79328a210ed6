"""Commands from any thread to the client's socket thread: a queue and an inproc wake-up.

ZeroMQ sockets belong to one thread, so application threads never touch them: they `put` a
command here, which also wakes the socket thread's poll through an inproc PUSH/PULL pair (the
PULL is in its poller). Once `close` has run no command is accepted any more (`put` says so and
the caller fails it), and the commands that raced with the close are handed back to be failed:
none is ever left waiting.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import zmq


class Inbox:
    def __init__(self, ctx: zmq.Context, name: str):
        self._cmds: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        addr = f"inproc://rpc-client-wake-{name}"
        #: the socket the socket thread polls for wake-ups
        self.pull = ctx.socket(zmq.PULL)
        self.pull.bind(addr)
        self._push = ctx.socket(zmq.PUSH)
        self._push.setsockopt(zmq.LINGER, 0)
        self._push.connect(addr)

    def put(self, cmd: Any) -> bool:
        """Any thread: queue a command and wake the socket thread. False once closed (not queued)."""
        with self._lock:
            if self._closed:
                return False
            self._cmds.put(cmd)
            try:
                self._push.send(b"", zmq.NOBLOCK)
            except zmq.ZMQError:
                pass  # a wake-up is already waiting: the command is seen with it
            return True

    def take(self, woken: bool) -> list[Any]:
        """Socket thread: the queued commands, oldest first (`woken`: the poll saw the PULL ready)."""
        if woken:
            while True:
                try:
                    self.pull.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
        out = []
        while True:
            try:
                out.append(self._cmds.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> list[Any]:
        """Socket thread, at the end: accept nothing more; returns the commands never taken."""
        with self._lock:
            self._closed = True
            left = self.take(False)
            self.pull.close(0)
            self._push.close(0)
        return left


__all__ = ["Inbox"]
