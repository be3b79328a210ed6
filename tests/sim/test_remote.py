"""Phase 2: the simulator as its own process (`hub sim`), reached with XtQuantTrader("tcp://…")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xtquant import xtconstant as C
from xtquant.xttype import StockAccount

from hub.sim import XtQuantTrader
from hub.sim.remote import RemoteXtQuantTrader
from tests.conftest import free_port
from tests.sim.conftest import ACCOUNT, Recorder

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.dumps({"auto_tick": False, "volatility": 0.0, "depth_min": 500, "depth_max": 500})


def start_sim(path: Path, endpoint: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "sim", "--path", str(path), "--endpoint", endpoint, "--config", CONFIG],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def connect(endpoint: str, session: int, deadline: float = 20.0) -> tuple[XtQuantTrader, Recorder]:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        cb = Recorder()
        t = XtQuantTrader(endpoint, session, cb)
        t.start()
        if t.connect() == 0:
            return t, cb
        t.stop()
    raise AssertionError(f"simulator at {endpoint} did not come up")


@pytest.fixture
def remote(tmp_path):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    procs: list[subprocess.Popen] = []
    traders: list[XtQuantTrader] = []

    def launch() -> subprocess.Popen:
        p = start_sim(tmp_path / "terminal", endpoint)
        procs.append(p)
        return p

    def trader(session: int) -> tuple[XtQuantTrader, Recorder]:
        t, cb = connect(endpoint, session)
        traders.append(t)
        return t, cb

    yield endpoint, launch, trader
    for t in traders:
        t.stop()
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


def test_remote_trader_end_to_end_and_sim_death(remote):
    endpoint, launch, trader = remote
    proc = launch()
    t, cb = trader(1)
    assert isinstance(t, RemoteXtQuantTrader)
    acc = StockAccount(ACCOUNT)
    assert t.subscribe(acc) == 0
    oid = t.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5, "strat", "tag")
    assert oid > 0
    seq = t.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 150, C.FIX_PRICE, 10.5, "strat", "tag")
    err = cb.wait("order_error")
    assert "multiple of 100" in err.error_msg and err.strategy_name == "strat"
    resp = cb.of("order_response")[0]
    assert resp.seq == seq and resp.order_id == err.order_id
    cb.wait("asset", lambda a: a.market_value > 0)
    kinds = [k for k in cb.kinds() if k in ("order", "trade", "position", "asset")]
    assert kinds[:6] == ["order", "asset", "trade", "order", "position", "asset"]
    assert {n for _, _, n in cb.events} == {"sim-trader-1"}
    o = t.query_stock_order(acc, oid)
    assert (o.order_status, o.traded_volume, o.order_remark) == (C.ORDER_SUCCEEDED, 200, "tag")
    assert t.cancel_order_stock(acc, oid) == -1
    cb.wait("cancel_error", lambda e: e.order_id == oid)
    assert len(t.query_stock_orders(acc)) == 2 and len(t.query_stock_trades(acc)) == 1
    assert t.query_stock_position(acc, "600000.SH").volume == 200
    assert t.query_stock_asset(acc).cash == 1_000_000 - 2042.0 - 5.02
    assert [i.account_id for i in t.query_account_infos()] == [ACCOUNT]

    # a second client shares the same terminal
    t2, cb2 = trader(2)
    assert t2.subscribe(acc) == 0
    assert t2.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED

    proc.kill()
    proc.wait(5)
    cb.wait("disconnected", timeout=5)
    cb2.wait("disconnected", timeout=5)
    assert t.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5) == -1
    assert t.query_stock_asset(acc) is None

    # a restarted simulator process keeps the trading day
    launch()
    t3, _ = trader(3)
    assert t3.subscribe(acc) == 0
    assert t3.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED


def test_connect_fails_when_no_simulator(remote):
    endpoint, _, _ = remote
    t = XtQuantTrader(endpoint, 1)
    t.start()
    started = time.monotonic()
    assert t.connect() != 0
    assert time.monotonic() - started < 5
    assert t.subscribe(StockAccount(ACCOUNT)) == -1
    t.stop()
