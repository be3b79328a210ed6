"""The account-wide rate guard: orders plus cancels per second and per day, with per-strategy windows.

Why a sliding window and not a token bucket: the exchange's program-trading rule counts actions
in any one second of the account (≥ 300/s) and per day (≥ 20,000); a window that holds the
timestamps of the last second answers exactly that question, and its peak is the figure a
broker's 程序化交易报告 asks for. New orders stop at the limit minus a headroom, so cancels
(never refused, only counted) always fit under the account's line.
"""

from __future__ import annotations

import math
from collections import deque

WARN_AT = 0.8
_NO_WARNINGS: tuple[()] = ()


class Window:
    """Actions in the last `span` seconds (timestamps in a deque: O(1) amortized per action)."""

    __slots__ = ("span", "stamps", "peak")

    def __init__(self, span: float = 1.0) -> None:
        self.span = span
        self.stamps: deque[float] = deque()
        self.peak = 0

    def count(self, now: float) -> int:
        stamps, edge = self.stamps, now - self.span
        while stamps and stamps[0] <= edge:
            stamps.popleft()
        return len(stamps)

    def add(self, now: float) -> int:
        stamps, edge = self.stamps, now - self.span  # count(now), inline: every order and cancel
        while stamps and stamps[0] <= edge:
            stamps.popleft()
        n = len(stamps) + 1
        stamps.append(now)
        if n > self.peak:
            self.peak = n
        return n


def headroom(limit: int) -> int:
    """Actions kept free for cancels: 10 % of the limit, at least 1 (none when the limit is 1)."""
    return 0 if limit <= 1 else max(1, math.ceil(limit * 0.1))


class RateGuard:
    """One account window and day count, and one window per strategy."""

    def __init__(self, per_second: int, per_day: int) -> None:
        self.set_limits(per_second, per_day)
        self.account = Window()
        self.day_actions = 0
        self.peak_day = 0
        self.strategies: dict[str, Window] = {}
        self.warned_second = False
        self.warned_day = False

    def set_limits(self, per_second: int, per_day: int) -> None:
        self.per_second, self.per_day = per_second, per_day
        self.cap_second = max(per_second - headroom(per_second), 1)  # new orders stop here
        self.cap_day = max(per_day - headroom(per_day), 1)
        self.warn_second, self.warn_day = WARN_AT * per_second, WARN_AT * per_day

    def window(self, strategy: str) -> Window:
        w = self.strategies.get(strategy)
        if w is None:
            w = self.strategies[strategy] = Window()
        return w

    def order_refusal(self, strategy: str, strategy_limit: int, now: float) -> tuple[str, int, int] | None:
        """(check, limit, value) when a new order must wait, else None. Counts nothing."""
        if strategy_limit:
            n = self.window(strategy).count(now)
            if n >= strategy_limit:
                return "max_actions_per_second", strategy_limit, n + 1
        n = self.account.count(now)
        if n >= self.cap_second:
            return "account_max_actions_per_second", self.per_second, n + 1
        if self.day_actions >= self.cap_day:
            return "account_max_actions_per_day", self.per_day, self.day_actions + 1
        return None

    def record(self, strategy: str, now: float) -> "list[str] | tuple[()]":
        """Count one action (an order sent or a cancel); returns warnings crossing 80 % (once each)."""
        w = self.strategies.get(strategy)
        (w if w is not None else self.window(strategy)).add(now)
        n = self.account.add(now)
        self.day_actions += 1
        if self.day_actions > self.peak_day:
            self.peak_day = self.day_actions
        if n < self.warn_second and not self.warned_second and self.day_actions < self.warn_day:
            return _NO_WARNINGS  # the usual case: nothing to say, nothing built
        warnings = []
        if n >= self.warn_second:
            if not self.warned_second:
                self.warned_second = True
                warnings.append(f"account actions at {n}/s, {WARN_AT:.0%} of the {self.per_second}/s guard")
        elif self.warned_second and n < self.warn_second / 2:
            self.warned_second = False
        if self.day_actions >= self.warn_day and not self.warned_day:
            self.warned_day = True
            warnings.append(f"account actions today {self.day_actions}, {WARN_AT:.0%} of the {self.per_day}/day guard")
        return warnings

    def new_day(self, actions_so_far: int = 0) -> None:
        self.day_actions = actions_so_far
        self.peak_day = actions_so_far
        self.warned_day = False

    def view(self, now: float) -> dict[str, int]:
        return {"per_second": self.account.count(now), "peak_per_second": self.account.peak,
                "per_day": self.day_actions, "peak_per_day": self.peak_day,
                "limit_per_second": self.per_second, "limit_per_day": self.per_day}
