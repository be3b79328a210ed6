"""A subscriber stops reading for 10 s while ticks flow at a high rate.

The slow strategy process is frozen (SIGSTOP: nothing in it reads its sockets, as in a long GC
pause or a debugger stop) for 10 s while the in-process simulator publishes thousands of
ticks a second and another strategy trades (account events). The hub's memory stays
bounded by the PUB high-water mark (pub_hwm messages per subscriber); after it resumes, the
slow client counts the ticks it missed (tseq gaps) and reports them to the hub, and it loses
no account event: what PUB dropped is replayed from the journal.
"""

from __future__ import annotations

import time

import msgpack
import psutil
import pytest

from faults import admin_call, hub_call, journal_events, read_jsonl, tcp, wait_for

pytestmark = pytest.mark.timeout(150)
STALL = 10.0
STALL_MAX = 25.0  # a loaded machine publishes fewer ticks a second: stall longer (inside client_dead_after), never assert less
PUB_HWM = 10000  # the default


def _offered(status: dict) -> int:
    """Ticks the hub had for its subscribers: published, plus those of a whole market it did not
    send because every holder of the market was silent (the frozen one here, after a few seconds)."""
    return status["counters"]["ticks"] + status["counters"].get("ticks_unsent", 0)


def test_slow_subscriber_bounded_memory_counts_missed_ticks_loses_no_event(procs, tmp_path):
    rpc, pub = tcp(), tcp()
    data = tmp_path / "hub"
    hub = procs.hub(rpc, pub, data, {"client_dead_after": 30.0, "pub_hwm": PUB_HWM,
                                     "sim": {"auto_tick": True, "tick_interval": 0.01, "speed": 1.0}})
    outs = {n: tmp_path / f"{n}.jsonl" for n in ("slow", "trader")}
    slow = procs.strategy(rpc, pub, "slow", outs["slow"], "--orders", "5", "--passive", "--quotes", "SH,SZ")
    wait_for(lambda: any(r["k"] == "done" for r in read_jsonl(outs["slow"])), 20, "the slow strategy to start")
    time.sleep(2.0)  # ticks flowing
    hub_ps = psutil.Process(hub.pid)
    rss_before = hub_ps.memory_info().rss
    ticks_before = _offered(hub_call(rpc, "status")["result"])

    sample = msgpack.packb({"seq": None, "stream": None, "sseq": None, "ts": 0.0, "hub_id": "x" * 12,
                            "topic": "tick.600000.SH", "code": "600000.SH", "tseq": 1 << 20,
                            "data": admin_call(rpc, data, "get_full_tick", {"codes": ["600000.SH"]})["600000.SH"]})
    tick_size = len(sample) + 24  # + the topic frame
    bound = PUB_HWM * tick_size + 6 * 2**20  # queue for one stalled subscriber + allocator/interpreter noise

    slow.pause()
    t0 = time.monotonic()
    trader = procs.strategy(rpc, pub, "trader", outs["trader"], "--orders", "60", "--interval", "0.05")
    rss_peak = rss_before
    cancelled = None
    ticks_in_stall, next_count = 0, t0 + 1.0
    # at least STALL seconds, and longer on a slow machine until an unbounded queue would have passed the bound
    while time.monotonic() - t0 < STALL or (ticks_in_stall * tick_size <= bound and time.monotonic() - t0 < STALL_MAX):
        rss_peak = max(rss_peak, hub_ps.memory_info().rss)
        if cancelled is None and time.monotonic() - t0 > 3:
            # the frozen strategy's own stream moves too: an operator cancels its orders
            cancelled = admin_call(rpc, data, "cancel_all", {"strategy": "slow"})["cancelled"]
        if time.monotonic() >= next_count:
            ticks_in_stall = _offered(hub_call(rpc, "status")["result"]) - ticks_before
            next_count = time.monotonic() + 1.0
        time.sleep(0.25)
    status = hub_call(rpc, "status")["result"]
    ticks_in_stall = _offered(status) - ticks_before
    slow.resume()

    assert len(cancelled) == 5
    growth = rss_peak - rss_before
    backlog = ticks_in_stall * tick_size  # what an unbounded queue would have held
    assert backlog > bound, "not enough ticks during the stall to show the bound"
    assert growth < bound, (growth, bound)

    # the slow client catches up: missed ticks counted and reported, no account event lost
    wait_for(lambda: any(r["k"] == "done" for r in read_jsonl(outs["trader"])), 30, "the trader to finish")

    def caught_up() -> bool:
        recs = [r for r in read_jsonl(outs["slow"]) if r["k"] == "event"]
        for stream in ("slow", "@account"):
            head = max(e["sseq"] for e in journal_events(data, stream))
            if max((r["sseq"] for r in recs if r["stream"] == stream), default=0) < head:
                return False
        return True
    wait_for(caught_up, 20, "the slow client to catch up on account events")
    def reported() -> int:  # the client sends its counters with every ping; the hub shows them in `clients`
        return {c["strategy"]: c for c in admin_call(rpc, data, "clients")}["slow"]["missed_ticks"] or 0
    wait_for(reported, 5, "the slow client to report missed ticks to the hub")
    for n in outs:
        outs[n].with_name(outs[n].name + ".stop").touch()
    assert slow.popen.wait(15) == 0
    recs = read_jsonl(outs["slow"])
    [stats] = [r for r in recs if r["k"] == "stats"]
    assert stats["missed_ticks"] > 0 and stats["lost_events"] == 0
    events = [r for r in recs if r["k"] == "event"]
    mine = [(r["seq"], r["topic"]) for r in events if r["stream"] == "slow"]
    assert mine == [(e["seq"], e["topic"]) for e in journal_events(data, "slow")]
    acct = [r for r in events if r["stream"] == "@account"]
    first = acct[0]["sseq"]
    assert [r["seq"] for r in acct] == [e["seq"] for e in journal_events(data, "@account") if e["sseq"] >= first]
    print(f"\n{ticks_in_stall} ticks during the {STALL:g}s stall ({backlog / 2**20:.1f} MiB unbounded); hub RSS "
          f"+{growth / 2**20:.1f} MiB (bound {bound / 2**20:.1f} MiB); slow client missed {stats['missed_ticks']} "
          f"ticks, replays {stats['replays']}, lost events {stats['lost_events']}")
