"""The in-flight window: an order journaled and sent to the broker, the hub killed before the answer.

The simulator is frozen (SIGSTOP) so the order request sits in its socket buffer while the
hub waits for the answer; then the hub is SIGKILLed. Either the broker then takes the order
(SIGCONT: it reads the buffer) or never does (SIGKILL while frozen: the buffer dies with it).
The client library retries the same client_order_id against the restarted hub:

* the broker has it: the restarted hub's reconcile finds it by its owner tag, and the retry
  returns that order (duplicate), never a second order;
* the broker never got it: the retry gets UNKNOWN_OUTCOME (the hub never guesses and never
  resends); the order is not in query_stock_orders, and a new id places it once.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from faults import ACCOUNT, hub_call, journal_orders, sim_call, tcp, wait_for

from rpc_client import RpcGateway
from rpc_client.protocol import ErrorCode, HubError

pytestmark = pytest.mark.timeout(90)
BUY = ("600000.SH", 23, 100, 11, 9.5)


def _journaled(data, coid: str) -> bool:
    path = data / "journal.sqlite"
    if not path.exists():
        return False
    db = sqlite3.connect(str(path))
    try:
        return db.execute("SELECT 1 FROM orders WHERE client_order_id = ?", (coid,)).fetchone() is not None
    finally:
        db.close()


@pytest.mark.parametrize("broker_gets_it", [True, False], ids=["reached-broker", "lost-in-flight"])
def test_order_in_flight_when_the_hub_dies(procs, tmp_path, broker_gets_it):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    terminal = tmp_path / "terminal"
    sim = procs.sim(terminal, sim_ep)
    data = tmp_path / "hub"
    cfg = {"sim_endpoint": sim_ep}
    hub = procs.hub(rpc, pub, data, cfg)
    gw = RpcGateway(rpc, pub, timeout=8.0)
    try:
        gw.connect("inflight")
        sim.pause()
        fut = gw.order_stock_async(*BUY, client_order_id="x1")
        wait_for(lambda: _journaled(data, "x1"), 1.0, "the order request in the journal")
        time.sleep(0.3)  # journaled before the broker call: let the request reach the broker's socket
        hub.kill()  # journaled, sent, no answer yet: the hub dies in the window
        if broker_gets_it:
            sim.resume()
            wait_for(lambda: sim_call(sim_ep, "order_list", account_id=ACCOUNT), 5, "the order at the broker")
        else:
            sim.kill()
            sim = procs.sim(terminal, sim_ep)
            assert sim_call(sim_ep, "order_list", account_id=ACCOUNT) == []
        hub = procs.hub(rpc, pub, data, cfg)
        broker = sim_call(sim_ep, "order_list", account_id=ACCOUNT)
        [req] = journal_orders(data).values()
        if broker_gets_it:
            order_id = fut.result(30)  # the library's retry of "x1", answered by the restarted hub
            [o] = broker
            assert o["order_id"] == order_id and o["order_remark"] in journal_orders(data)
            assert req["state"] == "done" and req["order_id"] == order_id
            assert gw.order_stock(*BUY, client_order_id="x1") == order_id
            counters = hub_call(rpc, "status")["result"]["counters"]
            assert counters["resolved_by_broker"] == 1 and counters["orders"] == 0, counters
            [mine] = gw.query_stock_orders()
            assert mine.order_id == order_id and mine.client_order_id == "x1" and mine.order_remark == ""
        else:
            with pytest.raises(HubError) as info:
                fut.result(30)
            assert info.value.code == ErrorCode.UNKNOWN_OUTCOME and info.value.data["duplicate"] is True
            assert req["state"] == "unknown"
            assert broker == [] and gw.query_stock_orders() == []  # what the docs tell the user to check
            new_id = gw.order_stock(*BUY, client_order_id="x1-again")
            with pytest.raises(HubError):  # the old id stays unknown: never sent again
                gw.order_stock(*BUY, client_order_id="x1")
            [o] = sim_call(sim_ep, "order_list", account_id=ACCOUNT)
            assert o["order_id"] == new_id
    finally:
        gw.close()
