"""Quote fan-out (one upstream subscription per code) and replay visibility."""

from __future__ import annotations

import time

from core_helpers import exchange_of

CODE = "600000.SH"
ORDER = {"stock_code": CODE, "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10.5}


def wait_until(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_two_clients_one_upstream_then_none(hub, connect):
    ex = exchange_of(hub)
    a = connect(hub)
    a.hello("alpha")
    b = connect(hub)
    b.hello("beta")
    assert a.call("subscribe_quote", {"codes": [CODE]}) == {"codes": [CODE]}
    assert b.call("subscribe_quote", {"codes": [CODE]}) == {"codes": [CODE]}
    assert ex.active_subscriptions() == {CODE: 1}
    assert hub.status()["counters"]["quote_upstream"] == 1
    ex.step()
    ex.step()
    t1 = a.wait_event(lambda t, p: t == f"tick.{CODE}")
    t2 = b.wait_event(lambda t, p: t == f"tick.{CODE}")
    assert t1["code"] == CODE and t1["tseq"] >= 1 and t1["seq"] is None and "lastPrice" in t1["data"]
    assert t2["tseq"] == t1["tseq"]
    full = a.call("get_full_tick", {"codes": [CODE, "000001.SZ"]})
    assert set(full) == {CODE, "000001.SZ"}
    assert a.call("unsubscribe_quote", {"codes": [CODE]}) == {"codes": [CODE]}
    assert ex.active_subscriptions() == {CODE: 1}
    b.call("bye")
    assert ex.active_subscriptions() == {}
    assert hub.status()["counters"]["quote_upstream"] == 0


def test_whole_quote_and_refcount(hub, connect):
    ex = exchange_of(hub)
    a = connect(hub)
    a.hello("alpha")
    assert a.call("subscribe_whole_quote", {"codes": ["SZ"]}) == {"codes": ["SZ"]}
    assert ex.active_subscriptions() == {"SZ": 1}
    ex.step()
    ev = a.wait_event(lambda t, p: t == "ticks.SZ")  # a whole market comes in batches
    assert ev["data"] and all(code.endswith(".SZ") for code in ev["data"]) and set(ev["tseq"]) == set(ev["data"])
    a.call("unsubscribe_quote", {"codes": ["SZ"]})
    assert ex.active_subscriptions() == {}


def test_vanished_client_is_cleaned_up_after_client_dead_after(make_hub, connect):
    server = make_hub(client_dead_after=0.6)
    ex = exchange_of(server)
    a = connect(server, subscribe=False)
    a.hello("alpha")
    a.call("subscribe_quote", {"codes": [CODE, "000001.SZ"]})
    assert ex.active_subscriptions() == {CODE: 1, "000001.SZ": 1}
    a.close()  # vanishes without unsubscribing or bye
    assert wait_until(lambda: ex.active_subscriptions() == {}, timeout=5)


def test_takeover_keeps_quote_subscriptions(hub, connect):
    ex = exchange_of(hub)
    a = connect(hub, subscribe=False)
    a.hello("alpha", instance="i1")
    a.call("subscribe_quote", {"codes": [CODE]})
    b = connect(hub, subscribe=False)
    b.hello("alpha", instance="i1")
    assert ex.active_subscriptions() == {CODE: 1}
    b.call("unsubscribe_quote", {"codes": [CODE]})
    assert ex.active_subscriptions() == {}


def test_unknown_code_upstream_refusal(hub, connect):
    a = connect(hub, subscribe=False)
    a.hello("alpha")
    err = a.error("subscribe_quote", {"codes": ["999999.XX"]})
    assert err["code"] == "BROKER_ERROR" and "999999.XX" in err["message"]
    assert hub.quotes.upstream_count == 0


def test_replay_visibility(hub, connect):
    a = connect(hub, subscribe=False)
    a.hello("alpha")
    b = connect(hub, subscribe=False)
    b.hello("beta")
    mon = connect(hub, subscribe=False)
    mon.hello("watch", role="monitor")
    a.call("order_stock", ORDER)
    b.call("order_stock", ORDER)
    assert wait_until(lambda: len(mon.call("query_stock_trades")) == 2)
    time.sleep(0.2)
    own = a.call("replay", {"stream": "alpha", "after": 0})
    assert own["events"] and all(e["stream"] == "alpha" for e in own["events"])
    assert [e["sseq"] for e in own["events"]] == list(range(1, own["head"] + 1))
    assert own["more"] is False
    acct = a.call("replay", {"stream": "@account", "after": 0})
    assert all(e["topic"] in ("position", "asset", "account", "hub.broker", "hub.halt") for e in acct["events"])
    assert a.error("replay", {"stream": "beta", "after": 0})["code"] == "FORBIDDEN"
    assert a.error("replay", {"stream": "@hub", "after": 0})["code"] == "FORBIDDEN"
    every = a.call("replay", {"after": 0})
    assert {e["stream"] for e in every["events"]} <= {"alpha", "@account"}
    assert every["head"] == hub.journal.last_seq
    everything = mon.call("replay", {"after": 0, "limit": 100000})
    streams = {e["stream"] for e in everything["events"]}
    assert {"alpha", "beta", "@account", "@hub"} <= streams
    seqs = [e["seq"] for e in everything["events"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    page = mon.call("replay", {"after": 0, "limit": 2})
    assert len(page["events"]) == 2 and page["more"] is True
    assert mon.call("replay", {"stream": "beta", "after": 1})["events"][0]["sseq"] == 2
