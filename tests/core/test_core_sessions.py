"""hello, roles, unique names, instance takeover, admin token, silent clients."""

from __future__ import annotations

import time

from core_helpers import exchange_of  # noqa: F401


def test_hello_returns_session_facts(hub, connect):
    watcher = connect(hub)
    watcher.hello("watch", role="monitor")  # hub.client events are for monitors only
    c = connect(hub)
    r = c.hello("alpha")
    assert r["hub_id"] == hub.hub_id and r["strategy"] == "alpha" and r["role"] == "strategy"
    assert r["account_id"] == "SIM0001"
    assert r["broker"]["state"] == "up"
    assert set(r["heads"]) == {"alpha", "@account"}
    assert r["max_message_size"] == 1 << 20
    ev = watcher.wait_event(lambda t, p: t == "hub.client" and p["data"]["strategy"] == "alpha")
    assert ev["data"]["event"] == "connected" and ev["stream"] == "@hub"


def test_calls_before_hello_get_no_session_but_ping_and_status_work(hub, connect):
    c = connect(hub, subscribe=False)
    assert c.error("query_stock_asset")["code"] == "NO_SESSION"
    assert c.call("ping")["hub_id"] == hub.hub_id
    assert c.call("status")["hub_id"] == hub.hub_id


def test_name_taken_then_instance_takeover(hub, connect):
    a = connect(hub, subscribe=False)
    a.hello("alpha", instance="inst-1")
    b = connect(hub, subscribe=False)
    err = b.error("hello", {"protocol": 1, "strategy": "alpha"})
    assert err["code"] == "NAME_TAKEN" and "alpha" in err["message"]
    err = b.error("hello", {"protocol": 1, "strategy": "alpha", "instance": "other"})
    assert err["code"] == "NAME_TAKEN"
    # the same instance reconnecting on a new socket takes over at once
    r = b.hello("alpha", instance="inst-1")
    assert r["strategy"] == "alpha"
    assert a.error("query_stock_asset")["code"] == "NO_SESSION"
    assert b.call("query_stock_asset")["account_id"] == "SIM0001"
    assert hub.status()["clients"] == 1


def test_roles(hub, connect):
    mon = connect(hub, subscribe=False)
    mon.hello("watch", role="monitor")
    err = mon.error("order_stock", {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100,
                                    "price_type": 11, "price": 10.0})
    assert err["code"] == "FORBIDDEN" and "monitor" in err["message"]
    assert isinstance(mon.call("clients"), list)
    strat = connect(hub, subscribe=False)
    strat.hello("alpha")
    assert strat.error("clients")["code"] == "FORBIDDEN"
    assert strat.error("halt", {})["code"] == "FORBIDDEN"


def test_admin_needs_the_token(hub, connect):
    c = connect(hub, subscribe=False)
    err = c.error("hello", {"protocol": 1, "strategy": "ops", "role": "admin", "token": "wrong"})
    assert err["code"] == "FORBIDDEN" and "token" in err["message"]
    token = hub.config.token_path.read_text().strip()
    assert token == hub.token
    import os
    import stat
    if os.name == "posix":
        assert stat.S_IMODE(hub.config.token_path.stat().st_mode) == 0o600
    assert c.hello("ops", role="admin", token=token)["role"] == "admin"


def test_bad_protocol_version(hub, connect):
    c = connect(hub, subscribe=False)
    assert c.error("hello", {"protocol": 99, "strategy": "x"})["code"] == "BAD_VERSION"


def test_silent_client_is_freed_after_client_dead_after(make_hub, connect):
    server = make_hub(client_dead_after=0.6)
    watcher = connect(server, keepalive=0.2)
    watcher.hello("watch", role="monitor")
    a = connect(server, subscribe=False)
    a.hello("alpha")
    ev = watcher.wait_event(lambda t, p: t == "hub.client" and p["data"]["event"] == "timed_out", timeout=5)
    assert ev["data"]["strategy"] == "alpha"
    b = connect(server, subscribe=False)
    assert b.hello("alpha")["strategy"] == "alpha"  # the name is free again
    assert a.error("query_stock_asset")["code"] == "NO_SESSION"


def test_bye_frees_the_name(hub, connect):
    a = connect(hub, subscribe=False)
    a.hello("alpha")
    assert a.call("bye") == {}
    b = connect(hub, subscribe=False)
    assert b.hello("alpha")["strategy"] == "alpha"


def test_clients_lists_counters(hub, connect):
    a = connect(hub, subscribe=False)
    a.hello("alpha", client={"pid": 1234, "host": "box"})
    a.call("ping", {"stats": {"missed_ticks": 3}})
    mon = connect(hub, subscribe=False)
    mon.hello("watch", role="monitor")
    rows = {r["strategy"]: r for r in mon.call("clients")}
    assert rows["alpha"]["pid"] == 1234 and rows["alpha"]["missed_ticks"] == 3
    assert rows["alpha"]["orders_today"] == 0 and rows["watch"]["role"] == "monitor"
    assert rows["alpha"]["last_heard_age"] < 5
    time.sleep(0)
