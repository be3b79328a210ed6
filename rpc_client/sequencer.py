"""Events exactly once and in order, per stream: the client's sequencing, with no socket in sight.

The hub numbers every journaled event per stream (`sseq` 1, 2, 3... without holes; monitors
follow the global `seq` instead, under the key ``"*"``). This module decides, for each event
offered to it, whether it is delivered now, held behind a gap, or dropped as a duplicate; when
to ask the hub for a `replay`, how to take its pages, what a `REPLAY_UNAVAILABLE` jump loses,
and which heads (from `hello` or a `ping` reply) mean an event went missing. The transport does
the I/O: it offers events, sends the replays this module asks for and hands back their answers,
and delivers what comes back in each `Step`. Everything here is plain data, so the rules are
unit-tested with lists (tests/client/test_client_sequencer.py).

Not thread-safe: the transport's socket thread is its only user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

log = logging.getLogger("rpc_client")

#: The key of the global `seq` (what monitors follow) among the stream keys.
GLOBAL = "*"


@dataclass
class Gap:
    """Events of a stream lost for good (pruned from the journal, or missing from a replay)."""

    stream: str
    after: int | None  # the last position delivered before the hole
    next: int  # the first position after it
    lost: int
    reason: str

    def notice(self) -> dict[str, Any]:
        """The `client.gap` notice the gateway shows its user."""
        return {"stream": self.stream, "after": self.after, "next": self.next, "lost": self.lost,
                "reason": self.reason}


@dataclass
class Step:
    """What the transport does after an offer or a replay answer."""

    deliver: list[dict] = field(default_factory=list)  # payloads to hand to the user, in order
    gaps: list[Gap] = field(default_factory=list)  # holes to report
    replay: bool = False  # ask the hub for (more of) this stream now
    synced: bool = False  # the stream has caught up: its sync after hello is over


@dataclass
class _Tracker:
    """Last delivered position of one stream and events held behind a gap."""

    last: int | None = None
    pending: dict[int, dict] = field(default_factory=dict)
    replaying: bool = False


def _index(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class StreamSequencer:
    """Per-stream positions, held events and replay bookkeeping for one client."""

    def __init__(self) -> None:
        self._trackers: dict[str, _Tracker] = {}
        self._syncing: set[str] = set()
        #: False until `start` (and again after `stop`): events are held, nothing is delivered,
        #: because only the hello reply says where the client stands
        self.live = False
        self.duplicates = 0
        self.replays = 0
        self.lost_events = 0

    # ---- session ---------------------------------------------------------------------------
    def start(self, keys: Iterable[str], heads: Mapping[str, Any], first: bool,
              resume_from: Mapping[str, int] | None = None) -> list[str]:
        """A hello succeeded: set where each followed stream stands; returns the keys to replay.

        `heads` maps each key to the hub's newest position (for GLOBAL: the hello's `last_seq`).
        A client's first hello starts at the heads, or at `resume_from` for the keys it gives;
        later hellos keep the client's own positions (the gap up to the head is replayed). A head
        below the client's position means the hub's journal started over: that stream restarts at 0.
        """
        self.live = True
        resume = dict(resume_from or {})
        out = []
        for key in keys:
            head = _index(heads.get(key)) or 0
            tr = self._trackers.setdefault(key, _Tracker())
            if tr.last is None:
                tr.last = int(resume.get(key, head)) if first else 0
                for idx in [i for i in tr.pending if i <= tr.last]:
                    del tr.pending[idx]
            elif head < tr.last:
                log.warning("rpc_client: stream %s restarted at the hub (head %s < last %s); following "
                            "it from the start", key, head, tr.last)
                tr.last = 0
                tr.pending.clear()
            tr.replaying = False
            if head > tr.last or tr.pending:
                self._syncing.add(key)
                out.append(key)
        return out

    def stop(self) -> None:
        """The connection is gone: hold events until the next `start`; replays in flight are void."""
        self.live = False
        for key in self._syncing:
            self._trackers[key].replaying = False
        self._syncing.clear()

    @property
    def synced(self) -> bool:
        """Every stream has caught up since the last `start`."""
        return not self._syncing

    def positions(self) -> dict[str, int | None]:
        """Last delivered position per stream."""
        return {k: t.last for k, t in list(self._trackers.items())}

    # ---- live events -------------------------------------------------------------------------
    def offer(self, key: str, idx: int, payload: dict) -> Step:
        """One event at position `idx` of stream `key`: deliver, hold or drop it."""
        tr = self._trackers.setdefault(key, _Tracker())
        if tr.last is not None and idx <= tr.last:
            self.duplicates += 1
            return Step()
        tr.pending.setdefault(idx, payload)
        if tr.last is None or not self.live:
            return Step()  # held until hello tells us where we stand
        step = Step(deliver=self._drain(tr))
        step.replay = bool(tr.pending) and not tr.replaying
        return step

    def behind(self, heads: Mapping[str, Any]) -> list[str]:
        """Keys whose head (from a `ping` reply) is beyond what was delivered: an event was lost
        on the wire, replay it. Keys already replaying, or not started, are left alone."""
        if not self.live:
            return []
        out = []
        for key, tr in self._trackers.items():
            head = _index(heads.get(key))
            if tr.last is not None and head is not None and head > tr.last and not tr.replaying:
                out.append(key)
        return out

    # ---- replay -------------------------------------------------------------------------------
    def begin_replay(self, key: str) -> int | None:
        """Mark a replay of `key` under way; returns its `after` (None: nothing to replay from)."""
        tr = self._trackers.get(key)
        if tr is None or tr.last is None or not self.live:
            return None
        tr.replaying = True
        self.replays += 1
        return tr.last

    def on_replay(self, key: str, result: Mapping[str, Any]) -> Step:
        """A replay page `{events, head, more}` for `key`: deliver what it fills; ask again while the
        page moved us forward and more is there; a hole it does not fill is lost (reported)."""
        tr = self._trackers[key]
        tr.replaying = False
        assert tr.last is not None
        field_name = "seq" if key == GLOBAL else "sseq"
        for ev in result.get("events") or []:
            if not isinstance(ev, dict):
                continue
            idx = _index(ev.get(field_name))
            if idx is not None and idx > tr.last:
                tr.pending.setdefault(idx, ev)
        before = tr.last
        step = Step(deliver=self._drain(tr))
        head = _index(result.get("head"))
        if (result.get("more") and tr.last > before) or (tr.pending and tr.last > before) or \
                (not tr.pending and head is not None and head > tr.last and tr.last > before):
            step.replay = True
            return step
        if tr.pending:
            self._skip_gap(key, tr, "the hub's replay did not contain the missing events", step)
        return self._synced(key, step)

    def on_unavailable(self, key: str, data: Mapping[str, Any] | None, message: str = "") -> Step:
        """`REPLAY_UNAVAILABLE {first, head}`: the events after our position were pruned. Jump to the
        oldest the journal keeps (or past what we hold), report what is lost, replay the rest."""
        tr = self._trackers[key]
        tr.replaying = False
        data = data if isinstance(data, Mapping) else {}
        first, head = _index(data.get("first")), _index(data.get("head"))
        step = Step()
        why = f"replay unavailable: {message}"
        if not tr.pending and head is not None:
            # pruned events, none held: jump to what the journal still has (else the heads would
            # ask for the same pruned events again and again)
            oldest = first if first is not None else head + 1
            lost = oldest - 1 - (tr.last or 0)
            if lost > 0:
                gap = Gap(key, tr.last, oldest, lost, why)
                self._report(gap, step)
                tr.last = oldest - 1
                if head > tr.last:
                    step.replay = True
                    return step
        else:
            self._skip_gap(key, tr, why, step)
        return self._synced(key, step)

    def on_replay_failed(self, key: str) -> Step:
        """Any other error (TIMEOUT, ...): give up this round; the next heads or gap asks again."""
        tr = self._trackers.get(key)
        if tr is not None:
            tr.replaying = False
        return self._synced(key, Step())

    # ---- internals -------------------------------------------------------------------------
    def _drain(self, tr: _Tracker) -> list[dict]:
        assert tr.last is not None
        out = []
        while tr.last + 1 in tr.pending:
            tr.last += 1
            out.append(tr.pending.pop(tr.last))
        for idx in [i for i in tr.pending if i <= tr.last]:
            del tr.pending[idx]
        return out

    def _skip_gap(self, key: str, tr: _Tracker, why: str, step: Step) -> None:
        if not tr.pending:
            return
        first = min(tr.pending)
        self._report(Gap(key, tr.last, first, first - 1 - (tr.last or 0), why), step)
        tr.last = first - 1
        step.deliver.extend(self._drain(tr))

    def _report(self, gap: Gap, step: Step) -> None:
        log.error("rpc_client: %d event(s) of stream %s after %s are lost (%s)", gap.lost, gap.stream, gap.after,
                  gap.reason)
        self.lost_events += gap.lost
        step.gaps.append(gap)

    def _synced(self, key: str, step: Step) -> Step:
        if key in self._syncing:
            self._syncing.discard(key)
            step.synced = True
        return step


__all__ = ["StreamSequencer", "Step", "Gap", "GLOBAL"]
