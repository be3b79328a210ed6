"""A hub on `--sim-endpoint` serves market data from the simulator process (`hub sim`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)



pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]


def test_market_data_through_a_sim_process(tmp_path, monkeypatch):
    from hub.config import HubConfig
    from hub.core import HubServer
    from rpc_client import xtdata

    endpoint = f"tcp://127.0.0.1:{free_port()}"
    cfg = json.dumps({"auto_tick": False, "start_time": "2026-12-02 10:00:00"})
    proc = subprocess.Popen([sys.executable, "-m", "hub", "sim", "--path", str(tmp_path / "terminal"),
                             "--endpoint", endpoint, "--config", cfg], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hub = None
    try:
        deadline = time.monotonic() + 30
        while hub is None:
            try:
                hub = HubServer(HubConfig.from_dict({
                    "rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
                    "data_dir": tmp_path / "hub", "sim_endpoint": endpoint, "reconnect_interval": 0.3})).start()
            except Exception:  # noqa: BLE001 - the simulator process is still starting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        link = hub.broker.quotes.source  # the hub's RemoteSimXtData: heard from the simulator lately
        while not link.alive and time.monotonic() < deadline + 30:
            time.sleep(0.1)
        # the simulator process makes its market data lazily (its calendar loads on the first bar
        # request): one warm-up call with a long timeout, so a loaded machine does not fail the test
        from rpc_client import RpcGateway

        gw = RpcGateway(hub.config.rpc, hub.config.pub, follow_events=False)
        try:
            gw.connect(strategy="warm-up", role="monitor")
            gw.call_async("get_bars", _timeout=60, codes=["600000.SH"], period="1d", count=1).result(70)
        finally:
            gw.close()
        monkeypatch.setenv("QMT_HUB", hub.config.rpc)
        monkeypatch.setenv("QMT_HUB_PUB", hub.config.pub)
        xtdata.close()
        assert xtdata.get_instrument_detail("510300.SH")["PriceTick"] == 0.001
        df = xtdata.get_market_data_ex([], ["600000.SH"], period="1d", count=10)["600000.SH"]
        assert len(df) == 10 and df["close"].iloc[-1] == 10.20 and df.index[-1] == "20261201"
        m = xtdata.get_market_data_ex([], ["600000.SH"], period="1m", count=5000)["600000.SH"]
        assert len(m) == 5000  # two pages
        assert "113050.SH" in xtdata.get_stock_list_in_sector("沪深转债")
    finally:
        xtdata.close()
        if hub is not None:
            hub.stop()
            hub.wait(10)
        proc.kill()
        proc.wait(5)
