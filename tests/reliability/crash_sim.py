"""`hub sim` that SIGKILLs itself in the worst window: an order committed, nothing sent back.

    python crash_sim.py --path DIR --endpoint tcp://... --after N [--config JSON]

Serves like `hub sim`, but the N-th `place_order` request is run (the order is in the
simulator's SQLite state, its fills too if it crosses) and then the process kills itself
with SIGKILL before its reply and pushes leave the outbox: the hub gets no answer, no
`order_response`, no order push, no goodbye. Only for the fault-injection tests (POSIX).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import hub.sim as simmod  # noqa: E402
from hub.sim.server import SimServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--after", type=int, default=1, help="die right after committing this many orders")
    ap.add_argument("--config", default="{}")
    args = ap.parse_args()

    exchange = simmod.get_exchange(args.path, simmod.SimConfig.from_dict(json.loads(args.config)))
    place = exchange.place_order
    count = [0]

    def place_then_die(*a, **kw):
        order_id = place(*a, **kw)  # committed: the order (and any fill) is in the store
        count[0] += 1
        if count[0] >= args.after:
            os.kill(os.getpid(), signal.SIGKILL)  # before the reply and pushes are sent
        return order_id

    exchange.place_order = place_then_die
    server = SimServer(exchange, args.endpoint)
    server.start()
    print(f"crashing simulator at {args.endpoint} (dies after order {args.after})", file=sys.stderr, flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
