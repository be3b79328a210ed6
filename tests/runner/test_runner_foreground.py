"""`hub run` in the foreground: Ctrl+C (SIGINT to the terminal's process group) stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from integration_helpers import REPO, HubProcess  # noqa: E402

from rpc_client.calendar import TradingCalendar  # noqa: E402
from rpc_client.runner import tasks  # noqa: E402


@pytest.mark.skipif(os.name == "nt", reason="sends SIGINT to a process group (POSIX); Windows uses CTRL_C_EVENT")
def test_ctrl_c_stops_a_foreground_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert TradingCalendar(cache_path=data / "calendar-cache.json").is_trading_day("2026-12-02")  # warm: no pandas
    (tmp_path / "hub.toml").write_text('account = "1234567"\n[sim]\nstart_time = "2026-12-02 10:00:00"\n',
                                       encoding="utf-8")
    hub = HubProcess(data, "--config", str(tmp_path / "hub.toml"))
    log = tmp_path / "fg.log"
    try:
        # a terminal's foreground job: its own process group, which Ctrl+C signals as a whole
        proc = subprocess.Popen([sys.executable, "-m", "hub", "run", str(REPO / "scripts" / "jqtrade_example.py"),
                                 "-n", "fg", "-o", str(log), "--rpc", hub.rpc, "--data-dir", str(data)],
                                cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not tasks.is_ready(data, "fg", _runner_pid(data)):
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
        assert [t.name for t in tasks.list_tasks(data)] == ["fg"]
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        text = log.read_text(encoding="utf-8")
        assert "stop requested (signal 2)" in text and "strategy fg stopped" in text
        assert "KeyboardInterrupt" not in text and b"Traceback" not in out
        assert tasks.list_tasks(data) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        hub.stop()


def _runner_pid(data: Path) -> int:
    entries = tasks.list_tasks(data)
    return entries[0].pid if entries else -1
