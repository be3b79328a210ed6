"""What the monitor knows about the hub: a plain in-memory model fed by events and queries.

The feed (`hub.monitor.feed`) fills it from the hub's events (account events pushed to the
monitor's session, heartbeats from the PUB) and periodic queries; the renderer
(`hub.monitor.render`) turns a snapshot of it into rich renderables. Nothing here does I/O, so
tests build a state from synthetic data and render it.

Every ``apply_*`` method takes ``now`` (the monitor's clock) so ages and aging-out are
testable without sleeping.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.monitor.labels import ORDER_JUNK, STOCK_BUY, STOCK_SELL, is_open
from rpc_client.xt import moved_backwards
from rpc_client.protocol import EXTERNAL_OWNER, HEARTBEAT_INTERVAL, Role, Topic, split_topic

#: How long a client that left stays on screen (dimmed) before it ages out.
GONE_TTL = 30.0
#: Log lines kept in memory.
LOG_SIZE = 200
#: Trades kept in memory (newest).
TRADES_KEPT = 500

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass
class LogEntry:
    ts: float
    level: str  # error | warning | info
    text: str
    strategy: str | None = None  # the strategy it concerns, for --strategy filtering


def _halted_map(value: Any) -> dict[str, Any]:
    """Normalise the `halted` field of status/heartbeat into {all, reason, strategies}."""
    if isinstance(value, Mapping):
        return {"all": bool(value.get("all")), "reason": value.get("reason") or "",
                "strategies": dict(value.get("strategies") or {})}
    return {"all": bool(value), "reason": "", "strategies": {}}


def _broker_map(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {"state": value.get("state") or "?", "since": value.get("since"), "reason": value.get("reason") or ""}
    if isinstance(value, str):
        return {"state": value, "since": None, "reason": ""}
    return {"state": "?", "since": None, "reason": ""}


def order_owner(order: Mapping[str, Any]) -> str:
    return str(order.get("owner") or order.get("strategy_name") or EXTERNAL_OWNER)


def _same_order(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two maps describe the same order (not an order id reused on another day)."""
    return all(a.get(k) == b.get(k) for k in ("stock_code", "order_type", "order_time") if a.get(k) is not None
               and b.get(k) is not None)


def order_behind(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """True when `new` is an older state of the same order than `old`: the hub's own rule
    (`rpc_client.xt.moved_backwards`), applied only when both maps are the same order."""
    return _same_order(new, old) and moved_backwards(old, new)


_NAME_KEYS = ("stock_name", "instrument_name", "name", "InstrumentName")


def _name_in(row: Mapping[str, Any]) -> str:
    for key in _NAME_KEYS:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def order_reason(order: Mapping[str, Any]) -> str:
    """Why an order was rejected (broker status_msg or the order error's message), for display.

    A leading '[<the order's code>] ' is dropped: the code is shown next to it anyway.
    """
    reason = str(order.get("error_msg") or (order.get("status_msg") if order.get("order_status") == ORDER_JUNK
                                            else "") or "")
    prefix = f"[{order.get('stock_code')}] "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


@dataclass
class MonitorState:
    rpc: str = ""
    pub: str = ""

    # connection to the hub, as the monitor sees it
    connected: bool = False
    ever_connected: bool = False
    conn_since: float | None = None  # when `connected` last changed
    conn_reason: str = "connecting"

    # hub identity and state (from status / heartbeat)
    hub_id: str = ""
    account_id: str = ""
    version: str = ""
    started_at: float | None = None
    uptime: float | None = None
    uptime_at: float | None = None  # monitor time when `uptime` was read
    broker: dict[str, Any] = field(default_factory=lambda: _broker_map(None))
    halted: dict[str, Any] = field(default_factory=lambda: _halted_map(False))
    last_seq: int | None = None
    rates: dict[str, Any] = field(default_factory=dict)
    latency_ms: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, Any] = field(default_factory=dict)
    #: the risk engine (status["risk"]: switch, rate guard, refusals, reconciliation) and the sleeves
    risk: dict[str, Any] = field(default_factory=dict)
    sleeves: list[dict[str, Any]] = field(default_factory=list)
    # hub.heartbeat: when the last one arrived (monitor clock) and how often the hub sends them
    heartbeat_at: float | None = None
    heartbeat_interval: float = HEARTBEAT_INTERVAL
    hub_clients: int | None = None  # connected clients, as the last heartbeat counted them

    # the book
    asset: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[Any, dict[str, Any]] = field(default_factory=dict)
    trades: dict[Any, dict[str, Any]] = field(default_factory=dict)
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> latest tick
    names: dict[str, str] = field(default_factory=dict)  # code -> name seen on an order or trade

    # clients
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients_at: float | None = None
    gone: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)  # name -> (row, gone_at)

    log: deque = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    #: set when the hub restarted or the monitor reconnected: the feed re-queries everything
    needs_resync: bool = True
    _rejects_logged: set = field(default_factory=set)
    #: when an event last changed a book entry (monitor clock), keyed ('order', id), ('trade', key),
    #: ('position', code), ('asset', None): a snapshot read that started earlier must not undo it
    _event_at: dict = field(default_factory=dict)
    _order_seq: dict = field(default_factory=dict)  # order id -> seq of the last event applied to it

    # ------------------------------------------------------------------ log

    def add_log(self, now: float, level: str, text: str, strategy: str | None = None) -> None:
        self.log.append(LogEntry(now, level, text, strategy))

    # ------------------------------------------------------------------ connection

    def set_connected(self, now: float) -> None:
        if not self.connected:
            if self.ever_connected:
                self.add_log(now, INFO, f"reconnected to the hub at {self.rpc}")
            self.connected, self.ever_connected = True, True
            self.conn_since, self.conn_reason = now, ""
        self.needs_resync = True

    def set_unreachable(self, now: float, reason: str) -> None:
        if self.connected or self.conn_since is None:
            self.conn_since = now
            if self.connected:
                self.add_log(now, ERROR, f"hub unreachable at {self.rpc}: {reason}")
        self.connected = False
        self.conn_reason = reason

    def _see_hub_id(self, hub_id: Any, now: float) -> None:
        if not hub_id or hub_id == self.hub_id:
            return
        if self.hub_id:
            self.add_log(now, WARNING, f"hub restarted (hub_id {self.hub_id} -> {hub_id})")
            self.needs_resync = True
            # the old run's sessions are over; clients show as gone until the new hub lists them
            for name, row in self.clients.items():
                self.gone[name] = (row, now)
            self.clients = {}
        self.hub_id = str(hub_id)

    def hub_uptime(self, now: float) -> float | None:
        if self.uptime is None or self.uptime_at is None:
            return None
        return self.uptime + (now - self.uptime_at) if self.connected else self.uptime

    # ------------------------------------------------------------------ queries

    def apply_status(self, st: Mapping[str, Any], now: float) -> None:
        self._see_hub_id(st.get("hub_id"), now)
        self.account_id = str(st.get("account_id") or self.account_id)
        self.version = str(st.get("version") or self.version)
        self.started_at = st.get("started_at", self.started_at)
        hb = st.get("heartbeat_interval")  # in the hello result
        if isinstance(hb, (int, float)) and not isinstance(hb, bool) and hb > 0:
            self.heartbeat_interval = float(hb)
        if st.get("uptime") is not None:
            self.uptime, self.uptime_at = float(st["uptime"]), now
        if "broker" in st:
            self.broker = _broker_map(st["broker"])
        if "halted" in st:
            self.halted = _halted_map(st["halted"])
        self.last_seq = st.get("last_seq", self.last_seq)
        self.rates = dict(st.get("rates") or {})
        self.latency_ms = dict(st.get("latency_ms") or {})
        self.counters = dict(st.get("counters") or {})
        self.risk = dict(st.get("risk") or {})

    def apply_sleeves(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.sleeves = [dict(r) for r in rows]

    def apply_clients(self, rows: Iterable[Mapping[str, Any]], now: float) -> None:
        new = {str(r.get("strategy")): dict(r) for r in rows}
        for name, row in self.clients.items():
            if name not in new:
                self.gone[name] = (row, now)
        for name in new:
            self.gone.pop(name, None)
        self.clients, self.clients_at = new, now
        self.expire(now)

    def expire(self, now: float) -> None:
        """Age out clients that left more than GONE_TTL ago."""
        for name in [n for n, (_, t) in self.gone.items() if now - t > GONE_TTL]:
            del self.gone[name]

    def _newer_than(self, key: tuple, taken_at: float | None) -> bool:
        """An event changed this entry after the snapshot read began (so the snapshot may predate it)."""
        at = self._event_at.get(key)
        return taken_at is not None and at is not None and at >= taken_at

    def _forget_events_before(self, kind: str, taken_at: float | None) -> None:
        if taken_at is None:
            return
        for key in [k for k, at in self._event_at.items() if k[0] == kind and at < taken_at]:
            del self._event_at[key]

    def apply_orders(self, rows: Iterable[Mapping[str, Any]], taken_at: float | None = None) -> None:
        """A full snapshot of today's orders replaces the book (keeping known rejection reasons).

        ``taken_at``: the monitor time when the read began. The snapshot never moves an order
        backwards (the hub's monotonic rule), and an order an event changed after ``taken_at``
        keeps the event's state (the snapshot may have been read before it).
        """
        new = {}
        for r in rows:
            row = dict(r)
            oid = row.get("order_id")
            old = self.orders.get(oid)
            if old is not None and (order_behind(row, old) or (self._newer_than(("order", oid), taken_at)
                                                               and not order_behind(old, row))):
                row = old  # the snapshot would move it back, or it predates an event it is not ahead of
            elif old and old.get("error_msg") and not row.get("error_msg"):
                row["error_msg"] = old["error_msg"]
            new[oid] = row
            self._remember_name(row)
        for oid, old in self.orders.items():  # placed after the read began: not in the snapshot yet
            if oid not in new and self._newer_than(("order", oid), taken_at):
                new[oid] = old
        self.orders = new
        self._forget_events_before("order", taken_at)

    def apply_trades(self, rows: Iterable[Mapping[str, Any]], taken_at: float | None = None) -> None:
        old = self.trades
        self.trades = {}
        for r in rows:
            self._add_trade(r)
        for key, t in old.items():  # fills that arrived after the read began
            if key not in self.trades and self._newer_than(("trade", key), taken_at):
                self._add_trade(t)
        self._forget_events_before("trade", taken_at)

    def apply_positions(self, rows: Iterable[Mapping[str, Any]], taken_at: float | None = None) -> None:
        new = {str(r.get("stock_code")): dict(r) for r in rows if r.get("stock_code")}
        for key in [k for k in self._event_at if k[0] == "position" and self._newer_than(k, taken_at)]:
            code = key[1]
            if code in self.positions:
                new[code] = self.positions[code]
            else:  # closed by an event after the read began
                new.pop(code, None)
        self.positions = new
        self._forget_events_before("position", taken_at)

    def apply_asset(self, asset: Mapping[str, Any] | None, taken_at: float | None = None) -> None:
        if asset and not self._newer_than(("asset", None), taken_at):
            self.asset = dict(asset)
            self.account_id = self.account_id or str(asset.get("account_id") or "")
        self._forget_events_before("asset", taken_at)

    def apply_ticks(self, ticks: Mapping[str, Mapping[str, Any]]) -> None:
        for code, tick in (ticks or {}).items():
            if isinstance(tick, Mapping):
                self.quotes[str(code)] = dict(tick)

    def _add_trade(self, t: Mapping[str, Any]) -> tuple:
        key = (t.get("traded_id"), t.get("order_id"))
        self.trades[key] = dict(t)
        self._remember_name(t)
        if len(self.trades) > TRADES_KEPT:
            for k in sorted(self.trades, key=lambda k: self.trades[k].get("traded_time") or 0)[:-TRADES_KEPT]:
                del self.trades[k]
        return key

    # ------------------------------------------------------------------ events

    def apply_event(self, topic: str, payload: Mapping[str, Any], now: float, history: bool = False) -> None:
        """One event (topic, payload as in docs/protocol.md): pushed to the session, or a heartbeat.

        ``history``: a replayed past event (may come from an earlier hub run), applied
        only to fill the log and the book, never to judge whether the hub restarted.
        """
        if not history:
            self._see_hub_id(payload.get("hub_id"), now)
        if payload.get("seq") is not None:
            self.last_seq = max(self.last_seq or 0, int(payload["seq"]))
        data = payload.get("data")
        data = dict(data) if isinstance(data, Mapping) else {}
        ts = payload.get("ts") or now
        kind, owner = split_topic(topic)
        seq = payload.get("seq") if isinstance(payload.get("seq"), int) else None
        if kind == Topic.ORDER:
            data.setdefault("owner", owner)
            if self._on_order(data, ts, seq, history) and not history:
                self._event_at[("order", data.get("order_id"))] = now
        elif kind == Topic.TRADE:
            data.setdefault("owner", owner)
            key = self._add_trade(data)
            if not history:
                self._event_at[("trade", key)] = now
        elif kind == Topic.ERROR:
            self._on_error(owner or EXTERNAL_OWNER, data, ts)
        elif kind == Topic.POSITION:
            code = data.get("stock_code")
            if code and not history:
                if data.get("volume", 1) == 0 and not data.get("frozen_volume") and not data.get("on_road_volume"):
                    self.positions.pop(code, None)
                else:
                    self.positions[code] = data
                self._event_at[("position", code)] = now
        elif kind == Topic.ASSET:
            if not history:
                self.apply_asset(data)
                self._event_at[("asset", None)] = now
        elif kind == Topic.TICK:
            if owner:
                self.quotes[owner] = data
        elif kind == Topic.HEARTBEAT:
            self._on_heartbeat(data, now)
        elif kind == Topic.BROKER:
            self._on_broker(data, ts)
        elif kind == Topic.HALT:
            self._on_halt(data, ts)
        elif kind == Topic.CLIENT:
            self._on_client(data, ts)
        elif kind == Topic.RISK:
            self._on_risk(data, ts)
        elif topic == "client.gap":  # a notice from the client library: events lost beyond the journal
            self.add_log(now, WARNING, f"monitor missed {data.get('lost', '?')} event(s): {data.get('reason', '')}")

    def heartbeat_age(self, now: float) -> float | None:
        """Seconds since the last hub.heartbeat arrived, or None before the first."""
        return None if self.heartbeat_at is None else max(0.0, now - self.heartbeat_at)

    def heartbeat_stale(self, now: float) -> bool:
        """The hub has been quiet for more than two heartbeat intervals."""
        age = self.heartbeat_age(now)
        return age is not None and age > 2 * self.heartbeat_interval

    def _on_heartbeat(self, data: dict[str, Any], now: float) -> None:
        """A heartbeat is fresher than the 1 s status poll for what it carries, but it carries less:
        the broker state without since/reason and only the global halt flag, so merge, never replace."""
        self.heartbeat_at = now
        if data.get("uptime") is not None:
            self.uptime, self.uptime_at = float(data["uptime"]), now
        if "broker" in data:
            b = data["broker"]
            if isinstance(b, Mapping):
                self.broker = _broker_map(b)
            elif isinstance(b, str) and b != self.broker.get("state"):
                self.broker = {"state": b, "since": None, "reason": ""}  # status / hub.broker fill in the rest
        if "halted" in data:
            h = data["halted"]
            if isinstance(h, Mapping):
                self.halted = _halted_map(h)
            elif bool(h) != bool(self.halted.get("all")):
                self.halted["all"] = bool(h)
                if not h:
                    self.halted["reason"] = ""
        if isinstance(data.get("last_seq"), int):
            self.last_seq = data["last_seq"]
        if isinstance(data.get("clients"), int):
            self.hub_clients = data["clients"]

    def _on_order(self, data: dict[str, Any], ts: float, seq: int | None = None, history: bool = False) -> bool:
        """Apply an order event unless it is older than what is shown (replayed history, or overtaken)."""
        oid = data.get("order_id")
        old = self.orders.get(oid) or {}
        if old and (history or order_behind(data, old) or (seq is not None and seq <= self._order_seq.get(oid, 0)
                                                           and _same_order(data, old))):
            return False
        if old.get("error_msg") and not data.get("error_msg"):
            data["error_msg"] = old["error_msg"]
        self.orders[oid] = data
        self._remember_name(data)
        if seq is not None:
            self._order_seq[oid] = seq
        if data.get("order_status") == ORDER_JUNK:
            self._log_reject(oid, order_owner(data), data.get("stock_code"), order_reason(data), ts)
        return True

    def _on_error(self, owner: str, data: dict[str, Any], ts: float) -> None:
        oid = data.get("order_id")
        msg = str(data.get("error_msg") or "")
        if data.get("kind") == "cancel":
            self.add_log(ts, WARNING, f"{owner}: cancel of order {oid} failed: {msg}", owner)
            return
        order = self.orders.setdefault(oid, {"order_id": oid, "owner": owner, "order_status": ORDER_JUNK})
        order["error_msg"] = msg
        self._log_reject(oid, owner, order.get("stock_code"), order_reason(order), ts)

    def _log_reject(self, oid: Any, owner: str, code: Any, reason: str, ts: float) -> None:
        if oid in self._rejects_logged:
            return
        self._rejects_logged.add(oid)
        what = f"order {oid}" + (f" {code}" if code else "")
        self.add_log(ts, WARNING, f"{owner}: {what} rejected: {reason or 'no reason given'}", owner)

    def _on_broker(self, data: dict[str, Any], ts: float) -> None:
        self.broker = _broker_map(data)
        state, reason = self.broker["state"], self.broker["reason"]
        level = {"up": INFO, "reconnecting": WARNING}.get(state, ERROR)
        self.add_log(ts, level, f"broker {state}" + (f": {reason}" if reason else ""))

    def _on_halt(self, data: dict[str, Any], ts: float) -> None:
        who, on, reason = data.get("strategy"), bool(data.get("halted")), str(data.get("reason") or "")
        if who:
            if on:
                self.halted["strategies"][who] = reason
            else:
                self.halted["strategies"].pop(who, None)
        else:
            self.halted["all"], self.halted["reason"] = on, reason if on else ""
            if not on:
                self.halted["strategies"] = {}
        for row in self.clients.values():
            if who is None or row.get("strategy") == who:
                row["halted"] = reason or True if on else False
        target = who or "all strategies"
        text = f"halted {target}" + (f": {reason}" if reason else "") if on else f"resumed {target}"
        self.add_log(ts, WARNING if on else INFO, text, who)

    def _on_client(self, data: dict[str, Any], ts: float) -> None:
        """Only what an operator should look at: a client that went silent, or orders cancelled for it."""
        who, what = str(data.get("strategy") or "?"), str(data.get("event") or "?")
        cancelled = data.get("cancelled") or []
        if what != "timed_out" and not cancelled:
            return
        text = f"client {who} ({data.get('role') or Role.STRATEGY}) {what.replace('_', ' ')}"
        if data.get("reason"):
            text += f" ({data['reason']})"
        if cancelled:
            text += f", cancelled {len(cancelled)} open order(s)"
        self.add_log(ts, WARNING, text, who)

    # ------------------------------------------------------------------ derived

    def _on_risk(self, data: dict[str, Any], ts: float) -> None:
        """hub.risk: a refusal (warning, with the check, its limit and the order's value) or an admin action."""
        event = data.get("event")
        who = data.get("strategy")
        if event == "refused":
            self.add_log(ts, WARNING, f"{data.get('code', 'RISK_REJECTED')} {who} [{data.get('check')}] "
                                      f"{data.get('message', '')}", who if isinstance(who, str) else None)
        elif event == "reconciled":
            booked = data.get("booked") or []
            self.add_log(ts, WARNING, f"reconciliation: {len(booked)} difference(s) booked to the pool (_external)")
        elif event in ("allot", "transfer", "limits"):
            self.add_log(ts, INFO, f"risk {event}: {who} {data.get('record', '')}", who if isinstance(who, str)
                         else None)

    def strategy_halted(self, name: str) -> str | None:
        """The halt reason for a strategy ('' when halted without reason), or None."""
        if name in self.halted["strategies"]:
            return str(self.halted["strategies"][name] or "")
        if self.halted["all"]:
            return str(self.halted["reason"] or "")
        row = self.clients.get(name) or {}
        h = row.get("halted")
        if h:
            return h if isinstance(h, str) else ""
        return None

    def strategy_counts(self, name: str) -> dict[str, int]:
        """open / orders / fills / rejects today for one owner, derived from the monitor's own book."""
        orders = [o for o in self.orders.values() if order_owner(o) == name]
        fills = [t for t in self.trades.values() if order_owner(t) == name]
        return {
            "open_orders": sum(1 for o in orders if is_open(o.get("order_status"))),
            "orders_today": len(orders),
            "fills_today": len(fills),
            "rejects_today": sum(1 for o in orders if o.get("order_status") == ORDER_JUNK),
        }

    def last_price(self, code: str) -> float | None:
        q = self.quotes.get(code) or {}
        if q.get("lastPrice"):
            return float(q["lastPrice"])
        p = self.positions.get(code) or {}
        if p.get("volume") and p.get("market_value") is not None:
            return float(p["market_value"]) / float(p["volume"])
        return None

    def stock_name(self, code: str) -> str:
        """The code's name: from its position, else its tick (when the hub's quote source carries one),
        else today's orders or trades of that code (MiniQMT fills ``instrument_name`` there even where
        its positions lack it); "" when none has one (the caller shows the code)."""
        for src in (self.positions.get(code) or {}, self.quotes.get(code) or {}):
            name = _name_in(src)
            if name:
                return name
        return self.names.get(code, "")

    def _remember_name(self, row: Mapping[str, Any]) -> None:
        code, name = row.get("stock_code"), _name_in(row)
        if code and name:
            self.names[str(code)] = name

    def today_pnl(self) -> float | None:
        """Today's P&L before fees: value now - value at yesterday's close - net cash spent today.

        Needs each involved code's last price and previous close (from ticks) and the
        positions' yesterday volume; None when any of that is missing.
        """
        codes = set(self.positions) | {str(t.get("stock_code")) for t in self.trades.values()}
        if not codes:
            return 0.0 if self.asset else None
        pnl = 0.0
        for code in codes:
            pos = self.positions.get(code) or {}
            q = self.quotes.get(code) or {}
            last, pre = q.get("lastPrice"), q.get("lastClose")
            vol = int(pos.get("volume") or 0)
            yvol = pos.get("yesterday_volume")
            if not last or (yvol is None and pos) or (yvol and not pre):
                return None
            pnl += float(last) * vol - float(pre or 0) * int(yvol or 0)
        for t in self.trades.values():
            amount = float(t.get("traded_amount") or (t.get("traded_price") or 0) * (t.get("traded_volume") or 0))
            if t.get("order_type") == STOCK_BUY:
                pnl -= amount
            elif t.get("order_type") == STOCK_SELL:
                pnl += amount
        return pnl
