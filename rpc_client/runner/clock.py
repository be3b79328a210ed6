"""Where the runner's "now" comes from: the wall clock in Shanghai, or the hub's simulated clock.

A hub on the simulator with ``speed`` > 1 runs a trading day in minutes; the runner must fire
``open`` at the simulator's 09:30, not the host's. The hub puts ``clock = {time, speed}`` (virtual
epoch seconds, virtual seconds per real second) in every ``hub.heartbeat`` and in ``status``; the
runner extrapolates between heartbeats with its own monotonic clock. Every datetime here is aware
and in Asia/Shanghai, whatever the host's zone.

Waits are computed from "now" again after each short slice (never one long relative sleep), so a
laptop that slept, a clock that jumped or a simulator that was advanced is noticed within a second.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

from rpc_client.calendar import SHANGHAI, to_shanghai

#: Longest real sleep between two looks at the clock.
SLICE = 0.5


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in Shanghai."""
        ...

    @property
    def speed(self) -> float:
        """Clock seconds per real second (1 for the wall clock)."""
        ...


class WallClock:
    """The host's clock, read in Shanghai."""

    speed = 1.0
    virtual = False

    def now(self) -> datetime:
        return datetime.now(SHANGHAI)


class ManualClock:
    """A clock a test moves by hand (``advance``/``set``); ``speed`` lets waits pass in real time too."""

    virtual = True

    def __init__(self, start: datetime, speed: float = 0.0) -> None:
        self._t = to_shanghai(start)
        self._speed = speed
        self._real0 = time.monotonic()
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed or 1.0

    def now(self) -> datetime:
        with self._lock:
            if self._speed:
                return self._t + timedelta(seconds=(time.monotonic() - self._real0) * self._speed)
            return self._t

    def set(self, when: datetime) -> None:
        with self._lock:
            self._t = to_shanghai(when)
            self._real0 = time.monotonic()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += timedelta(seconds=seconds)


class HubClock:
    """The hub's clock: virtual when the hub runs on a simulator with a clock, else the wall clock.

    ``sample()`` returns the hub's last ``clock`` map and the monotonic time it was taken at
    (from the last heartbeat, or a ``status`` reply); None means the hub has no virtual clock."""

    def __init__(self, sample: Callable[[], tuple[dict[str, Any], float] | None]) -> None:
        self._sample = sample
        self._last: datetime | None = None
        self._lock = threading.Lock()

    @property
    def virtual(self) -> bool:
        return self._clock() is not None

    def _clock(self) -> tuple[float, float, float] | None:
        got = self._sample()
        if not got:
            return None
        clock, at = got
        try:
            return float(clock["time"]), float(clock.get("speed") or 1.0), at
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def speed(self) -> float:
        c = self._clock()
        return c[1] if c else 1.0

    def now(self) -> datetime:
        c = self._clock()
        if c is None:
            return datetime.now(SHANGHAI)
        t, speed, at = c
        moment = datetime.fromtimestamp(t + (time.monotonic() - at) * speed, SHANGHAI)
        with self._lock:
            # between heartbeats the estimate may step back a little (publish latency x speed);
            # never show time going backwards unless the simulator was really set back (> 2 s real)
            if self._last is not None and self._last - timedelta(seconds=2 * speed) < moment < self._last:
                return self._last
            self._last = moment
            return moment


def wait_until(clock: Clock, when: datetime, stop: threading.Event) -> bool:
    """Sleep until ``clock`` reaches ``when``; True if ``stop`` was set first."""
    while not stop.is_set():
        left = (when - clock.now()).total_seconds()
        if left <= 0:
            return False
        speed = max(clock.speed, 1e-9)
        if stop.wait(min(SLICE, left / speed)):
            return True
    return True
