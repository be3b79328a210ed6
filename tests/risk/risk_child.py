"""A strategy process for the risk tests: waits for a go file, places its orders, writes the outcome.

Run as: python risk_child.py RPC PUB NAME OUT_JSON GO_FILE ORDERS_JSON
ORDERS_JSON is a list of [order_type, volume, price]; every order is a FIX_PRICE order of 600000.SH.
OUT_JSON gets {"ok": [order_id...], "refused": [[code, check]...]}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rpc_client import RpcGateway
from rpc_client.protocol import HubError

FIX_PRICE = 11


def main() -> int:
    rpc, pub, name, out, go, orders = sys.argv[1:7]
    gw = RpcGateway(rpc, pub, timeout=15)
    gw.connect(strategy=name)
    deadline = time.monotonic() + 30
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.01)
    ok, refused = [], []
    for side, volume, price in json.loads(orders):
        try:
            ok.append(gw.order_stock("600000.SH", side, volume, FIX_PRICE, price))
        except HubError as exc:
            refused.append([exc.code, (exc.data or {}).get("check")])
    gw.close()
    Path(out).write_text(json.dumps({"ok": ok, "refused": refused}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
