"""`hub keys init|add-client|list|remove` end to end, and the CLI / monitor reaching a CurveZMQ hub."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from security_helpers import run_hub_cli

from hub import security
from hub.cli import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, app
from rpc_client import CurveKeys, RpcGateway

pytestmark = pytest.mark.timeout(90)
runner = CliRunner()


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


def _owner_only(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_keys_init_add_client_list_remove(tmp_path):
    data = tmp_path / "d"
    curve = data / "curve"
    r = invoke("keys", "init", "--data-dir", str(data))
    assert r.exit_code == EXIT_OK, r.output
    assert (curve / "server.key").is_file() and (curve / "server.key_secret").is_file()
    assert (curve / "authorized").is_dir()
    # again: refused, the key is kept
    before = (curve / "server.key_secret").read_bytes()
    r = invoke("keys", "init", "--data-dir", str(data))
    assert r.exit_code == EXIT_USAGE and "already exists" in r.output
    assert (curve / "server.key_secret").read_bytes() == before

    out = tmp_path / "to-hand-over"
    r = invoke("keys", "add-client", "alpha", "--data-dir", str(data), "--out", str(out))
    assert r.exit_code == EXIT_OK, r.output
    assert sorted(p.name for p in out.iterdir()) == ["alpha.key", "alpha.key_secret", "server.key"]
    assert (curve / "authorized" / "alpha.key").read_bytes() == (out / "alpha.key").read_bytes()
    assert "secret" not in (curve / "authorized" / "alpha.key").read_text()
    r = invoke("keys", "add-client", "beta", "--data-dir", str(data))  # default folder
    assert r.exit_code == EXIT_OK, r.output
    assert (curve / "clients" / "beta" / "beta.key_secret").is_file()
    if os.name == "posix":
        for secret in (curve / "server.key_secret", out / "alpha.key_secret",
                       curve / "clients" / "beta" / "beta.key_secret"):
            assert _owner_only(secret), oct(secret.stat().st_mode)

    # the folder handed out is exactly what a client loads
    keys = CurveKeys.from_dir(out)
    assert keys.name == "alpha" and keys.server_public == security.load_server_keys(curve)[0]
    assert keys.client_secret.decode() not in repr(keys)  # a secret never ends up in a log line

    r = invoke("keys", "list", "--data-dir", str(data))
    assert r.exit_code == EXIT_OK, r.output
    assert "authorised clients: 2" in r.output and "alpha" in r.output and "beta" in r.output
    assert keys.client_public.decode() in r.output and keys.server_public.decode() in r.output

    r = invoke("keys", "remove", "alpha", "--data-dir", str(data))
    assert r.exit_code == EXIT_OK and "Restart the hub" in r.output
    assert not (curve / "authorized" / "alpha.key").exists()
    assert [k.name for k in security.authorized_keys(curve)] == ["beta"]
    r = invoke("keys", "remove", "alpha", "--data-dir", str(data))
    assert r.exit_code == EXIT_USAGE


def test_keys_usage_errors(tmp_path):
    data = tmp_path / "d"
    r = invoke("keys", "add-client", "alpha", "--data-dir", str(data))
    assert r.exit_code == EXIT_USAGE and "hub keys init" in r.output
    assert invoke("keys", "init", "--data-dir", str(data)).exit_code == EXIT_OK
    for bad in ("../evil", "server", "a/b", ""):
        r = invoke("keys", "add-client", bad, "--data-dir", str(data))
        assert r.exit_code == EXIT_USAGE, (bad, r.output)
    assert invoke("keys", "add-client", "alpha", "--data-dir", str(data)).exit_code == EXIT_OK
    r = invoke("keys", "add-client", "alpha", "--data-dir", str(data))
    assert r.exit_code == EXIT_USAGE and "already exists" in r.output
    assert not (tmp_path / "evil.key").exists()


def test_keys_follow_curve_dir_from_the_config(tmp_path):
    keys_dir = tmp_path / "elsewhere"
    cfg = tmp_path / "hub.toml"
    # the exposure rule does not stop key management (keys come before curve = true)
    cfg.write_text(f'rpc = "tcp://0.0.0.0:5999"\ncurve_dir = {json.dumps(str(keys_dir))}\n', encoding="utf-8")
    r = invoke("keys", "init", "--config", str(cfg))
    assert r.exit_code == EXIT_OK, r.output
    assert (keys_dir / "server.key_secret").is_file()


def test_hub_keys_as_a_process(tmp_path):
    data = str(tmp_path / "d")
    assert run_hub_cli("keys", "init", "--data-dir", data).returncode == EXIT_OK
    r = run_hub_cli("keys", "add-client", "gamma", "--data-dir", data)
    assert r.returncode == EXIT_OK, r.stderr
    r = run_hub_cli("keys", "list", "--data-dir", data)
    assert r.returncode == EXIT_OK and "gamma" in r.stdout


def test_cli_and_monitor_reach_a_curve_hub_with_curve_dir(curve_hub, client_dirs):
    cfg = curve_hub.config
    ops = str(client_dirs["ops"])
    # a strategy is connected, so `hub clients` has a row to show
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve_dir=client_dirs["alpha"]) as gw:
        gw.connect(strategy="alpha")
        r = invoke("clients", "--rpc", cfg.rpc, "--pub", cfg.pub, "--curve-dir", ops, "--json")
        assert r.exit_code == EXIT_OK, r.output
        assert "alpha" in [c.get("strategy") for c in json.loads(r.output)]
    # without keys: unreachable (exit 3), with a hint about CurveZMQ
    r = invoke("clients", "--rpc", cfg.rpc, "--pub", cfg.pub, "--timeout", "0.5")
    assert r.exit_code == EXIT_UNREACHABLE and "CurveZMQ" in r.output
    # the environment variable works the same way
    r = invoke("asset", "--rpc", cfg.rpc, "--pub", cfg.pub, "--json", env={"QMT_HUB_CURVE": ops})
    assert r.exit_code == EXIT_OK, r.output
    # a folder without keys is a usage error, not a hang
    r = invoke("clients", "--rpc", cfg.rpc, "--curve-dir", str(client_dirs["ops"].parent / "nope"))
    assert r.exit_code == EXIT_USAGE and "does not exist" in r.output
    # the monitor
    r = invoke("monitor", "--once", "--rpc", cfg.rpc, "--pub", cfg.pub, "--curve-dir", ops, "--width", "120",
               "--height", "30")
    assert r.exit_code == EXIT_OK, r.output
    assert "UNREACHABLE" not in r.output
    # the operator actions (admin token + curve)
    r = invoke("halt", "--rpc", cfg.rpc, "--pub", cfg.pub, "--curve-dir", ops, "--data-dir", str(cfg.data_dir))
    assert r.exit_code == EXIT_OK, r.output
    r = invoke("resume", "--rpc", cfg.rpc, "--pub", cfg.pub, "--curve-dir", ops, "--data-dir", str(cfg.data_dir))
    assert r.exit_code == EXIT_OK, r.output


def test_hub_status_with_curve_dir(curve_hub, client_dirs):
    rpc = curve_hub.config.rpc
    r = run_hub_cli("status", "--rpc", rpc, "--curve-dir", str(client_dirs["ops"]))
    assert r.returncode == EXIT_OK, r.stderr
    assert "CurveZMQ, 2 authorised client key(s)" in r.stdout
    r = run_hub_cli("status", "--rpc", rpc, "--timeout", "0.5")
    assert r.returncode == EXIT_UNREACHABLE and "CurveZMQ" in r.stderr
