"""The broker (`hub sim` as its own process) dies after committing an order and before replying.

Issue 9 item 2. The simulator runs the order (it is in its SQLite state, filled) and SIGKILLs
itself before its reply or any push leaves. The hub cannot know the outcome, so:

* the caller gets UNKNOWN_OUTCOME (never BROKER_DOWN, which says "nothing was sent" and invites
  a retry of the same id);
* the hub keeps answering other calls meanwhile (the broker call does not block its loop);
* the request stays journaled; a retry of the id while the broker is down answers
  UNKNOWN_OUTCOME again and does not reach the broker;
* after the broker restarts, the reconcile finds the order by its owner tag, and a retry of the
  id returns that order (duplicate), never a second one; its fill reaches its owner.
"""

from __future__ import annotations

import time

import pytest

from faults import ACCOUNT, hub_call, journal_orders, sim_call, tcp, wait_for

from rpc_client import RpcGateway
from rpc_client.protocol import ErrorCode, HubError

pytestmark = pytest.mark.timeout(90)
BUY = ("600000.SH", 23, 100, 11, 10.5)  # crosses: fills at once at the simulator


def _broker_state(rpc: str) -> str | None:
    reply = hub_call(rpc, "status", timeout=1.0)
    return reply["result"]["broker"]["state"] if reply and reply.get("ok") else None


def test_broker_dies_between_commit_and_reply(procs, tmp_path):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    terminal = tmp_path / "terminal"
    sim = procs.crash_sim(terminal, sim_ep, after=1)
    restart = procs.sim_forker(terminal, sim_ep)  # the restarted broker: imported meanwhile, forked at once
    data = tmp_path / "hub"
    procs.hub(rpc, pub, data, {"sim_endpoint": sim_ep, "reconnect_interval": 0.5, "reconnect_max_attempts": 0,
                               "order_timeout": 20.0})
    gw = RpcGateway(rpc, pub, timeout=10.0)
    try:
        gw.connect("crash")
        fut = gw.order_stock_async(*BUY, client_order_id="c1")
        wait_for(lambda: not sim.alive(), 10, "the simulator to die after committing the order")

        # the hub keeps serving while the order's outcome is open (its loop is not inside the broker call)
        slowest = 0.0
        t_end = time.monotonic() + 2.0
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            reply = hub_call(rpc, "ping", timeout=3.0)
            assert reply is not None and reply["ok"]
            slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
        assert slowest < 0.75, f"a ping waited {slowest:.2f}s while the broker call was in flight"

        with pytest.raises(HubError) as info:
            fut.result(20)
        assert info.value.code == ErrorCode.UNKNOWN_OUTCOME, (info.value.code, info.value.message)
        [(tag, req)] = journal_orders(data).items()
        assert req["client_order_id"] == "c1" and req["state"] == "unknown"  # still journaled

        # a retry of the id while the broker is down: still unknown, never "nothing was sent"
        with pytest.raises(HubError) as info:
            gw.order_stock(*BUY, client_order_id="c1")
        assert info.value.code == ErrorCode.UNKNOWN_OUTCOME and info.value.data["duplicate"] is True

        restart.start()  # a fresh simulator process on the same state
        wait_for(lambda: _broker_state(rpc) == "up", 20, "the hub to reconnect")
        [order] = sim_call(sim_ep, "order_list", account_id=ACCOUNT)  # committed before the crash
        assert order["order_remark"] == tag

        # resolved by its tag at the reconcile: a retry returns that order, not a second one
        assert gw.order_stock(*BUY, client_order_id="c1") == order["order_id"]
        assert [o["order_id"] for o in sim_call(sim_ep, "order_list", account_id=ACCOUNT)] == [order["order_id"]]
        [req] = journal_orders(data).values()
        assert req["state"] == "done" and req["order_id"] == order["order_id"]
        counters = hub_call(rpc, "status")["result"]["counters"]
        assert counters["resolved_by_broker"] == 1, counters

        # the fill made before the crash reaches its owner
        broker_trades = sim_call(sim_ep, "trade_list", account_id=ACCOUNT)
        assert len(broker_trades) == 1
        mine = wait_for(lambda: gw.query_stock_trades(), 5, "the fill in the strategy's book")
        assert [t.traded_id for t in mine] == [broker_trades[0]["traded_id"]]
    finally:
        gw.close()
