"""A minimal client of the hub speaking the wire protocol directly (no client library).

Used for: idle clients (many per process, cheap), the hub's own floor-free cost
(hub measured without the client library), and status/RSS probes.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import uuid
from typing import Any

import msgpack
import zmq

from rpc_client import protocol as P

_pack = msgpack.Packer(use_bin_type=True).pack


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


class RawHubClient:
    """One DEALER, one call at a time (or pipelined with send/recv)."""

    def __init__(self, rpc: str, zctx: zmq.Context | None = None, timeout: float = 10.0):
        self._own = zctx is None
        self.zctx = zctx or zmq.Context()
        self.sock = self.zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.ROUTING_ID, uuid.uuid4().bytes)
        self.sock.connect(rpc)
        self.timeout_ms = int(timeout * 1000)
        self._ids = itertools.count(1)
        self.session: dict[str, Any] | None = None
        self._hello: dict[str, Any] | None = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._call(method, params)
        except P.HubError as exc:
            # This client sends no pings, so a hub drops its session after client_dead_after of
            # silence: say hello again (same name, fresh instance) and retry once.
            if exc.code != P.ErrorCode.NO_SESSION or self._hello is None or method == "hello":
                raise
            self.session = self._call("hello", dict(self._hello, instance=uuid.uuid4().hex))
            return self._call(method, params)

    def _call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        rid = next(self._ids)
        self.sock.send(_pack(P.request(rid, method, params or {})))
        while True:
            if not self.sock.poll(self.timeout_ms):
                raise P.HubError(P.ErrorCode.TIMEOUT, f"{method}: no reply")
            reply = _unpack(self.sock.recv())
            if reply.get("id") == rid:
                break
        if not reply.get("ok"):
            raise P.HubError.from_wire(reply.get("error") or {})
        return reply.get("result")

    def hello(self, strategy: str, role: str = P.Role.STRATEGY, **extra: Any) -> dict[str, Any]:
        params = {"protocol": P.PROTOCOL_VERSION, "strategy": strategy, "role": role,
                  "instance": uuid.uuid4().hex,
                  "client": {"pid": os.getpid(), "host": socket.gethostname(), "version": "bench"}}
        params.update(extra)
        self.session = self._call("hello", params)
        self._hello = params
        return self.session

    def close(self, bye: bool = True) -> None:
        if bye and self.session is not None:
            try:
                self.call("bye")
            except Exception:
                pass
        self.sock.close()
        if self._own:
            self.zctx.term()


def status(rpc: str, timeout: float = 3.0) -> dict[str, Any]:
    c = RawHubClient(rpc, timeout=timeout)
    try:
        return c.call("status")
    finally:
        c.close(bye=False)


def wait_ready(rpc: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return status(rpc, timeout=1.0)
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"hub at {rpc} did not answer status within {timeout:.0f}s ({last})")
