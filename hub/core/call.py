"""The few names every part of the hub core shares: a call being answered, the "reply later"
marker, and the start-up error.

A leaf module (it imports nothing from `hub`, only the protocol): the loop (`server`), the
handlers (`methods`), the order path and the state owners import it, so none of them needs to
import the loop. `call_body` is here beside `Call` because it fills `Call.envelope`.
"""

from __future__ import annotations

import time
from typing import Any

from rpc_client.protocol import ErrorCode, HubError


class HubStartError(RuntimeError):
    """The hub could not start; the message is meant for the user."""


#: A handler returns this when its reply will be sent later (orders and cancels wait for the
#: broker's async response); the loop then sends nothing for the call now.
DEFERRED: Any = object()


class Call:
    """One request being answered: who asked, with which id, and when.

    `envelope` holds the frames a REQ socket (or a proxy) put before the payload, ending in the
    empty delimiter; the reply carries them back so a plain REQ client gets its answer.
    """

    __slots__ = ("identity", "req_id", "session", "t0", "method", "envelope")

    def __init__(self, identity: bytes, req_id: Any, session: Any, method: str = ""):
        self.identity = identity
        self.req_id = req_id
        self.session = session  # hub.core.sessions.Session or None (no hello yet)
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
