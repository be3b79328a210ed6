"""A strategy process for the integration tests: trades through RpcGateway and records every event.

Run as: python strategy_child.py RPC PUB NAME OUT_JSON GO_FILE
It connects, waits until GO_FILE exists (so all strategies trade at once), places
3 marketable buys (they fill), 2 resting buys (they stay open) and 1 bad-lot buy (the
broker rejects it), waits until it has seen the final events, and writes what it saw.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from rpc_client import RpcGateway

BUY, FIX_PRICE = 23, 11


def main() -> int:
    rpc, pub, name, out, go = sys.argv[1:6]
    events: list[dict] = []
    lock = threading.Lock()

    def on_event(topic: str, payload: dict) -> None:
        data = payload.get("data") or {}
        with lock:
            events.append({"topic": topic, "stream": payload.get("stream"), "sseq": payload.get("sseq"),
                           "seq": payload.get("seq"), "order_id": data.get("order_id"),
                           "status": data.get("order_status")})

    gw = RpcGateway(rpc, pub, timeout=15)
    gw.on_event = on_event
    gw.connect(strategy=name)
    deadline = time.monotonic() + 30
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.02)
    filled = [gw.order_stock("600000.SH", BUY, 100, FIX_PRICE, 10.5, order_remark=f"{name}-fill-{i}")
              for i in range(3)]
    resting = [gw.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5, order_remark=f"{name}-rest-{i}")
               for i in range(2)]
    rejected = gw.order_stock("600000.SH", BUY, 150, FIX_PRICE, 10.5, order_remark=f"{name}-badlot")

    def done() -> bool:
        with lock:
            trades = {e["order_id"] for e in events if e["topic"] == f"trade.{name}"}
            errors = {e["order_id"] for e in events if e["topic"] == f"error.{name}"}
        return set(filled) <= trades and rejected in errors

    deadline = time.monotonic() + 30
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let any stray event (there must be none) arrive before we write
    own_orders = [o.order_id for o in gw.query_stock_orders()]
    gw.close()
    with lock:
        Path(out).write_text(json.dumps({"filled": filled, "resting": resting, "rejected": rejected,
                                         "events": events, "own_orders": own_orders}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
