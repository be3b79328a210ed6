"""The broker-kill drill: the simulator SIGKILLed at random points while three strategies trade.

Each run starts a fresh `hub sim`, a hub on it (`sim_endpoint`) and three strategy processes
placing orders back to back (half of them fill at once). The simulator is SIGKILLed KILLS
times at a random moment of the trading (uniform in KILL_WINDOW after the broker is up) and
restarted on the same state at once (a process forked from a parent that imported the
simulator already: tests/reliability/sim_forker.py). The strategies retry BROKER_DOWN with the same client_order_id
(docs: nothing was sent) and resolve UNKNOWN_OUTCOME as docs/guarantees.md says. Afterwards:

* every order at the restarted broker carries a tag the hub journaled before sending it, and
  every (strategy, client_order_id) appears there at most once;
* each strategy's fills (the trade events it received) equal the broker's fills of its orders;
* every order id a strategy was given is the broker's order for that client_order_id.

A kill that lands between the simulator committing an order and its reply reaching the hub
used to double that order (the hub said BROKER_DOWN and forgot the journaled request; the
retry placed it again: a broker order with a tag the journal no longer has). Measured:

* today's code with that one defect put back (a drop during the call answered BROKER_DOWN
  and the request forgotten): 20 doubled orders in 64 kills, in about 1 kill in 4 (a kill can
  catch two strategies); every run of 4 or 16 kills failed. Kills needed for a 1-in-4 window:
  11 (95 %), 16 (99 %); for a 1-in-3 window 8 (95 %), 12 (99 %).
* the code before the fix: every run failed (the hub's loop blocked 5 s in the call to the
  dead simulator, the strategies lost the hub); with cold simulator restarts instead of
  forked ones, 14 doubled orders in 84 kills.

So CI runs one run of QMT_HUB_DRILL_KILLS=16 kills (~30 s on a loaded 2-core machine); the
long drill is `QMT_HUB_DRILL_RUNS=30 python -m pytest -q -s tests/reliability/test_rel_broker_kill_drill.py`.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest

from faults import ACCOUNT, hub_call, journal_orders, read_jsonl, sim_call, tcp, wait_for

RUNS = int(os.environ.get("QMT_HUB_DRILL_RUNS", "1"))
KILLS = int(os.environ.get("QMT_HUB_DRILL_KILLS", "16"))
KILL_WINDOW = (0.1, 1.0)  # seconds of trading before each kill
STRATEGIES = ("d1", "d2", "d3")
ORDERS = 5000  # more than the drill lasts: the strategies are stopped (SIGTERM) after the last kill
SIM = {"default_cash": 100_000_000.0}

pytestmark = pytest.mark.timeout(90 + 30 * KILLS)


def _broker_state(rpc: str) -> str | None:
    reply = hub_call(rpc, "status", timeout=1.0)
    return reply["result"]["broker"]["state"] if reply and reply.get("ok") else None


@pytest.mark.parametrize("run", range(RUNS))
def test_broker_killed_at_random_points(procs, tmp_path, run):
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    t_start = time.monotonic()
    phases: dict[str, float] = {}
    sim_ep, rpc, pub = tcp(), tcp(), tcp()
    terminal = tmp_path / "terminal"
    sims = procs.sim_forker(terminal, sim_ep, SIM)  # each simulator is a fresh process, forked in ms
    sims.start()
    data = tmp_path / "hub"
    procs.hub(rpc, pub, data, {"sim_endpoint": sim_ep, "reconnect_interval": 0.3, "reconnect_max_attempts": 0})
    outs = {n: tmp_path / f"{n}.jsonl" for n in STRATEGIES}
    strategies = [procs.strategy(rpc, pub, n, outs[n], "--orders", str(ORDERS), "--interval", "0.005",
                                  "--resolve-when-up")
                  for n in STRATEGIES]
    wait_for(lambda: all(any(r["k"] == "result" for r in read_jsonl(f)) for f in outs.values()), 30,
             "every strategy trading")
    phases["start"] = time.monotonic() - t_start
    kills = []
    for _ in range(KILLS):
        delay = rng.uniform(*KILL_WINDOW)
        time.sleep(delay)
        sims.kill()
        kills.append(round(delay, 2))
        sims.start()  # the restarted broker on the same state
        wait_for(lambda: _broker_state(rpc) == "up", 30, "the hub to reconnect")
    phases["kills"] = time.monotonic() - t_start - phases["start"]
    time.sleep(0.5)  # trading again after the last reconnect
    for p in strategies:  # each ends the order in hand (with its retries), then stops
        assert p.stop(timeout=60) == 0, p.output()[-2000:]
    phases["stop"] = time.monotonic() - t_start - phases["start"] - phases["kills"]
    time.sleep(0.5)  # the last pushes

    orders = sim_call(sim_ep, "order_list", account_id=ACCOUNT)
    trades = sim_call(sim_ep, "trade_list", account_id=ACCOUNT)
    tags = journal_orders(data)
    problems: list[str] = []
    # every broker order was journaled before it was sent (a stray: its request was forgotten, so
    # its id was free to be placed again), and each id reached the broker at most once
    strays = [o for o in orders if o["order_remark"] not in tags]
    if strays:
        problems.append(f"{len(strays)} orders at the broker the hub has no request for: "
                        f"{[(o['order_id'], o['order_remark']) for o in strays[:5]]}")
    known = [o for o in orders if o["order_remark"] in tags]
    per_id = Counter((tags[o["order_remark"]]["strategy"], tags[o["order_remark"]]["client_order_id"]) for o in known)
    doubled = {k: n for k, n in per_id.items() if n > 1}
    if doubled:
        problems.append(f"client_order_ids placed more than once at the broker: {doubled}")
    owner = {o["order_id"]: tags[o["order_remark"]]["strategy"] for o in known}
    broker_order = {(tags[o["order_remark"]]["strategy"], tags[o["order_remark"]]["client_order_id"]): o["order_id"]
                    for o in known}
    unknown = 0
    for name in STRATEGIES:
        recs = read_jsonl(outs[name])
        unknown += sum(1 for r in recs if r["k"] == "error" and r["code"] == "UNKNOWN_OUTCOME")
        got = Counter(r["traded_id"] for r in recs if r["k"] == "event" and r["topic"] == f"trade.{name}")
        want = Counter(t["traded_id"] for t in trades if owner.get(t["order_id"]) == name)
        if got != want:
            problems.append(f"{name}'s fills differ from the broker's: extra {dict(got - want)}, "
                            f"missing {dict(want - got)}")
        wrong = [r for r in recs if r["k"] in ("result", "resolved")
                 and broker_order.get((name, r["coid"])) != r["order_id"]]
        if wrong:
            problems.append(f"{name} was given order ids the broker does not have for its ids: {wrong[:3]}")
        started = {r["coid"].split("-r")[0] for r in recs if r["k"] in ("result", "resolved", "error")}
        placed = {r["coid"].split("-r")[0] for r in recs if r["k"] in ("result", "resolved")}
        if placed != started or len(placed) <= 10:
            refusals = Counter(r["code"] for r in recs if r["k"] == "error" and r["coid"].split("-r")[0]
                               in started - placed)
            problems.append(f"{name}: {len(placed)} orders placed, without an id: {sorted(started - placed)[:5]} "
                            f"({dict(refusals)})")
    assert not problems, f"seed {seed}, kills after {kills} s:\n" + "\n".join(problems)
    print(f"\nrun {run}: seed {seed}, kills after {kills} s, {len(orders)} broker orders, {len(trades)} fills, "
          f"{unknown} UNKNOWN_OUTCOME answers; {', '.join(f'{k} {v:.1f}s' for k, v in phases.items())}")
