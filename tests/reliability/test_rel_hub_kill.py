"""Three strategy processes send 200 orders each while the hub is SIGKILLed and restarted twice.

Afterwards: the broker (a `hub sim` process that outlives the hub) holds exactly one order
per client order id; every strategy received every one of its order and trade events
exactly once, in seq order, and nothing else; what they received is what the journal holds
and agrees with the broker's own orders and trades.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest

from faults import ACCOUNT, journal_events, journal_orders, read_jsonl, sim_call, tcp, wait_for

pytestmark = pytest.mark.timeout(150)

STRATEGIES = ("s1", "s2", "s3")
ORDERS = 200


def _results(outs) -> int:
    return sum(1 for f in outs.values() for r in read_jsonl(f) if r["k"] in ("result", "resolved"))


def test_hub_killed_twice_while_three_strategies_trade(procs, tmp_path):
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    procs.sim(tmp_path / "terminal", sim_ep)
    data = tmp_path / "hub"
    hub_cfg = {"sim_endpoint": sim_ep}
    hub = procs.hub(rpc, pub, data, hub_cfg)
    outs = {name: tmp_path / f"{name}.jsonl" for name in STRATEGIES}
    strategies = {name: procs.strategy(rpc, pub, name, outs[name], "--orders", str(ORDERS), "--interval", "0.01")
                  for name in STRATEGIES}
    t0 = time.monotonic()
    kills = []
    for threshold in (ORDERS * 3 // 4, ORDERS * 3 * 2 // 3):  # two kills in the middle of the flow
        wait_for(lambda: _results(outs) >= threshold, 60, f"{threshold} orders placed")
        hub.kill()
        kills.append(_results(outs))
        hub = procs.hub(rpc, pub, data, hub_cfg)
    wait_for(lambda: all(any(r["k"] == "done" for r in read_jsonl(f)) for f in outs.values()), 90,
             "every strategy to finish its orders")
    # quiet: every strategy has caught up with its own stream's head in the journal
    def caught_up() -> bool:
        for name, f in outs.items():
            head = max((e["sseq"] for e in journal_events(data, name)), default=0)
            got = [r["sseq"] for r in read_jsonl(f) if r["k"] == "event" and r["stream"] == name]
            if (max(got) if got else 0) < head:
                return False
        return True
    wait_for(caught_up, 20, "strategies to receive their last events")
    time.sleep(1.0)  # anything extra (a duplicate) would arrive now
    for f in outs.values():
        f.with_name(f.name + ".stop").touch()
    for p in strategies.values():
        assert p.popen.wait(15) == 0, p.output()[-3000:]
    elapsed = time.monotonic() - t0

    tags = journal_orders(data)
    broker_orders = sim_call(sim_ep, "order_list", account_id=ACCOUNT)
    broker_trades = sim_call(sim_ep, "trade_list", account_id=ACCOUNT)

    # ---- the broker holds exactly one order per client order id --------------------------
    per_coid = Counter()
    owner_of: dict[int, str] = {}
    for o in broker_orders:
        rec = tags.get(o["order_remark"])
        assert rec is not None, f"a broker order without a journaled request: {o}"
        assert rec["strategy"] == o["strategy_name"]
        per_coid[rec["client_order_id"]] += 1
        owner_of[o["order_id"]] = rec["strategy"]
    assert max(per_coid.values()) == 1, [c for c, n in per_coid.items() if n > 1]
    unknown_retries = 0
    for name in STRATEGIES:
        recs = read_jsonl(outs[name])
        for i in range(ORDERS):
            logical = [c for c in per_coid if c == f"{name}-{i}" or c.startswith(f"{name}-{i}-r")]
            assert len(logical) == 1, (name, i, logical)  # one broker order per order the strategy wanted
            unknown_retries += logical[0] != f"{name}-{i}"
        # every id the strategy got back is that broker order
        coid_to_order = {tags[o["order_remark"]]["client_order_id"]: o["order_id"] for o in broker_orders}
        for r in recs:
            if r["k"] in ("result", "resolved"):
                assert coid_to_order[r["coid"]] == r["order_id"], r

    # ---- every event exactly once, in order, and nothing else -----------------------------
    for name in STRATEGIES:
        recs = [r for r in read_jsonl(outs[name]) if r["k"] == "event"]
        assert {r["stream"] for r in recs} <= {name, "@account"}, "saw another strategy's events"
        mine = [r for r in recs if r["stream"] == name]
        assert [r["sseq"] for r in mine] == list(range(1, len(mine) + 1)), f"{name}: gap, duplicate or disorder"
        seqs = [r["seq"] for r in mine]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"{name}: not in seq order"
        # the account-wide stream too: exactly once, in order, from where the strategy joined it
        # (order is per stream: after a replay the two streams may interleave differently)
        acct = [r["sseq"] for r in recs if r["stream"] == "@account"]
        assert acct == list(range(acct[0], acct[0] + len(acct))), f"{name}: @account gap or duplicate"
        journal = journal_events(data, name)
        assert [(e["seq"], e["topic"]) for e in journal] == [(r["seq"], r["topic"]) for r in mine], \
            f"{name}: received events differ from the journal"
        assert {r["topic"] for r in mine} <= {f"order.{name}", f"trade.{name}", f"error.{name}"}
        # ... and they agree with the broker's truth
        last_state = {}
        for r in mine:
            if r["topic"] == f"order.{name}":
                last_state[r["order_id"]] = (r["order_status"], r["traded_volume"])
        for o in broker_orders:
            if owner_of[o["order_id"]] == name:
                assert last_state.get(o["order_id"]) == (o["order_status"], o["traded_volume"]), o
        got_trades = Counter(r["traded_id"] for r in mine if r["topic"] == f"trade.{name}")
        want_trades = Counter(t["traded_id"] for t in broker_trades if owner_of.get(t["order_id"]) == name)
        assert got_trades == want_trades, name
        assert len(want_trades) == ORDERS // 2  # every even order filled at once

    reconnects = Counter(r["k"] for name in STRATEGIES for r in read_jsonl(outs[name]))
    hub_ids = {r["hub_id"] for name in STRATEGIES for r in read_jsonl(outs[name]) if r["k"] == "event"}
    assert len(hub_ids) == 3, hub_ids  # events from all three hub lives
    print(f"\nhub killed after {kills} orders; {len(broker_orders)} broker orders, {len(broker_trades)} trades; "
          f"{unknown_retries} re-placed after UNKNOWN_OUTCOME; "
          f"{reconnects['disconnected']} disconnects seen; {elapsed:.1f}s")
    # the journal agrees: every request is done (its broker order id) or of unknown outcome
    # (the hub died with it in flight and the broker never got it: the strategy re-placed it)
    states = Counter(rec["state"] for rec in tags.values())
    assert set(states) <= {"done", "unknown"}, states
    assert states["unknown"] == unknown_retries, states
    for rec in tags.values():
        if rec["state"] == "unknown":
            assert rec["client_order_id"] not in per_coid
