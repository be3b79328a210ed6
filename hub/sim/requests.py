"""The exchange's request worker: async requests run on its own thread, in the order they came.

xtquant's async calls only send a request to MiniQMT, so the simulator's must not run the
exchange on the caller's thread: `submit` queues the request and returns. The worker thread
(started on the first request) runs queued requests oldest first, each under the exchange's
lock. `settle()` runs whatever is still queued on the caller's thread, so a sync call made
after an async one never overtakes it (one session's requests reach a real broker in order).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from typing import Any, Callable

log = logging.getLogger(__name__)

_STOP = object()


class RequestWorker:
    """A FIFO of `(function, args)` run under `lock`, by one lazily started thread or by `settle`."""

    def __init__(self, lock: Any, name: str) -> None:
        self.lock = lock  # the exchange's lock: every request runs under it
        self.name = name
        self.pending: deque[tuple[Callable[..., Any], tuple]] = deque()
        self.wake: Any = queue.SimpleQueue()  # one item per request (or _STOP); read afresh each turn
        self.stopped = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue one request and return at once; False once stopped."""
        if self.stopped:
            return False
        self.pending.append((fn, args))
        if self._thread is None:
            self._start()
        self.wake.put(None)
        return True

    def settle(self) -> None:
        """Run every queued request now, on this thread (a no-op when nothing is queued)."""
        if self.pending:
            with self.lock:
                self.run_pending()

    def run_pending(self) -> None:
        """Under the lock: run every queued request, oldest first; one failing request is logged."""
        while self.pending:
            try:
                fn, args = self.pending.popleft()
            except IndexError:
                return
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - one bad request must not end the worker
                log.exception("sim async request failed")

    def stop(self) -> None:
        """No more requests; the thread ends (joined unless it is the caller)."""
        self.stopped = True
        with self._start_lock:
            thread = self._thread
        self.wake.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self.stopped:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            if self.wake.get() is _STOP:
                return
            self.settle()
