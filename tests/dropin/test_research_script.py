"""scripts/xt_momentum.py -- a typical research-to-trade xtquant script (history -> signal -> order) --
runs unchanged through the hub (``python -m rpc_client.run``), and its signal and orders are the ones
the hub's own history and book give (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rpc_client import RpcGateway
from rpc_client import xtdata

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "xt_momentum.py"


def test_history_signal_order_script_runs_unchanged_through_the_hub(hub, monkeypatch):
    env = {**os.environ, "QMT_HUB": hub.config.rpc, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("QMT_HUB_PUB", None)
    env.pop("QMT_HUB_STRATEGY", None)
    proc = subprocess.run([sys.executable, "-m", "rpc_client.run", str(SCRIPT), "--top", "2"], env=env,
                          cwd=str(ROOT), capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line.split() for line in proc.stdout.splitlines()]
    momentum = {w[1]: float(w[2]) for w in lines if w[:1] == ["momentum"]}
    placed = {w[1]: int(w[2]) for w in lines if w[:1] == ["placed"]}
    assert len(momentum) >= 2 and len(placed) == 2, proc.stdout

    # the signal, recomputed from the hub's own daily bars
    monkeypatch.setenv("QMT_HUB", hub.config.rpc)
    monkeypatch.setenv("QMT_HUB_PUB", hub.config.pub)
    try:
        bars = xtdata.get_market_data_ex(["close"], list(momentum), period="1d", count=21)
    finally:
        xtdata.close()
    for code, value in momentum.items():
        close = bars[code]["close"]
        assert abs(float(close.iloc[-1] / close.iloc[-21] - 1) - value) < 1e-5, code
    top2 = sorted(momentum, key=momentum.get, reverse=True)[:2]
    assert set(placed) == set(top2)

    # the orders, as the hub's book has them: the script's strategy, its own labels, filled
    with RpcGateway(hub.config.rpc, hub.config.pub, timeout=5) as mon:
        mon.connect(strategy="check", role="monitor")
        orders = {o.order_id: o for o in mon.query_stock_orders(strategy="xt_momentum")}
    assert set(orders) == set(placed.values())
    for code, oid in placed.items():
        o = orders[oid]
        assert (o.stock_code, o.order_volume, o.strategy_name, o.order_remark) == (code, 100, "momentum", "top2")
        assert o.order_status == 56, o
