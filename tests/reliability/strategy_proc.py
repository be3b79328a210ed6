"""A strategy process for fault-injection tests: trades through RpcGateway and records everything.

Every line of --out is one JSON record, flushed at once (so a killed process keeps what it
wrote):

    {"k": "event", "topic", "seq", "stream", "sseq", "hub_id", "order_id", "order_status",
     "traded_id", "traded_volume", "client_order_id"}     every event a callback received
    {"k": "result", "coid", "order_id", "duplicate"?}       an order_stock that returned an id
    {"k": "error", "coid", "code"}                          an order_stock that raised
    {"k": "resolved", "coid", "order_id"}                   UNKNOWN_OUTCOME, found by query
    {"k": "connected"} / {"k": "disconnected"}              gateway callbacks
    {"k": "done", ...} / {"k": "stats", ...}                end of orders / final counters

Orders: i = 0..N-1, client_order_id "<name>-<i>"; even i buy 100 600000.SH at 10.50 (fills at
once), odd i at 9.50 (rests). BROKER_DOWN and TIMEOUT retry the same id (nothing was decided);
UNKNOWN_OUTCOME follows docs/guarantees.md: query the orders, and only if the order is not
there place it again under a new id ("<coid>-r<n>"); with --resolve-when-up the query waits
until the broker is up again (the hub has reconciled, so an order the broker has is in the
book), else it is made after 0.5 s.

The process ends when the file <out>.stop appears (or on SIGTERM), after writing "stats".
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rpc_client import RpcGateway  # noqa: E402
from rpc_client.protocol import ErrorCode, HubError  # noqa: E402

CODE = "600000.SH"


class Recorder:
    def __init__(self, path: Path):
        self._fh = open(path, "a", buffering=1)
        self._lock = threading.Lock()

    def __call__(self, **rec) -> None:
        line = json.dumps(rec, default=str)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--pub", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--orders", type=int, default=0)
    ap.add_argument("--interval", type=float, default=0.0)
    ap.add_argument("--passive", action="store_true", help="every order rests (price 9.50)")
    ap.add_argument("--cancel-on-disconnect", action="store_true")
    ap.add_argument("--quotes", default="", help="comma-separated codes or markets to subscribe")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--resolve-when-up", action="store_true",
                    help="after UNKNOWN_OUTCOME, wait for the broker to be up before querying")
    args = ap.parse_args()

    out = Path(args.out)
    stop_file = Path(str(out) + ".stop")
    rec = Recorder(out)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    gw = RpcGateway(args.rpc, args.pub, timeout=args.timeout)

    def on_event(topic: str, payload: dict) -> None:
        if not isinstance(payload, dict) or "seq" not in payload:
            rec(k="notice", name=topic, info=payload)
            return
        if payload.get("seq") is None:
            return  # hub.heartbeat, ticks
        data = payload.get("data") or {}
        rec(k="event", topic=topic, seq=payload.get("seq"), stream=payload.get("stream"),
            sseq=payload.get("sseq"), hub_id=payload.get("hub_id"), order_id=data.get("order_id"),
            order_status=data.get("order_status"), traded_id=data.get("traded_id"),
            traded_volume=data.get("traded_volume"), client_order_id=data.get("client_order_id"))

    gw.on_event = on_event
    gw.on_connected = lambda: rec(k="connected", t=time.time())
    gw.on_disconnected = lambda: rec(k="disconnected", t=time.time())
    deadline = time.monotonic() + 60
    while True:
        try:
            hello = gw.connect(strategy=args.name, cancel_on_disconnect=args.cancel_on_disconnect)
            break
        except HubError as exc:
            if time.monotonic() > deadline:
                raise
            rec(k="connect_failed", code=exc.code)
            time.sleep(0.5)
    rec(k="hello", hub_id=hello.get("hub_id"), heads=hello.get("heads"), pid=__import__("os").getpid())
    if args.quotes:
        gw.subscribe_whole_quote(args.quotes.split(","))

    for i in range(args.orders):
        if stop.is_set():
            break
        price = 9.5 if (args.passive or i % 2) else 10.5
        place(gw, rec, f"{args.name}-{i}", price, args.resolve_when_up)
        if args.interval:
            time.sleep(args.interval)
    rec(k="done", t=time.time())
    while not stop.is_set() and not stop_file.exists():
        time.sleep(0.05)
    stats = gw.stats()
    rec(k="stats", missed_ticks=gw.missed_ticks_total, dropped_ticks=gw.dropped_ticks, duplicates=stats.get(
        "duplicates"), replays=stats.get("replays"), reconnects=stats.get("reconnects"),
        lost_events=stats.get("lost_events"), positions=stats.get("positions"))
    gw.close()
    return 0


def place(gw: RpcGateway, rec: Recorder, coid: str, price: float, when_up: bool = False) -> None:
    attempt = 0
    retry = 0
    while True:
        attempt += 1
        try:
            oid = gw.order_stock(CODE, 23, 100, 11, price, order_remark="rel", client_order_id=coid)
            rec(k="result", coid=coid, order_id=oid, attempt=attempt)
            return
        except HubError as exc:
            rec(k="error", coid=coid, code=exc.code, msg=exc.message[:200])
            if exc.code in (ErrorCode.BROKER_DOWN, ErrorCode.TIMEOUT, ErrorCode.CLOSED, ErrorCode.NO_SESSION):
                time.sleep(0.2)  # nothing decided (or the hub dedupes the id): same id again
                if attempt < 400:
                    continue
                return
            if exc.code == ErrorCode.UNKNOWN_OUTCOME:
                # what docs/guarantees.md tells users to do: look (once the broker is back); never guess
                if when_up:
                    _wait_broker_up(gw)
                else:
                    time.sleep(0.5)
                found = [o for o in _orders(gw) if o.get("client_order_id") == coid]
                if found:
                    rec(k="resolved", coid=coid, order_id=found[0].order_id)
                    return
                retry += 1
                coid = f"{coid.split('-r')[0]}-r{retry}"
                continue
            return  # a real refusal (BROKER_ERROR, ...): recorded


def _wait_broker_up(gw: RpcGateway, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if gw.status()["broker"]["state"] == "up":
                return
        except HubError:
            pass
        time.sleep(0.2)


def _orders(gw: RpcGateway):
    for _ in range(50):
        try:
            return gw.query_stock_orders()
        except HubError:
            time.sleep(0.2)
    return []


if __name__ == "__main__":
    sys.exit(main())
