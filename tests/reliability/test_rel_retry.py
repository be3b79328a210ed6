"""A timed-out order call retried by the client produces one broker order.

The hub process is frozen (SIGSTOP) so the client's call times out; the requests wait in
the socket buffers and all reach the hub when it runs again (SIGCONT). The freeze stays
under the simulator link's 1.5 s liveness limit, so the broker stays up meanwhile.
"""

from __future__ import annotations

import time

import pytest

from faults import ACCOUNT, hub_call, journal_orders, sim_call, tcp

from rpc_client import RpcGateway
from rpc_client.protocol import ErrorCode, HubError

pytestmark = pytest.mark.timeout(60)
BUY = ("600000.SH", 23, 100, 11, 9.5)


def test_timed_out_order_retried_with_the_same_id_makes_one_broker_order(procs, tmp_path):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    procs.sim(tmp_path / "terminal", sim_ep)
    data = tmp_path / "hub"
    hub = procs.hub(rpc, pub, data, {"sim_endpoint": sim_ep, "client_dead_after": 30.0})
    lib = RpcGateway(rpc, pub, timeout=0.4, order_attempts=3)  # the library retries by itself
    once = RpcGateway(rpc, pub, timeout=0.4, order_attempts=1)  # gives up: the caller retries
    try:
        lib.connect("retry")
        once.connect("caller")
        # 1. attempts at 0, 0.4 and 0.8 s, all with client_order_id "auto"; the hub wakes at 1.0 s
        hub.pause()
        fut = lib.order_stock_async(*BUY, client_order_id="auto")
        fut_once = once.order_stock_async(*BUY, client_order_id="manual")
        time.sleep(1.0)
        hub.resume()
        order_id = fut.result(10)
        # 2. the single attempt timed out: the caller does not know; it retries with the same id
        with pytest.raises(HubError) as info:
            fut_once.result(10)
        assert info.value.code == ErrorCode.TIMEOUT
        assert info.value.data["client_order_id"] == "manual"
        manual_id = once.order_stock(*BUY, client_order_id="manual")
        # and once more, well after the fact: still the same order, never a second one
        assert once.order_stock(*BUY, client_order_id="manual") == manual_id
        assert lib.order_stock(*BUY, client_order_id="auto") == order_id
        counters = hub_call(rpc, "status")["result"]["counters"]
        assert counters["duplicates"] >= 4, counters  # >= 2 library resends + 2 explicit repeats
        assert counters["orders"] == 2, counters
    finally:
        lib.close()
        once.close()
    # the broker's truth: one order per client order id
    tags = journal_orders(data)
    by_coid: dict[str, list] = {}
    for o in sim_call(sim_ep, "order_list", account_id=ACCOUNT):
        by_coid.setdefault(tags[o["order_remark"]]["client_order_id"], []).append(o["order_id"])
    assert by_coid == {"auto": [order_id], "manual": [manual_id]}, by_coid
