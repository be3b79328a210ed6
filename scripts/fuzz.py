"""The long fuzz run: `python scripts/fuzz.py --cases 100000` against a hub process on the simulator.

Starts `python -m hub start` (simulator in-process) on free loopback ports in a temporary data
dir, drives it with the table-driven cases of tests/fuzz/fuzzlib.py (Hypothesis) from four
connections (no session, strategy, monitor, admin) while a legitimate client places an order
each second, and prints the figures the issue asks for: hub exits, INTERNAL replies,
acknowledged orders without an event, RSS growth, journal growth. Exit status 0 when every
invariant held, 1 otherwise.

    python scripts/fuzz.py --cases 100000            # the long run (many minutes on a loaded machine)
    python scripts/fuzz.py --cases 2000 --keep       # keep the data dir to look at the journal
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

import psutil  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from fuzzlib import Harness, LegitClient, cases  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from benchlib.util import free_port  # noqa: E402  (one free-port helper for the scripts)

#: Stated bounds (docs/guarantees.md "Bounds"): RSS growth of the hub process over the whole run,
#: and journal growth per case.
RSS_GROWTH_BOUND = 150 << 20
JOURNAL_BYTES_PER_CASE = 16 << 10


def journal_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("journal*") if p.is_file())


def start_hub(data_dir: Path, order_timeout: float) -> tuple[subprocess.Popen, str]:
    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    cfg = data_dir / "fuzz.toml"
    cfg.write_text(f'broker = "sim"\nrpc = "{rpc}"\npub = "{pub}"\ndata_dir = "{data_dir.as_posix()}"\n'
                   f'log_level = "WARNING"\norder_timeout = {order_timeout}\nclient_dead_after = 3600.0\n'
                   # as tests/fuzz: random valid orders must reach the broker (lot/tick checks off, a pool
                   # deep enough for random price x volume); the risk refusals that remain are fuzzed too
                   f'keep_days = 0\n\n[sim]\nauto_tick = false\ndefault_cash = 1e13\n\n'
                   f'[risk]\nstatic_checks = false\n', encoding="utf-8")
    log = open(data_dir / "hub.log", "wb")
    # its own session (POSIX): a `timeout` ending this script signals our process group, not the hub,
    # so the figures are taken with the hub still up; this script stops the hub itself
    proc = subprocess.Popen([sys.executable, "-m", "hub", "start", "--config", str(cfg)], cwd=str(ROOT),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    token_file = data_dir / "admin.token"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the hub exited at start ({proc.returncode}); see {data_dir / 'hub.log'}")
        if token_file.exists() and token_file.read_text().strip() and _pings(rpc):
            return proc, rpc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the hub did not start within 60 s")


def _pings(rpc: str) -> bool:
    import zmq

    from rpc_client.protocol import pack, request, unpack

    ctx = zmq.Context()
    try:
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.connect(rpc)
        s.send(pack(request(1, "ping")))
        return bool(s.poll(1000)) and unpack(s.recv()).get("ok") is True
    finally:
        ctx.destroy(0)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--order-timeout", type=float, default=5.0)
    ap.add_argument("--keep", action="store_true", help="keep the hub's data dir")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="qmt-hub-fuzz-"))
    proc, rpc = start_hub(data_dir, args.order_timeout)
    hub_proc = psutil.Process(proc.pid)
    token = (data_dir / "admin.token").read_text().strip()
    harness = Harness(rpc, token, lambda: proc.poll() is None, args.order_timeout, strict=False)
    legit = LegitClient(rpc).start()
    rss0, journal0 = hub_proc.memory_info().rss, journal_bytes(data_dir)
    rss_peak = rss0
    t0 = time.monotonic()
    last_print = [t0]

    @settings(max_examples=args.cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=cases())
    def one(case):
        nonlocal rss_peak
        if proc.poll() is not None:
            return
        harness.check(case)
        if time.monotonic() - last_print[0] >= 30:
            last_print[0] = time.monotonic()
            rss = hub_proc.memory_info().rss
            rss_peak = max(rss_peak, rss)
            f = harness.figures
            print(f"  {f.cases} cases, {time.monotonic() - t0:.0f}s, hub RSS {rss / 2**20:.1f} MB, journal "
                  f"{journal_bytes(data_dir) / 2**20:.2f} MB, INTERNAL {f.internal}, "
                  f"violations {len(f.violations)}, orders acknowledged {f.orders_acked}", flush=True)

    exits = 0
    interrupted = False
    signal.signal(signal.SIGTERM, _interrupt)  # `timeout` ends a long run: still print the figures so far
    try:
        try:
            one()
        except KeyboardInterrupt:
            interrupted = True
            print("interrupted: finishing with the cases run so far", flush=True)
        figures = harness.finish()
    finally:
        legit.stop()
        if proc.poll() is not None:
            exits = 1
        else:
            rss_peak = max(rss_peak, hub_proc.memory_info().rss)
        rss1 = hub_proc.memory_info().rss if proc.poll() is None else 0
        journal1 = journal_bytes(data_dir)
        harness.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    elapsed = time.monotonic() - t0
    f = figures
    out = {
        "cases": f.cases, "interrupted": interrupted, "seconds": round(elapsed, 1), "hub_exits": exits,
        "internal": f.internal,
        "orders_acknowledged": f.orders_acked, "acknowledged_without_event": f.orders_without_event,
        "violations": len(f.violations), "first_violations": f.violations[:10], "slow_replies": f.slow_replies,
        "rss_start_mb": round(rss0 / 2**20, 1), "rss_end_mb": round(rss1 / 2**20, 1),
        "rss_peak_mb": round(rss_peak / 2**20, 1), "rss_growth_mb": round((rss_peak - rss0) / 2**20, 1),
        "journal_start_mb": round(journal0 / 2**20, 3), "journal_end_mb": round(journal1 / 2**20, 3),
        "journal_growth_mb": round((journal1 - journal0) / 2**20, 3),
        "legit_orders": legit.orders, "legit_answered": legit.answered, "legit_unanswered": legit.unanswered,
        "legit_slowest_s": round(legit.slowest, 3), "legit_codes": legit.codes,
        "by_code": f.by_code, "by_kind": f.by_kind,
    }
    ok = (exits == 0 and f.internal == 0 and f.orders_without_event == 0 and not f.violations
          and legit.unanswered == 0 and rss_peak - rss0 <= RSS_GROWTH_BOUND
          and journal1 - journal0 <= JOURNAL_BYTES_PER_CASE * max(f.cases, 1))
    print(json.dumps(out, indent=2))
    print(f"fuzz: {'PASS' if ok else 'FAIL'}: {f.cases} cases in {elapsed:.0f}s; hub exits {exits}; INTERNAL "
          f"{f.internal}; acknowledged orders without an event {f.orders_without_event} (of {f.orders_acked}); "
          f"hub RSS {rss0 / 2**20:.1f} -> peak {rss_peak / 2**20:.1f} MB; journal "
          f"{journal0 / 2**20:.2f} -> {journal1 / 2**20:.2f} MB; legit client {legit.answered}/{legit.orders} "
          f"answered, slowest {legit.slowest:.2f}s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    if args.keep:
        print(f"data dir kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
