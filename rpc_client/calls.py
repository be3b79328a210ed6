"""The client's call table: pending calls by request id, deadlines, retries, what survives a reconnect.

A call is sent under a fresh request id each attempt; every id it went out under stays mapped
until the call ends, so a late reply to an earlier attempt is accepted too (Lazy Pirate). A call
that waits for a connection sits in `waiting`. `due(now)` says which calls to send again and which
have run out of time; `on_reconnect()` says which in-flight calls may go out again on the new
connection (the method's `resendable` flag in `rpc_client.protocol.METHODS`) and which must fail
because their outcome is unknown. No sockets here: the transport sends and resolves.

Not thread-safe: the transport's socket thread is its only user.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from rpc_client import protocol as P
from rpc_client.protocol import HubError


def resendable(method: str) -> bool:
    """Safe to send again after the connection it went out on was lost (the protocol table says)."""
    spec = P.METHODS.get(method)
    return True if spec is None else spec.resendable


@dataclass(eq=False)
class PendingCall:
    """One call: a user's (`future`) or the transport's own (`handler(ok, result | HubError)`)."""

    method: str
    params: dict
    timeout: float
    deadline: float
    future: Future | None = None  # user call
    handler: Callable[[bool, Any], None] | None = None  # internal call
    retries: int = 0
    attempts: int = 0
    ids: list = field(default_factory=list)
    conn: int = -1  # connection generation it was last sent on; -1: not sent
    needs_session: bool = True
    keep: bool = False  # internal call resent after a reconnect (quote changes)
    done: bool = False

    @classmethod
    def make(cls, method: str, params: dict, timeout: float, **kw: Any) -> "PendingCall":
        return cls(method, params, timeout, time.monotonic() + timeout, **kw)

    @property
    def internal(self) -> bool:
        """The transport's bookkeeping (hello, ping, replay), redone after a reconnect, never resent."""
        return self.handler is not None and not self.keep


class CallTable:
    """Pending calls by request id, plus the queue of calls waiting for a connection."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_id: dict[Any, PendingCall] = {}
        self.waiting: deque[PendingCall] = deque()

    def __len__(self) -> int:
        return len(self._by_id)

    def next_id(self) -> int:
        """A fresh request id (ids are never reused by one client)."""
        return next(self._ids)

    def sent(self, call: PendingCall, req_id: int, conn: int) -> None:
        """`call` went out under `req_id` on connection `conn` (its older ids stay mapped)."""
        call.attempts += 1
        call.ids.append(req_id)
        call.conn = conn
        self._by_id[req_id] = call

    def get(self, req_id: Any) -> PendingCall | None:
        """The call a reply belongs to (any of its attempts), or None: a late or unknown reply."""
        if isinstance(req_id, bool):
            return None
        try:
            return self._by_id.get(req_id)
        except TypeError:  # an unhashable id from a broken peer
            return None

    def forget(self, call: PendingCall) -> None:
        for i in call.ids:
            self._by_id.pop(i, None)

    def in_flight(self) -> list[PendingCall]:
        """Each sent, unfinished call once."""
        return list({id(c): c for c in self._by_id.values()}.values())

    def everything(self) -> list[PendingCall]:
        return self.in_flight() + list(self.waiting)

    # ---- time ----------------------------------------------------------------------------
    def due(self, now: float) -> tuple[list[PendingCall], list[PendingCall]]:
        """(calls to send again now, calls that ran out of time) at `now`.

        A user call with retries left gets a new deadline; it is sent again unless it is still
        waiting for a connection. A call out of time and retries leaves the waiting queue.
        """
        resend, expired = [], []
        for call in self.everything():
            if call.done or now < call.deadline:
                continue
            if call.retries > 0 and call.handler is None:
                call.retries -= 1
                call.deadline = now + call.timeout
                if call not in self.waiting:
                    resend.append(call)
                continue
            if call in self.waiting:
                self.waiting.remove(call)
            expired.append(call)
        return resend, expired

    # ---- connections ---------------------------------------------------------------------
    def on_reconnect(self) -> list[PendingCall]:
        """The connection was replaced: every in-flight call is forgotten; resendable user calls go
        to the front of the waiting queue (in their order); the transport's own are dropped (redone
        after the new hello). Returns the calls that must fail: their outcome is unknown."""
        resend, failed = [], []
        for call in self.in_flight():
            self.forget(call)
            if call.internal:
                continue
            if resendable(call.method):
                call.conn = -1
                resend.append(call)
            else:
                failed.append(call)
        self.waiting.extendleft(reversed(resend))
        return failed

    def take_waiting(self) -> list[PendingCall]:
        """The waiting calls, oldest first, removed from the queue."""
        out = list(self.waiting)
        self.waiting.clear()
        return out

    def clear(self) -> list[PendingCall]:
        """Everything pending, removed (for shutdown)."""
        out = self.everything()
        self._by_id.clear()
        self.waiting.clear()
        return out

    # ---- resolving -----------------------------------------------------------------------
    def fail(self, call: PendingCall, err: HubError) -> None:
        if call.done:
            return
        call.done = True
        self.forget(call)
        if call.handler is not None:
            call.handler(False, err)
        elif call.future is not None and not call.future.done():
            call.future.set_exception(err)

    def succeed(self, call: PendingCall, result: Any) -> None:
        if call.done:
            return
        call.done = True
        self.forget(call)
        if call.handler is not None:
            call.handler(True, result)
        elif call.future is not None and not call.future.done():
            call.future.set_result(result)


__all__ = ["CallTable", "PendingCall", "resendable"]
