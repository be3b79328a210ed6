"""Quote fan-out: one upstream subscription per code however many clients want it.

Clients (keyed by session key) subscribe codes (`subscribe_quote`) or markets/codes
(`subscribe_whole_quote`). The first client to want an item makes the hub subscribe
upstream; the last one to leave (unsubscribe, bye or timeout) unsubscribes it.

The source's callbacks run on its own thread: they only hand the raw data to
`deliver` (the hub's mailbox). The loop then calls `on_ticks` to get what to publish.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from rpc_client.protocol import ErrorCode, HubError

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

    @property
    def upstream_count(self) -> int:
        return len(self.upstream)

    def _need_source(self) -> Any:
        if self.source is None:
            raise HubError(ErrorCode.BROKER_DOWN, "this hub has no quote source (xtdata is not available)")
        return self.source

    def subscribe(self, key: str, items: list[str], kind: str = QUOTE) -> list[str]:
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

    # ---- data ---------------------------------------------------------------------
    def on_ticks(self, batch: Any) -> list[tuple[str, dict[str, Any], int]]:
        """Raw callback data ({code: tick} or {code: [tick]}) -> [(code, tick, tseq)] to publish."""
        out = []
        if not isinstance(batch, dict):
            return out
        for code, value in batch.items():
            ticks = value if isinstance(value, list) else [value]
            for tick in ticks:
                tick = plain(tick)
                if not isinstance(tick, dict) or self.latest.get(code) == tick:
                    continue  # the same tick from a code and a whole-market subscription
                self.latest[code] = tick
                n = self.tseq.get(code, 0) + 1
                self.tseq[code] = n
                out.append((str(code), tick, n))
        return out

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
