"""Helpers shared by the client tests (a uniquely named module: conftest names clash across test dirs)."""

from __future__ import annotations

import time
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)

#: fast liveness settings so reconnect tests finish in a second or two
FAST = dict(heartbeat_interval=0.1, dead_after=0.6, backoff_initial=0.1, backoff_max=0.4)




def wait_for(pred, timeout: float = 5.0, interval: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())
