"""Small shared test helpers that are not fixtures: waiting for a condition, and a ROUTER stand-in.

On sys.path through tests/conftest.py.
"""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(pred: Callable[[], Any], timeout: float, interval: float = 0.05) -> bool:
    """Poll `pred` until it is true or `timeout` s have passed; its last value decides."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


class DroppingRouter:
    """Stands in front of the hub's ROUTER for its pushed events: while `dropping`, a push to `victim`
    is refused at the identity frame, as libzmq does at a full pipe (EAGAIN); the rest go through."""

    def __init__(self, router: Any, victim: bytes):
        self._router, self.victim, self.dropping, self.dropped = router, victim, True, 0

    def send(self, data: Any, flags: int = 0) -> Any:
        import zmq

        if flags & zmq.SNDMORE and data == self.victim and self.dropping:
            self.dropped += 1
            raise zmq.Again()
        return self._router.send(data, flags)
