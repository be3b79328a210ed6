"""Operator actions end to end through the CLI against a real hub: halt, resume, cancel-all, refusals."""

from __future__ import annotations

import json

import pytest
from monitor_helpers import exchange_of, wait_until
from typer.testing import CliRunner

from hub.cli import app
from rpc_client import HubError

BUY, FIX_PRICE = 23, 11
runner = CliRunner()


def cli(server, *args: str, env: dict | None = None):
    where = ["--rpc", server.config.rpc, "--pub", server.config.pub, "--timeout", "3"]
    return runner.invoke(app, [*args, *where], env={"COLUMNS": "140", **(env or {})})


@pytest.fixture
def desk(live_hub, gateways):
    rpc, pub = live_hub.config.rpc, live_hub.config.pub
    exchange_of(live_hub).set_book("600000.SH", last=10.0, ask=[(10.0, 100_000)], bid=[(9.99, 100_000)])
    alpha, beta = gateways(rpc, pub, "alpha"), gateways(rpc, pub, "beta")
    return live_hub, alpha, beta


def open_orders(server, strategy: str) -> list[dict]:
    r = cli(server, "orders", "--strategy", strategy, "--open", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_halt_one_strategy_then_resume(desk):
    server, alpha, beta = desk
    r = cli(server, "halt", "--strategy", "beta", "--reason", "too many rejects",
            "--data-dir", str(server.config.data_dir))
    assert r.exit_code == 0, r.output
    assert "halted beta" in r.output
    with pytest.raises(HubError) as refused:
        beta.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)
    assert refused.value.code == "HALTED" and "too many rejects" in refused.value.message
    assert alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5) > 0  # the others trade on

    r = cli(server, "clients")
    assert r.exit_code == 0, r.output
    beta_row = next(line for line in r.output.splitlines() if line.strip().startswith("beta"))
    assert "HALTED too many rejects" in beta_row

    r = cli(server, "resume", "--strategy", "beta", "--data-dir", str(server.config.data_dir))
    assert r.exit_code == 0 and "resumed beta" in r.output
    assert beta.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5) > 0


def test_halt_all_with_cancel_open(desk):
    server, alpha, beta = desk
    alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)
    beta.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.4)
    assert len(open_orders(server, "alpha")) == 1 and len(open_orders(server, "beta")) == 1
    r = cli(server, "halt", "--cancel-open", "--token", server.token)
    assert r.exit_code == 0, r.output
    assert "halted all strategies" in r.output and "cancelled 2 open order(s)" in r.output
    wait_until(lambda: not open_orders(server, "alpha") and not open_orders(server, "beta"), what="cancels")
    for gw in (alpha, beta):
        with pytest.raises(HubError) as refused:
            gw.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)
        assert refused.value.code == "HALTED"
    r = cli(server, "orders", "--lang", "en")
    assert r.exit_code == 0 and "cancelled" in r.output
    assert cli(server, "resume", "--token", server.token).exit_code == 0
    assert alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5) > 0


def test_cancel_all_for_one_strategy(desk):
    server, alpha, beta = desk
    a1 = alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)
    alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.6)
    b1 = beta.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)
    r = cli(server, "cancel-all", "--strategy", "alpha", "--token", server.token)
    assert r.exit_code == 0, r.output
    assert "2 open order(s) of alpha" in r.output
    wait_until(lambda: not open_orders(server, "alpha"), what="alpha's cancels")
    assert [o["order_id"] for o in open_orders(server, "beta")] == [b1]
    r = cli(server, "orders", "--strategy", "alpha")
    line = next(line for line in r.output.splitlines() if f" {a1} " in line)
    assert "已撤" in line


def test_non_admin_callers_are_refused(desk, gateways):
    server, alpha, beta = desk
    r = cli(server, "halt", "--token", "not-the-token")
    assert r.exit_code == 1
    assert "FORBIDDEN" in r.output and "admin token" in r.output
    monitor = gateways(server.config.rpc, server.config.pub, "watcher", role="monitor")
    with pytest.raises(HubError) as refused:
        monitor.call("halt")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(HubError) as refused:
        alpha.call("cancel_all")
    assert refused.value.code == "FORBIDDEN"
    assert beta.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5) > 0  # nothing was halted


def test_missing_token_file_is_a_usage_error(desk, tmp_path):
    server = desk[0]
    r = cli(server, "cancel-all", "--data-dir", str(tmp_path / "elsewhere"))
    assert r.exit_code == 2 and "admin.token" in r.output


def test_read_only_commands(desk):
    server, alpha, _ = desk
    alpha.order_stock("600000.SH", BUY, 200, FIX_PRICE, 10.0)  # fills against the pinned book
    wait_until(lambda: json.loads(cli(server, "trades", "--json").output), what="the fill")
    r = cli(server, "positions")
    assert r.exit_code == 0 and "600000.SH" in r.output and "200" in r.output
    r = cli(server, "asset", "--json")
    asset = json.loads(r.output)
    assert r.exit_code == 0 and asset["account_id"] == "SIM0001" and asset["market_value"] > 0
    r = cli(server, "asset")
    assert "total asset" in r.output and "SIM0001" in r.output
    r = cli(server, "trades")
    assert "alpha" in r.output and "买入" in r.output
    r = cli(server, "clients", "--json")
    assert {c["strategy"] for c in json.loads(r.output)} >= {"alpha", "beta"}


def test_unreachable_hub_exits_3(endpoints):
    rpc, pub = endpoints  # nothing listens there
    r = runner.invoke(app, ["clients", "--rpc", rpc, "--pub", pub, "--timeout", "0.5"])
    assert r.exit_code == 3
    assert rpc in r.output and "hub start" in r.output
