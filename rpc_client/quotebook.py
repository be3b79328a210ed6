"""The client's quote bookkeeping: which codes and markets it follows, the SUB filters they need,
and the ticks it missed. No sockets: the transport applies the filter changes this returns.

Ticks are never replayed; each code's ticks carry a per-code counter `tseq`, so a jump in it is
a count of ticks lost on the way (at the hub's PUB high-water mark, or here).

A followed market comes as `ticks.<market>` batch frames; a code followed both by itself and
through its market comes in both frames with the same tseq, and is delivered once (`fresh`).
"""

from __future__ import annotations

from typing import Any

from rpc_client import protocol as P
from rpc_client.xt import MARKETS, is_market


def tick_prefixes(codes: set[str] | list[str]) -> list[str]:
    """SUB prefixes for these codes: `tick.<code>`, or `ticks.<market>` (its batch frames) for a whole market."""
    return sorted({P.ticks_topic(c) if is_market(c) else P.tick_topic(c) for c in codes})


class QuoteBook:
    """Codes (subscribe_quote) and markets or codes (subscribe_whole_quote) followed, and tick gaps."""

    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.whole: set[str] = set()
        self.missed: dict[str, int] = {}  # ticks missed per code (read from any thread)
        self._tseq: dict[str, int] = {}

    def prefixes(self) -> list[str]:
        return tick_prefixes(self.codes | self.whole)

    def change(self, op: str, codes: list[str], whole: bool) -> tuple[list[str], list[str], list[str]]:
        """Apply a subscribe ('sub') or unsubscribe ('unsub'): (codes it added, SUB prefixes to
        subscribe, SUB prefixes to unsubscribe)."""
        before = set(self.prefixes())
        if op == "sub":
            target = self.whole if whole else self.codes
            added = [c for c in codes if c not in target]
            target.update(codes)
        else:
            added = []
            for c in codes:
                self.codes.discard(c)
                self.whole.discard(c)
        after = set(self.prefixes())
        return added, sorted(after - before), sorted(before - after)

    def undo(self, added: list[str], whole: bool) -> list[str]:
        """The hub refused a subscribe: forget what it added; returns the SUB prefixes to drop."""
        before = set(self.prefixes())
        target = self.whole if whole else self.codes
        for c in added:
            target.discard(c)
        return sorted(before - set(self.prefixes()))

    def resubscribe(self) -> list[tuple[str, dict[str, Any]]]:
        """The calls that put the hub-side subscriptions back after a hello: (method, params)."""
        out = []
        if self.codes - set(MARKETS):
            out.append(("subscribe_quote", {"codes": sorted(self.codes)}))
        if self.whole:
            out.append(("subscribe_whole_quote", {"codes": sorted(self.whole)}))
        return out

    def wants(self, code: str) -> bool:
        """A tick of `code` is for us (a SUB prefix may let others through: tick.6 ... for tick.600000.SH)."""
        if code in self.codes or code in self.whole:
            return True
        return code.rsplit(".", 1)[-1] in self.whole

    def follows_market(self, market: str) -> bool:
        return market in self.whole

    def count(self, code: str, tseq: Any) -> None:
        """Count the ticks of `code` missed before this one (a restarted counter starts over)."""
        self.fresh(code, tseq)

    def fresh(self, code: str, tseq: Any) -> bool:
        """Count the ticks of `code` missed before this one; False when it is the tick just seen
        (the same tseq again: the code came in its own frame and in its market's batch)."""
        if not isinstance(tseq, int) or isinstance(tseq, bool):
            return True
        last = self._tseq.get(code)
        if last == tseq:
            return False
        if last is not None and tseq > last + 1:
            self.missed[code] = self.missed.get(code, 0) + (tseq - last - 1)
        if last is None or tseq > last or tseq <= 1:
            self._tseq[code] = tseq
        return True

    def new_hub(self) -> None:
        """A restarted hub counts every code's ticks from 1 again."""
        self._tseq.clear()

    @property
    def missed_total(self) -> int:
        return sum(self.missed.values())


__all__ = ["QuoteBook", "tick_prefixes"]
