"""The one thread that runs user callbacks.

User code never runs on the socket thread: a slow callback must not stop heartbeats,
replies or event bookkeeping. The socket thread posts work here; this thread runs
it in the order posted, one at a time, so callbacks are serialized in event order.

The queue is unbounded for account events and call completions (an account event is
never dropped). Ticks are the exception: when more than ``max_pending_ticks`` ticks
wait behind a slow consumer, further ticks are dropped and counted in
``dropped_ticks`` (call ``get_full_tick`` to catch up).
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger("rpc_client")

_STOP = object()


class Dispatcher:
    def __init__(self, name: str = "rpc-client-callbacks", max_pending_ticks: int = 10000):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.max_pending_ticks = max_pending_ticks
        self.pending_ticks = 0
        self.dropped_ticks = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- posting (any thread) --
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the callback thread; never dropped."""
        self._queue.put((fn, args, 0))

    def post_tick(self, fn: Callable[..., Any], *args: Any, weight: int = 1) -> bool:
        """Run a tick callback unless too many ticks are already waiting; returns False when dropped.
        `weight`: the ticks this callback carries (a whole-market batch: its codes)."""
        with self._lock:
            if self.pending_ticks >= self.max_pending_ticks:
                self.dropped_ticks += weight
                return False
            self.pending_ticks += weight
        self._queue.put((fn, args, weight))
        return True

    def in_dispatcher(self) -> bool:
        return threading.current_thread() is self._thread

    # -- lifecycle --
    def stop(self, timeout: float = 2.0) -> None:
        """Run what is queued (bounded by timeout), then stop the thread."""
        self._queue.put(_STOP)
        if not self.in_dispatcher():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, args, ticks = item
            if ticks:
                with self._lock:
                    self.pending_ticks -= ticks
            try:
                fn(*args)
            except BaseException:  # noqa: B036 - a user callback must never kill the thread, not even
                # with sys.exit() (SystemExit) or a stray KeyboardInterrupt: every later event would be lost
                self.errors += 1
                log.exception("rpc_client: callback %s raised", getattr(fn, "__qualname__", fn))
