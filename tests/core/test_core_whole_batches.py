"""Whole-market snapshots as batched frames (issue 14; docs/protocol.md "Whole markets come in batches").

A 5,500-code snapshot (one upstream callback, as `subscribe_whole_quote` delivers every 3 s) reaches
a whole-market subscriber as `ticks.<market>` frames: every code exactly once, with the values the
source gave; a per-code subscriber still gets its code as `tick.<code>`, with the same tseq; the
xtdata drop-in's `subscribe_whole_quote` callback gets `{code: tick}` dicts, as xtquant's does.
No timing is asserted here (the speed is the bench's case 8).
"""

from __future__ import annotations

import math
import time
from typing import Any

from core_helpers import exchange_of

from rpc_client import protocol as P

CODE = "600000.SH"


def _universe(n: int) -> dict[str, dict[str, Any]]:
    """A simulator universe whose SH and SZ markets list `n` codes in all (built-ins included)."""
    from hub.sim.universe import Universe, kind_of

    have = set(Universe().codes("SH")) | set(Universe().codes("SZ"))
    out: dict[str, dict[str, Any]] = {}
    sh = (f"{k:06d}.SH" for k in range(600000, 606000))
    sz = (f"{k:06d}.SZ" for k in list(range(1, 4000)) + list(range(300001, 302000)))
    for a, b in zip(sh, sz):
        for c in (a, b):
            if len(have) + len(out) >= n:
                return out
            if c not in have and kind_of(c):
                out[c] = {"price": 10.0 + len(out) % 50 / 10}
    return out


def _whole_codes(ex: Any) -> list[str]:
    return ex.universe.codes("SH") + ex.universe.codes("SZ")


def _collect(client: Any, want: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The batch frames the client got until they hold `want` ticks (or the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.poll_events(0.1)
        batches = [e for e in client.events if e["_topic"].startswith("ticks.")]
        if sum(len(b["data"]) for b in batches) >= want:
            client.poll_events(0.3)  # anything more that came would be a second copy
            return [e for e in client.events if e["_topic"].startswith("ticks.")]
    raise TimeoutError(f"only {sum(len(b['data']) for b in batches)} of {want} ticks arrived")


def test_a_5500_code_snapshot_reaches_a_whole_market_subscriber_once_per_code(make_hub, connect):
    server = make_hub(sim={"auto_tick": False, "universe": _universe(5500)})
    ex = exchange_of(server)
    codes = _whole_codes(ex)
    assert len(codes) == 5500
    whole = connect(server, topics=("ticks.", P.Topic.HEARTBEAT))
    whole.hello("whole")
    assert whole.call("subscribe_whole_quote", {"codes": ["SH", "SZ"]}) == {"codes": ["SH", "SZ"]}
    single = connect(server, topics=(P.tick_topic(CODE), P.Topic.HEARTBEAT))
    single.hello("single")
    single.call("subscribe_quote", {"codes": [CODE]})

    given: list[dict[str, dict]] = []
    ex.add_tick_listener(given.append)  # the same callback the hub's quote source gets
    try:
        ex.step()
    finally:
        ex.remove_tick_listener(given.append)
    snapshot = given[0]
    assert set(codes) <= set(snapshot)

    batches = _collect(whole, len(codes))
    seen: dict[str, int] = {}
    for b in batches:
        market = b["_topic"].split(".", 1)[1]
        assert b["topic"] == P.ticks_topic(market) and b["seq"] is None
        assert 0 < len(b["data"]) <= P.TICK_BATCH_MAX
        assert set(b["tseq"]) == set(b["data"])
        for code, tick in b["data"].items():
            assert P.market_of(code) == market
            assert tick == snapshot[code]  # the source's values, as they came
            assert b["tseq"][code] == 1
            seen[code] = seen.get(code, 0) + 1
    assert set(seen) == set(codes)
    assert all(n == 1 for n in seen.values()), {c: n for c, n in seen.items() if n != 1}
    per_market = {m: sum(1 for c in codes if c.endswith("." + m)) for m in ("SH", "SZ")}
    # full frames, but where a market ends or the hub's slice of pending ticks (500 codes) ends
    least = sum(math.ceil(n / P.TICK_BATCH_MAX) for n in per_market.values())
    assert least <= len(batches) <= least + math.ceil(len(codes) / 500) + 1
    assert not [e for e in whole.events if e["_topic"].startswith("tick.")]  # no single frames asked for

    # the per-code subscriber still gets its code in its own frame, with the batch's tseq
    own = single.wait_event(lambda t, p: t == P.tick_topic(CODE))
    assert own["code"] == CODE and own["tseq"] == 1 and own["data"] == snapshot[CODE]
    assert not [e for e in single.events if e["_topic"].startswith("ticks.")]
    counters = server.status()["counters"]
    assert counters["tick_batches"] == len(batches)

    # the next snapshot: every code once more, tseq 2 (the holder pings: a silent one gets no batches)
    whole.call("ping")
    given.clear()
    ex.add_tick_listener(given.append)
    try:
        ex.step()
    finally:
        ex.remove_tick_listener(given.append)
    whole.events.clear()
    batches = _collect(whole, len(codes))
    got = {c: (b["tseq"][c], t) for b in batches for c, t in b["data"].items()}
    assert len(got) == len(codes) == sum(len(b["data"]) for b in batches)
    assert all(n == 2 and t == given[0][c] for c, (n, t) in got.items())


def test_codes_of_an_unfollowed_market_still_come_one_frame_each(make_hub, connect):
    server = make_hub()
    ex = exchange_of(server)
    sz = connect(server, topics=("ticks.", "tick.", P.Topic.HEARTBEAT))
    sz.hello("sz")
    sz.call("subscribe_whole_quote", {"codes": ["SZ"]})
    other = connect(server, topics=(P.tick_topic(CODE), P.Topic.HEARTBEAT))
    other.hello("other")
    other.call("subscribe_quote", {"codes": [CODE]})
    ex.step()
    batch = sz.wait_event(lambda t, p: t == "ticks.SZ")
    assert batch["data"] and all(c.endswith(".SZ") for c in batch["data"])
    own = other.wait_event(lambda t, p: t == P.tick_topic(CODE))  # SH is followed by nobody whole
    assert own["tseq"] == 1
    sz.call("unsubscribe_quote", {"codes": ["SZ"]})
    assert ex.active_subscriptions() == {CODE: 1}


def test_the_xtdata_dropin_whole_quote_callback_gets_code_to_tick_dicts(make_hub, monkeypatch):
    """xtquant calls a subscribe_whole_quote callback with {stock_code: tick dict, ...}."""
    from rpc_client import xtdata

    server = make_hub(sim={"auto_tick": False, "universe": _universe(1500)})
    ex = exchange_of(server)
    monkeypatch.setenv("QMT_HUB", server.config.rpc)
    monkeypatch.setenv("QMT_HUB_PUB", server.config.pub)
    calls: list[Any] = []
    singles: list[Any] = []
    try:
        assert xtdata.subscribe_whole_quote(["SH", "SZ"], callback=calls.append) > 0
        assert xtdata.subscribe_quote(CODE, period="tick", callback=singles.append) > 0
        codes = _whole_codes(ex)
        deadline = time.monotonic() + 30
        ex.step()
        while sum(len(c) for c in calls) < len(codes) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert sum(len(c) for c in calls) == len(codes)
        seen: set[str] = set()
        for datas in calls:
            assert isinstance(datas, dict) and datas
            assert len({P.market_of(c) for c in datas}) == 1  # one batch: one market
            for code, tick in datas.items():
                assert isinstance(code, str) and isinstance(tick, dict)
                assert set(P.RECORD_FIELDS["tick"]) <= set(tick)
                assert code not in seen
                seen.add(code)
        assert seen == set(codes)
        assert len(calls) > 2  # 1,500 codes: more than one batch per market
        # subscribe_quote's callback keeps xtquant's {code: [tick]} shape, once per tick
        assert len(singles) == 1 and list(singles[0]) == [CODE] and isinstance(singles[0][CODE], list)
    finally:
        xtdata.close()


def test_a_market_whose_every_holder_is_silent_gets_no_batches_and_the_gap_shows_in_tseq(make_hub, connect):
    """A holder that stopped talking (a frozen process still connected) would have its SUB pipe fill
    with batch frames up to pub_hwm; while every holder of a market is silent its ticks are stamped
    but not sent, and the holder finds the gap in tseq when it is back."""
    server = make_hub()
    server.whole_silent_after = 0.5  # the default is max(3 s, 3 heartbeats)
    ex = exchange_of(server)
    w = connect(server, topics=("ticks.", P.Topic.HEARTBEAT))
    w.hello("quiet")
    w.call("subscribe_whole_quote", {"codes": ["SZ"]})
    time.sleep(1.0)  # silent longer than whole_silent_after
    ex.step()
    time.sleep(0.8)
    w.poll_events(0.2)
    assert not [e for e in w.events if e["_topic"] == "ticks.SZ"]
    unsent = server.status()["counters"]["ticks_unsent"]
    assert unsent > 0
    w.call("ping")  # heard again: batches resume
    time.sleep(0.6)  # past the 0.5 s cache of who is live
    w.call("ping")
    ex.step()
    batch = w.wait_event(lambda t, p: t == "ticks.SZ")
    assert set(batch["tseq"].values()) == {2}  # tseq 1 was stamped and not sent: a gap the client counts
