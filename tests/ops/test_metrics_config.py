"""`[metrics] listen`: loopback unless `allow_remote = true` (the endpoint has no authentication), refused at
config load with the key named, and by `hub start` as a usage error before anything listens."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hub.config import ConfigError, HubConfig
from hub.observe.metrics_config import MetricsConfig


def _toml(tmp_path, metrics: str):
    path = tmp_path / "hub.toml"
    path.write_text(f'data_dir = "{(tmp_path / "d").as_posix()}"\n[metrics]\n{metrics}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("listen", ["0.0.0.0:9108", "192.168.1.5:9108", "[::]:9108", "hub-pc:9108"])
def test_a_non_loopback_metrics_listen_is_refused_naming_the_key(tmp_path, listen):
    with pytest.raises(ConfigError) as info:
        HubConfig.load(_toml(tmp_path, f'listen = "{listen}"'))
    message = str(info.value)
    assert f"[metrics].listen {listen} is not a loopback address" in message, message
    assert "allow_remote = true" in message and "hub.toml" in message  # the key to set, and the file
    with pytest.raises(ConfigError, match=r"\[metrics\]\.listen .* not a loopback"):
        HubConfig.load(_toml(tmp_path, f'listen = "{listen}"\nallow_remote = false'))


def test_allow_remote_or_a_loopback_address_is_accepted(tmp_path):
    cfg = HubConfig.load(_toml(tmp_path, 'listen = "0.0.0.0:9108"\nallow_remote = true'))
    parsed = MetricsConfig.parse(cfg.metrics)
    assert (parsed.listen, parsed.allow_remote, parsed.enabled) == ("0.0.0.0:9108", True, True)
    for loopback in ("127.0.0.1:9108", "localhost:9108", "[::1]:9108"):
        parsed = MetricsConfig.parse(HubConfig.load(_toml(tmp_path, f'listen = "{loopback}"')).metrics)
        assert (parsed.listen, parsed.allow_remote) == (loopback, False)
    assert not MetricsConfig.parse(HubConfig.load(_toml(tmp_path, "")).metrics).enabled  # off by default
    with pytest.raises(ConfigError, match=r"\[metrics\]\.allow_remote must be true or false"):
        HubConfig.load(_toml(tmp_path, 'listen = "0.0.0.0:9108"\nallow_remote = "yes"'))


def test_hub_start_refuses_a_remote_metrics_listen_as_a_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hub", "start", "--config",
                        str(_toml(tmp_path, 'listen = "0.0.0.0:9108"'))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "[metrics].listen 0.0.0.0:9108 is not a loopback address" in r.stderr and "allow_remote" in r.stderr
    assert "Traceback" not in r.stderr and "running" not in r.stdout  # refused before the hub started
