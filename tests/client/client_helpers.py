"""Helpers shared by the client tests (a uniquely named module: conftest names clash across test dirs)."""

from __future__ import annotations

import socket
import time

#: fast liveness settings so reconnect tests finish in a second or two
FAST = dict(heartbeat_interval=0.1, dead_after=0.6, backoff_initial=0.1, backoff_max=0.4)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout: float = 5.0, interval: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())
