"""The watcher: a monitor-role client of the hub that feeds the alert rules and keeps the latest status.

It runs on its own thread (inside `hub start` when `[alerts]` or `[metrics]` is configured, or on
its own as `hub alerts watch`, which is how the dead-man alert can say that the hub itself is not
up). Events arrive on the client library's callback thread and are queued; the watcher's thread
applies them to `AlertRules`, ticks the time rules once a second, asks the hub for `status` every
`status_every` seconds, and hands alerts to the `AlertSender`, whose own thread sends them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from hub.alerts.rules import Alert, AlertRules, Level, summarize
from hub.alerts.sender import AlertSender
from hub.monitor.link import as_dict
from rpc_client.protocol import HubError

log = logging.getLogger("hub.watch")


class HubWatcher:
    """`link_factory()` returns an unconnected `hub.monitor.link.HubLink`-like object (connect, call,
    close, on_event); tests pass a fake."""

    def __init__(self, link_factory: Callable[[], Any], rules: AlertRules, sender: AlertSender | None, *,
                 status_every: float = 5.0, unreachable_after: float = 15.0,
                 clock: Callable[[], float] = time.time, announce: bool = True):
        self._link_factory = link_factory
        self.rules = rules
        self.sender = sender
        self.status_every = status_every
        self.unreachable_after = unreachable_after
        self._clock = clock
        self._announce = announce
        self._events: queue.Queue = queue.Queue(100000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._link: Any = None
        self._lock = threading.Lock()
        self.status: dict[str, Any] = {}
        self.clients: list[dict[str, Any]] = []
        self.sleeves: list[dict[str, Any]] = []
        self.status_at = 0.0  # when the last status answer arrived (wall clock of `clock`)
        self.reachable = False
        self._unreachable_since: float | None = None
        self._unreachable_alerted = False
        self.alerts: list[Alert] = []  # the last alerts made (bounded), for `hub status` and tests
        self.events_seen = 0
        self.events_dropped = 0
        self._seen_warnings: list[str] = []

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> "HubWatcher":
        if self.sender is not None:
            self.sender.start()
        self._thread = threading.Thread(target=self._run, name="hub-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, stopping_alert: bool = False, timeout: float = 5.0) -> None:
        if stopping_alert:
            self._emit([self.rules.hub_stopping(self._clock())])
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_link()
        if self.sender is not None:
            self.sender.stop(timeout)

    # ---- the watcher's thread --------------------------------------------------------------
    def _run(self) -> None:
        next_status = 0.0
        while not self._stop.is_set():
            now = self._clock()
            if self._link is None:
                self._connect(now)
            if self._link is not None and time.monotonic() >= next_status:
                next_status = time.monotonic() + self.status_every
                self._poll_status()
            self._check_reachable(self._clock())
            try:
                self._emit(self.rules.tick(self._clock()))
            except Exception:  # noqa: BLE001 - a rule's bug must not end the watcher
                log.exception("watch: a time rule failed")
            deadline = time.monotonic() + min(1.0, self.status_every)
            while not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    topic, payload = self._events.get(timeout=left)
                except queue.Empty:
                    break
                try:
                    self._emit(self.rules.on_event(topic, payload, self._clock()))
                except Exception:  # noqa: BLE001
                    log.exception("watch: rule for %s failed", topic)

    def _connect(self, now: float) -> None:
        link = self._link_factory()
        link.on_event = self._on_event
        try:
            hello = link.connect()
        except HubError as exc:
            log.debug("watch: hub not reachable: %s", exc)
            try:
                link.close()
            except Exception:  # noqa: BLE001
                pass
            self._set_reachable(False, now)
            return
        self._link = link
        hello = as_dict(hello) or {}
        broker = (hello.get("broker") or {}).get("state")
        self.rules.hub_reachable(True, broker == "up" if broker else None)
        if self._announce:
            self._announce = False
            self._emit([self.rules.hub_started(str(hello.get("account_id") or ""), str(hello.get("hub_id") or ""),
                                               now)])
        self._set_reachable(True, now)

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            try:
                link.close()
            except Exception:  # noqa: BLE001
                pass

    def _on_event(self, topic: str, payload: dict[str, Any]) -> None:
        """Client callback thread: queue only."""
        if topic in ("hub.heartbeat",) or topic.startswith(("tick.", "ticks.")):
            return
        try:
            self._events.put_nowait((topic, payload))
            self.events_seen += 1
        except queue.Full:
            self.events_dropped += 1

    def _poll_status(self) -> None:
        try:
            status = self._link.call("status")
            clients = self._link.call("clients")
        except HubError as exc:
            log.debug("watch: status failed: %s", exc)
            if exc.code in ("TIMEOUT", "CLOSED"):
                self._set_reachable(False, self._clock())
            return
        status = as_dict(status) if status is not None else {}
        sleeves = self._sleeves()
        with self._lock:
            self.status = status
            self.clients = [as_dict(c) for c in clients or []]
            self.sleeves = sleeves
            self.status_at = self._clock()
        broker = (status.get("broker") or {}).get("state")
        self.rules.hub_reachable(True, broker == "up")
        self._set_reachable(True, self._clock())
        self._risk_news(status.get("risk") or {})

    def _risk_news(self, risk: dict[str, Any]) -> None:
        """New rate-guard warnings in the hub's status become alerts (each once)."""
        warnings = [str(w) for w in risk.get("warnings") or []]
        new = [w for w in warnings if w not in self._seen_warnings]
        self._seen_warnings = warnings
        if new:
            self._emit(self.rules.guard_warnings(new, self._clock()))

    def _set_reachable(self, reachable: bool, now: float) -> None:
        self.reachable = reachable
        self.rules.hub_reachable(reachable)
        if reachable:
            if self._unreachable_alerted:
                self._emit([Alert("hub_unreachable", Level.INFO, "hub reachable again",
                                  "The hub answers again.", key=f"reachable:{now:.0f}", ts=now)])
            self._unreachable_since, self._unreachable_alerted = None, False
        elif self._unreachable_since is None:
            self._unreachable_since = now

    def _check_reachable(self, now: float) -> None:
        since = self._unreachable_since
        if since is None or self._unreachable_alerted or now - since < self.unreachable_after:
            return
        self._unreachable_alerted = True
        self._emit([Alert("hub_unreachable", Level.CRITICAL, "hub NOT reachable",
                          f"The hub has not answered for {now - since:.0f} s. Strategies cannot trade.",
                          key=f"unreachable:{since:.0f}", ts=now)])

    def _emit(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.info("alert %s %s: %s", alert.level.name, alert.kind, alert.title)
            self.alerts.append(alert)
            del self.alerts[:-200]
            if self.sender is not None:
                self.sender.submit(alert)

    # ---- what the rules and the metrics read ------------------------------------------------
    def day_summary(self) -> dict[str, dict[str, float]] | None:
        """Per-strategy orders, fills, turnover, fees (and P&L where the hub keeps sleeves) of today."""
        if self._link is None:
            return None
        try:
            orders = [as_dict(o) for o in self._link.call("query_stock_orders") or []]
            trades = [as_dict(t) for t in self._link.call("query_stock_trades") or []]
        except HubError as exc:
            log.warning("watch: the daily summary could not read the day's orders: %s", exc)
            return None
        pnl = {row["strategy"]: float(row.get("realized_pnl") or 0) + float(row.get("floating_pnl") or 0)
               for row in self._sleeves() if not row.get("pool")}
        return summarize(orders, trades, pnl)

    def _sleeves(self) -> list[dict[str, Any]]:
        """Every strategy's sleeve (`sleeves`: cash, P&L, fees, limit use); [] from a hub without them."""
        try:
            rows = self._link.call("sleeves")
        except HubError:
            return []
        return [as_dict(r) for r in rows or [] if isinstance(as_dict(r), dict) and as_dict(r).get("strategy")]

    def snapshot(self) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
        with self._lock:
            return dict(self.status), list(self.clients), self.status_at

    def sleeve_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.sleeves)

