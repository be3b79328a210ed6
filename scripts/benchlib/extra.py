"""Jobs of the issue-14 cases: whole-market snapshots, orders+cancels under the whole market,
vnpy's RpcServer floor, the relay's added latency. Run in agent processes (or the parent)."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgpack
import zmq

from rpc_client import protocol as P

from benchlib.rawhub import RawHubClient


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


def _wait_until(t: float) -> None:
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


def whole_universe(n: int) -> dict[str, dict[str, Any]]:
    """A simulator universe whose SH and SZ markets list `n` codes in all (built-ins included):
    generated stock codes, SH and SZ taking turns, each accepted by the simulator's board rules."""
    from hub.sim.universe import Universe, kind_of

    have = set(Universe().codes("SH")) | set(Universe().codes("SZ"))
    sh = (f"{k:06d}.SH" for k in range(600000, 606000))
    sz = (f"{k:06d}.SZ" for k in list(range(1, 4000)) + list(range(300001, 302000)))
    out: dict[str, dict[str, Any]] = {}
    i = 0
    for a, b in zip(sh, sz):
        for c in (a, b):
            if len(have) + len(out) >= n:
                return out
            if c not in have and kind_of(c):
                out[c] = {"price": 10.0 + (i % 50) / 10}
                i += 1
    return out


def market_codes(universe: dict[str, dict[str, Any]]) -> list[str]:
    """Every SH and SZ code of the simulator with this universe (what a whole-market callback holds)."""
    from hub.sim.universe import Universe

    u = Universe(universe)
    return u.codes("SH") + u.codes("SZ")


# --------------------------------------------------------------------------
# whole-market snapshot: a SUB on every tick, grouped by the snapshot's time
# --------------------------------------------------------------------------

def whole_sub(ctl: Any, endpoint: str, window_start: float, window_end: float, quiet: float = 1.0,
              min_after: float = 4.0, catch_up: float = 30.0) -> dict:
    """Count, per snapshot (the ticks' `time`, the simulator's snapshot instant, i.e. the upstream
    callback), how many codes arrived and when the last one did, relative to the snapshot time.
    Takes both frame kinds: `tick.<code>` (one tick) and `ticks.<market>` (a batch {code: tick},
    what the hub sends a whole market's subscribers); a tick counts as arrived once its frame is
    decoded. After the window it keeps reading for at least `min_after` s and until the socket
    has been quiet for `quiet` s (at most `catch_up` s), so a snapshot still arriving counts in full."""
    zctx = zmq.Context()
    sub = zctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, P.tick_topic("").encode())
    sub.setsockopt(zmq.SUBSCRIBE, P.ticks_topic("").encode())
    batch_prefix = P.ticks_topic("").encode()
    ctl.report("ready")
    snaps: dict[int, list[float]] = {}  # time_ms -> [count, last arrival, first arrival (s)]
    hard_stop = window_end + catch_up
    last_msg = time.time()
    recv = sub.recv_multipart
    while True:
        now = time.time()
        if now >= hard_stop or (now >= window_end + min_after and now - last_msg >= quiet):
            break
        if not sub.poll(50):
            continue
        for _ in range(512):
            try:
                topic, body = recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            ev = _unpack(body)
            t_arr = last_msg = time.time()
            data = ev.get("data") or {}
            for tick in (data.values() if topic.startswith(batch_prefix) else (data,)):
                tm = tick.get("time")
                if not isinstance(tm, int):
                    continue
                s = snaps.get(tm)
                if s is None:
                    snaps[tm] = [1, t_arr, t_arr]
                else:
                    s[0] += 1
                    s[1] = t_arr
    sub.close()
    zctx.term()
    lo, hi = window_start * 1000, window_end * 1000
    return {"snaps": [(tm, int(c), last - tm / 1000.0, first - tm / 1000.0)
                      for tm, (c, last, first) in sorted(snaps.items()) if lo <= tm <= hi]}


# --------------------------------------------------------------------------
# orders + cancels at a fixed rate (raw protocol client, pings once a second)
# --------------------------------------------------------------------------

def order_cancel(ctl: Any, rpc: str, strategies: list[str], order: dict[str, Any], rate: float, start_at: float,
                 stop_at: float) -> dict:
    """One thread per strategy, each alternating order_stock (a resting order) and
    cancel_order_stock of it at `rate` calls/s; order->ack and cancel->reply samples (ns)."""
    out: dict[str, Any] = {"order_lat": [], "cancel_lat": [], "errors": 0, "first_error": ""}
    lock = threading.Lock()
    clients = []
    for name in strategies:
        c = RawHubClient(rpc, timeout=30)
        c.hello(name)
        clients.append(c)

    def run(c: RawHubClient) -> None:
        order_lat: list[int] = []
        cancel_lat: list[int] = []
        errors = 0
        first = ""
        next_t = time.time()
        next_ping = next_t + 1.0
        pending: Any = None
        while time.time() < stop_at:
            t0 = time.perf_counter_ns()
            try:
                if pending is None:
                    res = c.call("order_stock", order)
                    order_lat.append(time.perf_counter_ns() - t0)
                    pending = res.get("order_id") if isinstance(res, dict) else res
                else:
                    c.call("cancel_order_stock", {"order_id": pending})
                    cancel_lat.append(time.perf_counter_ns() - t0)
                    pending = None
            except P.HubError as exc:
                errors += 1
                first = first or str(exc)
                pending = None
            now = time.time()
            if now >= next_ping:
                c.call("ping", {})
                next_ping = now + 1.0
            next_t += 1.0 / rate
            left = next_t - time.time()
            if left > 0:
                time.sleep(left)
        with lock:
            out["order_lat"].extend(order_lat)
            out["cancel_lat"].extend(cancel_lat)
            out["errors"] += errors
            out["first_error"] = out["first_error"] or first

    try:
        ctl.report("ready")
        _wait_until(start_at)
        threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(stop_at - time.time() + 60)
    finally:
        for c in clients:
            c.close()
    return out


def raw_burst(ctl: Any, endpoint: str, tick: dict[str, Any], codes: list[str], at: list[float],
              sndhwm: int = 100_000, batch: int = P.TICK_BATCH_MAX) -> dict:
    """The floor of a whole-market snapshot: at each instant of `at`, publish the snapshot as fast
    as a PUB can, in the frames the hub sends a whole market's subscribers (`ticks.<market>`
    batches of `batch` codes, each code's own tick dict and tseq), or with `batch` 0 one
    `tick.<code>` event per code; each tick's data `time` is that instant (ms)."""
    zctx = zmq.Context()
    pub = zctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.SNDHWM, sndhwm)
    pub.bind(endpoint)
    ctl.report("ready")
    pk = msgpack.Packer(use_bin_type=True).pack
    topics = [f"tick.{c}".encode() for c in codes]
    tseq = 0
    for t in at:
        _wait_until(t)
        data = dict(tick)
        data["time"] = int(time.time() * 1000)
        tseq += 1
        send = pub.send_multipart
        if batch:
            by_market: dict[str, list[str]] = {}
            for code in codes:
                by_market.setdefault(P.market_of(code), []).append(code)
            for market, mcodes in by_market.items():
                topic = P.ticks_topic(market).encode()
                for i in range(0, len(mcodes), batch):
                    part = mcodes[i:i + batch]
                    send([topic, pk(P.batch_event("rawpub", time.time(), market, {c: data for c in part},
                                                  {c: tseq for c in part}))])
            continue
        for topic, code in zip(topics, codes):
            send([topic, pk({"seq": None, "ts": time.time(), "hub_id": "rawpub", "topic": topic.decode(),
                             "data": data, "code": code, "tseq": tseq})])
    time.sleep(1.0)
    pub.close()
    zctx.term()
    return {"snapshots": len(at)}


# --------------------------------------------------------------------------
# vnpy's RpcServer with a trivial function (the throughput floor in vnpy's shape)
# --------------------------------------------------------------------------

def vnpy_available() -> str | None:
    try:
        from vnpy.rpc import RpcClient, RpcServer  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - not installed or broken
        return f"vnpy not importable: {exc.__class__.__name__}: {exc}"
    return None


#: topic the bench's vnpy server publishes every 0.2 s: a vnpy RpcClient's own thread waits in a
#: SUB poll of 30 s (HEARTBEAT_TOLERANCE) and its heartbeats come every 10 s, so without this
#: its `join()` after `stop()` took up to 30 s per round (the whole quick run's largest wait).
VNPY_WAKE_TOPIC = "bench.wake"


def vnpy_server(ctl: Any, rep: str, pub: str) -> dict:
    """vnpy.rpc.RpcServer serving `echo(x) -> x` until the parent says "stop"."""
    from vnpy.rpc import RpcServer

    server = RpcServer()

    def echo(x: Any) -> Any:
        return x

    server.register(echo)
    server.start(rep, pub)
    ctl.report("ready")
    while ctl.command(0.2) != "stop" and ctl.parent_alive():
        server.publish(VNPY_WAKE_TOPIC, 0)  # wakes the clients' SUB threads, so they stop at once
    server.stop()
    server.join()
    return {"ok": True}


def vnpy_throughput(ctl: Any, rep: str, pub: str, window: int, duration: float) -> dict:
    """`window` vnpy RpcClients in this process (vnpy's REQ socket allows one call in flight per
    client), one thread each calling echo(order params) back to back from the start time on."""
    from vnpy.rpc import RpcClient

    from benchlib.raw import ORDER_PARAMS

    class Client(RpcClient):
        def callback(self, topic: str, data: Any) -> None:  # the server's wake-ups: nothing to do
            pass

    clients = []
    for _ in range(window):
        cl = Client()
        cl.subscribe_topic(VNPY_WAKE_TOPIC)
        cl.start(rep, pub)
        cl.echo(ORDER_PARAMS)
        clients.append(cl)
    ctl.report("ready")
    start_at = ctl.command(120)
    _wait_until(float(start_at))
    end_at = start_at + duration
    counts = [0] * window

    def run(i: int) -> None:
        cl = clients[i]
        n = 0
        while time.time() < end_at:
            cl.echo(ORDER_PARAMS)
            n += 1
        counts[i] = n

    t0 = time.time()
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(window)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    elapsed = time.time() - t0
    for cl in clients:
        cl.stop()
    for cl in clients:  # each thread ends at the server's next wake-up (0.2 s)
        cl.join()
    done = sum(counts)
    return {"done": done, "elapsed": elapsed, "rate": done / elapsed if elapsed > 0 else 0.0}


# --------------------------------------------------------------------------
# the relay's added latency (runs in the parent)
# --------------------------------------------------------------------------

def relay_latency(n: int, rate: float = 2000.0) -> tuple[list[int], list[int]]:
    """Publish `n` timestamped tick-sized messages at `rate`/s from a PUB; one SUB directly on it
    and one through `hub.relay.Relay`. Returns (direct, relayed) latencies in ns (same messages)."""
    from hub.relay import Relay

    from benchlib.util import free_endpoint

    zctx = zmq.Context()
    pub_ep = free_endpoint()
    pub = zctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.bind(pub_ep)
    relay = Relay(pub_ep, free_endpoint()).start()
    subs = []
    for ep in (pub_ep, relay.address):
        s = zctx.socket(zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVHWM, 0)
        s.connect(ep)
        s.setsockopt(zmq.SUBSCRIBE, b"tick.")
        subs.append(s)
    payload = b"x" * 400  # about a packed xtdata tick
    lat: list[list[int]] = [[], []]
    pk = msgpack.Packer(use_bin_type=True).pack
    try:
        # wait until both subscriptions are through (the relay forwards the subscription upstream)
        deadline = time.monotonic() + 10
        ready = [False, False]
        while not all(ready) and time.monotonic() < deadline:
            pub.send_multipart([b"tick.probe", pk([0, b""])])
            for i, s in enumerate(subs):
                if s.poll(20):
                    while True:
                        try:
                            s.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                    ready[i] = True
        if not all(ready):
            raise RuntimeError("relay benchmark: subscribers never connected")
        poller = zmq.Poller()
        for s in subs:
            poller.register(s, zmq.POLLIN)
        clock = time.perf_counter_ns
        gap = 1.0 / rate
        for _ in range(n):
            t0 = clock()
            pub.send_multipart([b"tick.600000.SH", pk([t0, payload])])
            got = [False, False]
            while not all(got):
                ev = dict(poller.poll(2000))
                if not ev:
                    break
                for i, s in enumerate(subs):
                    if s in ev:
                        _, body = s.recv_multipart()
                        t_sent = msgpack.unpackb(body)[0]
                        if t_sent == t0:
                            lat[i].append(clock() - t0)
                            got[i] = True
            time.sleep(gap)
    finally:
        for s in subs:
            s.close(0)
        relay.stop()
        pub.close(0)
        zctx.term()
    return lat[0], lat[1]


def risk_stage_warm(n: int, code: str = "600000.SH", price: float = 9.50) -> float:
    """p50 µs per order of the risk stage's own work, in this process, warm: `check`, `reserved`
    (the reservation and its numbered, encoded record, as the desk asks for it) and the order's
    first broker push (`on_order`, status reported). The same calls the hub makes, without the
    hub around them: what the code costs when its code and data stay in the caches, against
    which case 11's in-hub figure shows what the rest of a busy hub and machine add to it."""
    import shutil
    import tempfile
    from pathlib import Path

    from hub.core.journal import Journal
    from hub.risk.config import parse
    from hub.risk.engine import RiskEngine
    from hub.risk.stage import RiskStage
    from hub.risk.store import RiskStore

    class Ticket:
        __slots__ = ("call", "strategy", "params")

        def __init__(self, strategy: str, params: dict[str, Any]) -> None:
            self.call, self.strategy, self.params = None, strategy, params

    folder = Path(tempfile.mkdtemp(prefix="qmt-hub-bench-risk-"))
    journal = Journal(folder / "journal.sqlite")
    try:
        config = parse({"account_max_actions_per_second": 10 ** 9, "account_max_actions_per_day": 10 ** 12}, {})
        stage = RiskStage(RiskEngine(config, reference=lambda c: (price + 0.3, price + 0.2)), RiskStore(journal))
        stage.reconcile({"cash": 1e13, "frozen_cash": 0.0}, [])  # the first sync: the pool takes the cash
        params = {"stock_code": code, "order_type": 23, "order_volume": 100, "price_type": 11, "price": price}
        ticket = Ticket("bench", params)
        took: list[int] = []
        clock = time.perf_counter_ns
        for i in range(n + n // 4):
            tag = f"T{i}"
            t0 = clock()
            if stage.check(None, ticket) is not None:
                raise RuntimeError("the warm risk probe's order was refused")
            if stage.reserved(tag, "bench", params) is None:
                raise RuntimeError("the warm risk probe's order was not reserved")
            stage.on_order({"owner_tag": tag, "order_status": 50, "order_id": i + 1, "owner": "bench",
                            "stock_code": code, "order_type": 23})
            took.append(clock() - t0)
        took = sorted(took[n // 4:])  # the first quarter warms up
        return took[len(took) // 2] / 1000.0
    finally:
        journal.close()
        shutil.rmtree(folder, ignore_errors=True)
