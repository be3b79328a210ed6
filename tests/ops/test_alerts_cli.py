"""`hub alerts test`: one message to each target; exit 1 naming the target that did not take it."""

from __future__ import annotations

import subprocess
import sys

from webhook_server import WebhookServer


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60)


def test_alerts_test_sends_to_every_target_and_reports_failures(tmp_path):
    with WebhookServer("wecom") as wecom, WebhookServer("feishu", mode="refuse") as feishu:
        cfg = tmp_path / "hub.toml"
        cfg.write_text(f'''
[alerts]
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
