"""The simulator process (the broker) is SIGKILLed and restarted while two strategies trade.

While it is down new orders get BROKER_DOWN at once; the hub retries every
reconnect_interval with a fresh trader and stops each failed one (its thread count and its
connections to the broker do not grow with the attempts); after the broker returns the hub
reconnects once, reconciles, and every fill the broker made (also those made just before the
kill, whose pushes died with it) reaches its owner exactly once.
"""

from __future__ import annotations

import time
from collections import Counter

import psutil
import pytest

from faults import ACCOUNT, hub_call, journal_events, journal_orders, read_jsonl, sim_call, tcp, wait_for

pytestmark = pytest.mark.timeout(120)

STRATEGIES = ("b1", "b2")
ORDERS = 120


def _broker_state(rpc: str) -> str | None:
    reply = hub_call(rpc, "status", timeout=1.0)
    return reply["result"]["broker"]["state"] if reply and reply.get("ok") else None


def _links(pid: int, port: int) -> int:
    """The hub process's TCP connections to the broker's port (its trader's and its quote source's)."""
    return sum(1 for c in psutil.Process(pid).net_connections("tcp") if c.raddr and c.raddr.port == port)


def _results(outs) -> int:
    return sum(1 for f in outs.values() for r in read_jsonl(f) if r["k"] == "result")


def test_broker_killed_and_restarted_while_strategies_trade(procs, tmp_path):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    port = int(sim_ep.rsplit(":", 1)[1])
    terminal = tmp_path / "terminal"
    sim = procs.sim(terminal, sim_ep)
    data = tmp_path / "hub"
    hub = procs.hub(rpc, pub, data, {"sim_endpoint": sim_ep, "reconnect_interval": 0.5,
                                     "reconnect_max_attempts": 0})
    hub_ps = psutil.Process(hub.pid)
    outs = {n: tmp_path / f"{n}.jsonl" for n in STRATEGIES}
    strategies = [procs.strategy(rpc, pub, n, outs[n], "--orders", str(ORDERS), "--interval", "0.02")
                  for n in STRATEGIES]
    wait_for(lambda: _results(outs) >= 60, 30, "trading to get going")
    threads_before, links_before = hub_ps.num_threads(), _links(hub.pid, port)
    assert links_before == 2  # the trader and the quote link

    sim.kill()
    wait_for(lambda: _broker_state(rpc) in ("down", "reconnecting"), 5, "the hub to see the broker down")
    time.sleep(3.0)  # several failed reconnect attempts, each with a fresh trader
    threads_down = hub_ps.num_threads()
    status = hub_call(rpc, "status")["result"]
    refused = Counter(r.get("code") for f in outs.values() for r in read_jsonl(f) if r["k"] == "error")
    assert refused["BROKER_DOWN"] > 0, refused  # refused at once, not queued
    assert status["counters"]["errors"].get("BROKER_DOWN", 0) > 0

    sim = procs.sim(terminal, sim_ep)
    wait_for(lambda: _broker_state(rpc) == "up", 15, "the hub to reconnect")
    wait_for(lambda: all(any(r["k"] == "done" for r in read_jsonl(f)) for f in outs.values()), 60,
             "the strategies to finish")
    time.sleep(1.0)
    threads_after, links_after = hub_ps.num_threads(), _links(hub.pid, port)
    for f in outs.values():
        f.with_name(f.name + ".stop").touch()
    for p in strategies:
        assert p.popen.wait(15) == 0, p.output()[-2000:]

    # no leaked trader: threads and broker connections back where they were
    assert threads_down <= threads_before + 2, (threads_before, threads_down)
    assert threads_after <= threads_before + 1, (threads_before, threads_after)
    assert links_after == 2, links_after
    status = hub_call(rpc, "status")["result"]
    assert status["counters"]["broker_reconnects"] == 1

    # hub.broker went down -> reconnecting -> up, journaled on the account stream
    states = [e["data"]["state"] for e in journal_events(data, "@account") if e["topic"] == "hub.broker"]
    assert states[-3:] == ["down", "reconnecting", "up"], states

    # every broker order and fill reached its owner exactly once, in order
    orders = sim_call(sim_ep, "order_list", account_id=ACCOUNT)
    trades = sim_call(sim_ep, "trade_list", account_id=ACCOUNT)
    tags = journal_orders(data)  # after the broker: every order there was journaled before it was sent
    owner = {o["order_id"]: tags[o["order_remark"]]["strategy"] for o in orders}
    assert Counter(tags[o["order_remark"]]["client_order_id"] for o in orders).most_common(1)[0][1] == 1
    for name in STRATEGIES:
        mine = [r for r in read_jsonl(outs[name]) if r["k"] == "event" and r["stream"] == name]
        assert [r["sseq"] for r in mine] == list(range(1, len(mine) + 1))
        got = Counter(r["traded_id"] for r in mine if r["topic"] == f"trade.{name}")
        want = Counter(t["traded_id"] for t in trades if owner[t["order_id"]] == name)
        assert got == want, name
        placed = {r["coid"] for r in read_jsonl(outs[name]) if r["k"] == "result"}
        assert len(placed) == ORDERS  # every order placed in the end (BROKER_DOWN is retried)
    # fills the hub learnt only from the reconcile after the restart (pushes lost with the broker)
    recovered = 0
    seen_up = False
    for e in journal_events(data):
        if e["topic"] == "hub.broker" and e["data"]["state"] == "reconnecting":
            seen_up = True
        elif seen_up and e["topic"] == "hub.broker" and e["data"]["state"] == "up":
            break
        elif seen_up and e["topic"].startswith("trade."):
            recovered += 1
    print(f"\nthreads {threads_before} -> {threads_down} (down) -> {threads_after}; "
          f"{refused['BROKER_DOWN']} BROKER_DOWN refusals; {recovered} fills published by the reconcile")
