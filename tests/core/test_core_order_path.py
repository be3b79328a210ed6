"""The order path through a live hub: a repeat of a placed order is answered before the checks."""

from __future__ import annotations

from core_helpers import exchange_of

BUY, FIX = 23, 11


def order(**extra):
    return {"stock_code": "600000.SH", "order_type": BUY, "order_volume": 100, "price_type": FIX, "price": 9.5,
            **extra}


def test_a_repeat_of_a_placed_order_gets_its_first_result_while_halted_or_the_broker_is_down(make_hub, connect):
    # a retry of an order that reached the broker must never hear "halted" or "BROKER_DOWN,
    # nothing was sent": the caller could take that for "not placed" and place it again
    server = make_hub(reconnect_interval=60)
    admin = connect(server)
    admin.hello("ops", role="admin", token=server.token)
    c = connect(server, subscribe=False)
    c.hello("alpha")
    first = c.call("order_stock", order(client_order_id="r-1"))
    assert first["order_id"] > 0 and first["duplicate"] is False
    admin.call("halt", {"strategy": "alpha", "reason": "enough"})
    again = c.call("order_stock", order(client_order_id="r-1"))
    assert again == {"order_id": first["order_id"], "client_order_id": "r-1", "duplicate": True}
    assert c.error("order_stock", order(client_order_id="r-2"))["code"] == "HALTED"  # a new order is halted
    admin.call("resume", {"strategy": "alpha"})
    exchange_of(server).disconnect_all(offline=True)
    admin.wait_event(lambda t, p: t == "hub.broker" and p["data"]["state"] == "down")
    again = c.call("order_stock", order(client_order_id="r-1"))
    assert again == {"order_id": first["order_id"], "client_order_id": "r-1", "duplicate": True}
    assert c.error("order_stock", order(client_order_id="r-3"))["code"] == "BROKER_DOWN"
    assert server.status()["counters"]["duplicates"] == 2
