"""`hub alerts test`: one message to each target; exit 1 naming the target that did not take it."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys

import pytest

from webhook_server import WebhookServer
from stand_ins import wait_until


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60)


def test_alerts_test_sends_to_every_target_and_reports_failures(tmp_path):
    with WebhookServer("wecom") as wecom, WebhookServer("feishu", mode="refuse") as feishu:
        cfg = tmp_path / "hub.toml"
        cfg.write_text(f'''
[alerts]
daily_summary_at = ""  # the default (15:10 Shanghai) would add a summary when run in its hour
retries = 0
[[alerts.targets]]
kind = "wecom"
url = "{wecom.url}"
name = "ops-room"
events = ["broker_down"]
min_level = "critical"
[[alerts.targets]]
kind = "feishu"
url = "{feishu.url}"
secret = "abc"
''', encoding="utf-8")
        r = _run("alerts", "test", "--config", str(cfg))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "ops-room: sent" in r.stdout and "feishu#2: FAILED (code 19021" in r.stderr
    assert len(wecom.posts) == 1 and "test message" in wecom.texts()[0]  # filters do not hide the test
    assert len(feishu.posts) == 1


def test_a_bad_alerts_section_is_a_usage_error(tmp_path):
    cfg = tmp_path / "hub.toml"
    cfg.write_text('[alerts]\nrepeat = 5\n', encoding="utf-8")
    r = _run("alerts", "test", "--config", str(cfg))
    assert r.returncode == 2 and "unknown key(s) repeat" in r.stderr and "Traceback" not in r.stderr
    r = _run("start", "--config", str(cfg))
    assert r.returncode == 2 and "unknown key(s) repeat" in r.stderr


def _hub_toml(tmp_path, url: str) -> tuple[str, str, object]:
    from webhook_server import free_port

    rpc, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'''rpc = "{rpc}"
pub = "{pub}"
data_dir = "{(tmp_path / "d").as_posix()}"
log_level = "WARNING"
[alerts]
daily_summary_at = ""  # the default (15:10 Shanghai) would add a summary when run in its hour
retries = 0
timeout = 2
[[alerts.targets]]
kind = "webhook"
url = "{url}"
name = "ops"
min_level = "info"
''', encoding="utf-8")
    return rpc, pub, cfg


_wait = functools.partial(wait_until, timeout=30.0)


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM/SIGINT to a child")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_hub_stopped_gracefully_sends_hub_stopping_before_it_exits(tmp_path, sig):
    with WebhookServer("webhook") as hook:
        rpc, pub, cfg = _hub_toml(tmp_path, hook.url)
        proc = subprocess.Popen([sys.executable, "-m", "hub", "start", "--config", str(cfg)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert _wait(lambda: proc.poll() is not None or any(p["body"]["kind"] == "hub_started"
                                                                  for p in hook.posts)), "no hub_started"
            assert proc.poll() is None, proc.communicate(timeout=5)
            proc.send_signal(getattr(signal, sig))
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
        # read at once, the process gone: the message was taken by the target before the process exited
        with hook.lock:
            bodies = [p["body"] for p in hook.posts]
    assert proc.returncode == 0, (out, err)
    assert [b["kind"] for b in bodies] == ["hub_started", "hub_stopping"], bodies
    stopping = bodies[1]
    assert stopping["level"] == "warning" and stopping["title"] == "hub stopping"
    assert stopping["account"] == "SIM0001" and "qmt-hub for account SIM0001 is stopping" in stopping["text"]
    assert out.index("stopping...") < out.index("stopped.") and "Traceback" not in err


def test_hub_status_shows_the_failed_alert_sends(tmp_path):
    """A target that refuses (HTTP 500): the hub_started alert fails, and `hub status` says so in its text."""
    from hub.alerts.config import AlertsConfig
    from hub.config import HubConfig
    from hub.core import HubServer
    from hub.observe.metrics_config import MetricsConfig
    from hub.observe.run import start_observers
    from webhook_server import free_port

    with WebhookServer("webhook", mode="error") as refusing:
        cfg = HubConfig.from_dict({"rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
                                   "data_dir": tmp_path / "hub"})
        server = HubServer(cfg).start()
        obs = None
        try:
            obs = start_observers(cfg.rpc, cfg.pub, AlertsConfig.parse({"targets": [
                {"kind": "webhook", "url": refusing.url, "name": "phone", "min_level": "info"}], "retries": 0,
                "timeout": 2, "daily_summary_at": ""}), MetricsConfig.parse({}), account=server.account_id, status_every=0.3)
            server.status_sources["observe"] = obs.counters
            assert _wait(lambda: obs.sender.counters()["failed"] == 1)
            assert obs.sender.wait_idle(10)
            r = _run("status", "--rpc", cfg.rpc, "--pub", cfg.pub, "--timeout", "5")
        finally:
            if obs is not None:
                obs.stop(stopping_alert=False)
            server.stop()
            server.wait(10)
        assert len(refusing.posts) == 1  # hub_started, refused
    assert r.returncode == 0, (r.stdout, r.stderr)
    [line] = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("alerts")]
    assert line.split() == ["alerts", "sent", "0,", "FAILED", "1,", "suppressed", "0,", "repeats", "0;",
                            "phone:", "HTTP", "500"], line
