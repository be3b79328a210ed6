"""The raw pyzmq floors: what ZeroMQ + msgpack cost with no hub logic at all.

* ``echo_server``: ROUTER that answers each request map with ``ok(id, params)``
  (or with a fixed result of the same size as a hub reply: ``canned``), packing
  every reply, as the hub must.
* ``echo_server`` with ``threaded=True``: the same, but each request is handed to a
  second thread and the reply handed back to the socket thread (the mechanics the
  hub's order path has, since the broker answers on its own thread).
* ``raw_latency``: DEALER client, one call at a time, round-trip samples.
* ``raw_throughput``: DEALER client with several calls in flight.
* ``raw_pub`` / ``tick_sub``: PUB/SUB of tick events in the hub's event format.

The client side speaks the hub's envelope (``protocol.request`` / ``protocol.ok``)
so floor and hub move the same bytes.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import msgpack
import zmq

from rpc_client import protocol as P

# Messages of the floor: the same request map a strategy sends for an order.
ORDER_PARAMS = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11,
                "price": 10.0, "order_remark": "bench", "client_order_id": "bench-000000000"}

_pack = msgpack.Packer(use_bin_type=True).pack


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


def warmup(ctl: Any) -> str:
    """Imports done; nothing else (first job of every agent)."""
    import psutil  # noqa: F401

    from benchlib import hubjobs  # noqa: F401
    return "ok"


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------

def echo_server(ctl: Any, endpoint: str, threaded: bool = False, canned: dict[str, Any] | None = None) -> dict:
    """Serve until the parent sends "stop". `canned`: {method: result} answered instead of echoing."""
    canned = canned or {}
    zctx = zmq.Context()
    router = zctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    router.bind(endpoint)
    served = 0
    if not threaded:
        ctl.report("ready")
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        while True:
            if not poller.poll(200):
                if ctl.command(0) == "stop" or not ctl.parent_alive():
                    break
                continue
            while True:
                try:
                    ident, body = router.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                msg = _unpack(body)
                method = msg.get("method")
                result = canned[method] if method in canned else msg.get("params")
                router.send_multipart([ident, _pack(P.ok(msg.get("id"), result))])
                served += 1
    else:
        # Socket thread <-> worker thread, as a hub hands an order to the broker's thread and
        # gets the answer back: a queue each way plus an inproc wake-up to the socket thread.
        # (The hub's hub/core/mailbox.py: queue.Queue + a PUSH wake-up shared under a lock.)
        to_worker: "queue.Queue[Any]" = queue.Queue()
        back: "queue.Queue[Any]" = queue.Queue()
        wake_addr = f"inproc://wake-{id(back)}"
        wake_rx = zctx.socket(zmq.PULL)
        wake_rx.setsockopt(zmq.LINGER, 0)
        wake_rx.bind(wake_addr)
        wake_tx = zctx.socket(zmq.PUSH)
        wake_tx.setsockopt(zmq.LINGER, 0)
        wake_tx.setsockopt(zmq.SNDHWM, 1000)
        wake_tx.connect(wake_addr)
        wake_lock = threading.Lock()

        def worker() -> None:
            while True:
                item = to_worker.get()
                if item is None:
                    break
                ident, msg = item
                method = msg.get("method")
                result = canned[method] if method in canned else msg.get("params")
                back.put((ident, msg.get("id"), result))
                with wake_lock:
                    try:
                        wake_tx.send(b"", zmq.NOBLOCK)
                    except zmq.ZMQError:
                        pass

        th = threading.Thread(target=worker, name="echo-worker", daemon=True)
        th.start()
        ctl.report("ready")
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(wake_rx, zmq.POLLIN)
        while True:
            events = dict(poller.poll(200))
            if not events:
                if ctl.command(0) == "stop" or not ctl.parent_alive():
                    break
                continue
            if router in events:
                while True:
                    try:
                        ident, body = router.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    to_worker.put((ident, _unpack(body)))
            if wake_rx in events:
                while True:
                    try:
                        wake_rx.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                while True:
                    try:
                        ident, rid, result = back.get_nowait()
                    except queue.Empty:
                        break
                    router.send_multipart([ident, _pack(P.ok(rid, result))])
                    served += 1
        to_worker.put(None)
        th.join(2)
        wake_tx.close()
        wake_rx.close()
    router.close()
    zctx.term()
    return {"served": served}


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

def raw_latency(endpoint: str, n: int, method: str = "echo", params: dict[str, Any] | None = None,
                warm: int = 200, zctx: zmq.Context | None = None) -> list[int]:
    """`n` sequential round trips (after `warm` unmeasured ones); samples in ns."""
    params = ORDER_PARAMS if params is None else params
    own = zctx is None
    zctx = zctx or zmq.Context()
    s = zctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    samples: list[int] = []
    clock = time.perf_counter_ns
    try:
        for i in range(warm + n):
            t0 = clock()
            s.send(_pack(P.request(i, method, params)))
            if not s.poll(10_000):
                raise TimeoutError(f"no reply from {endpoint}")
            reply = _unpack(s.recv())
            t1 = clock()
            if reply.get("id") != i:
                raise RuntimeError(f"out-of-order reply {reply.get('id')} for {i}")
            if i >= warm:
                samples.append(t1 - t0)
    finally:
        s.close()
        if own:
            zctx.term()
    return samples


def _wait_until(t: float) -> None:
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


def raw_throughput(ctl: Any, endpoint: str, window: int, duration: float) -> dict:
    """Keep `window` calls in flight for `duration` s from the start time the parent sends
    after "ready"; count replies in that window."""
    zctx = zmq.Context()
    s = zctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    # one call to be sure the connection is up before the clock starts
    s.send(_pack(P.request(-1, "echo", ORDER_PARAMS)))
    if not s.poll(10_000):
        raise TimeoutError("floor server did not answer")
    s.recv()
    ctl.report("ready")
    start_at = ctl.command(120)
    if not isinstance(start_at, float):
        raise RuntimeError(f"expected a start time, got {start_at!r}")
    _wait_until(start_at)
    end_at = start_at + duration
    sent = done = 0
    t0 = time.time()
    for _ in range(window):
        s.send(_pack(P.request(sent, "echo", ORDER_PARAMS)))
        sent += 1
    now = t0
    while now < end_at:
        if not s.poll(5_000):
            raise TimeoutError("floor server stopped answering")
        _unpack(s.recv())
        done += 1
        s.send(_pack(P.request(sent, "echo", ORDER_PARAMS)))
        sent += 1
        now = time.time()
    elapsed = now - t0
    # drain what is still in flight so the server is idle for the next case
    for _ in range(sent - done):
        if not s.poll(5_000):
            break
        s.recv()
    s.close()
    zctx.term()
    return {"done": done, "elapsed": elapsed, "rate": done / elapsed if elapsed > 0 else 0.0}


# --------------------------------------------------------------------------
# PUB/SUB
# --------------------------------------------------------------------------

def raw_pub(ctl: Any, endpoint: str, tick: dict[str, Any], codes: list[str], start_at: float, stop_at: float,
            rate: float | None = None, hub_id: str = "rawpub", sndhwm: int = 1000) -> dict:
    """Publish tick events (hub format: [topic, {seq, ts, hub_id, topic, data, code, tseq}]) from
    start_at to stop_at, as fast as possible or at `rate` messages/s."""
    zctx = zmq.Context()
    pub = zctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.SNDHWM, sndhwm)
    pub.bind(endpoint)
    ctl.report("ready")
    topics = [f"tick.{c}".encode() for c in codes]
    tseq = [0] * len(codes)
    data = dict(tick)
    ncodes = len(codes)
    sent = 0
    _wait_until(start_at)
    t0 = time.time()
    send = pub.send_multipart
    i = 0
    if rate:
        batch = max(1, int(rate / 1000))  # pace in 1 ms batches
        next_t = t0
        while True:
            now = time.time()
            if now >= stop_at:
                break
            if now < next_t:
                time.sleep(min(next_t - now, 0.001))
                continue
            for _ in range(batch):
                k = i % ncodes
                tseq[k] += 1
                code = codes[k]
                send([topics[k], _pack({"seq": None, "ts": now, "hub_id": hub_id, "topic": f"tick.{code}",
                                        "data": data, "code": code, "tseq": tseq[k]})])
                i += 1
                sent += 1
            next_t += batch / rate
    else:
        now = t0
        while now < stop_at:
            for _ in range(100):
                k = i % ncodes
                tseq[k] += 1
                code = codes[k]
                send([topics[k], _pack({"seq": None, "ts": now, "hub_id": hub_id, "topic": f"tick.{code}",
                                        "data": data, "code": code, "tseq": tseq[k]})])
                i += 1
            sent += 100
            now = time.time()
    elapsed = time.time() - t0
    pub.close()
    zctx.term()
    return {"sent": sent, "elapsed": elapsed, "rate": sent / elapsed if elapsed > 0 else 0.0}


def tick_sub(ctl: Any, endpoint: str, window_start: float, window_end: float,
             account_rpc: str | None = None, grace: float = 0.3, catch_up: float = 20.0) -> dict:
    """Count tick events received in [window_start, window_end] and the tseq gaps among them.

    With `account_rpc` (the hub's call endpoint), also open a strategy session there and follow
    the '@account' stream (sseq) the hub pushes to it over the call socket (account events never
    travel on the PUB): every sseq seen is returned, so the parent can tell which account events
    never arrived. The session pings every second, as a client must. After the window the
    subscriber keeps reading (without counting ticks) until both sockets have been quiet for
    0.3 s or `catch_up` s have passed, so events queued behind a backlog still count as delivered.
    """
    import uuid

    zctx = zmq.Context()
    sub = zctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"tick.")
    dealer = None
    if account_rpc:
        dealer = zctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.ROUTING_ID, uuid.uuid4().bytes)
        dealer.connect(account_rpc)
        dealer.send(_pack(P.request("hello", "hello", {"protocol": P.PROTOCOL_VERSION,
                                                        "strategy": "bsub-" + uuid.uuid4().hex[:8]})))
        reply: dict = {}
        while "id" not in reply:  # skip account events pushed to the new session
            if not dealer.poll(15_000):
                raise TimeoutError("hello not answered")
            reply = _unpack(dealer.recv())
        if not reply.get("ok"):
            raise RuntimeError(f"hello refused: {reply.get('error')}")
    ctl.report("ready")
    last: dict[str, int] = {}
    received = gaps = after = 0
    acct_sseqs: list[int] = []
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    if dealer is not None:
        poller.register(dealer, zmq.POLLIN)
    recv = sub.recv_multipart
    stop_at = window_end + grace
    hard_stop = window_end + catch_up
    quiet_since = None
    now = time.time()
    next_ping = now + 1.0
    while now < hard_stop:
        if dealer is not None and now >= next_ping:
            dealer.send(_pack(P.request("ping", "ping", {})))
            next_ping = now + 1.0
        ready = dict(poller.poll(50))
        if not ready:
            now = time.time()
            if now >= stop_at and dealer is None:
                break
            if now >= stop_at:
                quiet_since = quiet_since or now
                if now - quiet_since >= 0.3:
                    break
            continue
        quiet_since = None
        if dealer is not None and dealer in ready:
            for _ in range(256):
                try:
                    msg = _unpack(dealer.recv(zmq.NOBLOCK))
                except zmq.Again:
                    break
                ev = P.event_of(msg)
                if ev is not None and ev.get("stream") == P.ACCOUNT_STREAM and ev.get("sseq") is not None:
                    acct_sseqs.append(ev["sseq"])
        # drain a batch without a clock read per message
        for _ in range(256):
            try:
                topic, body = recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            if now > window_end:
                after += 1
                continue
            ev = _unpack(body)
            code = ev.get("code")
            ts = ev.get("tseq")
            if ts is None:
                continue
            prev = last.get(code)
            last[code] = ts
            if window_start <= now:
                received += 1
                if prev is not None and ts > prev + 1:
                    gaps += ts - prev - 1
        now = time.time()
    if dealer is not None:
        dealer.send(_pack(P.request("bye", "bye", {})))
        dealer.poll(500)
        dealer.close()
    sub.close()
    zctx.term()
    span = window_end - window_start
    return {"received": received, "rate": received / span if span > 0 else 0.0, "gaps": gaps,
            "codes": len(last), "ticks_after_window": after, "acct_sseqs": acct_sseqs,
            "catch_up_s": max(0.0, now - window_end)}
