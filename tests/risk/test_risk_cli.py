"""hub sleeves / allot / transfer / limits set / reconcile / status through the CLI against a running hub."""

from __future__ import annotations

import json

import pytest

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



def test_status_names_a_reconciliation_difference_found_after_a_reconnect(make_hub, connect):
    from risk_helpers import reconnect_with_a_difference

    hub = make_hub(strategies={"alpha": {"cash": 200000, "positions": {CODE: 1000}}}, reconnect_interval=0.2)
    admin = connect(hub, "ops", role="admin")
    before = {s["strategy"]: s for s in admin.call("sleeves")}
    st = reconnect_with_a_difference(hub, admin)  # +500 shares, +1,234.56 CNY at the broker, no trade
    assert st["risk"]["reconcile"]["differences"] == [
        {"code": CODE, "broker": 5500, "ledger": 5000, "diff": 500},
        {"code": "cash", "broker": 1001234.56, "ledger": 1000000.0, "diff": 1234.56}]
    r = cli(hub, "status")
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("  reconcile "))
    assert "2 difference(s)" in line and f"{CODE} broker 5500 ledger 5000" in line \
        and "cash broker 1001234.56 ledger 1000000.0" in line, line
    r = cli(hub, "reconcile", "--json", admin=True)  # books them now if the reconnect did not already
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["ok"] is True and report["pending"] is False
    assert [b for b in report["booked_today"] if b["why"] == "reconciliation"] == [
        {"to": "_external", "cash": 1234.56, "why": "reconciliation"},
        {"to": "_external", "code": CODE, "volume": 500, "why": "reconciliation"}]
    after = {s["strategy"]: s for s in admin.call("sleeves")}
    for key in ("cash", "reserved_cash", "positions", "realized_pnl"):
        assert after["alpha"][key] == before["alpha"][key], key  # never booked to a strategy
    assert after["_external"]["cash"] == before["_external"]["cash"] + 1234.56
    assert after["_external"]["positions"][0]["volume"] == before["_external"]["positions"][0]["volume"] + 500 == 4500


def test_status_does_not_call_a_pending_difference_booked():
    from risk_helpers import pending_difference

    from hub.cli.start import _fmt_risk

    status = pending_difference().status()
    assert status["reconcile"]["ok"] is False and len(status["reconcile"]["differences"]) == 2
    line = next(x for x in _fmt_risk(status) if x.startswith("  reconcile "))
    assert "2 difference(s)" in line and "booked" not in line, line


def test_reconcile_answers_from_the_snapshot_it_asked_for(make_hub, connect):
    """`hub reconcile` takes a fresh broker snapshot and prints the difference it found in it (confirmed
    by a second snapshot and booked to the pool), not the report of the reconcile before it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    from core_helpers import exchange_of

    hub = make_hub(strategies={"alpha": {"cash": 100000}})
    admin = connect(hub, "ops", role="admin")
    before = admin.call("reconcile")
    assert before["ok"] is True and before["found"] is False and before["booked"] == []
    rows = {x["strategy"]: x for x in json.loads(cli(hub, "sleeves", "--json").output)}
    ex = exchange_of(hub)
    with ex.lock:  # money arrives in the account with no push the hub hears (a transfer in, a dividend)
        ex.accounts["SIM0001"].cash += 1234.5
    r = cli(hub, "reconcile", "--json", admin=True)
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["found"] is True and report["ok"] is True and report["pending"] is False
    assert report["cash"]["diff"] == 1234.5
    assert report["booked"] == [{"to": "_external", "cash": 1234.5, "why": "reconciliation"}]
    again = json.loads(cli(hub, "reconcile", "--json", admin=True).output)
    assert again["found"] is False and again["booked"] == [] and again["ok"] is True  # the next snapshot agrees
    assert {"to": "_external", "cash": 1234.5, "why": "reconciliation"} in again["booked_today"]
    after = {x["strategy"]: x for x in json.loads(cli(hub, "sleeves", "--json").output)}
    assert after["_external"]["cash"] == rows["_external"]["cash"] + 1234.5  # booked to the pool ...
    assert after["alpha"]["cash"] == rows["alpha"]["cash"] == 100000.0  # ... never to a strategy


def test_reconcile_never_blocks_the_loop_while_the_broker_answers(make_hub, connect, monkeypatch):
    """The snapshot `hub reconcile` asks for is taken on the broker-connect thread: other calls are answered
    meanwhile, and the reconcile's answer is the comparison against that snapshot."""
    import threading
    import time

    hub = make_hub()
    admin, alpha = connect(hub, "ops", role="admin"), connect(hub, "alpha")
    gate, threads = threading.Event(), []
    real = hub.broker.snapshot

    def slow(trader=None):
        threads.append(threading.current_thread().name)
        gate.wait(10)  # a broker slow to answer its queries
        return real(trader)

    monkeypatch.setattr(hub.broker, "snapshot", slow)
    out: dict = {}
    caller = threading.Thread(target=lambda: out.update(reply=admin.call_raw("reconcile", timeout=10)))
    caller.start()
    try:
        while not threads:
            time.sleep(0.01)
        assert alpha.call("ping") is not None  # answered while the snapshot waits at the broker
        assert "reply" not in out  # the reconcile waits for its snapshot
    finally:
        gate.set()
        caller.join(10)
    assert threads == ["hub-broker-connect"]
    assert out["reply"]["result"]["ok"] is True and out["reply"]["result"]["found"] is False


def test_reconcile_with_the_broker_down_is_refused(make_hub, connect):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    from core_helpers import exchange_of

    hub = make_hub(reconnect_interval=30)
    admin = connect(hub, "ops", role="admin", subscribe=True)
    exchange_of(hub).disconnect_all()
    admin.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] != "up", timeout=5)
    err = admin.error("reconcile")
    assert err["code"] == "BROKER_DOWN"
    assert "broker is not connected" in err["message"], err


def test_reconcile_waits_for_its_own_snapshot_and_its_confirmation():
    """The stage's bookkeeping for `hub reconcile`, with a stand-in port: a snapshot that was already running
    does not answer the call; the one asked for after it does, once no confirmation is pending."""
    import itertools

    from hub.core.call import DEFERRED
    from hub.risk.engine import RiskEngine
    from hub.risk.stage import Port, RiskStage
    from rpc_client.protocol import HubError

    asked, replies, errors, messages, up = [], [], [], [], [True]
    free = itertools.chain([False], itertools.repeat(True))  # busy (a periodic snapshot runs), then free
    port = Port(publish=lambda t, d: None, cancel=lambda i: True, resubmit=lambda *a: None,
                reply_error=lambda c, e: errors.append((c, e.code)) or messages.append(e.message), commit=lambda: None, account_id=lambda: "A",
                reconcile_timeout=0.0, snapshot=lambda: asked.append(1) or next(free),
                reply=lambda c, r: replies.append((c, r)),
                is_up=lambda: up[0])
    stage = RiskStage(RiskEngine(), None, port)
    assert stage.reconcile_call("call-1") is DEFERRED and stage.reconcile_phase == "queued"
    stage.after_snapshot({"ok": True, "pending": False, "n": "the running one"})
    assert replies == [] and stage.reconcile_phase == "asked" and len(asked) == 2
    stage.after_snapshot({"ok": False, "pending": True, "n": "ours, a difference seen once"})
    assert replies == []
    stage.after_snapshot({"ok": True, "pending": False, "n": "the confirmation"})
    assert replies == [("call-1", {"ok": True, "pending": False, "n": "the confirmation"})]
    assert stage.reconciles == [] and stage.reconcile_phase is None
    stage.reconcile_call("call-2")  # its snapshot never comes back
    stage.timer()
    assert errors == [("call-2", "BROKER_ERROR")] and stage.reconcile_phase is None
    assert messages == ["the broker's snapshot did not come back in 0s"]
    port.reconcile_timeout = 30.0
    stage.reconcile_call("call-4")  # the broker drops while its snapshot is on the way
    up[0] = False
    stage.timer()
    assert errors[-1] == ("call-4", "BROKER_DOWN") and "disconnected before its snapshot came back" in messages[-1]
    assert stage.reconciles == [] and stage.reconcile_phase is None
    try:
        stage.reconcile_call("call-3")
    except HubError as exc:
        assert exc.code == "BROKER_DOWN"
        assert "broker is not connected" in exc.message
    else:
        raise AssertionError("a reconcile with the broker down must be refused")
