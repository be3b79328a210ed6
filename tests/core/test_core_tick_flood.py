"""Ticks never delay calls or account events: the tick store conflates per code and the loop
publishes ticks in bounded slices after calls and broker mail. No timing assertions: the tests
check structure (what was pending when a reply was produced, counts, sequence numbers)."""

from __future__ import annotations

import threading
import time

from hub.core.quotes import QuoteFanout, TickStore

BUY, FIX = 23, 11
ACCOUNT_TOPICS = ("order.", "trade.", "error.", "position", "asset", "account", "hub.")


def order(code="600000.SH", volume=100, price=10.5, **extra):
    return {"stock_code": code, "order_type": BUY, "order_volume": volume, "price_type": FIX, "price": price,
            **extra}


class Wakes:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> None:
        self.n += 1


# ---- the tick store on its own ------------------------------------------------------------
def test_same_code_conflates_to_one_pending_tick():
    wake = Wakes()
    store = TickStore(wake)
    for i in range(1000):
        store.put({"600000.SH": {"lastPrice": 10.0 + i / 100, "volume": i}})
    assert len(store) == 1 and store.conflated == 999 and wake.n == 1000
    assert store.take(10) == [("600000.SH", {"lastPrice": 10.0 + 999 / 100, "volume": 999})]
    assert not store.pending() and len(store) == 0 and store.take(10) == []


def test_identical_tick_is_a_duplicate_not_a_conflation():
    store = TickStore(Wakes())
    tick = {"lastPrice": 10.0, "volume": 1}
    store.put({"600000.SH": tick})
    store.put({"600000.SH": dict(tick)})  # the same tick from a code and a whole-market subscription
    assert len(store) == 1 and store.conflated == 0


def test_list_batches_keep_the_latest_and_junk_is_ignored():
    wake = Wakes()
    store = TickStore(wake)
    store.put({"000001.SZ": [{"lastPrice": 1.0}, {"lastPrice": 2.0}, {"lastPrice": 3.0}]})
    assert store.take(5) == [("000001.SZ", {"lastPrice": 3.0})] and store.conflated == 2
    store.put(None)
    store.put(["not", "a", "map"])
    store.put({"000001.SZ": "junk"})
    assert len(store) == 0 and wake.n == 1  # nothing stored, no wake-up for it


def test_memory_is_bounded_by_codes_and_every_code_gets_its_turn():
    store = TickStore(Wakes())
    codes = [f"{i:06d}.SZ" for i in range(100)]
    for r in range(50):
        store.put({c: {"lastPrice": float(r)} for c in codes})
    assert len(store) == 100 and store.conflated == 100 * 49
    first = store.take(30)
    assert [c for c, _ in first] == codes[:30] and all(t == {"lastPrice": 49.0} for _, t in first)
    store.put({codes[50]: {"lastPrice": 99.0}, "NEW.SH": {"lastPrice": 1.0}})  # a re-dirtied code keeps its turn
    rest = store.take(1000)
    assert [c for c, _ in rest] == codes[30:] + ["NEW.SH"]
    assert dict(rest)[codes[50]] == {"lastPrice": 99.0}


def test_threads_putting_at_once_lose_nothing_but_conflations():
    store = TickStore(Wakes())
    codes = [f"{i:06d}.SH" for i in range(200)]
    taken: list[tuple[str, dict]] = []
    done = threading.Event()

    def producer(k: int) -> None:
        for r in range(100):
            store.put({c: {"lastPrice": float(r), "by": k} for c in codes})

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    while not done.is_set():
        if not any(t.is_alive() for t in threads):
            done.set()
        taken.extend(store.take(17))
    taken.extend(store.take(10**6))
    # all puts differ, so every tick put was either handed over or counted as conflated
    assert len(taken) + store.conflated == 4 * 100 * 200
    assert {c for c, _ in taken} == set(codes) and len(store) == 0


def test_stamp_gives_contiguous_tseq_and_skips_repeats():
    quotes = QuoteFanout(None, lambda data: None)
    assert quotes.stamp("A", {"p": 1}) == 1
    assert quotes.stamp("A", {"p": 1}) is None  # the same tick again: not published
    assert quotes.stamp("A", {"p": 2}) == 2
    assert quotes.stamp("B", {"p": 2}) == 1
    assert quotes.stamp("A", {"p": 3}) == 3


# ---- a hub under a tick flood --------------------------------------------------------------
def test_calls_and_account_events_go_first_under_a_tick_flood(hub, connect):
    c = connect(hub, topics=ACCOUNT_TOPICS)  # not subscribed to ticks: PUB drops for it are impossible
    c.hello("alpha")

    replies: dict[object, int] = {}  # request id -> ticks pending when the reply was produced
    sent = hub._send

    def recording_send(identity, msg, session=None):
        replies[msg.get("id")] = len(hub.tick_store)
        sent(identity, msg, session)

    published: dict[str, list[int]] = {}
    publish = hub.publisher.publish_unjournaled

    def recording_publish(topic, data, **extra):
        if "tseq" in extra:
            published.setdefault(extra["code"], []).append(extra["tseq"])
        publish(topic, data, **extra)

    hub._send = recording_send
    hub.publisher.publish_unjournaled = recording_publish

    codes = [f"{i:06d}.SZ" for i in range(20000)]
    stop = threading.Event()
    put = [len(codes)]  # ticks put, all distinct (written by the flood thread only while it runs)

    def flood() -> None:  # the quote source's thread: whole-market bursts, again and again
        r = 0
        while not stop.is_set():
            r += 1
            for k in range(0, len(codes), 2000):
                hub.tick_store.put({code: {"lastPrice": float(r), "volume": r} for code in codes[k:k + 2000]})
                put[0] += len(codes[k:k + 2000])

    hub.tick_store.put({code: {"lastPrice": 0.0, "volume": 0} for code in codes})
    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    try:
        ids = []
        for _ in range(3):
            reply = c.call_raw("ping", {}, timeout=20)
            assert reply["ok"], reply
            ids.append(reply["id"])
            reply = c.call_raw("order_stock", order(), timeout=20)
            assert reply["ok"], reply
            ids.append(reply["id"])
        # every reply was produced while ticks were still waiting: ticks did not hold them back
        assert all(replies[i] > 0 for i in ids), {i: replies[i] for i in ids}
        fills = []
        while len(fills) < 3:
            fills.append(c.wait_event(lambda t, p: t == "order.alpha" and p["data"]["order_status"] == 56
                                      and p not in fills, timeout=20))
    finally:
        stop.set()
        flooder.join(10)
    deadline = time.monotonic() + 60
    while len(hub.tick_store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hub.tick_store) == 0, "the hub never caught up with the flood"
    hub._send = sent
    status = c.call("status")
    counters = status["counters"]
    assert counters["ticks_pending"] == 0

    # account events: none lost, each stream contiguous
    time.sleep(0.3)
    events = c.journaled()
    per_stream: dict[str, list[int]] = {}
    for e in events:
        per_stream.setdefault(e["stream"], []).append(e["sseq"])
    assert per_stream["alpha"][0] == 1 and "@account" in per_stream
    for stream, sseqs in per_stream.items():
        assert sseqs == list(range(sseqs[0], sseqs[0] + len(sseqs))), stream

    # ticks: every code published, tseq contiguous per code; every distinct tick put was
    # either published or counted as conflated
    assert set(published) == set(codes)
    for code, seqs in published.items():
        assert seqs == list(range(1, len(seqs) + 1)), code
    n_published = sum(len(s) for s in published.values())
    assert n_published + counters["ticks_conflated"] == put[0]
    assert counters["ticks_conflated"] == hub.tick_store.conflated > 0
