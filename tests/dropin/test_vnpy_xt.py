"""Acceptance: VeighNa's xtquant gateway (vnpy_xt's XtGateway, unmodified) through vnpy's MainEngine,
under ``python -m rpc_client.run`` against a real hub on the simulator (issue 12).

Contracts load, a tick arrives, a limit order goes Submitting -> NotTraded -> AllTraded with its
trade, a resting order is cancelled, account and positions match the hub's, and after the hub is
down for 15 s the gateway (which rebuilds its trader in on_disconnected) trades again. The
datafeed returns daily and minute bars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from rpc_client import RpcGateway
from tests.dropin.conftest import ACCOUNT, wait_for


ROOT = Path(__file__).resolve().parents[2]
PROG = Path(__file__).with_name("programs") / "vnpy_prog.py"
STRATEGY = "vnpy_prog"  # the script's file name
DOWN_FOR = 15.0  # seconds the hub stays away


class Prog:
    def __init__(self, hub, cwd: Path, *args: str) -> None:
        env = {**os.environ, "QMT_HUB": hub.config.rpc, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
        env.pop("QMT_HUB_PUB", None)
        env.pop("QMT_HUB_STRATEGY", None)
        (cwd / ".vntrader").mkdir(parents=True, exist_ok=True)  # vnpy keeps its files here, not in $HOME
        # vnpy's own log lines go to its log file, not into the program's step lines on stdout
        (cwd / ".vntrader" / "vt_setting.json").write_text(json.dumps({"log.console": False}), encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "rpc_client.run", str(PROG), *args], env=env,
                                     cwd=str(cwd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self.steps: dict[str, object] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith('{"step"'):
                try:
                    rec = json.loads(line)
                except ValueError:  # a line mixed with another thread's output: shown in the failure
                    continue
                self.steps[rec["step"]] = rec["value"]

    def wait_step(self, step: str, timeout: float) -> object:
        assert wait_for(lambda: step in self.steps or self.proc.poll() is not None, timeout), self.output()
        assert step in self.steps, self.output()
        return self.steps[step]

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.reader.join(5)


def hub_account(hub):
    with RpcGateway(hub.config.rpc, hub.config.pub, timeout=5) as mon:
        mon.connect(strategy="check", role="monitor")
        return mon.query_stock_asset(), {p.stock_code: p for p in mon.query_stock_positions()}, \
            mon.query_stock_orders(strategy=STRATEGY)


def test_vnpy_xt_gateway_trades_through_the_hub_and_again_after_a_15_s_hub_restart(hubs, tmp_path):
    sim = dict(auto_tick=True, tick_interval=0.5, volatility=0.0005)
    hub = hubs.start(**sim)
    prog = Prog(hub, tmp_path, "bars")
    try:
        contracts = prog.wait_step("contracts", 90)
        assert contracts["loaded"], contracts
        tick = prog.wait_step("tick", 40)
        assert tick["arrived"] and tick["last"] > 0, tick

        first = prog.wait_step("limit_order", 60)
        assert first["filled"] and first["statuses"] == ["SUBMITTING", "NOTTRADED", "ALLTRADED"], first
        assert [v for v, _ in first["trades"]] == [100], first

        cancel = prog.wait_step("cancel", 60)
        assert cancel["resting"] and cancel["cancelled"], cancel
        assert cancel["statuses"] == ["SUBMITTING", "NOTTRADED", "CANCELLED"], cancel

        account = prog.wait_step("account", 40)
        position = prog.wait_step("position", 5)
        asset, positions, orders = hub_account(hub)
        assert account["accountid"] == ACCOUNT and account["available"] == asset.cash
        assert account["frozen"] == asset.frozen_cash == 0
        assert abs(account["balance"] - asset.total_asset) < 0.01 * asset.total_asset  # prices move between
        assert (position["volume"], position["yd_volume"]) == \
            (positions["600000.SH"].volume, positions["600000.SH"].can_use_volume) == (100, 0)
        assert len(orders) == 2 and all(o.order_remark for o in orders)  # vnpy's own order ids, as given

        prog.wait_step("wait", 10)
        hubs.stop()
        time.sleep(DOWN_FOR)
        hub = hubs.start(**sim)
        assert prog.proc.stdin is not None
        prog.proc.stdin.write("go\n")
        prog.proc.stdin.flush()

        again = prog.wait_step("after_restart", 90)
        assert again["filled"] and again["statuses"] == ["SUBMITTING", "NOTTRADED", "ALLTRADED"], (again, prog.output())
        logs = prog.wait_step("reconnect_logs", 5)
        assert "交易接口连接断开，请检查与客户端的连接状态" in logs and "交易接口重连成功" in logs, logs
        asset, positions, orders = hub_account(hub)
        assert positions["600000.SH"].volume == 200 and len(orders) == 3

        bars = prog.wait_step("bars", 60)
        assert bars["daily"] > 0 and bars["minute"] > 0, (bars, prog.output())
        assert prog.wait_step("qt_loaded", 10) is False  # vnpy's Qt parts are never imported
        prog.wait_step("done", 30)
        assert prog.proc.wait(30) == 0, prog.output()
    finally:
        prog.close()
