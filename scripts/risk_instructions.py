#!/usr/bin/env python
"""Instructions per order the risk stage adds, counted by valgrind's callgrind: steadier than µs.

    python scripts/risk_instructions.py             # 1,000 orders per hub (about 2 minutes)
    python scripts/risk_instructions.py --orders 3000

Why: on a small shared machine case 11 of `scripts/bench.py` (order→ack with the risk stage on
against off) moves by tens of µs from run to run, and the stage's µs in the hub are several times
its µs in a quiet process. Instructions (about ±1 % per hub between runs: the loop's batching
and when the GC runs depend on timing; the stage alone within 0.5 %) answer what time cannot:
how much more work a hub with the stage does per order, and how that compares with the stage's
own code alone.

It runs, each under `valgrind --tool=callgrind` with counting off until the orders start:
 1. a hub with `[risk] enabled = false` and one with the stage on (the bench's settings: the
    account guard opened wide, in-process simulator, orders that rest), the same resting limit
    buys from a raw protocol client, all of the hub's threads counted;
 2. the stage alone in one process (`check`, `reserved` with its record, the order's first push,
    as `benchlib.extra.risk_stage_warm` does), at two order counts, so start-up cancels out.
It prints instructions per order of each and the differences. Needs valgrind (Debian's
`valgrind`; Linux only); 50-100x slower than native, so keep --orders modest.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (str(HERE.parent), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import zmq  # noqa: E402

from benchlib import hubjobs, rawhub  # noqa: E402
from benchlib.cases import REST_CODE, REST_PRICE, RISK_WIDE  # noqa: E402
from benchlib.hubproc import REPO, HubProcess  # noqa: E402

WARM = 100  # orders before counting starts (the hub's first orders build its caches and plans)


def callgrind_total(out: Path) -> int:
    """Instructions in every dump callgrind wrote for `out` (the `totals:` line of each file)."""
    total = 0
    for f in out.parent.glob(out.name + "*"):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
                break
    return total


def valgrind(out: Path, counting: bool) -> list[str]:
    """The command prefix that runs a Python program under callgrind, writing its counts to `out`."""
    return ["valgrind", "--tool=callgrind", f"--instr-atstart={'yes' if counting else 'no'}",
            f"--callgrind-out-file={out}"]


def hub_instructions(risk_on: bool, orders: int) -> float:
    """Instructions per order of a whole hub process (every thread) over `orders` resting buys."""
    risk = dict(RISK_WIDE) if risk_on else dict(RISK_WIDE, enabled=False)
    folder = Path(tempfile.mkdtemp(prefix="qmt-hub-instructions-"))
    out = folder / "callgrind.out"
    h = HubProcess({"risk": risk}, {"default_cash": 1e13, "volatility": 0.0, "enforce_trading_hours": False},
                   wrapper=valgrind(out, counting=False))
    client = None
    try:
        h.start(timeout=300)  # start-up under valgrind is slow
        client = rawhub.RawHubClient(h.rpc, zmq.Context.instance(), timeout=60.0)
        client.hello("instructions")
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        for _ in range(WARM):
            client.call("order_stock", order)
        time.sleep(1.0)  # the warm orders' pushes are handled before counting starts
        subprocess.run(["callgrind_control", "-i", "on", str(h.pid)], check=True, capture_output=True)
        for _ in range(orders):
            client.call("order_stock", order)
        time.sleep(0.5)  # and the counted orders' pushes before it stops
        subprocess.run(["callgrind_control", "-i", "off", str(h.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(h.pid)], check=True, capture_output=True)
        time.sleep(1.0)
        return callgrind_total(out) / orders
    finally:
        if client is not None:
            client.close()
        h.stop(timeout=60)
        h.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


STAGE_ALONE = """
import sys
sys.path[:0] = [{repo!r}, {scripts!r}]
from benchlib.extra import risk_stage_warm
risk_stage_warm(int(sys.argv[1]))
"""


def stage_instructions(orders: int) -> float:
    """Instructions per order of the stage alone: two runs of `risk_stage_warm`, the difference."""
    folder = Path(tempfile.mkdtemp(prefix="qmt-hub-instructions-"))
    try:
        script = folder / "stage.py"
        script.write_text(STAGE_ALONE.format(repo=str(REPO), scripts=str(HERE)), encoding="utf-8")
        totals = []
        for n in (orders, 3 * orders):
            out = folder / f"callgrind.{n}"
            subprocess.run([*valgrind(out, counting=True), sys.executable, str(script), str(n)], check=True,
                           capture_output=True)
            totals.append(callgrind_total(out))
        # risk_stage_warm places n + n // 4 orders (a quarter to warm up): 2.5 * orders more in the second run
        return (totals[1] - totals[0]) / (2.5 * orders)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1000, help="orders counted per hub (default 1,000)")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    off = hub_instructions(False, args.orders)
    print(f"hub, risk stage off:  {off:12,.0f} instructions per order")
    on = hub_instructions(True, args.orders)
    print(f"hub, risk stage on:   {on:12,.0f} instructions per order")
    print(f"added by the stage:   {on - off:12,.0f} instructions per order ({(on - off) / off:.1%})")
    alone = stage_instructions(args.orders)
    print(f"the stage alone:      {alone:12,.0f} instructions per order (check, reserved, first push)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
