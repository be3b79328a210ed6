"""The `[alerts]` section of hub.toml.

```toml
[alerts]
broker_down_after = 30        # seconds the broker must stay down before anyone is told
silent_alert = true           # a strategy gone silent or dead (with its open orders) is told
daily_summary_at = "15:10"    # Asia/Shanghai, trading days only; "" = no summary
deadman_at = "09:15"          # the hub must be up with its broker by then on a trading day; "" = off
repeat_after = 300            # the same alert (same key) at most once per this many seconds
max_per_minute = 6            # per target; the rest are counted and summed up in the next message
timeout = 5                   # seconds per HTTP attempt
retries = 2                   # further attempts after a failed one (1 s, 2 s, ... apart)

[[alerts.targets]]
kind = "wecom"                # wecom | dingtalk | feishu | webhook
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."
secret = ""                   # dingtalk and feishu: the robot's signing secret
events = []                   # empty = every event kind except the opt-in ones; see EVENT_KINDS
min_level = "warning"         # info | warning | critical
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from hub.alerts.rules import EVENT_KINDS, OPT_IN_KINDS, Level

TARGET_KINDS = ("wecom", "dingtalk", "feishu", "webhook")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class AlertsConfigError(ValueError):
    """The [alerts] section is wrong; the message names the key and says why."""


@dataclass(frozen=True)
class TargetConfig:
    kind: str
    url: str
    secret: str = ""
    events: frozenset[str] = frozenset()  # empty: every kind except the opt-in ones
    min_level: Level = Level.WARNING
    name: str = ""

    def wants(self, kind: str, level: Level) -> bool:
        if level < self.min_level:
            return False
        if self.events:
            return kind in self.events
        return kind not in OPT_IN_KINDS


@dataclass(frozen=True)
class AlertsConfig:
    targets: tuple[TargetConfig, ...] = ()
    broker_down_after: float = 30.0
    silent_alert: bool = True
    daily_summary_at: str = "15:10"
    deadman_at: str = ""
    repeat_after: float = 300.0
    max_per_minute: int = 6
    timeout: float = 5.0
    retries: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, source: str = "[alerts]") -> "AlertsConfig":
        raw = dict(raw or {})
        known = {"targets", "broker_down_after", "silent_alert", "daily_summary_at", "deadman_at", "repeat_after",
                 "max_per_minute", "timeout", "retries"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise AlertsConfigError(f"{source}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        out: dict[str, Any] = {}
        for key in ("broker_down_after", "repeat_after", "timeout"):
            if key in raw:
                out[key] = _number(raw[key], f"{source}.{key}", minimum=0.0)
        if "timeout" in out and out["timeout"] <= 0:
            raise AlertsConfigError(f"{source}.timeout must be > 0")
        for key in ("max_per_minute", "retries"):
            if key in raw:
                v = raw[key]
                if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 1000:
                    raise AlertsConfigError(f"{source}.{key} must be a whole number from 0 to 1000, got {v!r}")
                out[key] = v
        if "silent_alert" in raw:
            if not isinstance(raw["silent_alert"], bool):
                raise AlertsConfigError(f"{source}.silent_alert must be true or false")
            out["silent_alert"] = raw["silent_alert"]
        for key in ("daily_summary_at", "deadman_at"):
            if key in raw:
                v = raw[key]
                if not isinstance(v, str) or (v and not _HHMM.match(v)):
                    raise AlertsConfigError(f"{source}.{key} must be \"HH:MM\" (Asia/Shanghai) or \"\", got {v!r}")
                out[key] = v
        targets = raw.get("targets", [])
        if not isinstance(targets, list):
            raise AlertsConfigError(f"{source}.targets must be a list of tables ([[alerts.targets]])")
        out["targets"] = tuple(_target(t, f"{source}.targets[{i}]", i) for i, t in enumerate(targets))
        return cls(**out)


def _number(v: Any, where: str, minimum: float) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v or v < minimum or v > 86400 * 7:
        raise AlertsConfigError(f"{where} must be a number of seconds from {minimum:g} to 604800, got {v!r}")
    return float(v)


def _target(raw: Any, where: str, index: int) -> TargetConfig:
    if not isinstance(raw, Mapping):
        raise AlertsConfigError(f"{where} must be a table")
    known = {"kind", "url", "secret", "events", "min_level", "name"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise AlertsConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    kind = raw.get("kind")
    if kind not in TARGET_KINDS:
        raise AlertsConfigError(f"{where}.kind must be one of {', '.join(TARGET_KINDS)}, got {kind!r}")
    url = raw.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://", url):
        raise AlertsConfigError(f"{where}.url must be an http(s):// address, got {url!r}")
    secret = raw.get("secret", "")
    if not isinstance(secret, str):
        raise AlertsConfigError(f"{where}.secret must be a string")
    events = raw.get("events", [])
    if not isinstance(events, list) or any(e not in EVENT_KINDS for e in events):
        bad = [e for e in events if e not in EVENT_KINDS] if isinstance(events, list) else events
        raise AlertsConfigError(f"{where}.events: unknown event kind(s) {bad!r} (known: {', '.join(EVENT_KINDS)})")
    level = raw.get("min_level", "warning")
    try:
        min_level = Level.named(level)
    except ValueError:
        raise AlertsConfigError(f"{where}.min_level must be info, warning or critical, got {level!r}") from None
    name = raw.get("name") or f"{kind}#{index + 1}"
    return TargetConfig(kind=kind, url=url, secret=secret, events=frozenset(events), min_level=min_level,
                        name=str(name))
