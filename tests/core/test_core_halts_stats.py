"""Halts, the kill switch and the statistics without a hub: real journal, fake publisher and broker."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from rpc_client.protocol import HubError

from hub.core.book import Book
from hub.core.call import Call
from hub.core.halts import Halts, cancel_one, cancel_open
from hub.core.histogram import BOUNDS, Histogram
from hub.core.journal import Journal, ReplayUnavailable
from hub.core.stats import HubStats


class Pub:
    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, data: Any) -> None:
        self.published.append((topic, data))


# ---- halts ------------------------------------------------------------------------------------

def test_halts_state_is_published_and_survives_a_restart(tmp_path):
    journal, pub = Journal(tmp_path / "j.sqlite"), Pub()
    halts = Halts(journal, pub)
    halts.load()
    assert halts.reason("alpha") is None and not halts.all
    halts.set("alpha", True, "losses")
    halts.set("beta", True, "")
    assert halts.reason("alpha") == "losses" and halts.reason("beta") == "" and halts.reason("gamma") is None
    halts.set(None, True, "")
    assert halts.reason("gamma") == "halted" and halts.all  # all halted without a reason still says why
    view = halts.view()
    view["strategies"]["x"] = "y"  # a copy: the caller cannot edit the state
    assert "x" not in halts.state["strategies"]
    assert pub.published[0] == ("hub.halt", {"strategy": "alpha", "halted": True, "reason": "losses"})
    journal.close()
    # a restarted hub reads the persisted state
    journal = Journal(tmp_path / "j.sqlite")
    again = Halts(journal, Pub())
    again.load()
    assert again.view() == {"all": True, "reason": "", "strategies": {"alpha": "losses", "beta": ""}}
    again.set(None, False, "resumed")  # resuming all clears every per-strategy halt too
    assert again.view() == {"all": False, "reason": "", "strategies": {}}
    journal.close()


# ---- the kill switch --------------------------------------------------------------------------

class FakeBroker:
    def __init__(self, seqs: dict[int, Any]):
        self.seqs, self.asked = seqs, []

    def cancel_async(self, order_id: int) -> Any:
        self.asked.append(order_id)
        seq = self.seqs.get(order_id, 1)
        if isinstance(seq, Exception):
            raise seq
        return seq


class FakeDesk:
    def __init__(self, numbered: list[int]):
        self.numbered, self.cancels = numbered, []

    def in_flight(self, strategy: str | None) -> tuple[list[int], int]:
        return list(self.numbered), 0

    def cancel(self, call: Any, order_id: int, seq: Any) -> None:
        self.cancels.append((call, order_id, seq))


def kill_ctx(up: bool, seqs: dict[int, Any], numbered: list[int]) -> Any:
    book = Book()
    for oid, status in ((1, 50), (2, 56), (3, 55)):  # reported, filled, part filled
        book.orders[oid] = {"order_id": oid, "owner": "alpha", "order_status": status}
    link = SimpleNamespace(is_up=up, broker=FakeBroker(seqs))
    return SimpleNamespace(link=link, desk=FakeDesk(numbered), book=book)


def test_cancel_open_covers_the_book_and_orders_numbered_but_not_yet_pushed():
    ctx = kill_ctx(True, {3: -1}, numbered=[9, 1])
    assert cancel_open(ctx, "alpha") == [1, 9]  # 3 refused by the broker, 2 is filled
    assert ctx.link.broker.asked == [1, 3, 9]
    assert [c[1:] for c in ctx.desk.cancels] == [(1, 1), (3, -1), (9, 1)]  # the desk saw every attempt
    assert all(c[0] is None for c in ctx.desk.cancels)  # hub-initiated: nobody waits for a reply


def test_the_kill_switch_does_nothing_while_the_broker_is_down_and_survives_a_raising_broker():
    ctx = kill_ctx(False, {}, numbered=[9])
    assert cancel_open(ctx, None) == [] and ctx.link.broker.asked == []
    ctx = kill_ctx(True, {1: RuntimeError("gone")}, numbered=[])
    assert cancel_one(ctx, 1) is False and ctx.desk.cancels == []


# ---- statistics -------------------------------------------------------------------------------

class Source:
    def __init__(self, **counters: int):
        self.counters = counters

    def status_counters(self) -> dict[str, int]:
        return dict(self.counters)


def stats_ctx(tmp_path) -> Any:
    halts = SimpleNamespace(view=lambda: {"all": False, "reason": "", "strategies": {}})
    link = SimpleNamespace(account_id="A1", state={"state": "up", "since": 1.0, "reason": "connected"})
    journal = SimpleNamespace(last_seq=12, heads={"alpha": 3})
    config = SimpleNamespace(broker="sim", rpc="tcp://127.0.0.1:1", pub="tcp://127.0.0.1:2", data_dir=tmp_path,
                             curve=False, allow_insecure_remote=False)
    return SimpleNamespace(hub_id="h1", config=config, link=link, halts=halts, journal=journal, sessions=[1, 2])


def test_stats_counts_latency_by_method_and_builds_the_status_map(tmp_path):
    stats = HubStats()
    with pytest.raises(RuntimeError, match="not started"):
        stats.status()
    stats.counters["requests"] += 3
    stats.count_error("HALTED")
    stats.count_error("HALTED")
    for method in ("ping", "ping", "no_such_method"):
        call = Call(b"id", 1, None, method)
        call.t0 -= 0.002  # answered 2 ms after it arrived
        stats.done(call)
    lat = stats.latency()
    assert 2.0 <= lat["p50"] < 1000 and lat["p99"] >= lat["p50"]
    stats.bind(stats_ctx(tmp_path), [Source(events=5, ticks=7), Source(orders=2)], None, lambda: "20261202")
    stats.status_sources["observe"] = lambda: {"alerts": 1}
    stats.status_sources["broken"] = lambda: 1 / 0
    st = stats.status()
    c = st["counters"]
    assert c["requests"] == 3 and c["errors"] == {"HALTED": 2} and c["events"] == 5 and c["orders"] == 2
    assert c["by_method"] == {"ping": 2}  # a peer's unknown names never become keys
    # the latency histogram per method: per-bucket counts over the fixed bounds (+Inf last), and the sum
    hist = st["histograms"]
    assert hist["bounds"] == list(BOUNDS) and list(hist["call_latency"]) == ["ping"]
    ping = hist["call_latency"]["ping"]
    assert len(ping["counts"]) == len(BOUNDS) + 1 and sum(ping["counts"]) == 2
    below_2ms = [i for i, b in enumerate(BOUNDS) if b < 0.002]
    assert all(ping["counts"][i] == 0 for i in below_2ms)  # each call took at least 2 ms
    assert 0.004 <= ping["sum"] < 60
    assert hist["journal_commit"] == {}  # this journal stand-in has no commit times
    assert st["observe"] == {"alerts": 1} and st["broken"]["error"].startswith("ZeroDivisionError")
    assert st["account_id"] == "A1" and st["clients"] == 2 and st["trading_day"] == "20261202"
    assert st["broker"] == {"state": "up", "since": 1.0, "reason": "connected"} and st["heads"] == {"alpha": 3}
    c["errors"]["X"] = 1  # the map is a copy
    assert "X" not in stats.counters["errors"]


def test_a_histogram_counts_each_value_in_the_first_bucket_whose_bound_holds_it():
    h = Histogram()
    for v in (0.0, BOUNDS[0], BOUNDS[0] * 1.01, 0.003, BOUNDS[-1], BOUNDS[-1] + 1):
        h.observe(v)
    counts = h.view()["counts"]
    assert counts[0] == 2  # 0 and the first bound itself (le is inclusive)
    assert counts[1] == 1  # just above the first bound
    assert counts[BOUNDS.index(0.005)] == 1  # 3 ms: the 5 ms bucket
    assert counts[len(BOUNDS) - 1] == 1 and counts[-1] == 1  # the last bound, then +Inf
    assert h.count == 6 and h.view()["sum"] == round(sum((BOUNDS[0], BOUNDS[0] * 1.01, 0.003, BOUNDS[-1],
                                                          BOUNDS[-1] + 1)), 6)


def test_rates_differentiate_the_marks():
    stats = HubStats()
    assert stats.rates() == {"requests_per_s": 0.0, "events_per_s": 0.0, "ticks_per_s": 0.0}
    now = time.monotonic()
    stats._rate_marks.extend([(now - 2.0, 0, 0, 0), (now, 10, 4, 100)])
    assert stats.rates() == {"requests_per_s": 5.0, "events_per_s": 2.0, "ticks_per_s": 50.0}


def test_replay_unavailable_is_the_journals_own_error_and_a_hub_error(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    old = time.time() - 5 * 86400
    journal.append("order.alpha", {"n": 1}, old, "h")
    journal.append("order.alpha", {"n": 2}, time.time(), "h")
    assert journal.prune(1) == 1
    with pytest.raises(ReplayUnavailable) as info:
        journal.replay("alpha", 0, 10)
    exc = info.value
    assert (exc.first, exc.head, exc.stream) == (2, 2, "alpha")
    assert isinstance(exc, HubError) and exc.code == "REPLAY_UNAVAILABLE"
    assert exc.data == {"stream": "alpha", "first": 2, "head": 2}
    journal.close()
