"""A client_order_id stands for one order: its parameters (fingerprint) and its one outcome.

Issue 9 item 9: a reused id with other parameters is refused (INVALID_PARAMS naming the id and
the differing fields), also after a hub restart (the fingerprint is the journaled request).
Issue 9 item 2 (in-process part): once the broker was called, the outcome is never BROKER_DOWN,
and a repeat of a known id is answered from the hub whatever the broker's state.
"""

from __future__ import annotations

import time

from core_helpers import exchange_of

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5}


def _orders_at_broker(server) -> list[dict]:
    return exchange_of(server).order_list("SIM0001")


def test_reused_id_with_other_parameters_is_refused(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    oid = c.call("order_stock", {**ORDER, "client_order_id": "fp1"})["order_id"]
    err = c.error("order_stock", {**ORDER, "order_volume": 200, "price": 9.6, "client_order_id": "fp1"})
    assert err["code"] == "INVALID_PARAMS"
    assert "fp1" in err["message"] and "order_volume" in err["message"] and "price" in err["message"]
    assert err["data"]["client_order_id"] == "fp1" and err["data"]["params"] == ["order_volume", "price"]
    assert err["data"]["first"] == {"order_volume": 100, "price": 9.5} and err["data"]["order_id"] == oid
    for field, value in (("stock_code", "000001.SZ"), ("order_type", 24), ("price_type", 5)):
        err = c.error("order_stock", {**ORDER, field: value, "client_order_id": "fp1"})
        assert err["code"] == "INVALID_PARAMS" and err["data"]["params"] == [field], (field, err)
    # the same parameters (the remark is a label, not part of the order) are the same order
    again = c.call("order_stock", {**ORDER, "order_remark": "other label", "client_order_id": "fp1"})
    assert again == {"order_id": oid, "client_order_id": "fp1", "duplicate": True}
    assert [o["order_id"] for o in _orders_at_broker(hub)] == [oid]
    # another strategy's id space is its own
    b = connect(hub, subscribe=False)
    b.hello("beta")
    assert b.call("order_stock", {**ORDER, "order_volume": 300, "client_order_id": "fp1"})["duplicate"] is False


def test_fingerprint_survives_a_hub_restart(make_hub, connect, tmp_path):
    data = tmp_path / "hubdata"
    first = make_hub(data_dir=data)
    c = connect(first, subscribe=False)
    c.hello("alpha")
    oid = c.call("order_stock", {**ORDER, "client_order_id": "fp2"})["order_id"]
    c.close()
    first.stop()
    assert first.wait(10)
    second = make_hub(data_dir=data)
    c2 = connect(second, subscribe=False)
    c2.hello("alpha")
    err = c2.error("order_stock", {**ORDER, "price": 9.4, "client_order_id": "fp2"})
    assert err["code"] == "INVALID_PARAMS" and err["data"]["params"] == ["price"] and "fp2" in err["message"]
    assert c2.call("order_stock", {**ORDER, "client_order_id": "fp2"})["order_id"] == oid
    assert len(_orders_at_broker(second)) == 1


def test_pending_id_with_other_parameters_is_refused(make_hub, connect, monkeypatch):
    server = make_hub(order_timeout=30)
    sent = []
    monkeypatch.setattr(server.broker, "order_async", lambda *a: sent.append(a) or 900 + len(sent))
    c = connect(server, subscribe=False)
    c.hello("alpha")
    from rpc_client.protocol import pack, request
    c.dealer.send(pack(request(1, "order_stock", {**ORDER, "client_order_id": "fp3"})))
    time.sleep(0.2)  # pending: the broker never answers
    err = c.error("order_stock", {**ORDER, "order_volume": 500, "client_order_id": "fp3"})
    assert err["code"] == "INVALID_PARAMS" and err["data"]["params"] == ["order_volume"]
    assert len(sent) == 1


def test_call_that_loses_the_connection_is_unknown_outcome_not_broker_down(make_hub, connect, monkeypatch):
    """The trader reports the connection gone only after the order call: the request may have left."""
    server = make_hub(order_timeout=30)
    state = {"connected": True}
    sent = []

    def order_then_drop(*args):  # the broker takes it and the link dies before the answer
        sent.append(args)
        state["connected"] = False
        return -1

    monkeypatch.setattr(server.broker, "order_async", order_then_drop)
    monkeypatch.setattr(server.broker, "trader_says_connected", lambda: state["connected"])
    c = connect(server, subscribe=False)
    c.hello("alpha")
    err = c.error("order_stock", {**ORDER, "client_order_id": "u1"})
    assert err["code"] == "UNKNOWN_OUTCOME", err
    [rec] = server.journal.orders()
    assert rec.client_order_id == "u1" and rec.state == "unknown"  # still journaled: resolved by tag later
    again = c.error("order_stock", {**ORDER, "client_order_id": "u1"})
    assert again["code"] == "UNKNOWN_OUTCOME" and again["data"]["duplicate"] is True
    assert len(sent) == 1  # never sent again
    # the broker shows the order under its tag (a push or a reconcile): the id resolves to it
    server.mailbox.put("order", {"order_id": 5151, "order_remark": sent[0][6], "stock_code": "600000.SH",
                                 "order_status": 50, "traded_volume": 0, "order_volume": 100})
    deadline = time.monotonic() + 3
    while True:
        r = c.call_raw("order_stock", {**ORDER, "client_order_id": "u1"})
        if r["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r["ok"] and r["result"] == {"order_id": 5151, "client_order_id": "u1", "duplicate": True}
    # a trader already known disconnected gets nothing: BROKER_DOWN, nothing journaled or sent
    err = c.error("order_stock", {**ORDER, "client_order_id": "u2"})
    assert err["code"] == "BROKER_DOWN" and len(sent) == 1
    assert [r.client_order_id for r in server.journal.orders()] == ["u1"]


def test_an_exception_in_the_broker_call_is_unknown_outcome(make_hub, connect, monkeypatch):
    server = make_hub(order_timeout=30)

    def boom(*args):
        raise ConnectionError("socket closed mid-send")

    monkeypatch.setattr(server.broker, "order_async", boom)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    err = c.error("order_stock", {**ORDER, "client_order_id": "e1"})
    assert err["code"] == "UNKNOWN_OUTCOME" and "socket closed" in err["message"]
    assert server.journal.orders()[0].state == "unknown"


def test_repeat_of_a_known_id_is_answered_while_the_broker_is_down(make_hub, connect):
    server = make_hub(reconnect_interval=0.3)
    c = connect(server)
    c.hello("alpha")
    oid = c.call("order_stock", {**ORDER, "client_order_id": "k1"})["order_id"]
    ex = exchange_of(server)
    ex.disconnect_all(offline=True)
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "down")
    assert c.call("order_stock", {**ORDER, "client_order_id": "k1"}) == {
        "order_id": oid, "client_order_id": "k1", "duplicate": True}
    assert c.error("order_stock", {**ORDER, "client_order_id": "k2"})["code"] == "BROKER_DOWN"
    ex.go_online()
    c.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "up", timeout=5)
    assert c.call("order_stock", {**ORDER, "client_order_id": "k2"})["duplicate"] is False


def test_late_response_of_a_replaced_trader_resolves_its_own_order(make_hub, connect, monkeypatch):
    """Seqs count per trader: after a reconnect a late response may carry a newer placement's seq."""
    server = make_hub(order_timeout=30, reconnect_interval=0.2)
    sent = []
    monkeypatch.setattr(server.broker, "order_async", lambda *a: sent.append(a) or 7)  # every trader starts at 1..
    c = connect(server, subscribe=False)
    c.hello("alpha")
    from rpc_client.protocol import pack, request
    c.dealer.send(pack(request(1, "order_stock", {**ORDER, "client_order_id": "old"})))
    time.sleep(0.2)
    server.mailbox.put("disconnected")  # the old trader's link drops: "old" is unknown
    assert c.recv_reply(timeout=3)["error"]["code"] == "UNKNOWN_OUTCOME"
    deadline = time.monotonic() + 5
    while server.status()["broker"]["state"] != "up":  # a fresh trader (its seqs start again)
        assert time.monotonic() < deadline, "the hub did not reconnect"
        time.sleep(0.05)
    c.dealer.send(pack(request(2, "order_stock", {**ORDER, "price": 9.6, "client_order_id": "new"})))
    time.sleep(0.2)  # "new" is pending under the same seq 7 of the new trader
    tag_old, tag_new = sent[0][6], sent[1][6]
    server.mailbox.put("order_response", {"seq": 7, "order_id": 111, "order_remark": tag_old})  # late, old trader
    time.sleep(0.2)
    server.mailbox.put("order_response", {"seq": 7, "order_id": 222, "order_remark": tag_new})
    reply = c.recv_reply(timeout=3)
    assert reply["ok"] and reply["result"] == {"order_id": 222, "client_order_id": "new", "duplicate": False}
    assert c.call("order_stock", {**ORDER, "client_order_id": "old"})["order_id"] == 111
