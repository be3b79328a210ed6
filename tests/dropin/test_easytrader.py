"""Acceptance: easytrader's MiniQMT trader, unmodified, under ``python -m rpc_client.run`` against a
real hub on the simulator -- and again after the easytrader process restarts (issue 12).

easytrader draws a random session id on every connect; the hub must still know the restarted
program as the same strategy (named after its script), so it sees and can cancel its own orders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rpc_client import RpcGateway
from tests.dropin.conftest import ACCOUNT


ROOT = Path(__file__).resolve().parents[2]
PROG = Path(__file__).with_name("programs") / "easytrader_prog.py"
STRATEGY = "easytrader_prog"  # the script's file name


def run_prog(hub, phase: str) -> dict:
    env = {**os.environ, "QMT_HUB": hub.config.rpc, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("QMT_HUB_PUB", None)
    env.pop("QMT_HUB_STRATEGY", None)
    proc = subprocess.run([sys.executable, "-m", "rpc_client.run", str(PROG), phase], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, encoding="utf-8", timeout=90)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            out[rec["step"]] = rec["value"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return out


def hub_view(hub) -> tuple[list, list, list, object]:
    with RpcGateway(hub.config.rpc, hub.config.pub, timeout=5) as mon:
        mon.connect(strategy="check", role="monitor")
        return (mon.query_stock_orders(strategy=STRATEGY), mon.query_stock_trades(strategy=STRATEGY),
                mon.query_stock_positions(), mon.query_stock_asset())


def test_easytrader_miniqmt_trades_through_the_hub_and_after_its_restart(hubs):
    hub = hubs.start(starting_positions={"600000.SH": 1000, "000001.SZ": 1000})
    got = run_prog(hub, "trade")

    # balance and position before trading: what the hub's account shows at the start
    (bal,) = got["balance"]
    assert bal["account_id"] == ACCOUNT and bal["cash"] == 1_000_000.0 and bal["frozen_cash"] == 0
    assert {(p["stock_code"], p["volume"], p["can_use_volume"]) for p in got["position"]} == \
        {("600000.SH", 1000, 1000), ("000001.SZ", 1000, 1000)}

    ids = {k: got[k]["entrust_no"] for k in ("buy", "sell", "market_buy", "market_sell", "rest", "left_open")}
    assert all(v > 0 for v in ids.values()), got
    assert got["cancel_entrust"] == {"success": True, "message": "success"}

    entrusts = {e["order_id"]: e for e in got["today_entrusts"]}
    assert set(entrusts) == set(ids.values())
    by = {k: entrusts[v] for k, v in ids.items()}
    # MiniQMT's conventions: the counter's price types, easytrader's names for them
    assert [(by[k]["price_type"], by[k]["price_type_name"]) for k in ("buy", "sell", "rest", "left_open")] == \
        [(50, "限价")] * 4
    assert (by["market_buy"]["price_type"], by["market_buy"]["price_type_name"]) == (84, "对手方最优价格")
    assert (by["market_sell"]["price_type"], by["market_sell"]["price_type_name"]) == (88, "最优五档即时成交剩余撤销")
    assert [by[k]["order_status_name"] for k in ("buy", "sell", "market_buy", "market_sell")] == ["已成"] * 4
    assert by["rest"]["order_status"] in (51, 54) and by["left_open"]["order_status"] == 50
    assert (by["buy"]["order_type_name"], by["sell"]["order_type_name"]) == ("买入", "卖出")
    assert by["buy"]["stock_code"] == "600000.SH" and by["buy"]["order_volume"] == 200
    assert by["buy"]["strategy_name"] == "" and by["buy"]["order_remark"] == ""  # as the caller gave them

    trades = got["today_trades"]
    assert sorted(t["order_id"] for t in trades) == sorted(ids[k] for k in ("buy", "sell", "market_buy",
                                                                           "market_sell"))
    assert {t["order_id"]: t["traded_volume"] for t in trades}[ids["buy"]] == 200

    # the same as the hub's own view of the strategy and the account
    orders, hub_trades, positions, asset = hub_view(hub)
    assert sorted(o.order_id for o in orders) == sorted(ids.values())
    assert sorted(t.traded_id for t in hub_trades) == sorted(t["traded_id"] for t in trades)
    assert {(p["stock_code"], p["volume"]) for p in got["position_after"]} == \
        {(p.stock_code, p.volume) for p in positions} == {("600000.SH", 1100), ("000001.SZ", 1000)}

    # a new easytrader process (a new random session id): same strategy, same orders, may cancel its own
    again = run_prog(hub, "again")
    assert sorted(e["order_id"] for e in again["today_entrusts"]) == sorted(ids.values())
    assert sorted(t["traded_id"] for t in again["today_trades"]) == sorted(t["traded_id"] for t in trades)
    assert again["cancel_open"] == [{"success": True, "message": "success"}]
    orders, _, _, asset = hub_view(hub)
    assert {o.order_id: o.order_status for o in orders}[ids["left_open"]] in (51, 54)
    assert again["balance"][0]["cash"] == asset.cash
