"""Start the watcher, the alert sender and the metrics endpoint from a hub's configuration.

Used by `hub start` (in the hub's process, beside the hub) and by `hub alerts watch` (its own
process: the one that can still say "the hub is not up" when the hub process is gone).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from hub.alerts.config import AlertsConfig
from hub.alerts.rules import AlertRules
from hub.alerts.sender import AlertSender
from hub.monitor.link import HubLink
from hub.observe.metrics import HubCollector, MetricsServer, health
from hub.observe.metrics_config import MetricsConfig
from hub.observe.watcher import HubWatcher
from rpc_client.protocol import Role

log = logging.getLogger("hub.watch")


def trading_day_rule() -> Any:
    """is_trading_day(date) from the trading calendar; a date it cannot judge counts as a trading day
    (an alert too many beats a dead-man alert that never fires)."""
    from rpc_client.calendar import is_trading_day

    def judge(day: dt.date) -> bool:
        try:
            return bool(is_trading_day(day))
        except Exception as exc:  # noqa: BLE001 - CalendarCoverageError and kin
            log.warning("watch: the calendar cannot judge %s (%s); treating it as a trading day", day, exc)
            return True
    return judge


@dataclass
class Observers:
    watcher: HubWatcher
    sender: AlertSender | None
    metrics: MetricsServer | None

    def stop(self, stopping_alert: bool = True) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        self.watcher.stop(stopping_alert=stopping_alert and self.sender is not None)

    def counters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"watching": self.watcher.reachable}
        if self.sender is not None:
            out["alerts"] = self.sender.counters()
        if self.metrics is not None:
            out["metrics"] = self.metrics.address
        return out


def start_observers(rpc: str, pub: str, alerts: AlertsConfig, metrics: MetricsConfig, *, account: str = "",
                    curve: Any = None, status_every: float = 5.0, announce: bool = True,
                    link_factory: Any = None) -> Observers | None:
    """Watcher + sender + metrics for a hub at rpc/pub; None when neither alerts nor metrics are configured."""
    if not alerts.enabled and not metrics.enabled:
        return None
    sender = AlertSender(alerts, account) if alerts.enabled else None
    rules = AlertRules(broker_down_after=alerts.broker_down_after, silent_alert=alerts.silent_alert,
                       daily_summary_at=alerts.daily_summary_at, deadman_at=alerts.deadman_at,
                       is_trading_day=trading_day_rule())
    factory = link_factory or (lambda: HubLink(rpc, pub, role=Role.MONITOR, timeout=3.0, name="hub-watch",
                                                curve=curve))
    watcher = HubWatcher(factory, rules, sender, status_every=status_every, announce=announce and sender is not None)
    rules.summary = watcher.day_summary
    server = None
    if metrics.enabled:
        extra = (lambda: {"qmt_hub_alerts_failed": (sender.counters()["failed"], "Alerts that could not be sent."),
                          "qmt_hub_alerts_sent": (sender.counters()["sent"], "Alerts sent.")}) if sender else None
        server = MetricsServer(metrics.listen, HubCollector(watcher.snapshot, extra, watcher.sleeve_rows),
                               lambda: health(watcher.snapshot, max_age=3 * status_every + 2))
    watcher.start()
    if server is not None:
        server.start()
    return Observers(watcher, sender, server)
