"""`hub sim --config hub.toml`: the simulator process reads the `[sim]` table of the hub's own file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from xtquant.xttype import StockAccount

from hub.config import HubConfig
from hub.sim import XtQuantTrader
from ports import free_port  # noqa: E402  (tests/ports.py)

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


_port = free_port


def _run_sim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_hub_sim_reads_the_sim_table_of_the_hub_toml(tmp_path):
    endpoint = f"tcp://127.0.0.1:{_port()}"
    toml = tmp_path / "hub.toml"
    toml.write_text(f'''
[hub]
broker = "sim"
sim_endpoint = "{endpoint}"
data_dir = "{(tmp_path / 'hubdata').as_posix()}"

[sim]
default_cash = 123456.0
starting_positions = {{ "600000.SH" = 1000 }}
auto_tick = false
commission_min = 1.0
''')
    # the very file the hub reads
    hub_cfg = HubConfig.load(toml)
    assert hub_cfg.sim_endpoint == endpoint and hub_cfg.sim["default_cash"] == 123456.0

    proc = subprocess.Popen([sys.executable, "-m", "hub", "sim", "--path", str(tmp_path / "terminal"),
                             "--endpoint", endpoint, "--config", str(toml)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    trader = None
    try:
        deadline = time.monotonic() + 20
        while True:
            trader = XtQuantTrader(endpoint, 7)
            trader.start()
            if trader.connect() == 0:
                break
            trader.stop()
            trader = None
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the simulator did not come up"
        acc = StockAccount("TOML001")
        assert trader.subscribe(acc) == 0
        assert trader.query_stock_asset(acc).cash == 123456.0
        pos = trader.query_stock_position(acc, "600000.SH")
        assert pos.volume == 1000 and pos.can_use_volume == 1000
    finally:
        if trader is not None:
            trader.stop()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_hub_sim_rejects_unknown_sim_keys_naming_them(tmp_path):
    toml = tmp_path / "hub.toml"
    toml.write_text('rpc = "tcp://127.0.0.1:5555"\n[sim]\ndefault_cash = 1000.0\ntick_intervall = 2.0\n')
    r = _run_sim("--path", str(tmp_path / "t"), "--endpoint", f"tcp://127.0.0.1:{_port()}", "--config", str(toml))
    assert r.returncode == 2
    assert "tick_intervall" in r.stderr and str(toml) in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("[sim\nx = 1\n", "not valid TOML"),
    ("sim = 3\n", "sim must be a table"),
    ("[sim]\nspeed = 0\n", "speed must be > 0"),
])
def test_hub_sim_config_errors_are_clear(tmp_path, content, message):
    toml = tmp_path / "hub.toml"
    if content is not None:
        toml.write_text(content)
    r = _run_sim("--path", str(tmp_path / "t"), "--endpoint", f"tcp://127.0.0.1:{_port()}", "--config", str(toml))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
