#!/usr/bin/env python
"""qmt-hub benchmark: every hub figure next to the raw ZeroMQ floor measured in the same run.

    python scripts/bench.py                 # full run (several minutes)
    python scripts/bench.py --quick         # short run (< 2 minutes)
    python scripts/bench.py --json out.json --markdown out.md

It starts its own hub (separate process, simulated broker, free loopback ports,
throw-away data dir) and its own helper processes (spawn start method), measures
each case several rounds, interleaving floor and hub rounds so a noisy machine
hits both alike, and reports medians (with the min–max over rounds) and ratios of
paired rounds. Everything it starts is stopped at the end, also on error or Ctrl+C.

Cases (issue #6):
 1. floor: raw DEALER->ROUTER msgpack echo, p50/p99 (+ a floor whose server hands
    each request to a second thread and back, as the hub's order path does);
 2. hub queries (query_stock_asset, query_stock_orders with 100 orders), ratio to floor;
 3. hub order->ack round trip, ratio to floor;
 4. pipelined throughput, 8 client processes, several calls in flight each;
 5. tick fan-out to 1/4/8 subscriber processes beside raw PUB/SUB; fixed rate, 0 gaps;
 6. order->ack p50 with 128 idle clients vs 1; hub CPU while idle with 128 clients;
 7. hub RSS idle, with 128 clients, after N orders;
 11. order->ack p50 with the risk checks on against off ([risk] enabled = false), same run, calls
     alternated between the two hubs; and the hub CPU per order each (info); a control (a hub whose
     stage is installed but does nothing, against off) and the stage's own work warm (info).
     `scripts/risk_instructions.py` counts the same in instructions (valgrind).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (str(HERE.parent), str(HERE)):  # repo root (hub, rpc_client) and scripts/ (benchlib)
    if p not in sys.path:
        sys.path.insert(0, p)

from benchlib.cases import Bench, Settings  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short run (< 2 minutes), fewer orders and rounds")
    ap.add_argument("--json", metavar="FILE", help="write every figure, the settings and the machine as JSON")
    ap.add_argument("--markdown", metavar="FILE", help="write the table as Markdown (for docs/performance.md)")
    ap.add_argument("--rounds", type=int, help="rounds per case (default: 3 quick, 5 full)")
    ap.add_argument("--orders", type=int, help="orders for the memory case (default: 5,000 quick, 100,000 full)")
    ap.add_argument("--only", metavar="CASES", help="comma-separated case numbers to run, e.g. 1,2,3")
    ap.add_argument("--profile", metavar="DIR",
                    help="sample the quiet hub with py-spy (if installed) and write its stacks and a summary to DIR")
    ap.add_argument("--keep", action="store_true", help="keep the hub's data dir and log (path printed)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings.quick() if args.quick else Settings.full()
    if args.rounds:
        settings.rounds = max(1, args.rounds)
    if args.orders:
        settings.mem_orders = max(1, args.orders)
    only = {int(x) for x in args.only.split(",")} if args.only else None
    bench = Bench(settings, only=only, profile_dir=args.profile, keep=args.keep)
    t0 = time.monotonic()
    interrupted = False
    try:
        bench.run()
    except KeyboardInterrupt:
        interrupted = True
        bench.report.notes.append("interrupted (Ctrl+C): figures not reached are n/a")
    finally:
        bench.close()
    bench.report.params["wall_seconds"] = round(time.monotonic() - t0, 1)
    bench.report.print_table()
    print(f"bench wall time: {time.monotonic() - t0:.1f} s")
    if args.json:
        bench.report.write_json(args.json)
        print(f"JSON written to {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(bench.report.markdown(), encoding="utf-8")
        print(f"Markdown written to {args.markdown}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
