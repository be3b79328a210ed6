"""`python -m rpc_client.run` and `hub run-xt`: an unmodified xtquant program runs with xtquant's trader,
xtdata and xtdatacenter served by the hub through an import hook, nothing written into site-packages."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rpc_client import run, xthook

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).with_name("programs")


def _env(**extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **extra}
    env.pop("QMT_HUB_STRATEGY", None)
    return env


def _last_json(out: str) -> dict:
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def test_run_serves_the_three_modules_and_runs_the_script_as_main():
    proc = subprocess.run([sys.executable, "-m", "rpc_client.run", str(PROGRAMS / "hooked.py"), "3", "--x"],
                          env=_env(), cwd="/", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr  # the script's own exit code
    got = _last_json(proc.stdout)
    assert got["name"] == "__main__" and got["argv"] == [str(PROGRAMS / "hooked.py"), "3", "--x"]
    assert got["sibling"] == "beside the script"
    assert (got["xttrader"], got["xtdata"], got["xtdatacenter"]) == \
        ("rpc_client.xttrader", "rpc_client.xtdata", "rpc_client.xtdatacenter")
    assert got["listen"] == ["0.0.0.0", 58610] and got["xttype_is_real"]
    assert got["strategy"] == "hooked"  # named after the script, not the session id
    # nothing written into site-packages: xtquant's own files are where they were
    spec = importlib.util.find_spec("xtquant.xttrader")
    assert spec is not None and spec.origin.endswith(os.path.join("xtquant", "xttrader.py"))


def test_run_a_module_and_the_usage_errors(capsys):
    proc = subprocess.run([sys.executable, "-m", "rpc_client.run", "--strategy", "demo", "-m", "pkgdemo", "a"],
                          env=_env(), cwd=str(PROGRAMS), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "module rpc_client.xttrader demo ['a']" in proc.stdout
    for argv, words in ([[], "usage"], [["missing.py"], "no such script"], [["--bogus", "x.py"], "unknown option"]):
        assert run.main(argv) == 2
        assert words in capsys.readouterr().err, argv
    assert not xthook.is_installed()  # refused before anything was installed


def test_hub_run_xt_is_the_same_command(monkeypatch):
    from typer.testing import CliRunner

    from hub.cli import app

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 4)
    result = CliRunner().invoke(app, ["run-xt", "--strategy", "from-cli", "--rpc", "tcp://127.0.0.1:7001",
                                      str(PROGRAMS / "hooked.py"), "0", "--its-own"])
    assert result.exit_code == 4, result.output  # the program's exit code
    ((cmd, env),) = calls
    assert cmd == [sys.executable, "-m", "rpc_client.run", str(PROGRAMS / "hooked.py"), "0", "--its-own"]
    assert env["QMT_HUB_STRATEGY"] == "from-cli" and env["QMT_HUB"] == "tcp://127.0.0.1:7001"


def test_the_hook_in_process_serves_and_uninstalls():
    import xtquant  # noqa: F401 - the real package

    assert not xthook.is_installed()
    xthook.install()
    try:
        import xtquant.xtdatacenter as dc

        assert dc.__served_by__ == "rpc_client.xtdatacenter"
        dc.set_token("t")
        dc.init(False)
        with pytest.raises(AttributeError, match="not served by the hub"):
            dc.some_function_nobody_serves
    finally:
        xthook.uninstall()
    assert not xthook.is_installed() and "xtquant.xtdatacenter" not in sys.modules
