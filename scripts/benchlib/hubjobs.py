"""Jobs that talk to the hub, run in agent processes (and a few helpers used in the parent).

Two client flavours:

* ``lib``: the project's client library (``rpc_client.RpcGateway``), what strategies use;
* ``raw``: the wire protocol spoken directly (benchlib.rawhub), i.e. the hub's cost without
  the client library. Used for idle clients (many per process) and as an information figure.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections import deque
from typing import Any, Callable

import msgpack
import zmq

from rpc_client import protocol as P

from benchlib.rawhub import RawHubClient

_pack = msgpack.Packer(use_bin_type=True).pack


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


def _wait_until(t: float) -> None:
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


# --------------------------------------------------------------------------
# the client library, when it is there
# --------------------------------------------------------------------------

def library_status() -> str | None:
    """None when rpc_client.RpcGateway is importable, else why not."""
    try:
        from rpc_client import RpcGateway  # noqa: F401
    except Exception as exc:  # not written yet, or broken
        return f"rpc_client.RpcGateway unavailable: {exc.__class__.__name__}: {exc}"
    return None


def lib_connect(rpc: str, pub: str, strategy: str, role: str = P.Role.STRATEGY) -> Any:
    from rpc_client import RpcGateway

    gw = RpcGateway(rpc=rpc, pub=pub)
    gw.connect(strategy=strategy, role=role)
    return gw


def lib_close(gw: Any) -> None:
    for name in ("close", "disconnect", "stop"):
        fn = getattr(gw, name, None)
        if callable(fn):
            fn()
            return


def order_kwargs(code: str, price: float, volume: int = 100, order_type: int = 23,
                 price_type: int = 11) -> dict[str, Any]:
    return {"stock_code": code, "order_type": order_type, "order_volume": volume, "price_type": price_type,
            "price": price}


# --------------------------------------------------------------------------
# latency samplers (run in the parent: one call at a time)
# --------------------------------------------------------------------------

def sample(fn: Callable[[], Any], n: int, warm: int = 100) -> list[int]:
    clock = time.perf_counter_ns
    for _ in range(warm):
        fn()
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


# --------------------------------------------------------------------------
# pipelined order flood (throughput and the memory case)
# --------------------------------------------------------------------------

def _start_time(ctl: Any) -> float:
    start_at = ctl.command(120)
    if not isinstance(start_at, float):
        raise RuntimeError(f"expected a start time, got {start_at!r}")
    _wait_until(start_at)
    return start_at


def hub_throughput(ctl: Any, rpc: str, pub: str, strategy: str, window: int, duration: float, order: dict[str, Any], via: str = "lib", max_orders: int = 0) -> dict:
    """Keep `window` orders in flight for `duration` s (or until `max_orders`) from the start time
    the parent sends after "ready"; count acks (and errors) received in that time."""
    if via == "lib":
        gw = lib_connect(rpc, pub, strategy)
        try:
            gw.query_stock_asset()  # connection warm
            ctl.report("ready")
            start_at = _start_time(ctl)
            return _lib_flood(gw, window, start_at + duration, order, max_orders)
        finally:
            lib_close(gw)
    c = RawHubClient(rpc)
    try:
        c.hello(strategy)
        c.call("query_stock_asset")
        ctl.report("ready")
        start_at = _start_time(ctl)
        return _raw_flood(c, window, start_at + duration, order, max_orders)
    finally:
        c.close()


def _lib_flood(gw: Any, window: int, end_at: float, order: dict[str, Any], max_orders: int) -> dict:
    inflight: deque = deque()
    done = errors = sent = 0
    first_error = ""
    t0 = time.time()
    limit = max_orders or 1 << 62
    for _ in range(min(window, limit)):
        inflight.append(gw.order_stock_async(**order))
        sent += 1
    now = t0
    while inflight and now < end_at:
        f = inflight.popleft()
        try:
            f.result(30)
            done += 1
        except Exception as exc:  # a hub error reply
            errors += 1
            first_error = first_error or f"{exc}"
        if sent < limit:
            inflight.append(gw.order_stock_async(**order))
            sent += 1
        now = time.time()
    elapsed = now - t0
    for f in inflight:  # let the tail finish so the next case starts on an idle hub
        try:
            f.result(30)
        except Exception:
            pass
    return {"done": done, "errors": errors, "first_error": first_error, "elapsed": elapsed,
            "rate": done / elapsed if elapsed > 0 else 0.0}


def _raw_flood(c: RawHubClient, window: int, end_at: float, order: dict[str, Any], max_orders: int) -> dict:
    s = c.sock
    done = errors = sent = got = 0
    first_error = ""
    limit = max_orders or 1 << 62
    t0 = time.time()
    for _ in range(min(window, limit)):
        s.send(_pack(P.request(f"o{sent}", "order_stock", order)))
        sent += 1
    now = t0
    while got < sent and now < end_at:
        if not s.poll(30_000):
            raise TimeoutError("hub stopped answering orders")
        reply = _unpack(s.recv())
        if "id" not in reply:
            continue  # an account event the hub pushed to this session (its own orders, the account)
        got += 1
        if reply.get("ok"):
            done += 1
        else:
            errors += 1
            first_error = first_error or str((reply.get("error") or {}).get("code"))
        if sent < limit:
            s.send(_pack(P.request(f"o{sent}", "order_stock", order)))
            sent += 1
        now = time.time()
    elapsed = now - t0
    while got < sent:
        if not s.poll(30_000):
            break
        if "id" in _unpack(s.recv()):
            got += 1
    return {"done": done, "errors": errors, "first_error": first_error, "elapsed": elapsed,
            "rate": done / elapsed if elapsed > 0 else 0.0}


# --------------------------------------------------------------------------
# idle clients: many sessions in one process, each doing what an idle strategy does
# --------------------------------------------------------------------------

def idle_host(ctl: Any, rpc: str, pub: str, names: list[str], heartbeat: float = P.HEARTBEAT_INTERVAL,
              max_seconds: float = 600.0) -> dict:
    """Hold len(names) idle strategy sessions until the parent says "down" (then bye) or "stop".

    Each session is a DEALER (hello, then a ping every heartbeat interval, as the client
    library does; its account events are pushed to it there) and a SUB on the heartbeat. Commands:
    "up" connects all sessions (reports "up"), "down" says bye and closes them (reports "down"),
    "stop" ends the job.
    """
    zctx = zmq.Context()
    sessions: list[tuple[zmq.Socket, zmq.Socket]] = []
    events = pings = 0
    deadline = time.monotonic() + max_seconds

    def up() -> None:
        for name in names:
            d = zctx.socket(zmq.DEALER)
            d.setsockopt(zmq.LINGER, 0)
            d.setsockopt(zmq.ROUTING_ID, uuid.uuid4().bytes)
            sub = zctx.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.connect(pub)
            sub.setsockopt(zmq.SUBSCRIBE, P.Topic.HEARTBEAT.encode())  # account events come on the DEALER
            d.connect(rpc)
            d.send(_pack(P.request(0, "hello", {
                "protocol": P.PROTOCOL_VERSION, "strategy": name, "instance": uuid.uuid4().hex,
                "client": {"pid": os.getpid(), "host": socket.gethostname(), "version": "bench-idle"}})))
            sessions.append((d, sub))
        for d, _ in sessions:
            reply: dict = {}
            while "id" not in reply:  # skip account events pushed to the new session
                if not d.poll(15_000):
                    raise TimeoutError("hello not answered")
                reply = _unpack(d.recv())
            if not reply.get("ok"):
                raise RuntimeError(f"hello refused: {reply.get('error')}")

    def down() -> None:
        for d, _ in sessions:
            d.send(_pack(P.request(-1, "bye", {})))
        for d, sub in sessions:
            d.poll(2_000)
            d.close()
            sub.close()
        sessions.clear()

    ctl.report("ready")
    next_ping = time.monotonic() + heartbeat
    poller = zmq.Poller()
    try:
        while time.monotonic() < deadline:
            cmd = ctl.command(0.05 if not sessions else 0)
            if cmd == "up":
                up()
                poller = zmq.Poller()
                for d, sub in sessions:
                    poller.register(d, zmq.POLLIN)
                    poller.register(sub, zmq.POLLIN)
                next_ping = time.monotonic() + heartbeat
                ctl.report("up")
            elif cmd == "down":
                down()
                poller = zmq.Poller()
                ctl.report("down")
            elif cmd == "stop":
                break
            if not sessions:
                continue
            for sock, _ in poller.poll(50):
                while True:
                    try:
                        sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    events += 1
            now = time.monotonic()
            if now >= next_ping:
                for i, (d, _) in enumerate(sessions):
                    d.send(_pack(P.request(f"p{i}", "ping", {"stats": {"missed_ticks": 0}})))
                    pings += 1
                next_ping = now + heartbeat
    finally:
        if sessions:
            down()
        zctx.term()
    return {"events": events, "pings": pings}


def trickle_orders(ctl: Any, rpc: str, strategy: str, order: dict[str, Any], rate: float, start_at: float,
                   stop_at: float) -> dict:
    """Place orders at `rate`/s between start_at and stop_at (raw client): makes account events."""
    c = RawHubClient(rpc, timeout=60)
    try:
        c.hello(strategy)
        ctl.report("ready")
        _wait_until(start_at)
        n = errors = 0
        lat: list[int] = []
        next_t = time.time()
        while time.time() < stop_at:
            t0 = time.perf_counter_ns()
            try:
                c.call("order_stock", order)
                n += 1
                lat.append(time.perf_counter_ns() - t0)
            except P.HubError:
                errors += 1
            next_t += 1.0 / rate
            left = next_t - time.time()
            if left > 0:
                time.sleep(left)
        lat.sort()
        return {"orders": n, "errors": errors, "lat_ns": lat}
    finally:
        c.close()
