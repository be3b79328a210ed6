"""The stream sequencer on its own: plain lists in, plain lists out, no socket.

Each test offers events (as the transport does when they arrive), feeds replay answers (as the
hub would send them) and checks what is delivered, held, replayed and reported lost.
"""

from __future__ import annotations

from rpc_client.sequencer import GLOBAL, StreamSequencer


def ev(sseq: int, stream: str = "alpha", seq: int | None = None) -> dict:
    return {"seq": seq if seq is not None else 100 + sseq, "stream": stream, "sseq": sseq,
            "topic": f"order.{stream}", "data": {"n": sseq}}


def delivered(step) -> list[int]:
    return [p["sseq"] for p in step.deliver]


def started(heads=None, first=True, resume=None, keys=("alpha", "@account")) -> tuple[StreamSequencer, list[str]]:
    s = StreamSequencer()
    return s, s.start(list(keys), heads or {}, first, resume)


def test_a_new_client_starts_at_the_heads_and_delivers_in_order():
    s, replay = started({"alpha": 4, "@account": 7})
    assert replay == [] and s.synced and s.positions() == {"alpha": 4, "@account": 7}
    assert delivered(s.offer("alpha", 3, ev(3))) == []  # before where we start: a duplicate
    assert delivered(s.offer("alpha", 5, ev(5))) == [5]
    assert delivered(s.offer("alpha", 6, ev(6))) == [6]
    assert s.duplicates == 1


def test_resume_from_replays_what_happened_since():
    s, replay = started({"alpha": 4, "@account": 7}, resume={"alpha": 1})
    assert replay == ["alpha"] and not s.synced
    assert s.begin_replay("alpha") == 1
    step = s.on_replay("alpha", {"events": [ev(2), ev(3), ev(4)], "head": 4, "more": False})
    assert delivered(step) == [2, 3, 4] and step.synced and not step.replay and s.synced


def test_events_before_hello_are_held_then_replayed_from_the_start_point():
    s = StreamSequencer()
    assert delivered(s.offer("alpha", 1, ev(1))) == [] and not s.live
    replay = s.start(["alpha"], {"alpha": 0}, first=True)
    assert replay == ["alpha"]  # something is held: ask the hub where it stands
    assert s.begin_replay("alpha") == 0
    step = s.on_replay("alpha", {"events": [ev(1)], "head": 1, "more": False})
    assert delivered(step) == [1] and step.synced


def test_duplicates_are_dropped_and_counted():
    s, _ = started({"alpha": 0})
    assert delivered(s.offer("alpha", 1, ev(1))) == [1]
    assert delivered(s.offer("alpha", 1, ev(1))) == []
    assert delivered(s.offer("alpha", 1, ev(1))) == []
    assert s.duplicates == 2


def test_a_gap_holds_later_events_until_the_replay_fills_it():
    s, _ = started({"alpha": 0})
    assert delivered(s.offer("alpha", 1, ev(1))) == [1]
    step = s.offer("alpha", 4, ev(4))
    assert delivered(step) == [] and step.replay
    assert s.begin_replay("alpha") == 1
    assert not s.offer("alpha", 5, ev(5)).replay  # a replay is under way: not a second one
    step = s.on_replay("alpha", {"events": [ev(2), ev(3), ev(4)], "head": 5, "more": False})
    assert delivered(step) == [2, 3, 4, 5] and not step.replay and not step.gaps
    assert s.positions()["alpha"] == 5 and s.replays == 1


def test_replay_pages_until_the_head():
    s, _ = started({"alpha": 0})
    s.offer("alpha", 1, ev(1))
    assert s.offer("alpha", 10, ev(10)).replay
    after = s.begin_replay("alpha")
    pages = []
    while after is not None:
        page = [ev(i) for i in range(after + 1, min(after + 4, 10))]
        step = s.on_replay("alpha", {"events": page, "head": 10, "more": after + 4 < 10})
        pages.append(delivered(step))
        after = s.begin_replay("alpha") if step.replay else None
    assert [x for p in pages for x in p] == list(range(2, 11)) and len(pages) == 3


def test_a_replay_without_the_missing_events_reports_them_lost_and_moves_on():
    s, _ = started({"alpha": 0})
    s.offer("alpha", 1, ev(1))
    s.offer("alpha", 5, ev(5))
    s.begin_replay("alpha")
    step = s.on_replay("alpha", {"events": [], "head": 5, "more": False})
    assert delivered(step) == [5]
    [gap] = step.gaps
    assert (gap.stream, gap.after, gap.next, gap.lost) == ("alpha", 1, 5, 3) and s.lost_events == 3
    assert gap.notice()["lost"] == 3


def test_replay_unavailable_jumps_to_the_oldest_kept_event_and_replays_the_rest():
    s, replay = started({"alpha": 12}, resume={"alpha": 3}, keys=("alpha",))
    assert replay == ["alpha"]
    s.begin_replay("alpha")
    step = s.on_unavailable("alpha", {"first": 10, "head": 12}, "pruned")
    [gap] = step.gaps
    assert (gap.after, gap.next, gap.lost) == (3, 10, 6) and step.replay and not step.synced
    assert s.begin_replay("alpha") == 9
    step = s.on_replay("alpha", {"events": [ev(10), ev(11), ev(12)], "head": 12, "more": False})
    assert delivered(step) == [10, 11, 12] and step.synced and s.lost_events == 6


def test_replay_unavailable_with_events_held_skips_to_them():
    s, _ = started({"alpha": 0}, keys=("alpha",))
    s.offer("alpha", 1, ev(1))
    s.offer("alpha", 8, ev(8))
    s.begin_replay("alpha")
    step = s.on_unavailable("alpha", {"first": None, "head": 8}, "pruned")
    assert delivered(step) == [8] and step.gaps[0].lost == 6 and not step.replay


def test_a_failed_replay_is_asked_again_by_the_next_heads():
    s, _ = started({"alpha": 0}, keys=("alpha",))
    s.offer("alpha", 1, ev(1))
    assert s.behind({"alpha": 2}) == ["alpha"]  # a lost last event: the pong's head is beyond us
    s.begin_replay("alpha")
    assert s.behind({"alpha": 2}) == []  # under way
    s.on_replay_failed("alpha")
    assert s.behind({"alpha": 2}) == ["alpha"]
    assert s.behind({"alpha": 1, "@account": 99}) == []  # no tracker for @account here, alpha is level


def test_a_later_hello_keeps_our_positions_and_a_lower_head_restarts_the_stream():
    s, _ = started({"alpha": 5, "@account": 2})
    s.stop()
    assert not s.live and s.begin_replay("alpha") is None
    assert delivered(s.offer("alpha", 6, ev(6))) == []  # held while reconnecting
    replay = s.start(["alpha", "@account"], {"alpha": 6, "@account": 1}, first=False)
    assert sorted(replay) == ["@account", "alpha"]
    assert s.positions() == {"alpha": 5, "@account": 0}  # @account's head went down: the journal was reset


def test_stop_voids_replays_in_flight_and_the_sync():
    s, replay = started({"alpha": 3}, resume={"alpha": 0}, keys=("alpha",))
    s.begin_replay("alpha")
    s.stop()
    assert s.synced  # nothing waits for the lost connection's replay
    assert s.start(["alpha"], {"alpha": 3}, first=False) == ["alpha"]
    assert s.begin_replay("alpha") == 0


def test_monitors_follow_the_global_seq():
    s, replay = started({GLOBAL: 40}, resume={GLOBAL: 38}, keys=(GLOBAL,))
    assert replay == [GLOBAL]
    s.begin_replay(GLOBAL)
    step = s.on_replay(GLOBAL, {"events": [ev(1, "alpha", seq=39), ev(7, "beta", seq=40)], "head": 40,
                                "more": False})
    assert [p["seq"] for p in step.deliver] == [39, 40] and step.synced
