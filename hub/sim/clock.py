"""The simulator's virtual clock.

Tests need time to move on command (`advance`) and demos need it to run
faster than real time (`speed`), so nothing in the simulator reads the wall
clock directly: it asks this clock. Its wall times (`start`, `now()`, `set`) are
Shanghai's whatever the host's zone: the exchange's hours are Shanghai's, and CI
runs in UTC.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, time as dtime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

MORNING = (dtime(9, 30), dtime(11, 30))
AFTERNOON = (dtime(13, 0), dtime(15, 0))


class SimClock:
    """Virtual time = anchor + real elapsed x speed + manual advances."""

    def __init__(self, start: str | None = None, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._speed = speed
        self._real0 = time.monotonic()
        if start:
            self._virt0 = _parse(start)
        else:
            self._virt0 = time.time()

    def timestamp(self) -> float:
        """Virtual seconds since the epoch."""
        with self._lock:
            return self._virt0 + (time.monotonic() - self._real0) * self._speed

    @property
    def speed(self) -> float:
        """Virtual seconds per real second."""
        return self._speed

    def now(self) -> datetime:
        """Virtual wall time in Shanghai (naive)."""
        return datetime.fromtimestamp(self.timestamp(), SHANGHAI).replace(tzinfo=None)

    def advance(self, seconds: float) -> None:
        """Jump the virtual clock forward."""
        with self._lock:
            self._virt0 += seconds

    def set(self, when: str) -> None:
        """Set the virtual time to 'YYYY-MM-DD HH:MM:SS' Shanghai time (keeps running at `speed`)."""
        ts = _parse(when)
        with self._lock:
            self._virt0 = ts
            self._real0 = time.monotonic()


def _parse(when: str) -> float:
    """'YYYY-MM-DD HH:MM:SS' in Shanghai -> epoch seconds."""
    return datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI).timestamp()


def in_trading_hours(moment: datetime) -> bool:
    """True in continuous trading: weekdays 09:30-11:30 and 13:00-15:00."""
    if moment.weekday() >= 5:
        return False
    t = moment.time()
    return MORNING[0] <= t < MORNING[1] or AFTERNOON[0] <= t < AFTERNOON[1]
