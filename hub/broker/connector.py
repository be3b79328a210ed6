"""The broker-connect thread: every trader is created, connected and stopped here.

A connect to MiniQMT can take seconds (and a lost `hub sim` up to its connect timeout), so
it must not run on the hub's loop thread, which would stop answering calls and sending
heartbeats meanwhile. xtquant wants `connect()` on the thread that created the trader, so
one long-lived thread does the whole attempt: stop the previous trader, create a fresh one
with a fresh session id, `start`, `connect`, `subscribe` (`Broker.open_trader`). The result
(the connected trader, or the reason it failed) waits in `take()` and the loop is woken by
`notify()` (the hub's mailbox); the loop then installs the trader, reconciles and says `up`.

One attempt at a time (`busy`). `close()` joins the thread for a bounded time; a trader that
an attempt still running at that moment produces later is stopped by this thread, never
handed to anyone.

The broker's sync queries run here too (`snapshot`): a reconcile's `query_stock_*` calls can
wait on a slow or dying broker (MiniQMT, or a `hub sim` killed mid-query) and must not stop
the loop either. One snapshot at a time (`snapshot_busy`); its outcome waits in
`take_snapshot()` and the loop is woken by the same `notify()`.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable

from hub.broker.adapter import Broker, BrokerUnavailable, Sink

log = logging.getLogger("hub.broker")


class Attempt:
    """The outcome of one connect attempt: `trader` (connected) or None with `reason`."""

    __slots__ = ("token", "trader", "reason")

    def __init__(self, token: Any, trader: Any, reason: str):
        self.token, self.trader, self.reason = token, trader, reason


class Snapshot:
    """The outcome of one `snapshot`: the broker's view (`Broker.snapshot`) or None with `reason`."""

    __slots__ = ("token", "data", "reason")

    def __init__(self, token: Any, data: dict[str, Any] | None, reason: str):
        self.token, self.data, self.reason = token, data, reason


class BrokerConnector:
    def __init__(self, broker: Broker, notify: Callable[[], None], name: str = "hub-broker-connect"):
        self.broker = broker
        self._notify = notify
        self._jobs: queue.Queue[tuple[str, Any, Any, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._result: Attempt | None = None
        self._closed = False
        self._done = threading.Event()
        #: loop thread: an attempt was started and its result not yet taken
        self.busy = False
        self._snapshot: Snapshot | None = None
        #: loop thread: a snapshot was asked for and its outcome not yet taken
        self.snapshot_busy = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ---- loop thread ----------------------------------------------------------------
    def attempt(self, sink: Sink, old_trader: Any = None, token: Any = None) -> None:
        """Start one attempt: stop `old_trader`, then open a fresh trader whose pushes go to `sink`."""
        if self.busy:
            raise RuntimeError("a broker connect attempt is already running")
        self.busy = True
        self._done.clear()
        self._jobs.put(("connect", sink, old_trader, token))

    def snapshot(self, trader: Any, token: Any = None) -> bool:
        """Query `trader` for the broker's own view on this thread; False if a snapshot is already running."""
        if self.snapshot_busy or trader is None:
            return False
        self.snapshot_busy = True
        self._jobs.put(("snapshot", trader, None, token))
        return True

    def take_snapshot(self) -> Snapshot | None:
        """The finished snapshot's outcome, once; None while it runs (or if already taken)."""
        with self._lock:
            result, self._snapshot = self._snapshot, None
        if result is not None:
            self.snapshot_busy = False
        return result

    def stop_later(self, trader: Any) -> None:
        """Stop a trader on the connect thread (where it was created)."""
        if trader is not None:
            self._jobs.put(("stop", trader, None, None))

    def take(self) -> Attempt | None:
        """The finished attempt's outcome, once; None while it runs (or if already taken)."""
        with self._lock:
            result, self._result = self._result, None
        if result is not None:
            self.busy = False
        return result

    def wait(self, timeout: float) -> bool:
        """Block until the current attempt has finished (its outcome is ready to take)."""
        return self._done.wait(timeout)

    def close(self, timeout: float = 2.0) -> bool:
        """End the thread (bounded): stops an outcome's trader nobody took; True if the thread ended."""
        with self._lock:
            self._closed = True
            result, self._result = self._result, None
        if result is not None:
            self.stop_later(result.trader)
        self._jobs.put(("quit", None, None, None))
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the broker connect attempt is still running; its trader will be stopped when it ends")
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ---- the connect thread -----------------------------------------------------------
    def _run(self) -> None:
        while True:
            kind, a, b, token = self._jobs.get()
            if kind == "quit":
                return
            if kind == "stop":
                Broker.stop_trader(a)
                continue
            if kind == "snapshot":
                self._run_snapshot(a, token)
                continue
            Broker.stop_trader(b)  # the old trader first: a reconnect never leaves two connected
            with self._lock:
                closed = self._closed
            if closed:
                continue
            try:
                trader, reason = self.broker.open_trader(a), ""
            except BrokerUnavailable as exc:
                trader, reason = None, str(exc)
            except Exception as exc:  # noqa: BLE001 - never let the thread die
                log.exception("broker connect attempt failed")
                trader, reason = None, f"{type(exc).__name__}: {exc}"
            with self._lock:
                if not self._closed:
                    self._result = Attempt(token, trader, reason)
                    trader = None
                closed = self._closed
            if trader is not None:  # the hub stopped while this attempt ran: nobody will use it
                log.info("stopping a trader connected after the hub stopped")
                Broker.stop_trader(trader)
            self._done.set()
            if not closed:
                try:
                    self._notify()
                except Exception:  # noqa: BLE001
                    log.exception("waking the hub loop failed")

    def _run_snapshot(self, trader: Any, token: Any) -> None:
        try:
            snap, reason = self.broker.snapshot(trader), ""
        except Exception as exc:  # noqa: BLE001 - a failed query is an outcome, never the thread's end
            log.warning("broker snapshot failed: %s: %s", type(exc).__name__, exc)
            snap, reason = None, f"{type(exc).__name__}: {exc}"
        with self._lock:
            if self._closed:
                return
            self._snapshot = Snapshot(token, snap, reason)
        try:
            self._notify()
        except Exception:  # noqa: BLE001
            log.exception("waking the hub loop failed")
