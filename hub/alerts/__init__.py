"""Alerts: messages to a phone (WeCom, DingTalk, Feishu robots, or any JSON webhook) when the hub
needs a person.

* `config`: the `[alerts]` section of hub.toml, checked (unknown keys are errors).
* `targets`: one webhook kind each: how its message is shaped and signed.
* `sender`: the one thread that sends: timeouts, retries, rate limits, de-duplication, counters.
* `rules`: what the hub's events mean for a person (an `Alert`, or nothing).

The watcher that feeds them (`hub.observe.watcher`) is an ordinary monitor-role client of the
hub, so nothing here can slow or stop the hub's loop.
"""

from hub.alerts.config import AlertsConfig, TargetConfig
from hub.alerts.rules import Alert, Level
from hub.alerts.sender import AlertSender

__all__ = ["Alert", "AlertSender", "AlertsConfig", "Level", "TargetConfig"]
