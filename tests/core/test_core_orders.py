"""Orders through the hub against the simulator: replies, events, ownership, idempotency, halts."""

from __future__ import annotations

import sqlite3
import time

import pytest

from core_helpers import exchange_of

BUY, SELL, FIX = 23, 24, 11


def order(code="600000.SH", volume=100, price=10.5, **extra):
    return {"stock_code": code, "order_type": BUY, "order_volume": volume, "price_type": FIX, "price": price,
            **extra}


def test_order_reply_events_seq_and_journal_before_publish(hub, connect):
    c = connect(hub)
    c.hello("alpha")
    r = c.call("order_stock", order(order_remark="my note", client_order_id="c-1"))
    assert r["order_id"] > 0 and r["client_order_id"] == "c-1" and r["duplicate"] is False
    done = c.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 56)
    c.wait_event(lambda t, p: t == "trade.alpha")
    c.wait_event(lambda t, p: t == "position")
    assert done["data"]["order_id"] == r["order_id"]
    assert done["data"]["order_remark"] == "my note"  # the caller's own remark back
    assert done["data"]["owner_tag"].startswith("qh") and len(done["data"]["owner_tag"]) <= 24
    assert done["data"]["strategy_name"] == "alpha" and done["data"]["client_order_id"] == "c-1"
    trade = c.wait_event(lambda t, p: t == "trade.alpha")
    assert trade["data"]["order_remark"] == "my note" and trade["data"]["traded_volume"] == 100
    # every journaled event: seq strictly increasing without holes, sseq contiguous per stream,
    # and already in the journal when it was received
    time.sleep(0.3)
    events = c.journaled()
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    per_stream: dict[str, list[int]] = {}
    for e in events:
        per_stream.setdefault(e["stream"], []).append(e["sseq"])
    for stream, sseqs in per_stream.items():
        assert sseqs == list(range(sseqs[0], sseqs[0] + len(sseqs))), stream
    assert per_stream["alpha"][0] == 1
    db = sqlite3.connect(str(hub.config.journal_path))
    rows = dict(db.execute("SELECT seq, topic FROM events"))
    db.close()
    for e in events:
        assert rows[e["seq"]] == e["_topic"]


def test_journal_row_exists_when_event_arrives(hub, connect):
    c = connect(hub)
    c.hello("alpha")
    db = sqlite3.connect(str(hub.config.journal_path))
    c.call("order_stock", order())
    ev = c.wait_event(lambda t, p: t == "order.alpha")
    row = db.execute("SELECT topic, stream, sseq FROM events WHERE seq = ?", (ev["seq"],)).fetchone()
    assert row == ("order.alpha", "alpha", ev["sseq"])
    db.close()


def test_three_strategies_see_only_their_own_and_monitor_sees_all(hub, connect):
    clients = {}
    for name in ("s1", "s2", "s3"):
        c = connect(hub)
        c.hello(name)
        clients[name] = c
    mon = connect(hub)
    mon.hello("watch", role="monitor")
    ids = {}
    for name, c in clients.items():
        ids[name] = c.call("order_stock", order(order_remark=name))["order_id"]
    for name, c in clients.items():
        c.wait_event(lambda t, p, n=name: t == f"trade.{n}")
        own = c.call("query_stock_orders")
        assert [o["order_id"] for o in own] == [ids[name]]
        assert [t["owner"] for t in c.call("query_stock_trades")] == [name]
        other = next(n for n in ids if n != name)
        assert c.error("query_stock_order", {"order_id": ids[other]})["code"] == "NOT_OWNER"
        assert c.error("query_stock_orders", {"strategy": other})["code"] == "FORBIDDEN"
        assert c.error("replay", {"stream": other, "after": 0})["code"] == "FORBIDDEN"
        # the order events each strategy's topic carries are its own
        for e in c.journaled("order."):
            assert e["data"]["owner"] == e["_topic"].split(".", 1)[1]
    all_orders = mon.call("query_stock_orders")
    assert sorted(o["owner"] for o in all_orders) == ["s1", "s2", "s3"]
    assert [o["owner"] for o in mon.call("query_stock_orders", {"strategy": "s2"})] == ["s2"]
    assert len(mon.call("query_stock_trades")) == 3
    rows = {r["strategy"]: r for r in mon.call("clients")}
    assert rows["s1"]["orders_today"] == 1 and rows["s1"]["fills_today"] == 1


def test_cancel_own_other_and_unknown(hub, connect):
    a = connect(hub)
    a.hello("alpha")
    b = connect(hub, subscribe=False)
    b.hello("beta")
    oid = a.call("order_stock", order(price=9.5))["order_id"]  # rests below the ask
    a.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 50)
    err = b.error("cancel_order_stock", {"order_id": oid})
    assert err["code"] == "NOT_OWNER"
    assert b.error("cancel_order_stock", {"order_id": 999999})["code"] == "UNKNOWN_ORDER"
    r = a.call("cancel_order_stock", {"order_id": oid})
    assert r["cancel_result"] == 0
    ev = a.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 54)
    assert ev["data"]["order_id"] == oid


def test_idempotent_client_order_id_also_across_restart(make_hub, connect, tmp_path):
    data_dir = tmp_path / "same"
    server = make_hub(data_dir=data_dir)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    first = c.call("order_stock", order(client_order_id="once"))
    again = c.call("order_stock", order(client_order_id="once"))
    assert again == {**first, "duplicate": True}
    assert len(exchange_of(server).order_list("SIM0001")) == 1
    # an order without an id gets one
    auto = c.call("order_stock", order())
    assert auto["client_order_id"] and auto["client_order_id"] != "once"
    c.close()
    server.stop()
    assert server.wait(10)
    server2 = make_hub(data_dir=data_dir)
    c2 = connect(server2, subscribe=False)
    c2.hello("alpha")
    third = c2.call("order_stock", order(client_order_id="once"))
    assert third == {**first, "duplicate": True}
    ex = exchange_of(server2)
    assert len(ex.order_list("SIM0001")) == 2
    # ownership survives the restart
    own = c2.call("query_stock_orders")
    assert {o["order_id"] for o in own} == {first["order_id"], auto["order_id"]}
    assert all(o["owner"] == "alpha" for o in own)
    # seq continues
    assert server2.journal.last_seq > 0
    tags = [o["owner_tag"] for o in own]
    assert len(set(tags)) == 2


def test_concurrent_repeat_waits_for_the_first_result(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    from rpc_client.protocol import pack, request
    c.dealer.send(pack(request(101, "order_stock", order(client_order_id="dup"))))
    c.dealer.send(pack(request(102, "order_stock", order(client_order_id="dup"))))
    replies = {r["id"]: r for r in (c.recv_reply(), c.recv_reply())}
    assert replies[101]["result"]["duplicate"] is False
    assert replies[102]["result"]["duplicate"] is True
    assert replies[101]["result"]["order_id"] == replies[102]["result"]["order_id"]
    assert len(exchange_of(hub).order_list("SIM0001")) == 1


def test_broker_rejection_arrives_as_error_and_junk_order(make_hub, connect):
    hub = make_hub(risk={"static_checks": False})  # the odd lot must reach the broker (the hub checks lots)
    c = connect(hub)
    c.hello("alpha")
    r = c.call("order_stock", order(volume=150))  # not a round lot: the broker rejects it
    err = c.wait_event(lambda t, p: t == "error.alpha")
    assert err["data"]["kind"] == "order" and err["data"]["order_id"] == r["order_id"]
    assert err["data"]["error_msg"]
    junk = c.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 57)
    assert junk["data"]["owner"] == "alpha"


def test_halt_and_resume(hub, connect):
    admin = connect(hub)
    admin.hello("ops", role="admin", token=hub.token)
    a = connect(hub, subscribe=False)
    a.hello("alpha")
    b = connect(hub, subscribe=False)
    b.hello("beta")
    resting = a.call("order_stock", order(price=9.5))["order_id"]
    r = admin.call("halt", {"strategy": "alpha", "reason": "too many losses", "cancel_open": True})
    assert r["halted"]["strategies"] == {"alpha": "too many losses"} and r["cancelled"] == [resting]
    ev = admin.wait_event(lambda t, p: t == "hub.halt")
    assert ev["data"] == {"strategy": "alpha", "halted": True, "reason": "too many losses"}
    err = a.error("order_stock", order())
    assert err["code"] == "HALTED" and "too many losses" in err["message"]
    assert b.call("order_stock", order())["order_id"] > 0
    admin.call("halt", {})
    assert b.error("order_stock", order())["code"] == "HALTED"
    assert hub.status()["halted"]["all"] is True
    admin.call("resume", {})
    assert a.call("order_stock", order())["order_id"] > 0
    st = hub.status()
    assert st["halted"] == {"all": False, "reason": "", "strategies": {}}
    assert st["counters"]["errors"]["HALTED"] == 2


def test_cancel_all_and_cancel_on_disconnect(make_hub, connect):
    server = make_hub(client_dead_after=0.8)
    admin = connect(server, keepalive=0.2)  # its session (and so its events) lives while it waits
    admin.hello("ops", role="admin", token=server.token)
    a = connect(server, subscribe=False)
    a.hello("alpha", cancel_on_disconnect=True)
    oid = a.call("order_stock", order(price=9.5))["order_id"]
    admin.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 50)
    # alpha goes silent: its session is freed and its open order cancelled
    ev = admin.wait_event(lambda t, p: t == "hub.client" and p["data"]["event"] == "timed_out"
                          and p["data"]["strategy"] == "alpha", timeout=5)
    assert ev["data"]["cancelled"] == [oid]
    admin.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 54)
    b = connect(server, subscribe=False)
    b.hello("beta")
    oid2 = b.call("order_stock", order(price=9.5))["order_id"]
    admin.wait_event(lambda t, p: t == "order.beta" and p["data"]["order_id"] == oid2)
    admin.hello("ops", role="admin", token=server.token)  # a second hello on the same connection
    assert admin.call("cancel_all", {})["cancelled"] == [oid2]


def test_external_orders_belong_to_external(hub, connect):
    import hub.sim as sim

    mon = connect(hub)
    mon.hello("watch", role="monitor")
    trader = sim.XtQuantTrader(str(hub.config.sim_dir), 4242)
    trader.start()
    assert trader.connect() == 0
    try:
        from hub.broker.adapter import _Account
        oid = trader.order_stock(_Account("SIM0001"), "600000.SH", BUY, 100, FIX, 9.5, "", "typed by hand")
        assert oid > 0
        ev = mon.wait_event(lambda t, p: t == "order._external")
        assert ev["data"]["order_id"] == oid and ev["data"]["order_remark"] == "typed by hand"
        assert ev["stream"] == "_external"
    finally:
        trader.stop()
    strat = connect(hub, subscribe=False)
    strat.hello("alpha")
    assert strat.call("query_stock_orders") == []
    assert strat.error("cancel_order_stock", {"order_id": oid})["code"] == "NOT_OWNER"


def test_broker_down_answers_at_once_then_reconnects(make_hub, connect):
    server = make_hub(reconnect_interval=0.3)
    c = connect(server)
    c.hello("alpha")
    ex = exchange_of(server)
    ex.disconnect_all(offline=True)
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "down")
    t0 = time.monotonic()
    err = c.error("order_stock", order())
    assert err["code"] == "BROKER_DOWN" and time.monotonic() - t0 < 1.0
    ex.go_online()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=5)
    assert c.call("order_stock", order())["order_id"] > 0


@pytest.mark.parametrize("bad", [{"order_volume": 0}, {"price": -1.0}, {"stock_code": "nope"}])
def test_invalid_order_params(hub, connect, bad):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    err = c.error("order_stock", order(**bad))
    assert err["code"] == "INVALID_PARAMS" and next(iter(bad)) in err["message"]


def test_cancel_by_sysid(hub, connect):
    a = connect(hub)
    a.hello("alpha")
    b = connect(hub, subscribe=False)
    b.hello("beta")
    oid = a.call("order_stock", order(price=9.5))["order_id"]
    ev = a.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 50)
    sysid = ev["data"]["order_sysid"]
    assert b.error("cancel_order_stock_sysid", {"market": 0, "order_sysid": sysid})["code"] == "NOT_OWNER"
    assert b.error("cancel_order_stock_sysid", {"market": 0, "order_sysid": "nope"})["code"] == "UNKNOWN_ORDER"
    r = a.call("cancel_order_stock_sysid", {"market": 0, "order_sysid": sysid})
    assert r["cancel_result"] == 0
    a.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_id"] == oid and p["data"]["order_status"] == 54)

