"""Quote fan-out: one upstream subscription per code however many clients want it.

Clients (keyed by session key) subscribe codes (`subscribe_quote`) or markets/codes
(`subscribe_whole_quote`). The first client to want an item makes the hub subscribe
upstream; the last one to leave (unsubscribe, bye or timeout) unsubscribes it.

The source's callbacks run on its own thread: they hand the raw data to `deliver`, the
hub's `TickStore`, which keeps only the latest tick per code until the loop publishes it
(conflation: only when the hub is behind) and wakes the loop through the mailbox. Ticks never
go through the mailbox's FIFO, so they never delay a call or an account event. The loop takes
ticks from the store a slice at a time and asks `stamp` for each one's `tseq`.

Whole markets go out in batches (docs/decisions.md, "Whole-market snapshots as batched frames"):
a code whose market someone follows whole (`whole_markets`) is published in that market's
`ticks.<market>` batch frame, and as its own `tick.<code>` frame only when someone also follows
the code by itself (`codes_held`); every other code as its own frame, as before.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable

from rpc_client.protocol import ErrorCode, HubError
from rpc_client.xt import is_market

from hub.broker.convert import plain

log = logging.getLogger("hub.quotes")

QUOTE, WHOLE = "quote", "whole"


class QuoteFanout:
    def __init__(self, source: Any, deliver: Callable[[Any], None]):
        self.source = source  # hub.broker.SerializedQuotes or None
        self._deliver = deliver
        self.refs: dict[tuple[str, str], set[str]] = {}  # (kind, item) -> session keys
        self.upstream: dict[tuple[str, str], int] = {}  # (kind, item) -> upstream seq
        self.latest: dict[str, dict[str, Any]] = {}
        self.tseq: dict[str, int] = {}
        #: markets someone holds by `subscribe_whole_quote`: their codes go out in `ticks.<market>` batches
        self.whole_markets: frozenset[str] = frozenset()
        #: codes someone holds by themselves (`subscribe_quote`, or a whole quote naming the code): `tick.<code>`
        self.codes_held: frozenset[str] = frozenset()
        #: ticks of followed markets not sent because every holder of the market was silent (server)
        self.unsent = 0

    def _reindex(self) -> None:
        """Recompute `whole_markets` and `codes_held` after the holders changed (loop thread; rare)."""
        held = [ref for ref, holders in self.refs.items() if holders]
        self.whole_markets = frozenset(item for kind, item in held if kind == WHOLE and is_market(item))
        self.codes_held = frozenset(item for _, item in held if not is_market(item))

    @property
    def upstream_count(self) -> int:
        return len(self.upstream)

    def status_counters(self) -> dict[str, int]:
        return {"quote_upstream": len(self.upstream), "ticks_unsent": self.unsent}

    def _need_source(self) -> Any:
        if self.source is None:
            raise HubError(ErrorCode.BROKER_DOWN, "this hub has no quote source (xtdata is not available)")
        return self.source

    def subscribe(self, key: str, items: list[str], kind: str = QUOTE) -> list[str]:
        try:
            return self._subscribe(key, items, kind)
        finally:
            self._reindex()

    def _subscribe(self, key: str, items: list[str], kind: str) -> list[str]:
        done = []
        for item in dict.fromkeys(items):
            ref = (kind, item)
            holders = self.refs.setdefault(ref, set())
            if ref not in self.upstream:
                source = self._need_source()
                try:
                    if kind == QUOTE:
                        seq = source.subscribe_quote(item, self._deliver)
                    else:
                        seq = source.subscribe_whole_quote([item], self._deliver)
                except Exception as exc:  # noqa: BLE001 - the source's own failure
                    if not holders:
                        del self.refs[ref]
                    raise HubError(ErrorCode.BROKER_ERROR, f"the quote source refused {item}: {exc}") from None
                if seq is None or (isinstance(seq, int) and seq < 0):
                    if not holders:
                        del self.refs[ref]
                    raise HubError(ErrorCode.BROKER_ERROR, f"the quote source refused {item} (returned {seq})")
                self.upstream[ref] = seq
            holders.add(key)
            done.append(item)
        return done

    def unsubscribe(self, key: str, items: list[str]) -> list[str]:
        done = []
        for item in dict.fromkeys(items):
            for kind in (QUOTE, WHOLE):
                ref = (kind, item)
                holders = self.refs.get(ref)
                if holders and key in holders:
                    holders.discard(key)
                    done.append(item)
                    if not holders:
                        self._release(ref)
        self._reindex()
        return done

    def _release(self, ref: tuple[str, str]) -> None:
        self.refs.pop(ref, None)
        seq = self.upstream.pop(ref, None)
        if seq is not None and self.source is not None:
            try:
                self.source.unsubscribe_quote(seq)
            except Exception:  # noqa: BLE001
                log.exception("unsubscribe upstream %s failed", ref)

    def drop(self, key: str) -> None:
        """A client left: release everything it held."""
        for ref in [r for r, holders in self.refs.items() if key in holders]:
            holders = self.refs[ref]
            holders.discard(key)
            if not holders:
                self._release(ref)
        self._reindex()

    def transfer(self, old: str, new: str) -> None:
        """A reconnecting client took over its old session: keep its subscriptions."""
        for holders in self.refs.values():
            if old in holders:
                holders.discard(old)
                holders.add(new)

    @property
    def missing(self) -> int:
        """Items clients hold that have no upstream subscription (a re-subscribe was refused)."""
        return sum(1 for r, holders in self.refs.items() if holders and r not in self.upstream)

    def resubscribe(self, only_missing: bool = False) -> int:
        """The source may have lost its subscriptions (the broker/terminal restarted): subscribe
        every item a client still holds again, dropping the old upstream seq (`only_missing`:
        just those without one). Returns how many took; one the source refuses stays held
        without upstream and is retried by the next call."""
        if self.source is None:
            return 0
        n = 0
        for ref in [r for r, holders in self.refs.items() if holders and not (only_missing and r in self.upstream)]:
            kind, item = ref
            old = self.upstream.pop(ref, None)
            if old is not None:
                try:
                    self.source.unsubscribe_quote(old)
                except Exception:  # noqa: BLE001 - the old one may be gone with the source
                    log.debug("unsubscribe of stale upstream %s failed", ref, exc_info=True)
            try:
                if kind == QUOTE:
                    seq = self.source.subscribe_quote(item, self._deliver)
                else:
                    seq = self.source.subscribe_whole_quote([item], self._deliver)
            except Exception:  # noqa: BLE001
                log.exception("re-subscribing %s failed", ref)
                continue
            if seq is None or (isinstance(seq, int) and seq < 0):
                log.warning("the quote source refused to re-subscribe %s (returned %s)", item, seq)
                continue
            self.upstream[ref] = seq
            n += 1
        return n

    def items_of(self, key: str) -> list[str]:
        return sorted({item for (_, item), holders in self.refs.items() if key in holders})

    def close(self) -> None:
        for ref in list(self.upstream):
            self._release(ref)
        self.refs.clear()
        self._reindex()

    # ---- data ---------------------------------------------------------------------
    def stamp(self, code: str, tick: dict[str, Any]) -> int | None:
        """Loop thread: the tseq to publish `tick` with, or None if it repeats the code's last
        published tick (the same tick from a code and a whole-market subscription). tseq is
        contiguous per code over what is published; a tick conflated in the store never gets one."""
        if self.latest.get(code) == tick:
            return None
        self.latest[code] = tick
        n = self.tseq.get(code, 0) + 1
        self.tseq[code] = n
        return n

    def full_tick(self, codes: list[str]) -> dict[str, Any]:
        result = {c: self.latest[c] for c in codes if c in self.latest}
        missing = [c for c in codes if c not in result]
        if missing and self.source is not None:
            try:
                fetched = self.source.get_full_tick(missing) or {}
            except Exception as exc:  # noqa: BLE001
                raise HubError(ErrorCode.BROKER_ERROR, f"get_full_tick failed at the quote source: {exc}") from None
            for code, tick in fetched.items():
                result[str(code)] = plain(tick)
        return result


_SCALARS = frozenset((int, float, str, bool, type(None)))


def plain_tick(tick: Any) -> Any:
    """`plain(tick)`, without the deep copy when the tick already is plain data.

    xtdata (and the simulator) hand over a fresh dict of numbers, strings and flat lists of
    numbers per code and callback, and the hub never changes a tick, so such a dict is kept as
    it is: one pass over its values instead of a recursive copy (the biggest per-tick cost of a
    whole-market snapshot). Anything else (numpy values, nested containers, non-str keys) goes
    through `plain` as before."""
    if type(tick) is not dict:
        return plain(tick)
    scalars = _SCALARS
    for k, v in tick.items():
        if type(k) is not str:
            return plain(tick)
        tv = type(v)
        if tv in scalars:
            continue
        if tv is list:
            for x in v:
                if type(x) not in scalars:
                    return plain(tick)
            continue
        return plain(tick)
    return tick


class TickStore:
    """The quote source's hand-over to the loop: the latest tick per code, waiting to be published.

    `put` (any thread) converts a callback's batch ({code: tick} or {code: [tick]}), keeps the
    latest tick per code (a newer one replaces a pending one in its place in line and counts in
    `conflated`; an identical one is a duplicate, not counted) and wakes the loop. `take` (loop
    thread) hands over the oldest pending codes first, so every code gets its turn. Memory is
    bounded by the number of codes, whatever the tick rate. Conflation only happens when the hub
    is behind (or a callback carries several ticks of one code): a client then sees the latest
    tick without a gap in tseq, and `ticks_conflated` in `status` counts what was skipped.
    """

    def __init__(self, wake: Callable[[], None]):
        self._wake = wake
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}
        self.conflated = 0

    def put(self, batch: Any) -> None:
        if not isinstance(batch, dict):
            return
        items = []
        for code, value in batch.items():
            for tick in (value if isinstance(value, list) else (value,)):
                tick = plain_tick(tick)
                if isinstance(tick, dict):
                    items.append((str(code), tick))
        if not items:
            return
        with self._lock:
            pending = self._pending
            for code, tick in items:
                old = pending.get(code)
                if old is not None:
                    if old == tick:
                        continue
                    self.conflated += 1
                pending[code] = tick
        self._wake()

    def take(self, n: int) -> list[tuple[str, dict[str, Any]]]:
        """Loop thread: up to `n` pending (code, tick), oldest first; they are no longer pending."""
        with self._lock:
            pending = self._pending
            if len(pending) <= n:
                self._pending = {}
                return list(pending.items())
            return [(code, pending.pop(code)) for code in list(itertools.islice(pending, n))]

    def pending(self) -> bool:
        return bool(self._pending)

    def status_counters(self) -> dict[str, int]:
        return {"ticks_conflated": self.conflated, "ticks_pending": len(self)}

    def __len__(self) -> int:
        return len(self._pending)
