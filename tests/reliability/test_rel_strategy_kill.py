"""A strategy process is SIGKILLed: the others carry on; cancel-on-disconnect cancels its open orders.

`victim` (cancel_on_disconnect) and `keeper` (without it) each leave resting orders and are
killed; `bystander` keeps trading throughout. Within client_dead_after (+ one check) the hub
frees both sessions, cancels the victim's open orders and journals what it did
(`hub.client` timed_out with the cancelled ids); the keeper's orders stay; the bystander is
never disconnected and all its orders go through.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from faults import ACCOUNT, hub_call, journal_events, journal_orders, read_jsonl, sim_call, tcp, wait_for

pytestmark = pytest.mark.timeout(60)
DEAD_AFTER = 2.0
RESTING = 5


def test_killed_strategy_with_and_without_cancel_on_disconnect(procs, tmp_path):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    procs.sim(tmp_path / "terminal", sim_ep)
    data = tmp_path / "hub"
    procs.hub(rpc, pub, data, {"sim_endpoint": sim_ep, "client_dead_after": DEAD_AFTER})
    outs = {n: tmp_path / f"{n}.jsonl" for n in ("victim", "keeper", "bystander")}
    victim = procs.strategy(rpc, pub, "victim", outs["victim"], "--orders", str(RESTING), "--passive",
                            "--cancel-on-disconnect")
    keeper = procs.strategy(rpc, pub, "keeper", outs["keeper"], "--orders", str(RESTING), "--passive")
    bystander = procs.strategy(rpc, pub, "bystander", outs["bystander"], "--orders", "150", "--interval", "0.03")
    for n in ("victim", "keeper"):
        wait_for(lambda n=n: any(r["k"] == "done" for r in read_jsonl(outs[n])), 20, f"{n} to place its orders")
    victim.kill()
    keeper.kill()
    t_kill = time.monotonic()

    def open_of(strategy: str) -> list[dict]:
        # broker first, journal second: the hub journals every order before the broker sees it,
        # so each order listed here has its tag in the journal read after (the bystander keeps trading)
        listed = sim_call(sim_ep, "order_list", account_id=ACCOUNT, cancelable_only=True)
        tags = journal_orders(data)
        return [o for o in listed if tags[o["order_remark"]]["strategy"] == strategy]

    assert len(open_of("victim")) == RESTING
    wait_for(lambda: not open_of("victim"), DEAD_AFTER + 3, "the victim's orders to be cancelled")
    took = time.monotonic() - t_kill
    assert took <= DEAD_AFTER + 1.5, took  # client_dead_after + the 0.5 s check + the broker's answer
    time.sleep(1.0)
    assert len(open_of("keeper")) == RESTING  # without cancel-on-disconnect they stay

    # journaled: who timed out and what the hub cancelled for it
    client_events = {e["data"]["strategy"]: e["data"] for e in journal_events(data, "@hub")
                     if e["data"].get("event") == "timed_out"}
    assert sorted(client_events["victim"]["cancelled"]) == sorted(
        r["order_id"] for r in read_jsonl(outs["victim"]) if r["k"] == "result")
    assert client_events["keeper"]["cancelled"] == []
    assert "bystander" not in client_events
    cancels = [e for e in journal_events(data, "victim") if e["topic"] == "order.victim"
               and e["data"]["order_status"] == 54]
    assert len(cancels) == RESTING

    # the bystander carried on untouched
    wait_for(lambda: any(r["k"] == "done" for r in read_jsonl(outs["bystander"])), 30, "the bystander to finish")
    outs["bystander"].with_name(outs["bystander"].name + ".stop").touch()
    assert bystander.popen.wait(15) == 0
    recs = read_jsonl(outs["bystander"])
    kinds = Counter(r["k"] for r in recs)
    assert kinds["disconnected"] == 0 and kinds["error"] == 0 and kinds["result"] == 150, kinds
    mine = [r["sseq"] for r in recs if r["k"] == "event" and r["stream"] == "bystander"]
    assert mine == list(range(1, len(mine) + 1))
    clients = {c["strategy"] for c in hub_call(rpc, "status") and _clients(rpc, data)}
    assert clients == set(), clients  # (the bystander said bye)
    print(f"\ncancel-on-disconnect took {took:.2f}s (client_dead_after {DEAD_AFTER}s)")


def _clients(rpc, data):
    from faults import admin_call

    return [c for c in admin_call(rpc, data, "clients") if c["role"] == "strategy"]
