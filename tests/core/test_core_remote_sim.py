"""The hub against the simulator in its own server (`hub sim`): restart the hub, the broker keeps its orders."""

from __future__ import annotations

import time

import pytest

from core_helpers import free_port

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5}


@pytest.fixture
def sim_server(tmp_path):
    import hub.sim as sim
    from hub.sim.server import SimServer

    folder = tmp_path / "terminal"
    exchange = sim.get_exchange(folder, sim.SimConfig.from_dict({"auto_tick": False}))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    server = SimServer(exchange, endpoint)
    server.start()
    yield endpoint, exchange
    server.stop()
    sim.shutdown_exchange(folder)


def test_hub_restart_keeps_ownership_of_orders_resting_at_the_broker(make_hub, connect, sim_server, tmp_path):
    endpoint, exchange = sim_server
    data_dir = tmp_path / "hubdata"
    first = make_hub(data_dir=data_dir, qmt_path=endpoint)
    c = connect(first, subscribe=False)
    c.hello("alpha")
    oid = c.call("order_stock", {**ORDER, "order_remark": "keep me", "client_order_id": "r1"})["order_id"]
    c.close()
    first.stop()
    assert first.wait(10)
    assert len(exchange.order_list("SIM0001")) == 1  # the broker kept it
    second = make_hub(data_dir=data_dir, qmt_path=endpoint)
    c2 = connect(second, subscribe=False)
    c2.hello("alpha")
    deadline = time.monotonic() + 5
    while not c2.call("query_stock_orders") and time.monotonic() < deadline:
        time.sleep(0.05)
    [o] = c2.call("query_stock_orders")
    assert o["order_id"] == oid and o["owner"] == "alpha" and o["order_remark"] == "keep me"
    assert c2.call("order_stock", {**ORDER, "client_order_id": "r1"})["duplicate"] is True
    assert c2.call("cancel_order_stock", {"order_id": oid})["cancel_result"] == 0
    assert second.status()["broker"]["state"] == "up"
