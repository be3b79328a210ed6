"""A hub call over a bare DEALER, for tests that must see the wire as it is (no client library)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import zmq

from rpc_client.protocol import pack, request, unpack


def call_hub(rpc: str, method: str, params: dict[str, Any] | None = None, timeout: float = 2.0,
             curve: Any = None) -> dict[str, Any] | None:
    """One call to a hub with a plain DEALER (a CURVE client with `curve`, rpc_client.security.CurveKeys);
    the reply envelope, or None if no hub answered."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.ROUTING_ID, uuid.uuid4().bytes)
    if curve is not None:
        curve.apply(sock)
    try:
        sock.connect(rpc)
        req_id = uuid.uuid4().hex[:8]
        sock.send(pack(request(req_id, method, params)))
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(int(left * 1000)):
                return None
            reply = unpack(sock.recv())
            if isinstance(reply, dict) and reply.get("id") == req_id:
                return reply
    finally:
        sock.close(0)
