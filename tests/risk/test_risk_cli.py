"""hub sleeves / allot / transfer / limits set / reconcile / status through the CLI against a running hub."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hub.cli import app

CODE = "600000.SH"
runner = CliRunner()


def cli(server, *args: str, admin: bool = False):
    where = ["--rpc", server.config.rpc, "--pub", server.config.pub, "--timeout", "3"]
    if admin:
        where += ["--data-dir", str(server.config.data_dir)]
    return runner.invoke(app, [*args, *where], env={"COLUMNS": "160"})


def test_allot_transfer_limits_sleeves_reconcile_and_status(make_hub, connect):
    hub = make_hub()
    r = cli(hub, "allot", "alpha", "--cash", "300000", admin=True)
    assert r.exit_code == 0, r.output
    assert "allotted 300,000.00 CNY to alpha" in r.output
    r = cli(hub, "allot", "alpha", "--code", CODE, "--volume", "1000", admin=True)
    assert r.exit_code == 0, r.output
    r = cli(hub, "allot", "beta", "--cash", "5000000", admin=True)
    assert r.exit_code == 1 and "700,000.00 free cash" in r.output and "5,000,000.00" in r.output
    r = cli(hub, "allot", "beta", "--cash", "1")  # no admin token: a usage error
    assert r.exit_code == 2
    r = cli(hub, "transfer", "--from", "alpha", "--to", "beta", "--code", CODE, "--volume", "400", admin=True)
    assert r.exit_code == 0 and "moved 400 600000.SH from alpha to beta" in r.output
    r = cli(hub, "limits", "set", "alpha", "max_order_volume=500", "symbols_block=000001.SZ", admin=True)
    assert r.exit_code == 0 and "max_order_volume=500" in r.output
    r = cli(hub, "limits", "set", "alpha", "max_ordr_volume=5", admin=True)
    assert r.exit_code == 2 and "unknown limit" in r.output
    r = cli(hub, "sleeves", "--json")
    assert r.exit_code == 0, r.output
    rows = {s["strategy"]: s for s in json.loads(r.output)}
    assert rows["alpha"]["cash"] == 300000.0 and rows["alpha"]["limits"]["max_order_volume"] == 500
    assert [(p["stock_code"], p["volume"]) for p in rows["beta"]["positions"]] == [(CODE, 400)]
    assert rows["_external"]["cash"] == 700000.0 and rows["_external"]["positions"][0]["volume"] == 4000
    r = cli(hub, "sleeves")
    assert r.exit_code == 0 and "pool (_external)" in r.output and "alpha" in r.output
    r = cli(hub, "reconcile", "--json", admin=True)
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    alpha = connect(hub, "alpha")
    assert alpha.error("order_stock", {"stock_code": CODE, "order_type": 24, "order_volume": 600, "price_type": 11,
                                       "price": 10.9})["data"]["check"] == "max_order_volume"
    r = cli(hub, "status")
    assert r.exit_code == 0, r.output
    assert "risk      trading on" in r.output and "guard     " in r.output and "reconcile ok" in r.output
    assert "refused   max_order_volume 1" in r.output
