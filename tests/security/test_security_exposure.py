"""Safe by default: no non-loopback endpoint without CurveZMQ, unless the operator says so out loud.

Nothing here listens beyond 127.0.0.1: the refusals happen before any socket is opened, and
`allow_insecure_remote` is checked through the configuration, not by binding 0.0.0.0.
"""

from __future__ import annotations

import pytest

from security_helpers import free_port, loopback_endpoints, run_hub_cli

from hub import security
from hub.cli import EXIT_OK, EXIT_USAGE
from hub.cli.start import _fmt_status
from hub.config import ConfigError, HubConfig
from hub.core import HubServer, HubStartError

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("endpoint, loopback", [
    ("tcp://127.0.0.1:5555", True), ("tcp://127.1.2.3:5555", True), ("tcp://localhost:5555", True),
    ("tcp://LOCALHOST:5555", True), ("tcp://[::1]:5555", True), ("tcp://::1:5555", True),
    ("tcp://0.0.0.0:5555", False), ("tcp://*:5555", False), ("tcp://192.168.1.5:5555", False),
    ("tcp://[::]:5555", False), ("tcp://eth0:5555", False), ("tcp://myhost.lan:5555", False),
    ("tcp://10.0.0.1:*", False), ("garbage", False),
])
def test_loopback_classification(endpoint, loopback):
    assert security.is_loopback_endpoint(endpoint) is loopback


def test_defaults_are_loopback_and_valid():
    cfg = HubConfig.from_dict({})
    assert not security.remote_endpoints(cfg) and security.exposure_problem(cfg) is None
    assert security.summary(cfg) == {"curve": False, "curve_dir": None, "authorized_clients": None, "remote": False,
                                     "allow_insecure_remote": False, "warning": ""}


@pytest.mark.parametrize("key", ["rpc", "pub"])
def test_non_loopback_refused_without_curve(key):
    with pytest.raises(ConfigError) as info:
        HubConfig.from_dict({key: "tcp://0.0.0.0:5999"})
    msg = str(info.value)
    # what was refused, why, and the two ways to proceed
    assert "refusing to listen on tcp://0.0.0.0:5999" in msg and f"({key})" in msg
    assert "not a loopback address" in msg and "place and cancel orders" in msg
    assert "curve = true" in msg and "hub keys init" in msg and "allow_insecure_remote = true" in msg


def test_non_loopback_accepted_with_curve():
    cfg = HubConfig.from_dict({"rpc": "tcp://0.0.0.0:5999", "pub": "tcp://*:6000", "curve": True})
    assert security.exposure_problem(cfg) is None and security.insecure_warning(cfg) == ""
    assert security.summary(cfg, 2)["curve"] is True and security.summary(cfg, 2)["authorized_clients"] == 2


def test_allow_insecure_remote_accepted_with_a_loud_warning():
    cfg = HubConfig.from_dict({"rpc": "tcp://0.0.0.0:5999", "allow_insecure_remote": True})
    warning = security.insecure_warning(cfg)
    assert warning.startswith("INSECURE") and "tcp://0.0.0.0:5999" in warning and "clear text" in warning
    sec = security.summary(cfg)
    assert sec["remote"] and sec["allow_insecure_remote"] and sec["warning"] == warning
    # ... and `hub status` shows it
    text = _fmt_status({"hub_id": "h", "uptime": 1, "security": sec})
    assert "WARNING   INSECURE" in text and "NO encryption, NO authentication" in text


def test_a_flag_can_complete_a_file(tmp_path):
    """rpc in the file, --curve on the command line: the exposure rule judges the merged result."""
    path = tmp_path / "hub.toml"
    path.write_text('rpc = "tcp://0.0.0.0:5999"\n', encoding="utf-8")
    assert HubConfig.load(path, {"curve": True}).curve
    with pytest.raises(ConfigError, match="refusing to listen"):
        HubConfig.load(path, {"log_level": "DEBUG"})
    with pytest.raises(ConfigError, match="refusing to listen"):
        HubConfig.load(path)
    assert HubConfig.load(path, check_exposure=False).rpc == "tcp://0.0.0.0:5999"  # `hub keys` reads paths only


def test_server_refuses_before_opening_any_socket(tmp_path):
    """A config built without validation still cannot expose the hub: the server checks first."""
    port = free_port()
    cfg = HubConfig(rpc=f"tcp://0.0.0.0:{port}", pub=f"tcp://127.0.0.1:{free_port()}", data_dir=tmp_path / "d")
    server = HubServer(cfg)
    with pytest.raises(HubStartError, match="refusing to listen"):
        server.start()
    assert server.wait(5)
    assert not hasattr(server, "router") and not (tmp_path / "d").exists()  # refused before anything was made


def test_hub_start_refuses_a_non_loopback_bind(tmp_path):
    port = free_port()
    r = run_hub_cli("start", "--rpc", f"tcp://0.0.0.0:{port}", "--pub", f"tcp://127.0.0.1:{free_port()}",
                    "--data-dir", str(tmp_path / "d"))
    assert r.returncode == EXIT_USAGE, (r.stdout, r.stderr)
    assert f"refusing to listen on tcp://0.0.0.0:{port}" in r.stderr
    assert "--curve" in r.stderr and "--allow-insecure-remote" in r.stderr and "Traceback" not in r.stderr
    assert "running" not in r.stdout


def test_hub_start_curve_without_keys_is_a_usage_error(tmp_path):
    rpc, pub = loopback_endpoints()
    r = run_hub_cli("start", "--curve", "--rpc", rpc, "--pub", pub, "--data-dir", str(tmp_path / "d"))
    assert r.returncode == EXIT_USAGE, (r.stdout, r.stderr)
    assert "server.key_secret is missing" in r.stderr and "hub keys init" in r.stderr


def test_loopback_hub_with_allow_insecure_remote_reports_its_access(tmp_path):
    """On loopback the setting changes nothing; status says so (and no warning)."""
    rpc, pub = loopback_endpoints()
    cfg = HubConfig.from_dict({"rpc": rpc, "pub": pub, "data_dir": tmp_path / "d", "allow_insecure_remote": True,
                               "sim": {"auto_tick": False}})
    with HubServer(cfg) as server:
        from raw_hub import call_hub

        reply = call_hub(rpc, "status", timeout=5)
        assert reply is not None and reply["ok"], reply
        sec = reply["result"]["security"]
        assert sec == {"curve": False, "curve_dir": None, "authorized_clients": None, "remote": False,
                       "allow_insecure_remote": True, "warning": ""}
        assert "loopback only" in _fmt_status(reply["result"])
        assert server.running
    r = run_hub_cli("status", "--rpc", rpc, "--timeout", "0.3")
    assert r.returncode != EXIT_OK  # stopped
