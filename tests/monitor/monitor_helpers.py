"""Helpers for the monitor tests (a uniquely named module: conftest names clash across test folders)."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(cond: Callable[[], Any], timeout: float = 10.0, step: Callable[[], None] | None = None,
               what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def exchange_of(server):
    import hub.sim

    return hub.sim.get_exchange(str(server.config.sim_dir))
