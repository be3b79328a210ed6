"""Acceptance: the docs' quickstart, with only its import changed, runs on the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "quickstart_sim.py"
SEED = Path("/work/shared/seeds/001_a2c6b1a7e15e5a4e.txt")

# run the script unchanged, but let run_forever return 1.5 s after it is called
RUNNER = r"""
import builtins, runpy, sys, threading
import hub.sim.trader as T

_print, _lock = builtins.print, threading.Lock()
def tagged_print(*args, **kw):
    # callbacks print from the trader's thread: keep each line whole and tag it
    tag = () if threading.current_thread() is threading.main_thread() else ("[cb]",)
    with _lock:
        _print(*tag, *args, **kw, flush=True)
builtins.print = tagged_print

orig = T.XtQuantTrader.run_forever
def bounded(self):
    threading.Timer(1.5, self.stop).start()
    orig(self)
T.XtQuantTrader.run_forever = bounded
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def test_script_differs_from_the_seed_only_by_its_import():
    if not SEED.exists():
        return
    seed = SEED.read_text(encoding="utf-8")
    start = seed.index("```\n", seed.index("### 创建策略")) + 4
    original = seed[start:seed.index("```", start)]
    ours = SCRIPT.read_text(encoding="utf-8")
    assert ours == original.replace("from xtquant.xttrader import", "from hub.sim import")


def test_quickstart_runs_and_prints_everything(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", RUNNER, str(SCRIPT)], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path).stdout
    lines = [ln for ln in out.splitlines() if not ln.startswith("[cb] ")]
    callbacks = [ln[5:] for ln in out.splitlines() if ln.startswith("[cb] ")]

    def after(label: str, n: int = 1) -> str:
        return lines[lines.index(label) + n]

    assert after("demo test") == "0" and after("demo test", 2) == "0"  # connect, subscribe
    order_id = int(after("order using the fix price:"))
    assert order_id > 0
    assert after("cancel order:") == "-1"  # the marketable buy filled at once: nothing left to cancel
    assert int(after("order using async api:")) > 0
    assert after("asset:").startswith("cash ") and float(after("asset:")[5:]) < 1_000_000
    assert after("order:") == f"order {order_id}"
    assert after("query orders:") == "orders: 2"
    assert after("query trade:") == "trades: 2"
    assert after("last trade:").startswith("600000.SH 200 ")
    assert after("query positions:") == "positions: 1"
    assert after("last position:") == "1000000365 600000.SH 400"
    assert after("position:") == "1000000365 600000.SH 400"
    # callbacks arrived, from the trader's thread
    for head in ("on_account_status", "on_order_stock_async_response", "on order callback:",
                 "on trade callback", "on cancel_error callback"):
        assert head in callbacks, head
    assert callbacks[callbacks.index("on_account_status") + 1] == "1000000365 2 0"
    assert f"600000.SH 56 {100_000_000 + order_id}" in callbacks  # the order pushed as ORDER_SUCCEEDED
    assert f"1000000365 600000.SH {order_id}" in callbacks  # its trade
    # the Windows path of the script was mapped under the temp dir
    assert list((tmp_path / "qmt-hub-sim").glob("*/sim.db"))
