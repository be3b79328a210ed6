"""The risk engine inside a running hub (in-process simulator): sleeves, refusals on the wire,
reservations settled to the cent, self-trade prevention, the rate guard, admin commands."""

from __future__ import annotations

import time

import pytest
from core_helpers import exchange_of
from rpc_client.protocol import pack, request

BUY, SELL, FIX = 23, 24, 11
CODE = "600000.SH"
ALLOTTED = {"alpha": {"cash": 200000, "positions": {CODE: 1000}}, "beta": {"cash": 100000}}


def order(side=BUY, volume=100, price=10.5, code=CODE, **extra):
    return {"stock_code": code, "order_type": side, "order_volume": volume, "price_type": FIX, "price": price, **extra}


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def sleeves(admin) -> dict:
    return {s["strategy"]: s for s in admin.call("sleeves")}


def final(admin, order_id) -> bool:
    o = [x for x in admin.call("query_stock_orders") if x["order_id"] == order_id]
    return bool(o) and o[0]["order_status"] in (53, 54, 56, 57)


def test_sleeves_refuse_other_strategies_shares_and_cash_beyond_the_allotment(make_hub, connect):
    hub = make_hub(strategies=ALLOTTED)
    alpha, beta = connect(hub, "alpha"), connect(hub, "beta")
    err = beta.error("order_stock", order(SELL, 100, 10.9))
    assert err["code"] == "RISK_REJECTED"
    assert err["data"] == {"check": "sleeve_position", "limit": 0, "value": 100, "strategy": "beta"}
    err = alpha.error("order_stock", order(BUY, 20000, 10.5))  # 210,000 + fees > 200,000
    assert (err["code"], err["data"]["check"], err["data"]["limit"]) == ("RISK_REJECTED", "sleeve_cash", 200000.0)
    assert err["data"]["value"] == pytest.approx(210054.6) and "210,054.60" in err["message"]
    assert alpha.call("order_stock", order(SELL, 400, 10.9))["order_id"] > 0  # alpha's own shares: fine
    # a strategy's queries answer from its sleeve, with xtquant's field names
    pos = alpha.call("query_stock_positions")
    assert [(p["stock_code"], p["volume"], p["can_use_volume"], p["frozen_volume"]) for p in pos] == \
        [(CODE, 1000, 600, 400)]
    assert beta.call("query_stock_positions") == [] and beta.call("query_stock_position", {"stock_code": CODE}) is None
    asset = beta.call("query_stock_asset")
    assert (asset["cash"], asset["frozen_cash"], asset["account_id"]) == (100000.0, 0.0, "SIM0001")
    mon = connect(hub, "watch", role="monitor")
    assert mon.call("query_stock_asset")["cash"] > 900000  # monitors see the account
    assert {p["stock_code"]: p["volume"] for p in mon.call("query_stock_positions")} == {CODE: 5000}
    assert sleeves(mon)["_external"]["positions"][0]["volume"] == 4000  # the pool: what no strategy owns
    st = mon.call("status")["risk"]
    assert st["refusals"] == {"sleeve_position": 1, "sleeve_cash": 1} and st["reconcile"]["ok"] is True


def test_fills_cancels_and_rejections_return_reservations_to_the_cent(make_hub, connect):
    hub = make_hub(strategies=ALLOTTED)
    alpha, admin = connect(hub, "alpha"), connect(hub, "ops", role="admin")
    filled = alpha.call("order_stock", order(BUY, 1200, 10.5))["order_id"]
    resting = alpha.call("order_stock", order(BUY, 700, 9.5))["order_id"]
    junk = alpha.call("order_stock", order(BUY, 300, 11.5))["order_id"]  # above limit-up: the broker rejects it
    # until they are final, those buys rest in the book and a sell below them would cross (self-trade)
    wait_for(lambda: final(admin, filled) and final(admin, junk), what="the fill and the rejection")
    sold = alpha.call("order_stock", order(SELL, 300, 9.9))["order_id"]
    s = sleeves(admin)["alpha"]
    assert s["reserved_cash"] == pytest.approx(6650.0 + 5.0 + 0.07)  # only the resting buy still holds cash
    assert alpha.call("cancel_order_stock", {"order_id": resting})
    wait_for(lambda: all(final(admin, o) for o in (filled, resting, junk, sold)), what="every order final")
    s = wait_for(lambda: (lambda x: x if x["reserved_cash"] == 0 and x["open_orders"] == 0 else None)(
        sleeves(admin)["alpha"]), what="reservations released")
    trades = exchange_of(hub).trade_list("SIM0001")
    spent = sum(round(t["traded_amount"] * 100) + round(t["commission"] * 100) for t in trades
                if t["order_id"] == filled)
    got = sum(round(t["traded_amount"] * 100) - round(t["commission"] * 100) for t in trades if t["order_id"] == sold)
    assert spent > 0 and got > 0
    assert round(s["cash"] * 100) == 200000_00 - spent + got  # to the cent
    assert s["fees"] == pytest.approx(sum(t["commission"] for t in trades))
    pos = {p["stock_code"]: p for p in s["positions"]}[CODE]
    assert (pos["volume"], pos["can_use_volume"]) == (1000 + 1200 - 300, 700)  # bought today: not sellable
    assert admin.call("reconcile")["ok"] is True


def test_self_trade_rejected_naming_the_resting_order(make_hub, connect):
    hub = make_hub()
    alpha, beta = connect(hub, "alpha"), connect(hub, "beta")
    resting = alpha.call("order_stock", order(SELL, 100, 10.9))["order_id"]
    for who in (beta, alpha):  # another strategy, and the same one
        err = who.error("order_stock", order(BUY, 100, 10.9))
        assert err["code"] == "RISK_REJECTED"
        d = err["data"]
        assert (d["check"], d["limit"], d["value"]) == ("self_trade", "reject_incoming", resting)
        assert d["resting"][0]["order_id"] == resting and str(resting) in err["message"]
    assert beta.call("order_stock", order(BUY, 100, 10.8))["order_id"] > 0  # below the resting sell: no cross


def test_cancel_resting_cancels_first_and_sends_after_the_confirmation(make_hub, connect):
    hub = make_hub(risk={"self_trade": "cancel_resting"})
    alpha, beta = connect(hub, "alpha"), connect(hub, "beta")
    mon = connect(hub, "watch", role="monitor", subscribe=True)
    resting = alpha.call("order_stock", order(SELL, 100, 10.9))["order_id"]
    new = beta.call("order_stock", order(BUY, 100, 10.9))["order_id"]
    cancelled = mon.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 54)
    placed = mon.wait_event(lambda t, p: t == "order.beta" and p["data"]["order_id"] == new)
    assert cancelled["data"]["order_id"] == resting and cancelled["seq"] < placed["seq"]
    assert new > resting
    ex = exchange_of(hub)
    assert {t["order_id"] for t in ex.trade_list("SIM0001")} <= {new}  # the account never traded with itself


def test_rate_500_orders_in_a_second_get_at_most_the_bucket(make_hub, connect):
    hub = make_hub(strategies={"alpha": {"max_actions_per_second": 20}})
    alpha = connect(hub, "alpha")
    t0 = time.monotonic()
    for i in range(500):
        alpha.dealer.send(pack(request(1000 + i, "order_stock", order(BUY, 100, 9.0 + (i % 50) / 100))))
    replies = [alpha.recv_reply(10) for _ in range(500)]
    elapsed = time.monotonic() - t0
    ok = [r for r in replies if r["ok"]]
    limited = [r["error"] for r in replies if not r["ok"]]
    assert 20 <= len(ok) <= 20 * (1 + int(elapsed))
    assert len(ok) + len(limited) == 500
    assert {(e["code"], e["data"]["check"], e["data"]["limit"]) for e in limited} == \
        {("RATE_LIMITED", "max_actions_per_second", 20)}
    assert len(exchange_of(hub).order_list("SIM0001")) == len(ok)


def test_a_cancel_is_accepted_while_new_orders_are_refused(make_hub, connect):
    hub = make_hub(strategies={"alpha": {"max_actions_per_second": 3}})
    alpha = connect(hub, "alpha")
    ids = [alpha.call("order_stock", order(BUY, 100, 9.5 + i / 100))["order_id"] for i in range(3)]
    assert alpha.error("order_stock", order(BUY, 100, 9.4))["code"] == "RATE_LIMITED"
    assert alpha.call("cancel_order_stock", {"order_id": ids[0]})["cancel_result"] == 0
    err = alpha.error("order_stock", order(BUY, 100, 9.4))
    assert (err["code"], err["data"]["check"], err["data"]["value"]) == ("RATE_LIMITED", "max_actions_per_second", 5)


def test_three_strategies_never_exceed_the_account_guard(make_hub, connect):
    hub = make_hub(risk={"account_max_actions_per_second": 30})
    clients = [connect(hub, name) for name in ("s1", "s2", "s3")]
    for i in range(40):
        for k, c in enumerate(clients):
            c.dealer.send(pack(request(1 + i, "order_stock", order(BUY, 100, round(9.0 + k / 10 + i / 100, 2)))))
    replies = [c.recv_reply(10) for c in clients for _ in range(40)]
    ok = [r for r in replies if r["ok"]]
    limited = [r["error"] for r in replies if not r["ok"]]
    assert len(ok) <= 27 and len(exchange_of(hub).order_list("SIM0001")) == len(ok)  # 30 minus the headroom
    assert {(e["code"], e["data"]["check"], e["data"]["limit"]) for e in limited} == \
        {("RATE_LIMITED", "account_max_actions_per_second", 30)}
    cancel = clients[0].call("cancel_order_stock", {"order_id": next(r["result"]["order_id"] for r in replies
                                                                         if r["ok"])}, timeout=5)
    assert "cancel_result" in cancel
    st = connect(hub, "watch", role="monitor").call("status")["risk"]["rate"]
    assert st["peak_per_second"] <= 30 and st["per_day"] == len(ok) + 1


def test_check_order_says_what_the_checks_would_and_sends_nothing(make_hub, connect):
    hub = make_hub(strategies={"alpha": {"max_order_volume": 500}})
    alpha = connect(hub, "alpha")
    r = alpha.call("check_order", order(BUY, 600))
    assert (r["ok"], r["code"], r["check"], r["limit"], r["value"]) == \
        (False, "RISK_REJECTED", "max_order_volume", 500, 600)
    r = alpha.call("check_order", order(BUY, 500))
    assert r["ok"] is True and r["reserve_cash"] == pytest.approx(5250 + 5 + 0.05)
    assert exchange_of(hub).order_list("SIM0001") == []
    assert connect(hub, "watch", role="monitor").call("status")["risk"]["refusals"] == {}


@pytest.mark.parametrize("mode, check, limit, value", [("off", "trading", "off", "order"),
                                                       ("dry_run", "dry_run", "dry_run", "passed")])
def test_trading_switch(make_hub, connect, mode, check, limit, value):
    hub = make_hub(risk={"trading": mode}, strategies={"alpha": {"max_order_volume": 500}})
    alpha = connect(hub, "alpha")
    err = alpha.error("order_stock", order())
    assert err["code"] == "RISK_REJECTED"
    assert err["data"] == {"check": check, "limit": limit, "value": value, "strategy": "alpha"}
    if mode == "dry_run":  # every check runs: one that fails names itself, not dry_run
        err = alpha.error("order_stock", order(volume=600))
        assert (err["code"], err["data"]["check"], err["data"]["limit"], err["data"]["value"]) == \
            ("RISK_REJECTED", "max_order_volume", 500, 600)
    assert exchange_of(hub).order_list("SIM0001") == []


def test_admin_allot_transfer_limits_journaled_and_kept_across_a_restart(make_hub, connect, tmp_path):
    data = tmp_path / "h"
    hub = make_hub(data)
    admin, alpha = connect(hub, "ops", role="admin"), connect(hub, "alpha")
    err = admin.error("allot", {"strategy": "alpha", "cash": 5_000_000.0})
    assert err["code"] == "RISK_REJECTED" and "1,000,000.00 free cash" in err["message"] \
        and "5,000,000.00" in err["message"]
    admin.call("allot", {"strategy": "alpha", "cash": 300000.0})
    admin.call("allot", {"strategy": "alpha", "stock_code": CODE, "volume": 2000})
    admin.call("transfer", {"src": "alpha", "dst": "beta", "cash": 50000.0})
    admin.call("set_limits", {"strategy": "alpha", "limits": {"max_order_volume": 300}})
    assert alpha.error("order_stock", order(SELL, 400, 10.9))["data"]["check"] == "max_order_volume"
    assert connect(hub, "beta").error("order_stock", order(SELL, 100, 10.9))["data"]["check"] == "sleeve_position"
    assert admin.error("allot", {"strategy": "gamma"})["code"] == "INVALID_PARAMS"
    assert alpha.error("allot", {"strategy": "alpha", "cash": 1.0})["code"] == "FORBIDDEN"
    before = sleeves(admin)
    hub.stop()
    assert hub.wait(10)
    hub2 = make_hub(data)
    after = sleeves(connect(hub2, "ops", role="admin"))
    assert after["alpha"]["cash"] == 250000.0 and after["beta"]["cash"] == 50000.0
    for name in ("alpha", "beta", "_external"):
        for key in ("cash", "reserved_cash", "positions", "limits", "realized_pnl", "fees"):
            assert after[name][key] == before[name][key], (name, key)
    assert connect(hub2, "alpha").error("order_stock", order(SELL, 400, 10.9))["data"]["check"] == "max_order_volume"


def test_external_trade_is_a_reconciliation_difference_booked_to_external(make_hub, connect):
    import hub.sim as sim
    from hub.broker.adapter import _Account

    hub = make_hub(strategies=ALLOTTED)
    admin = connect(hub, "ops", role="admin")
    before = sleeves(admin)
    trader = sim.XtQuantTrader(str(hub.config.sim_dir), 4343)  # another session on the same terminal
    trader.start()
    assert trader.connect() == 0
    try:
        oid = trader.order_stock(_Account("SIM0001"), CODE, BUY, 200, FIX, 10.5, "", "typed by hand")
        assert oid > 0
    finally:
        trader.stop()
    wait_for(lambda: sleeves(admin)["_external"]["positions"][0]["volume"] == 4200, what="the external fill")
    report = admin.call("reconcile")
    assert report["ok"] is True
    ext = [t for t in report["external_trades"] if t["order_id"] == oid]
    assert ext and ext[0]["booked_to"] == "_external" and ext[0]["volume"] == 200
    after = sleeves(admin)
    for name in ("alpha", "beta"):
        assert after[name]["cash"] == before[name]["cash"]
        assert [(p["volume"], p["can_use_volume"], p["avg_price"]) for p in after[name]["positions"]] == \
            [(p["volume"], p["can_use_volume"], p["avg_price"]) for p in before[name]["positions"]]


def test_xtquant_dropin_gets_minus_one_and_on_order_error_with_the_message(make_hub, monkeypatch):
    from rpc_client.xttrader import XtQuantTrader, XtQuantTraderCallback

    hub = make_hub(strategies={"alpha": {"max_order_volume": 100}})
    errors = []

    class CB(XtQuantTraderCallback):
        def on_order_error(self, e):
            errors.append((e.order_id, e.error_msg))

    class Account:
        account_id, account_type = "SIM0001", 2

    monkeypatch.setenv("QMT_HUB_PUB", hub.config.pub)
    t = XtQuantTrader(hub.config.rpc, 98765, strategy_name="alpha")
    t.register_callback(CB())
    t.start()
    try:
        assert t.connect() == 0
        assert t.order_stock(Account(), CODE, BUY, 200, FIX, 10.5, "alpha", "too big") == -1
        wait_for(lambda: errors, what="on_order_error")
        assert errors[0][0] == -1 and "RISK_REJECTED" in errors[0][1] and "max_order_volume 100" in errors[0][1]
    finally:
        t.stop()


def test_an_unallotted_strategy_sees_what_it_may_use_its_own_and_the_pool(make_hub, connect):
    hub = make_hub(strategies={"alpha": {"cash": 100000}})
    gamma = connect(hub, "gamma")  # no allotment: spends the pool's cash, may sell the pool's shares
    assert [(p["stock_code"], p["volume"], p["can_use_volume"]) for p in gamma.call("query_stock_positions")] == \
        [(CODE, 5000, 5000)]
    gamma.call("order_stock", order(SELL, 1000, 10.9))
    pos = gamma.call("query_stock_position", {"stock_code": CODE})
    assert (pos["volume"], pos["can_use_volume"], pos["frozen_volume"]) == (5000, 4000, 1000)
    asset = gamma.call("query_stock_asset")
    assert asset["cash"] == 900000.0 and asset["cash_source"] == "pool"
    alpha = connect(hub, "alpha")  # allotted: only its sleeve
    assert alpha.call("query_stock_positions") == [] and alpha.call("query_stock_asset")["cash"] == 100000.0


def test_a_difference_found_at_a_reconnect_is_confirmed_and_booked_by_the_hub(make_hub, connect):
    from risk_helpers import reconnect_with_a_difference

    hub = make_hub(strategies=ALLOTTED, reconnect_interval=0.2)  # reconcile_interval 0: no periodic snapshot
    mon = connect(hub, "watch", role="monitor")
    reconnect_with_a_difference(hub, mon)
    rec = wait_for(lambda: (lambda r: r if r["ok"] else None)(mon.call("status")["risk"]["reconcile"]),
                   timeout=3.0, what="the difference confirmed by a second snapshot and booked")
    assert rec["booked_today"] == 4  # the initial sync's cash and shares, then the two differences
    assert sleeves(mon)["_external"]["positions"][0]["volume"] == 4500


def test_order_type_neither_buy_nor_sell_reaches_the_risk_stage(make_hub, connect):
    hub = make_hub()
    alpha = connect(hub, "alpha")
    err = alpha.error("order_stock", order(side=25))  # the protocol table takes 0..9999
    assert err["code"] == "RISK_REJECTED"
    assert err["data"] == {"check": "order_type", "limit": [BUY, SELL], "value": 25, "strategy": "alpha"}
    assert alpha.error("order_stock", order(side=10000))["code"] == "INVALID_PARAMS"  # past the table's bound
    assert exchange_of(hub).order_list("SIM0001") == []


def test_cancel_resting_against_the_same_strategys_own_order(make_hub, connect):
    hub = make_hub(risk={"self_trade": "cancel_resting"})
    alpha = connect(hub, "alpha")
    mon = connect(hub, "watch", role="monitor", subscribe=True)
    resting = alpha.call("order_stock", order(SELL, 100, 10.9))["order_id"]
    new = alpha.call("order_stock", order(BUY, 100, 10.9))["order_id"]
    cancelled = mon.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_id"] == resting
                               and p["data"]["order_status"] == 54)
    placed = mon.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_id"] == new)
    assert cancelled["seq"] < placed["seq"] and new > resting  # cancelled first, then sent
    ex = exchange_of(hub)
    assert ex.order("SIM0001", resting)["traded_volume"] == 0
    wait_for(lambda: final(mon, new), what="the buy final")  # it meets the simulator's market, not alpha's sell
    trades = ex.trade_list("SIM0001")
    assert trades and {t["order_id"] for t in trades} == {new}  # the account never traded with itself
    s = wait_for(lambda: (lambda x: x if x["open_orders"] == 0 else None)(sleeves(mon)["alpha"]), what="no open order")
    assert s["reserved_cash"] == 0


def test_a_refusal_is_read_back_from_the_journal(make_hub, connect):
    from hub.core.journal import Journal

    hub = make_hub(strategies={"alpha": {"max_order_volume": 100}})
    alpha = connect(hub, "alpha")
    err = alpha.error("order_stock", order(BUY, 200, 10.5))
    mon = connect(hub, "watch", role="monitor")
    live = [e for e in mon.call("replay", {"after": 0})["events"] if e["topic"] == "hub.risk"
            and e["data"]["event"] == "refused"]
    hub.stop()
    assert hub.wait(10)
    journal = Journal(hub.config.journal_path)
    try:
        events, _, more = journal.replay(None, 0, 10_000)
    finally:
        journal.close()
    refused = [e for e in events if e["topic"] == "hub.risk" and e["data"].get("event") == "refused"]
    assert not more and len(refused) == 1 and refused[0]["stream"] == "@hub"
    assert refused[0]["data"] == {"event": "refused", "code": "RISK_REJECTED", "message": err["message"],
                                  "check": "max_order_volume", "limit": 100, "value": 200, "strategy": "alpha"}
    assert "max_order_volume 100" in err["message"]
    assert [e["data"] for e in live] == [refused[0]["data"]] and live[0]["seq"] == refused[0]["seq"]


def test_risk_disabled_no_stage_no_sleeves_no_checks(make_hub, connect):
    # docs/configuration.md [risk] enabled = false (the bench's on/off comparison)
    from hub.config import ConfigError, HubConfig

    with pytest.raises(ConfigError, match="max_ordr_volume"):  # the tables are still checked
        HubConfig.from_dict({"risk": {"enabled": False}, "strategies": {"alpha": {"max_ordr_volume": 1}}})
    hub = make_hub(risk={"enabled": False}, strategies={"alpha": {"cash": 1000, "max_order_volume": 100}})
    alpha, admin = connect(hub, "alpha"), connect(hub, "ops", role="admin")
    assert [(p["stock_code"], p["volume"]) for p in alpha.call("query_stock_positions")] == [(CODE, 5000)]
    assert alpha.call("query_stock_asset")["cash"] == 1_000_000.0  # the whole account, not a sleeve
    assert alpha.call("order_stock", order(BUY, 200, 10.5))["order_id"] > 0  # past max_order_volume and the cash
    for method, params in (("check_order", order()), ("sleeves", {})):
        assert alpha.error(method, params)["code"] == "UNKNOWN_METHOD"
    assert admin.error("reconcile")["code"] == "UNKNOWN_METHOD"
    assert "risk" not in admin.call("status")
