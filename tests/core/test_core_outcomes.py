"""Broker failures: -1 from the async call, no answer in time (UNKNOWN_OUTCOME), late answers."""

from __future__ import annotations

import time

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10.5}


def test_minus_one_is_broker_error_and_repeat_returns_it(hub, connect, monkeypatch):
    monkeypatch.setattr(hub.broker, "order_async", lambda *a: -1)
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    err = c.error("order_stock", {**ORDER, "client_order_id": "x1"})
    assert err["code"] == "BROKER_ERROR" and "-1" in err["message"]
    again = c.error("order_stock", {**ORDER, "client_order_id": "x1"})
    assert again["code"] == "BROKER_ERROR" and again["data"]["duplicate"] is True


def test_no_answer_is_unknown_outcome_and_a_late_answer_is_kept(make_hub, connect, monkeypatch):
    server = make_hub(order_timeout=0.3)
    sent = []

    def silent(*args):  # the broker takes the order and never answers
        sent.append(args)
        return 777

    monkeypatch.setattr(server.broker, "order_async", silent)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    t0 = time.monotonic()
    err = c.error("order_stock", {**ORDER, "client_order_id": "slow"})
    assert err["code"] == "UNKNOWN_OUTCOME" and 0.25 < time.monotonic() - t0 < 3
    assert "query" in err["message"]
    # a repeat must not reach the broker again
    assert c.error("order_stock", {**ORDER, "client_order_id": "slow"})["code"] == "UNKNOWN_OUTCOME"
    assert len(sent) == 1
    # the stamp carried the strategy name and the owner tag
    assert sent[0][5] == "alpha" and sent[0][6].startswith("qh")
    # the late response is recorded: the repeat now returns the order id
    server.mailbox.put("order_response", {"seq": 777, "order_id": 4242, "order_remark": sent[0][6]})
    deadline = time.monotonic() + 3
    while True:
        r = c.call_raw("order_stock", {**ORDER, "client_order_id": "slow"})
        if r["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r["ok"] and r["result"] == {"order_id": 4242, "client_order_id": "slow", "duplicate": True}
    assert server.book.owner_of(4242) == "alpha"
    assert server.status()["counters"]["unknown_outcomes"] == 1


def test_pending_order_when_broker_drops_is_unknown_outcome(make_hub, connect, monkeypatch):
    server = make_hub(order_timeout=30)
    monkeypatch.setattr(server.broker, "order_async", lambda *a: 555)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    from rpc_client.protocol import pack, request
    c.dealer.send(pack(request(1, "order_stock", ORDER)))
    time.sleep(0.2)
    server.mailbox.put("disconnected")
    reply = c.recv_reply(timeout=3)
    assert reply["error"]["code"] == "UNKNOWN_OUTCOME" and "dropped" in reply["error"]["message"]
