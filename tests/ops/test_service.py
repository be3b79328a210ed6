"""`hub service`: the generated Task Scheduler and systemd definitions, the commands, the argument handling;
`hub start --log-file` rotating logs (what the service runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hub.service import ServiceSpec, systemd_commands, systemd_unit, windows_commands, windows_task_xml
from webhook_server import free_port

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def _spec(tmp_path: Path, user: str = "") -> ServiceSpec:
    return ServiceSpec(config=tmp_path / "my hub.toml", data_dir=tmp_path / "data", python=r"C:\Python311\python.exe",
                       user=user)


def test_windows_task_starts_at_boot_without_login_and_restarts(tmp_path):
    spec = _spec(tmp_path)
    root = ET.fromstring(windows_task_xml(spec).replace('encoding="UTF-16"', ""))
    assert root.find("t:Triggers/t:BootTrigger/t:Enabled", NS).text == "true"
    assert root.find("t:Principals/t:Principal/t:UserId", NS).text == "S-1-5-18"  # SYSTEM: no login needed
    settings = root.find("t:Settings", NS)
    assert settings.find("t:RestartOnFailure/t:Count", NS).text == "999"
    assert settings.find("t:RestartOnFailure/t:Interval", NS).text == "PT1M"
    assert settings.find("t:ExecutionTimeLimit", NS).text == "PT0S"
    assert settings.find("t:MultipleInstancesPolicy", NS).text == "IgnoreNew"
    exe = root.find("t:Actions/t:Exec", NS)
    assert exe.find("t:Command", NS).text == r"C:\Python311\python.exe"
    args = exe.find("t:Arguments", NS).text
    assert args.startswith("-m hub start --config ") and f'"{spec.config}"' in args  # a path with a space, quoted
    assert f"--log-file {tmp_path / 'data' / 'logs' / 'hub.log'}" in args
    assert exe.find("t:WorkingDirectory", NS).text == str(tmp_path / "data")


def test_windows_commands_and_a_named_user(tmp_path):
    spec = _spec(tmp_path, user=r"TRADER\quant")
    xml = windows_task_xml(spec)
    assert r"<UserId>TRADER\quant</UserId>" in xml and "<LogonType>Password</LogonType>" in xml
    path = tmp_path / "task.xml"
    assert windows_commands("install", spec, path) == [
        ["schtasks", "/Create", "/TN", "qmt-hub", "/XML", str(path), "/F", "/RU", r"TRADER\quant", "/RP", "*"]]
    assert windows_commands("uninstall", spec, path)[-1] == ["schtasks", "/Delete", "/TN", "qmt-hub", "/F"]
    assert windows_commands("status", spec, path) == [["schtasks", "/Query", "/TN", "qmt-hub", "/V", "/FO", "LIST"]]


def test_systemd_unit(tmp_path):
    spec = ServiceSpec(config=tmp_path / "hub.toml", data_dir=tmp_path / "d", python="/usr/bin/python3")
    unit = systemd_unit(spec)
    assert f"ExecStart=/usr/bin/python3 -m hub start --config {tmp_path / 'hub.toml'} --log-file " in unit
    assert "Restart=on-failure" in unit and "WantedBy=multi-user.target" in unit
    assert systemd_commands("install", spec)[-1] == ["systemctl", "enable", "--now", "qmt-hub.service"]


class _Result:
    def __init__(self, r):
        self.returncode, self.stdout, self.stderr = r.exit_code, r.stdout, r.stderr


def _hub(*args: str) -> _Result:
    """The CLI in-process (a subprocess per call costs seconds of imports)."""
    from typer.testing import CliRunner

    from hub.cli import app

    return _Result(CliRunner().invoke(app, list(args)))


def test_cli_install_dry_run_and_usage_errors(tmp_path):
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'account = "1000000365"\ndata_dir = "{(tmp_path / "data").as_posix()}"\n', encoding="utf-8")
    r = _hub("service", "install", "--config", str(cfg), "--platform", "windows", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "<BootTrigger>" in r.stdout and "would run: schtasks /Create /TN qmt-hub /XML" in r.stdout
    assert not (tmp_path / "data" / "service").exists()  # a dry run writes nothing
    r = _hub("service", "install", "--config", str(cfg), "--platform", "linux")
    assert r.returncode == 0 and "Restart=on-failure" in r.stdout and "would run: systemctl enable --now" in r.stdout
    r = _hub("service", "install", "--platform", "windows", "--dry-run")
    assert r.returncode == 2 and "--config FILE is required" in r.stderr
    r = _hub("service", "install", "--config", str(tmp_path / "none.toml"), "--platform", "windows")
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = _hub("service", "status", "--platform", "windows", "--dry-run")
    assert r.returncode == 0 and "would run: schtasks /Query /TN qmt-hub" in r.stdout


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM to a child")
def test_start_writes_a_rotating_log_file(tmp_path):
    log = tmp_path / "logs" / "hub.log"
    proc = subprocess.Popen([sys.executable, "-m", "hub", "start", "--rpc", f"tcp://127.0.0.1:{free_port()}",
                             "--pub", f"tcp://127.0.0.1:{free_port()}", "--data-dir", str(tmp_path / "d"),
                             "--log-file", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None \
                and "broker" not in (log.read_text(encoding="utf-8") if log.exists() else ""):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    text = log.read_text(encoding="utf-8")
    assert "INFO hub" in text, text[:500]
