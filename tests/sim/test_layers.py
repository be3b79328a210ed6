"""hub.sim is a broker, not part of the hub: it imports nothing else from `hub`, nor xtquant's native modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hub_sim_imports_only_itself_and_pure_xtquant():
    code = (
        "import sys, hub.sim, hub.sim.remote, hub.sim.server;"
        "bad = sorted(m for m in sys.modules if m.startswith('hub.') and not m.startswith('hub.sim'));"
        "bad += [m for m in ('xtquant.xttrader', 'xtquant.xtdata') if m in sys.modules];"
        "print('BAD=' + ','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "BAD=\n" in out.stdout, out.stdout
