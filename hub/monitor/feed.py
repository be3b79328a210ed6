"""The monitor's loop: hub events and periodic queries -> `MonitorState`; a painter redraws it.

As in circus' monitor: a subscriber fills the model, a painter redraws at a fixed rate.
Three threads meet here, and only through a queue and one lock:

* the client library's callback thread delivers events -> `Feed.on_event` puts them on a queue;
* the feed thread (`Feed.run`) drains the queue into the state and makes the periodic
  calls (status and clients every second, the book every few seconds and after every
  (re)connect or hub restart, last prices for the positions);
* the main thread paints `render_dashboard(state)` a few times a second with `rich.live.Live`,
  so a slow or dead hub never freezes the screen.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Mapping

from hub.monitor.link import UNREACHABLE_CODES, HubLink, as_dict
from hub.monitor.state import MonitorState
from rpc_client.protocol import HubError

#: Past events replayed when the monitor meets a hub (run), to fill the log with recent trouble.
HISTORY_EVENTS = 300



class Feed:
    """Keeps a `MonitorState` up to date from one hub. `step(now)` does one round of work."""

    def __init__(self, state: MonitorState, make_link: Callable[[], HubLink], *,
                 clock: Callable[[], float] = time.time, status_every: float = 1.0, book_every: float = 10.0,
                 quotes_every: float = 2.0, retry_every: float = 2.0):
        self.state = state
        self.lock = threading.Lock()
        self._make_link = make_link
        self._clock = clock
        self.status_every, self.book_every = status_every, book_every
        self.quotes_every, self.retry_every = quotes_every, retry_every
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.link: HubLink | None = None
        self._next_connect = 0.0
        self._next_status = 0.0
        self._next_book = 0.0
        self._next_quotes = 0.0
        self._stop = threading.Event()
        self._quotes_failed = False
        self._history_of: str | None = None  # hub_id whose recent history is loaded

    # ---------------------------------------------------------------- callbacks (any thread)

    def on_event(self, topic: str, payload: Mapping[str, Any]) -> None:
        # stamped on arrival: the heartbeat age on screen is the time since the hub was last heard
        self._events.put(("event", topic, payload, self._clock()))

    def on_connected(self, info: Any = None) -> None:
        self._events.put(("connected", None, info, self._clock()))

    def on_disconnected(self, reason: Any = None) -> None:
        self._events.put(("disconnected", None, reason, self._clock()))

    # ---------------------------------------------------------------- work

    def step(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        if self.link is None:
            if now < self._next_connect:
                return
            self._connect(now)
            if self.link is None:
                return
        self._drain(now)
        try:
            if self.state.needs_resync:
                self._load_history(now)
            if self.state.needs_resync or now >= self._next_book:
                self._refresh_book(now)
            if now >= self._next_status:
                self._refresh_status(now)
            if now >= self._next_quotes:
                self._refresh_quotes(now)
        except HubError as exc:
            self._call_failed(exc, now)

    def _connect(self, now: float) -> None:
        try:
            link = self._make_link()
            link.on_event, link.on_connected, link.on_disconnected = \
                self.on_event, self.on_connected, self.on_disconnected
            info = link.connect()
        except HubError as exc:
            with self.lock:
                self.state.set_unreachable(now, _reason(exc))
            self._next_connect = now + self.retry_every
            return
        self.link = link
        with self.lock:
            self.state.set_connected(now)
            if isinstance(info, Mapping):
                self.state.apply_status(info, now)
        self._next_status = self._next_quotes = 0.0
        try:
            self._load_history(now)
        except HubError as exc:
            self._call_failed(exc, now)

    def _load_history(self, now: float) -> None:
        """Replay the hub's latest journaled events once per hub run, so the log shows recent trouble."""
        with self.lock:
            hub_id, last = self.state.hub_id, self.state.last_seq
        if not hub_id or hub_id == self._history_of or not isinstance(last, int):
            return
        self._history_of = hub_id
        result = as_dict(self._call("replay", after=max(0, last - HISTORY_EVENTS), limit=HISTORY_EVENTS))
        with self.lock:
            for ev in result.get("events") or []:
                ev = as_dict(ev)
                self.state.apply_event(str(ev.get("topic", "")), ev, now, history=True)

    def _drain(self, now: float) -> None:
        with self.lock:
            while True:
                try:
                    kind, topic, payload, at = self._events.get_nowait()
                except queue.Empty:
                    return
                if kind == "event":
                    # the arrival time when it is on the same clock as `now` (tests drive step(now) by hand)
                    self.state.apply_event(topic, payload, at if now - 60.0 <= at <= now else now)
                elif kind == "connected":
                    self.state.set_connected(now)
                else:
                    self.state.set_unreachable(now, str(payload or "connection lost"))

    def _call(self, method: str, **params: Any) -> Any:
        assert self.link is not None
        result = self.link.call(method, **params)
        if not self.state.connected:  # the client library reconnected by itself and the hub answers again
            with self.lock:
                self.state.set_connected(self._clock())
        return result

    def _refresh_status(self, now: float) -> None:
        st = as_dict(self._call("status"))
        clients = [as_dict(c) for c in self._call("clients") or []]
        sleeves = None
        if st.get("risk"):  # a hub with the risk engine: the sleeves pane
            try:
                sleeves = [as_dict(x) for x in self._call("sleeves") or []]
            except HubError:
                sleeves = None
        with self.lock:
            self.state.apply_status(st, now)
            self.state.apply_clients(clients, now)
            if sleeves is not None:
                self.state.apply_sleeves(sleeves)
        self._next_status = now + self.status_every

    def _refresh_book(self, now: float) -> None:
        # Events keep arriving while the four reads are in flight. Apply them first, then the
        # snapshot, which keeps what an event changed after `taken_at` (the read may predate it) and
        # never moves an order backwards (MonitorState.apply_orders).
        taken_at = self._clock()
        with self.lock:  # cleared first: a hub restart seen while reading sets it again
            resync, self.state.needs_resync = self.state.needs_resync, False
        try:
            orders = [as_dict(o) for o in self._call("query_stock_orders") or []]
            trades = [as_dict(t) for t in self._call("query_stock_trades") or []]
            positions = [as_dict(p) for p in self._call("query_stock_positions") or []]
            asset = as_dict(self._call("query_stock_asset"))
        except BaseException:
            with self.lock:
                self.state.needs_resync = self.state.needs_resync or resync
            raise
        self._drain(self._clock())
        with self.lock:
            self.state.apply_orders(orders, taken_at)
            self.state.apply_trades(trades, taken_at)
            self.state.apply_positions(positions, taken_at)
            self.state.apply_asset(asset, taken_at)
        self._next_book = now + self.book_every
        self._next_quotes = 0.0

    def _refresh_quotes(self, now: float) -> None:
        self._next_quotes = now + self.quotes_every
        with self.lock:
            codes = sorted(set(self.state.positions) | {str(t.get("stock_code")) for t in self.state.trades.values()
                                                         if t.get("stock_code")})
        if not codes or self._quotes_failed:
            return
        try:
            ticks = self._call("get_full_tick", codes=codes)
        except HubError as exc:
            if exc.code in UNREACHABLE_CODES:
                raise
            self._quotes_failed = True  # the hub has no quote source: show prices from the book only
            with self.lock:
                self.state.add_log(now, "info", f"no quotes from the hub ({exc.code}); last prices from positions")
            return
        with self.lock:
            self.state.apply_ticks({k: as_dict(v) for k, v in (ticks or {}).items()})

    def _call_failed(self, exc: HubError, now: float) -> None:
        with self.lock:
            if exc.code in UNREACHABLE_CODES:
                self.state.set_unreachable(now, _reason(exc))
            else:
                self.state.add_log(now, "error", f"monitor query failed: {exc}")
        # try again later; the client library reconnects by itself
        self._next_status = now + self.retry_every

    # ---------------------------------------------------------------- thread

    def run(self, period: float = 0.1) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # the monitor must never die on a surprise; show it instead
                with self.lock:
                    self.state.add_log(self._clock(), "error", f"monitor error: {type(exc).__name__}: {exc}")
                self._stop.wait(1.0)
            self._stop.wait(period)

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name="monitor-feed", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()
        if self.link is not None:
            try:
                self.link.close()
            except Exception:
                pass


def _reason(exc: HubError) -> str:
    return exc.message if exc.code in UNREACHABLE_CODES else str(exc)
