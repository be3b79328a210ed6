"""Sleeves with real processes: a `hub sim` terminal, the hub (`hub start`, SIGKILLed and restarted),
and strategy processes drawing on the pool at once."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "reliability"))

from core_helpers import RawClient  # noqa: E402
from faults import ACCOUNT, Procs, admin_call, sim_call, tcp, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)

BUY, SELL, FIX = 23, 24, 11
CODE = "600000.SH"
CHILD = HERE / "risk_child.py"


@pytest.fixture
def procs(tmp_path: Path):
    registry = Procs(tmp_path)
    try:
        yield registry
    finally:
        registry.kill_all()


def start_hub(procs: Procs, tmp: Path, rpc: str, pub: str, data: Path, sim_ep: str, extra: str = "") -> object:
    cfg = tmp / "hub.toml"
    cfg.write_text(f'rpc = "{rpc}"\npub = "{pub}"\ndata_dir = "{data}"\nsim_endpoint = "{sim_ep}"\n'
                   f'heartbeat_interval = 0.5\n{extra}', encoding="utf-8")
    p = procs._start("hub", [sys.executable, "-m", "hub", "start", "--config", str(cfg)])
    wait_for(lambda: "running" in p.output() or not p.alive(), 30, "the hub to start")
    assert p.alive(), p.output()
    return p


def order(side: int, volume: int, price: float) -> dict:
    return {"stock_code": CODE, "order_type": side, "order_volume": volume, "price_type": FIX, "price": price}


def sleeves(rpc: str, data: Path) -> dict:
    return {s["strategy"]: s for s in admin_call(rpc, data, "sleeves")}


KEPT = ("cash", "reserved_cash", "free_cash", "realized_pnl", "fees", "open_orders", "orders_today", "has_cash",
        "cancels_today", "volume_today", "notional_today")


def essentials(s: dict) -> dict:
    out = {k: s[k] for k in KEPT}
    out["positions"] = [(p["stock_code"], p["volume"], p["can_use_volume"], p["frozen_volume"], p["avg_price"])
                        for p in s["positions"]]
    return out


def test_hub_kill9_restores_every_sleeve_reservation_and_pnl(procs, tmp_path):
    sim_ep, rpc, pub, data = tcp(), tcp(), tcp(), tmp_path / "hub"
    procs.sim(tmp_path / "terminal", sim_ep, {"starting_positions": {CODE: 3000}})
    strategies = ('[strategies.alpha]\ncash = 200000\npositions = { "600000.SH" = 1000 }\n'
                  '[strategies.beta]\ncash = 50000\n')
    hub = start_hub(procs, tmp_path, rpc, pub, data, sim_ep, strategies)
    alpha, beta = RawClient(rpc), RawClient(rpc)
    try:
        alpha.hello("alpha")
        beta.hello("beta")
        alpha.call("order_stock", order(BUY, 1000, 10.5))  # fills
        resting_buy = alpha.call("order_stock", order(BUY, 500, 9.5))["order_id"]
        resting_sell = alpha.call("order_stock", order(SELL, 400, 10.9))["order_id"]
        bought = beta.call("order_stock", order(BUY, 300, 10.5))["order_id"]  # fills
        # until its fill is in, beta's buy is a resting order that alpha's sell below would cross
        wait_for(lambda: any(o["order_id"] == bought and o["order_status"] == 56
                             for o in admin_call(rpc, data, "query_stock_orders")), 10, "beta's fill")
        sold = alpha.call("order_stock", order(SELL, 200, 9.9))["order_id"]  # fills: realized P&L
        assert beta.error("order_stock", order(SELL, 100, 10.9))["data"]["check"] == "sleeve_position"
    finally:
        alpha.close()
        beta.close()
    wait_for(lambda: sleeves(rpc, data)["beta"]["positions"] and sleeves(rpc, data)["alpha"]["realized_pnl"], 10,
             "the fills in the sleeves")
    before = {n: essentials(s) for n, s in sleeves(rpc, data).items()}
    assert before["alpha"]["open_orders"] == 2 and before["alpha"]["reserved_cash"] > 0
    assert before["alpha"]["realized_pnl"] != 0 and before["beta"]["fees"] > 0
    hub.kill()
    hub = start_hub(procs, tmp_path, rpc, pub, data, sim_ep, strategies)
    after = {n: essentials(s) for n, s in sleeves(rpc, data).items()}
    assert after == before
    assert admin_call(rpc, data, "reconcile")["ok"] is True
    # the restored reservations still settle to the cent
    alpha = RawClient(rpc)
    try:
        alpha.hello("alpha")
        for oid in (resting_buy, resting_sell):
            alpha.call("cancel_order_stock", {"order_id": oid})
    finally:
        alpha.close()
    final = wait_for(lambda: (lambda s: s if s["open_orders"] == 0 else None)(sleeves(rpc, data)["alpha"]), 10,
                     "the cancels")
    trades = sim_call(sim_ep, "trade_list", account_id=ACCOUNT)
    mine = [t for t in trades if t["strategy_name"] == "alpha"]
    cents = 200000_00 + sum((-1 if t["order_type"] == BUY else 1) * round(t["traded_amount"] * 100)
                            - round(t["commission"] * 100) for t in mine)
    assert final["reserved_cash"] == 0 and round(final["cash"] * 100) == cents
    assert {t["order_id"] for t in mine} >= {sold}


def test_unallotted_strategies_in_several_processes_never_overdraw_the_pool(procs, tmp_path):
    sim_ep, rpc, pub, data = tcp(), tcp(), tcp(), tmp_path / "hub"
    procs.sim(tmp_path / "terminal", sim_ep, {"default_cash": 100000.0, "starting_positions": {CODE: 5000}})
    start_hub(procs, tmp_path, rpc, pub, data, sim_ep)
    go = tmp_path / "go"
    plan = [[BUY, 1000, 9.5]] * 12 + [[SELL, 1000, 10.9]] * 4  # each buy reserves 9,505.10; the pool has 100,000
    outs = {f"p{i}": tmp_path / f"p{i}.json" for i in range(4)}
    kids = [procs._start(name, [sys.executable, str(CHILD), rpc, pub, name, str(out), str(go), json.dumps(plan)])
            for name, out in outs.items()]
    time.sleep(1.5)  # every process connected and waiting
    go.touch()
    for k in kids:
        assert k.popen.wait(60) == 0, k.output()[-2000:]
    results = [json.loads(out.read_text()) for out in outs.values()]
    ok = [oid for r in results for oid in r["ok"]]
    refused = [tuple(x) for r in results for x in r["refused"]]
    orders = {o["order_id"]: o for o in sim_call(sim_ep, "order_list", account_id=ACCOUNT)}
    buys = [oid for oid in ok if orders[oid]["order_type"] == BUY]
    sells = [oid for oid in ok if orders[oid]["order_type"] == SELL]
    assert len(buys) == 10 and len(sells) == 5  # exactly what the pool holds: 10 x 9,505.10 <= 100,000; 5,000 shares
    assert set(refused) == {("RISK_REJECTED", "sleeve_cash"), ("RISK_REJECTED", "sleeve_position")}
    assert len(refused) == 4 * 16 - 15
    assert all(o["order_status"] != 57 for o in orders.values())  # the broker never had to refuse one
    pool = sleeves(rpc, data)["_external"]
    assert pool["reserved_cash"] == pytest.approx(10 * 9505.1) and pool["free_cash"] == pytest.approx(100000 - 95051)
