"""What the hub's events mean for a person: each becomes an `Alert`, or nothing.

`AlertRules` is pure (no sockets, no threads, an explicit clock), so every rule is tested with
plain calls. The watcher feeds it the hub's events and calls `tick(now)` about once a second for
the rules that depend on time (a broker down for longer than N seconds, the daily summary, the
dead-man alert).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

SHANGHAI = "Asia/Shanghai"

#: Every kind of alert; a target's `events` picks among them.
EVENT_KINDS = ("broker_down", "broker_up", "hub_started", "hub_stopping", "hub_unreachable", "strategy_silent",
               "halt", "risk_guard", "reconcile_difference", "order_refused", "daily_summary", "deadman", "test")
#: Kinds sent only to targets that name them (they can be many on a busy day).
OPT_IN_KINDS = frozenset({"order_refused"})


class Level(enum.IntEnum):
    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @classmethod
    def named(cls, name: Any) -> "Level":
        if isinstance(name, cls):
            return name
        if isinstance(name, str) and name.upper() in cls.__members__:
            return cls[name.upper()]
        raise ValueError(f"unknown level {name!r}")


@dataclass(frozen=True)
class Alert:
    kind: str
    level: Level
    title: str
    text: str
    key: str = ""  # alerts with the same key within `repeat_after` are sent once
    ts: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return self.key or f"{self.kind}:{self.title}"


def _hhmmss(ts: float, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S")


class AlertRules:
    """The hub's events in, alerts out. Time-based rules fire from `tick(now)`.

    `is_trading_day(date)` decides where the summary and the dead-man alert apply; `summary()`
    returns the day's per-strategy figures (see `daily_summary_text`) when the summary is due.
    """

    def __init__(self, *, broker_down_after: float = 30.0, silent_alert: bool = True, daily_summary_at: str = "",
                 deadman_at: str = "", tz: dt.tzinfo | None = None,
                 is_trading_day: Callable[[dt.date], bool] = lambda d: d.weekday() < 5,
                 summary: Callable[[], Mapping[str, Mapping[str, float]] | None] | None = None):
        from zoneinfo import ZoneInfo

        self.tz = tz or ZoneInfo(SHANGHAI)
        self.broker_down_after = broker_down_after
        self.silent_alert = silent_alert
        self.daily_summary_at = daily_summary_at
        self.deadman_at = deadman_at
        self.is_trading_day = is_trading_day
        self.summary = summary
        self.account = ""
        self._broker_down_since: float | None = None
        self._broker_reason = ""
        self._down_alerted = False
        self._hub_up = False
        self._broker_up = False
        self._done_today: dict[str, str] = {}  # rule -> the date it last fired

    # ---- events ---------------------------------------------------------------------------
    def on_event(self, topic: str, payload: Mapping[str, Any], now: float) -> list["Alert"]:
        data = payload.get("data") if isinstance(payload.get("data"), Mapping) else payload
        if topic == "hub.broker":
            return self._on_broker(data, now)
        if topic == "hub.client":
            return self._on_client(data, now)
        if topic == "hub.halt":
            who = data.get("strategy") or "all strategies"
            if data.get("halted"):
                return [Alert("halt", Level.WARNING, f"halted: {who}",
                              f"New orders of {who} are refused (HALTED). Reason: {data.get('reason') or '-'}",
                              key=f"halt:{who}:{data.get('reason')}", ts=now)]
            return [Alert("halt", Level.INFO, f"resumed: {who}", f"{who} may place orders again.",
                          key=f"resume:{who}", ts=now)]
        if topic.startswith("hub.risk"):
            return self._on_risk(data, now)
        if topic.startswith("error."):
            if data.get("kind", "order") == "order":
                strategy = topic.split(".", 1)[1]
                return [Alert("order_refused", Level.WARNING, f"order refused: {strategy}",
                              f"{data.get('stock_code', '')} order {data.get('order_id')}: "
                              f"{data.get('error_msg') or data.get('error_id')}",
                              key=f"refused:{strategy}:{data.get('order_id')}:{data.get('seq', '')}", ts=now)]
        return []

    def _on_broker(self, data: Mapping[str, Any], now: float) -> list[Alert]:
        state = data.get("state")
        if state == "up":
            self._broker_up = True
            since, alerted = self._broker_down_since, self._down_alerted
            self._broker_down_since, self._down_alerted = None, False
            if since is not None and alerted:
                return [Alert("broker_up", Level.INFO, "broker back",
                              f"The broker connection is back after {now - since:.0f} s of downtime.",
                              key="broker_up", ts=now)]
            return []
        self._broker_up = False
        if self._broker_down_since is None:
            self._broker_down_since = float(data.get("since") or now)
        self._broker_reason = str(data.get("reason") or state or "")
        return self._check_broker(now)

    def _check_broker(self, now: float) -> list[Alert]:
        since = self._broker_down_since
        if since is None or self._down_alerted or now - since < self.broker_down_after:
            return []
        self._down_alerted = True
        return [Alert("broker_down", Level.CRITICAL, "broker DOWN",
                      f"The broker connection has been down since {_hhmmss(since, self.tz)} "
                      f"({now - since:.0f} s): {self._broker_reason}. Orders are refused with BROKER_DOWN until "
                      f"it is back; the hub keeps reconnecting.", key="broker_down", ts=now)]

    def _on_client(self, data: Mapping[str, Any], now: float) -> list[Alert]:
        event = data.get("event")
        if not self.silent_alert or data.get("role") not in (None, "strategy") or event not in ("timed_out",
                                                                                                   "disconnected"):
            return []
        cancelled = list(data.get("cancelled") or [])
        open_orders = data.get("open_orders")
        if event == "disconnected" and not cancelled and not open_orders:
            return []  # a strategy that said bye with nothing open is not news
        who = data.get("strategy")
        what = "went silent" if event == "timed_out" else "disconnected"
        parts = [f"Strategy {who} {what}: {data.get('reason') or ''}".rstrip(": ")]
        if cancelled:
            parts.append(f"{len(cancelled)} open order(s) cancelled (cancel-on-disconnect): {cancelled[:20]}")
        if open_orders:
            parts.append(f"{open_orders} order(s) still open and NOT cancelled")
        elif not cancelled:
            parts.append("no open orders")
        level = Level.CRITICAL if open_orders else Level.WARNING
        return [Alert("strategy_silent", level, f"strategy {who} {what}", "\n".join(parts),
                      key=f"silent:{who}:{data.get('session', '')}", ts=now)]

    def _on_risk(self, data: Mapping[str, Any], now: float) -> list[Alert]:
        """hub.risk events: reconciliations that booked differences; guard warnings. Refusals are the
        strategies' own business (they get the error) and are not alerted one by one."""
        event = data.get("event")
        if event == "reconciled" and data.get("booked"):
            return self.reconcile_differences(list(data["booked"]), now)
        if event in ("warning", "guard_warning"):
            return self.guard_warnings([str(data.get("message") or data)], now)
        return []

    def reconcile_differences(self, diffs: list[Any], now: float) -> list[Alert]:
        if not diffs:
            return []
        lines = [_diff_line(d) for d in diffs[:10]]
        more = f"\n(+{len(diffs) - 10} more)" if len(diffs) > 10 else ""
        return [Alert("reconcile_difference", Level.WARNING, f"reconciliation: {len(diffs)} difference(s)",
                      "The broker's account differs from the sum of the strategies' sleeves (booked to the pool / "
                      "_external, never to a strategy):\n" + "\n".join(lines) + more,
                      key=f"reconcile:{sorted(lines)}", ts=now)]

    def guard_warnings(self, warnings: list[str], now: float) -> list[Alert]:
        """A risk guard past 80 % of its limit (the rate guard's own words)."""
        return [Alert("risk_guard", Level.WARNING, "risk guard above 80 %", w, key=f"guard:{w}", ts=now)
                for w in warnings]

    # ---- lifecycle -----------------------------------------------------------------------
    def hub_started(self, account: str, hub_id: str, now: float) -> Alert:
        self.account, self._hub_up = account, True
        return Alert("hub_started", Level.INFO, "hub started", f"qmt-hub {hub_id} is up for account {account}.",
                     key=f"started:{hub_id}", ts=now)

    def hub_stopping(self, now: float) -> Alert:
        return Alert("hub_stopping", Level.WARNING, "hub stopping",
                     f"qmt-hub for account {self.account or '?'} is stopping; strategies lose their broker.",
                     key=f"stopping:{now:.0f}", ts=now)

    def hub_reachable(self, reachable: bool, broker_up: bool | None = None) -> None:
        self._hub_up = reachable
        if broker_up is not None:
            self._broker_up = broker_up

    # ---- time ----------------------------------------------------------------------------
    def _due(self, rule: str, at: str, now: float) -> bool:
        """True once per trading day, at or after `at` (HH:MM, Shanghai) and within an hour of it."""
        if not at:
            return False
        local = dt.datetime.fromtimestamp(now, self.tz)
        hh, mm = (int(x) for x in at.split(":"))
        start = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
        day = local.date().isoformat()
        if self._done_today.get(rule) == day or not (start <= local < start + dt.timedelta(hours=1)):
            return False
        try:
            trading = self.is_trading_day(local.date())
        except Exception:  # noqa: BLE001 - a calendar that cannot say: act as on a trading day, loudly
            trading = True
        self._done_today[rule] = day
        return bool(trading)

    def tick(self, now: float) -> list[Alert]:
        out = self._check_broker(now)
        if self._due("deadman", self.deadman_at, now) and not (self._hub_up and self._broker_up):
            what = "the hub is not reachable" if not self._hub_up else "the broker is not connected"
            out.append(Alert("deadman", Level.CRITICAL, f"not ready at {self.deadman_at}",
                             f"It is {self.deadman_at} on a trading day and {what} (account {self.account or '?'}). "
                             f"Strategies cannot trade.", key=f"deadman:{dt.date.fromtimestamp(now)}", ts=now))
        if self.summary is not None and self._due("summary", self.daily_summary_at, now):
            figures = self.summary()
            if figures is not None:
                out.append(Alert("daily_summary", Level.INFO, "daily summary", daily_summary_text(figures),
                                 key=f"summary:{dt.date.fromtimestamp(now)}", ts=now, data={"strategies": figures}))
        return out


def _diff_line(d: Any) -> str:
    if isinstance(d, Mapping):
        what = d.get("code") or d.get("stock_code") or "cash"
        if "hub" in d or "broker" in d:
            return f"{what}: hub {d.get('hub')} broker {d.get('broker')}"
        amount = d.get("volume", d.get("cash", d.get("diff")))
        why = f" ({d['why']})" if d.get("why") else ""
        return f"{what}: {amount} booked to {d.get('to', 'the pool')}{why}"
    return str(d)


def summarize(orders: list[Mapping[str, Any]], trades: list[Mapping[str, Any]],
              pnl: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Per-strategy figures of a day from its orders and trades (the hub's records, owner field)."""
    out: dict[str, dict[str, float]] = {}

    def row(owner: Any) -> dict[str, float]:
        return out.setdefault(str(owner or "_external"), {"orders": 0, "fills": 0, "turnover": 0.0, "fees": 0.0})

    for o in orders:
        row(o.get("owner"))["orders"] += 1
    for t in trades:
        r = row(t.get("owner"))
        r["fills"] += 1
        r["turnover"] = round(r["turnover"] + float(t.get("traded_amount") or 0.0), 2)
        r["fees"] = round(r["fees"] + float(t.get("commission") or 0.0), 2)
    for owner, value in (pnl or {}).items():
        row(owner)["pnl"] = round(float(value), 2)
    return out


def daily_summary_text(figures: Mapping[str, Mapping[str, float]]) -> str:
    if not figures:
        return "No orders today."
    lines = []
    for name in sorted(figures):
        f = figures[name]
        pnl = f" P&L {f['pnl']:,.2f}" if "pnl" in f else ""
        lines.append(f"{name}: {int(f.get('orders', 0))} orders, {int(f.get('fills', 0))} fills, "
                     f"turnover {f.get('turnover', 0):,.2f}, fees {f.get('fees', 0):,.2f}{pnl}")
    return "\n".join(lines)
