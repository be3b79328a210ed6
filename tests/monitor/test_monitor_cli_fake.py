"""CLI messages and exit codes, and the feed's reconnect logic, against a fake hub link."""

from __future__ import annotations

import json

import pytest
from monitor_fakehub import FakeHub
from typer.testing import CliRunner

from hub.cli import app, common
from hub.monitor.feed import Feed
from hub.monitor.render import render_dashboard
from hub.monitor.state import MonitorState

runner = CliRunner()


@pytest.fixture
def hub(monkeypatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(common, "make_link", fake.link)
    monkeypatch.delenv("QMT_HUB", raising=False)
    monkeypatch.delenv("QMT_HUB_TOKEN", raising=False)
    monkeypatch.delenv("QMT_HUB_PUB", raising=False)
    return fake


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_unreachable_hub_exits_3_and_names_the_address(hub):
    hub.up = False
    r = invoke("clients", "--rpc", "tcp://10.1.2.3:7000", "--timeout", "0.5")
    assert r.exit_code == 3
    assert "hub unreachable" in r.output and "tcp://10.1.2.3:7000" in r.output and "0.5s" in r.output
    assert "hub start" in r.output


def test_env_names_the_hub(hub, monkeypatch):
    monkeypatch.setenv("QMT_HUB", "tcp://127.0.0.1:6000")
    assert invoke("asset").exit_code == 0
    assert hub.links[-1].rpc == "tcp://127.0.0.1:6000"


def test_usage_error_exits_2(hub):
    assert invoke("orders", "--bogus").exit_code == 2
    assert invoke("orders", "--lang", "fr").exit_code == 2


def test_orders_json_and_table(hub):
    hub.results["query_stock_orders"] = [
        {"order_id": 7, "owner": "alpha", "stock_code": "600000.SH", "order_type": 23, "order_volume": 100,
         "traded_volume": 0, "price": 10.0, "order_status": 57, "status_msg": "资金不足", "order_time": 100},
        {"order_id": 8, "owner": "beta", "stock_code": "600000.SH", "order_type": 24, "order_volume": 200,
         "traded_volume": 0, "price": 10.5, "order_status": 50, "order_time": 200},
    ]
    r = invoke("orders", "--json", "--strategy", "alpha")
    assert r.exit_code == 0, r.output
    assert hub.calls[-1] == ("monitor", "query_stock_orders", {"strategy": "alpha"})
    r = runner.invoke(app, ["orders", "--lang", "en"], env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    assert "rejected" in r.output and "资金不足" in r.output and "reported" in r.output
    r = invoke("orders", "--open", "--json")
    assert [o["order_id"] for o in json.loads(r.output)] == [8]


def test_admin_action_reads_the_token_file(hub, tmp_path):
    (tmp_path / "admin.token").write_text("s3cret\n")
    r = invoke("halt", "--strategy", "alpha", "--cancel-open", "--data-dir", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "halted alpha" in r.output and "cancelled 2" in r.output
    assert hub.calls[-1] == ("admin", "halt", {"strategy": "alpha", "cancel_open": True})


def test_missing_token_is_a_usage_error(hub, tmp_path):
    r = invoke("resume", "--data-dir", str(tmp_path))
    assert r.exit_code == 2 and "admin.token" in r.output


def test_wrong_token_is_refused_with_exit_1(hub):
    r = invoke("cancel-all", "--token", "nope")
    assert r.exit_code == 1 and "FORBIDDEN" in r.output and "admin token" in r.output


def test_feed_shows_unreachable_and_recovers():
    hub = FakeHub()
    state = MonitorState(rpc="tcp://127.0.0.1:5555")
    feed = Feed(state, lambda: hub.link("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556"), retry_every=1.0)
    feed.step(100.0)
    assert state.connected and state.hub_id == "h-1" and "alpha" in state.clients
    hub.up = False
    feed.step(102.0)
    assert not state.connected
    text = _text(state, 103.0)
    assert "HUB UNREACHABLE" in text and "alpha" in text
    hub.up = True
    hub.results["status"] = dict(hub.results["status"], hub_id="h-2")
    feed.step(104.0)
    assert state.connected and state.hub_id == "h-2"
    assert any("hub restarted" in e.text for e in state.log)


def test_feed_keeps_trying_when_the_hub_is_not_there_at_start():
    hub = FakeHub()
    hub.up = False
    state = MonitorState(rpc="tcp://127.0.0.1:5555")
    feed = Feed(state, lambda: hub.link("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556"), retry_every=1.0)
    feed.step(100.0)
    assert not state.connected and feed.link is None
    hub.up = True
    feed.step(100.5)  # too early to retry
    assert feed.link is None
    feed.step(101.5)
    assert state.connected and state.asset["total_asset"] == 1e6


def _text(state: MonitorState, now: float) -> str:
    from rich.console import Console
    c = Console(record=True, width=100, height=30, color_system=None)
    c.print(render_dashboard(state, now=now, width=100, height=30))
    return c.export_text()


def test_malformed_endpoint_is_a_usage_error(hub):
    r = invoke("clients", "--rpc", "localhost:5555")
    assert r.exit_code == 2 and "bad endpoint" in r.output


def test_pub_follows_rpc_unless_given(hub, monkeypatch):
    assert invoke("asset", "--rpc", "tcp://10.0.0.5:7000").exit_code == 0
    assert hub.links[-1].pub == "tcp://10.0.0.5:7001"
    monkeypatch.setenv("QMT_HUB_PUB", "tcp://10.0.0.5:9999")
    assert invoke("asset", "--rpc", "tcp://10.0.0.5:7000").exit_code == 0
    assert hub.links[-1].pub == "tcp://10.0.0.5:9999"


def test_monitor_once_prints_a_frame(hub):
    r = invoke("monitor", "--once", "--width", "80", "--height", "24", "--lang", "en")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "qmt-hub" in lines[0] and "BROKER UP" in lines[1] and any(" alpha " in line for line in lines)
    assert len(lines) <= 24


def test_monitor_once_unreachable_exits_3(hub):
    hub.up = False
    r = invoke("monitor", "--once", "--width", "80", "--height", "24")
    assert r.exit_code == 3 and "HUB UNREACHABLE" in r.output
