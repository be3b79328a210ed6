"""When to try the broker again: backoff, a probe first, and no loop on a non-trading day.

MiniQMT restarts every day (often overnight) and is closed over weekends and holidays. Trying a
full xtquant connect every few seconds for hours fills the log and MiniQMT's own session table,
and says nothing useful to the operator. So, while the broker is down:

- each failed attempt doubles the wait, from `reconnect_interval` up to `reconnect_max_interval`;
- before an attempt, a cheap probe (for MiniQMT: is its process running, is its folder there)
  says whether an attempt can work at all; a failed probe is not an attempt, and is tried again
  every `reconnect_interval`;
- on a non-trading day (the trading calendar, Asia/Shanghai), at most one attempt per hour;
- what the hub is waiting for is the broker state's `reason`, so `hub status` and the monitor
  show it ("waiting for MiniQMT: XtMiniQmt.exe is not running; next probe in 5 s").

`ReconnectPlan` is pure (explicit clock, injected probe and calendar), tested without a broker.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("hub.server")

#: Seconds between attempts on a non-trading day.
NON_TRADING_DAY_EVERY = 3600.0

Probe = Callable[[], "tuple[bool | None, str]"]


@dataclass
class Decision:
    attempt: bool
    reason: str  # what the hub is waiting for (the broker state's reason when not attempting)


class TradingDays:
    """is_trading_day(today) without ever blocking the loop: the calendar (which may import pandas
    the first time) is warmed on a thread; until then, and when it cannot say, the answer is None."""

    def __init__(self, judge: Callable[[dt.date], bool] | None = None):
        self._judge = judge
        self._known: dict[dt.date, bool | None] = {}
        self._lock = threading.Lock()
        self._warming: set[dt.date] = set()

    def __call__(self, day: dt.date) -> bool | None:
        with self._lock:
            if day in self._known:
                return self._known[day]
            if day in self._warming:
                return None
            self._warming.add(day)
        threading.Thread(target=self._warm, args=(day,), name="hub-calendar", daemon=True).start()
        return None

    def _warm(self, day: dt.date) -> None:
        try:
            if self._judge is None:
                from rpc_client.calendar import is_trading_day

                answer: bool | None = bool(is_trading_day(day))
            else:
                answer = bool(self._judge(day))
        except Exception as exc:  # noqa: BLE001 - CalendarCoverageError and kin: unknown, act as a trading day
            log.warning("broker reconnect: the calendar cannot judge %s (%s); reconnecting as on a trading day",
                        day, exc)
            answer = None
        with self._lock:
            self._known[day] = answer
            self._warming.discard(day)


class ReconnectPlan:
    def __init__(self, interval: float, max_interval: float, *, probe: Probe | None = None,
                 trading_day: Callable[[dt.date], bool | None] | None = None,
                 today: Callable[[float], dt.date] | None = None, what: str = "the broker"):
        self.interval = interval
        self.max_interval = max(max_interval, interval)
        self.probe = probe
        self.trading_day = trading_day
        self.today = today or _shanghai_date
        self.what = what
        self.failures = 0
        self.next_at = 0.0

    def decide(self, now: float) -> Decision:
        """Called by the loop's timer while the broker is down: attempt now, or say what we wait for."""
        if now < self.next_at:
            return Decision(False, f"{self._last}; next try in {self.next_at - now:.0f} s")
        day = self.today(now)
        trading = self.trading_day(day) if self.trading_day is not None else None
        if self.probe is not None:
            try:
                ok, why = self.probe()
            except Exception as exc:  # noqa: BLE001 - a probe that fails says nothing: try
                ok, why = None, f"probe failed: {exc}"
            if ok is False:
                self.next_at = now + self.interval
                self._last = f"waiting for {self.what}: {why}" + (
                    f" (non-trading day {day.isoformat()})" if trading is False else "")
                return Decision(False, f"{self._last}; next probe in {self.interval:.0f} s")
        last = f" (last: {self._last})" if self.failures else ""  # an attempt still says what failed before
        if trading is False:
            self.next_at = now + NON_TRADING_DAY_EVERY
            self._last = f"non-trading day {day.isoformat()}: one attempt an hour"
        return Decision(True, f"trying a fresh connection{last}")

    def failed(self, now: float, reason: str) -> str:
        """An attempt failed: the next one waits longer. Returns the reason to show."""
        self.failures += 1
        wait = min(self.interval * (2 ** (self.failures - 1)), self.max_interval)
        self.next_at = max(self.next_at, now + wait)
        self._last = f"attempt {self.failures} failed: {reason}"
        return f"{self._last}; next try in {self.next_at - now:.0f} s"

    def succeeded(self) -> None:
        self.failures = 0
        self.next_at = 0.0

    _last = "down"


def _shanghai_date(now: float) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.fromtimestamp(now, ZoneInfo("Asia/Shanghai")).date()
