"""`hub start` as a real process, `hub status`, and the qmt broker on a machine without MiniQMT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from core_helpers import free_port

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_UNREACHABLE


def run(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout)


def test_status_against_nothing_exits_3():
    rpc = f"tcp://127.0.0.1:{free_port()}"
    r = run("status", "--rpc", rpc, "--timeout", "0.5")
    assert r.returncode == EXIT_UNREACHABLE
    assert rpc in r.stderr and "Traceback" not in r.stderr


def test_status_finds_the_hub_named_by_QMT_HUB(tmp_path):
    """`hub status` resolves its endpoint as every other command does: --rpc, else $QMT_HUB (it used to ask
    tcp://127.0.0.1:5555 whatever the environment said)."""
    from hub.config import HubConfig
    from hub.core import HubServer

    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    cfg = HubConfig.from_dict({"rpc": rpc, "pub": pub, "data_dir": tmp_path / "d", "sim": {"auto_tick": False}})
    with HubServer(cfg):
        env = {**os.environ, "QMT_HUB": rpc, "QMT_HUB_PUB": pub}
        r = subprocess.run([sys.executable, "-m", "hub", "status", "--json", "--timeout", "5"], capture_output=True,
                           text=True, timeout=30, env=env)
    assert r.returncode == EXIT_OK, (r.stdout, r.stderr)
    assert json.loads(r.stdout)["endpoints"] == {"rpc": rpc, "pub": pub}


def test_start_subprocess_then_status_then_sigterm(tmp_path):
    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "hub", "start", "--rpc", rpc, "--pub", pub,
                             "--data-dir", str(tmp_path / "d"), "--log-level", "WARNING"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            r = run("status", "--rpc", rpc, "--timeout", "1", "--json")
            if r.returncode == EXIT_OK or time.monotonic() > deadline or proc.poll() is not None:
                break
        assert r.returncode == EXIT_OK, (r.stdout, r.stderr, proc.poll())
        st = json.loads(r.stdout)
        assert st["endpoints"] == {"rpc": rpc, "pub": pub} and st["broker"]["state"] == "up"
        text = run("status", "--rpc", rpc)
        assert text.returncode == EXIT_OK and "SIM0001" in text.stdout
    finally:
        if os.name == "posix":
            proc.send_signal(signal.SIGTERM)
        else:  # pragma: no cover
            proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert rpc in out and "admin.token" in out and "SIM0001" in out
    if os.name == "posix":
        assert proc.returncode == 0 and "stopped" in out, (out, err)
        assert "Traceback" not in err


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        if os.name == "posix":
            proc.send_signal(signal.SIGTERM)
        else:  # pragma: no cover
            proc.terminate()
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate(timeout=5)


def test_start_before_the_simulator_then_the_simulator_then_an_order(tmp_path):
    """The stand-in for MiniQMT not running at boot: `hub start --sim-endpoint` with no `hub sim` there
    starts, serves (BROKER_DOWN, with the reason in `hub status`), and connects once `hub sim` is up."""
    from rpc_client import RpcGateway
    from rpc_client.protocol import ErrorCode, HubError

    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    sim_ep = f"tcp://127.0.0.1:{free_port()}"
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'rpc = "{rpc}"\npub = "{pub}"\ndata_dir = "{(tmp_path / "d").as_posix()}"\n'
                   f'sim_endpoint = "{sim_ep}"\nreconnect_interval = 0.3\nlog_level = "WARNING"\n', encoding="utf-8")
    hub = subprocess.Popen([sys.executable, "-m", "hub", "start", "--config", str(cfg)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sim = None
    try:
        deadline = time.monotonic() + 30
        while True:
            r = run("status", "--rpc", rpc, "--pub", pub, "--timeout", "1", "--json")
            if r.returncode == EXIT_OK or time.monotonic() > deadline or hub.poll() is not None:
                break
        assert r.returncode == EXIT_OK, (r.stdout, r.stderr, hub.poll())
        broker = json.loads(r.stdout)["broker"]
        assert broker["state"] in ("down", "reconnecting") and sim_ep in broker["reason"], broker
        text = run("status", "--rpc", rpc, "--pub", pub)
        assert "not connected since start" in text.stdout or "attempt" in text.stdout, text.stdout
        with RpcGateway(rpc, pub, timeout=5) as gw:
            gw.connect(strategy="early")
            try:
                gw.order_stock("600000.SH", 23, 100, 11, 10.5)
                raise AssertionError("an order was accepted with no broker")
            except HubError as exc:
                assert exc.code == ErrorCode.BROKER_DOWN and sim_ep in exc.message
            try:
                gw.query_stock_positions()
                raise AssertionError("positions were answered with no broker")
            except HubError as exc:
                assert exc.code == ErrorCode.BROKER_DOWN
            sim = subprocess.Popen([sys.executable, "-m", "hub", "sim", "--path", str(tmp_path / "terminal"),
                                    "--endpoint", sim_ep, "--config", json.dumps({"auto_tick": False})],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 30
            while gw.status()["broker"]["state"] != "up" and time.monotonic() < deadline and sim.poll() is None:
                time.sleep(0.1)
            assert gw.status()["broker"] == {**gw.status()["broker"], "state": "up", "reason": "connected"}
            assert gw.order_stock("600000.SH", 23, 100, 11, 10.5) > 0
            assert isinstance(gw.query_stock_positions(), list)
    finally:
        out, err = _stop(hub)
        if sim is not None:
            _stop(sim)
    assert "broker  down:" in out and "BROKER_DOWN until it connects" in out, out
    assert "Traceback" not in err, err


def test_port_in_use_is_a_clear_error(tmp_path):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = run("start", "--rpc", f"tcp://127.0.0.1:{port}", "--pub", f"tcp://127.0.0.1:{free_port()}",
                "--data-dir", str(tmp_path / "d"))
    finally:
        blocker.close()
    assert r.returncode == EXIT_CALL_FAILED
    assert "in use" in r.stderr and str(port) in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="MiniQMT may be installed on Windows")
def test_qmt_broker_without_miniqmt_says_so(tmp_path):
    r = run("start", "--broker", "qmt", "--qmt-path", "/no/such/userdata_mini", "--account", "12345",
            "--rpc", f"tcp://127.0.0.1:{free_port()}", "--pub", f"tcp://127.0.0.1:{free_port()}",
            "--data-dir", str(tmp_path / "d"))
    assert r.returncode != 0
    assert "/no/such/userdata_mini" in r.stderr and "MiniQMT" in r.stderr and "极简模式" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_bad_config_key_is_a_usage_error(tmp_path):
    cfg = tmp_path / "hub.toml"
    cfg.write_text('broker = "sim"\nrpc_endpoint = "tcp://127.0.0.1:1"\n')
    r = run("start", "--config", str(cfg))
    assert r.returncode == 2 and "rpc_endpoint" in r.stderr and "Traceback" not in r.stderr


def test_status_warns_while_next_year_is_not_in_the_trading_calendar(tmp_path, monkeypatch):
    """From November on `hub status` says (text and --json) that next year's holidays are missing, until the
    holidays file (or a newer exchange-calendars) covers it; quiet once it does."""
    from datetime import date, datetime
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.cli.calendar import calendar_for
    from hub.config import HubConfig
    from hub.core import HubServer
    from rpc_client import calendar as cal

    data = tmp_path / "d"
    data.mkdir()
    last = cal.PackageSource().span().last
    assert calendar_for(data).is_trading_day(date(last.year, 11, 2)) in (True, False)  # the cache a runner leaves
    monkeypatch.setattr(cal, "now", lambda: datetime(last.year, 11, 16, 10, 0, tzinfo=cal.SHANGHAI))
    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    cfg = HubConfig.from_dict({"rpc": rpc, "pub": pub, "data_dir": data, "sim": {"auto_tick": False}})
    with HubServer(cfg):
        text = CliRunner().invoke(app, ["status", "--rpc", rpc, "--pub", pub, "--timeout", "5"])
        as_json = CliRunner().invoke(app, ["status", "--rpc", rpc, "--pub", pub, "--timeout", "5", "--json"])
        (data / "holidays.toml").write_text(f"[closed]\n{last.year + 1} = [{last.year + 1}-01-01]\n", encoding="utf-8")
        covered = CliRunner().invoke(app, ["status", "--rpc", rpc, "--pub", pub, "--timeout", "5", "--json"])
    assert text.exit_code == EXIT_OK, text.output
    assert f"calendar: the trading calendar ends {last.year}-12-31: add {last.year + 1}" in text.output
    assert json.loads(as_json.output)["calendar_warning"].startswith(f"the trading calendar ends {last.year}-12-31")
    assert covered.exit_code == EXIT_OK and "calendar_warning" not in json.loads(covered.output), covered.output
