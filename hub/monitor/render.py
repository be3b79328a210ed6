"""Pure rendering: a `MonitorState` snapshot -> rich renderables.

No I/O and no clock: callers pass `now`, the terminal size, the language and the
focused strategy, so tests render into `Console(record=True, width=..., height=...)`
and assert the text.

Layout: a 3-line header (hub, broker/halt banner, asset) then panes stacked in a fixed
order. When the terminal is short, panes are kept by priority (strategies, log, orders,
positions, traffic, trades) and the rest are dropped; every pane has an exact height so
the screen never jumps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from hub.monitor.labels import ORDER_JUNK, broker_state_name, is_open, order_status_name, side_name
from hub.monitor.state import ERROR, WARNING, MonitorState, order_owner, order_reason
from rpc_client.protocol import Role

HEADER_ROWS = 3
#: From this terminal height on, panes get a box; below it, a one-line title rule.
BOXED_FROM_HEIGHT = 30


# ---------------------------------------------------------------------------- formatting

def fmt_clock(ts: Any) -> str:
    if not ts:
        return "-"
    try:
        return time.strftime("%H:%M:%S", time.localtime(float(ts)))
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


def fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    if s < 86400:
        return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"
    return f"{int(s // 86400)}d{int(s % 86400 // 3600):02d}h"


def fmt_money(v: Any, signed: bool = False) -> str:
    if v is None or v == "":
        return "-"
    try:
        return f"{float(v):+,.2f}" if signed else f"{float(v):,.2f}"
    except (TypeError, ValueError):
        return str(v)


def _whole(v: Any, signed: bool = False) -> str:
    if v is None or v == "":
        return "-"
    try:
        return f"{float(v):+,.0f}" if signed else f"{float(v):,.0f}"
    except (TypeError, ValueError):
        return str(v)


def fmt_price(v: Any) -> str:
    if v is None or v == "":
        return "-"
    try:
        return f"{float(v):.2f}" if float(v) else "-"
    except (TypeError, ValueError):
        return str(v)


def fmt_int(v: Any) -> str:
    if v is None or v == "":
        return "-"
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


def _pnl_style(v: float | None) -> str:
    if not v:
        return ""
    return "red" if v > 0 else "green"  # A-share convention: red up, green down


# ---------------------------------------------------------------------------- header

def render_header(state: MonitorState, now: float, width: int, lang: str = "zh",
                  focus: str | None = None) -> Text:
    """Three lines: hub identity; broker / reachability / halt banner; asset."""
    line1 = Text()
    line1.append("qmt-hub ", style="bold cyan")
    line1.append(state.rpc or "?")
    if state.account_id:
        line1.append("  account ", style="dim")
        line1.append(state.account_id, style="bold")
    if state.hub_id:
        line1.append("  hub_id ", style="dim")
        line1.append(state.hub_id)
    hb_age = state.heartbeat_age(now)
    if hb_age is not None:
        line1.append("  hb ", style="dim")
        # quiet for more than two heartbeat intervals: the hub (or its event socket) is stalling
        line1.append(fmt_age(hb_age), style="bold white on red" if state.heartbeat_stale(now) else "green")
    elif state.connected:
        line1.append("  hb -", style="dim")
    up = state.hub_uptime(now)
    if up is not None:
        line1.append("  uptime ", style="dim")
        line1.append(fmt_age(up))
    if focus:
        line1.append("  focus ", style="dim")
        line1.append(focus, style="bold magenta")
    line1.append("  " + fmt_clock(now), style="dim")

    line2 = Text()
    if not state.connected:
        since = f" since {fmt_clock(state.conn_since)}" if state.conn_since else ""
        what = "HUB UNREACHABLE" if state.ever_connected or state.conn_reason not in ("", "connecting") else \
            "CONNECTING"
        line2.append(f" {what} {state.rpc}{since} - retrying ", style="bold white on red")
        if state.conn_reason and state.conn_reason != "connecting":
            line2.append(f" {state.conn_reason}", style="red")
        if state.ever_connected:
            line2.append("  (last known data below)", style="dim")
    else:
        b = state.broker
        bstate = str(b.get("state") or "?")
        since = f" since {fmt_clock(b.get('since'))}" if b.get("since") else ""
        label = f" BROKER {broker_state_name(bstate, 'en').upper()}"
        if lang != "en":
            label += f" {broker_state_name(bstate, lang)}"
        style = {"up": "bold black on green", "reconnecting": "bold black on yellow"}.get(bstate, "bold white on red")
        line2.append(label + since + " ", style=style)
        if bstate != "up" and b.get("reason"):
            line2.append(f" {b['reason']}", style="red")
    h = state.halted
    if h.get("all"):
        line2.append("  ")
        line2.append(" HALTED ALL ", style="bold white on red")
        if h.get("reason"):
            line2.append(f" {h['reason']}", style="red")
    elif h.get("strategies"):
        names = sorted(h["strategies"])
        line2.append("  halted: ", style="bold yellow")
        line2.append(", ".join(names), style="yellow")

    line3 = Text()
    a = state.asset
    compact = width < 110  # whole yuan on narrow terminals so the P&L still fits
    money = (lambda v, signed=False: _whole(v, signed)) if compact else fmt_money
    line3.append("asset ", style="bold")
    if a:
        for label, key in (("total", "total_asset"), ("cash", "cash"), ("frozen", "frozen_cash"),
                           ("mkt" if compact else "mkt value", "market_value")):
            line3.append(f"{label} ", style="dim")
            line3.append(money(a.get(key)) + ("  " if not compact else " "))
        pnl = state.today_pnl()
        line3.append("P&L today ", style="dim")
        line3.append(money(pnl, signed=True) if pnl is not None else "n/a", style=_pnl_style(pnl))
    else:
        line3.append("-", style="dim")

    out = Text("\n").join(line.copy() for line in (line1, line2, line3))
    lines = out.split("\n")
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return Text("\n").join(lines)


# ---------------------------------------------------------------------------- tables

@dataclass
class Col:
    name: str
    justify: str = "left"
    min_width: int | None = None  # never squeezed below this
    hide_below: int = 0  # dropped when the terminal is narrower than this
    flex: bool = False  # free text (reasons, names): gets what the other columns leave, truncated


def _table(cols: list[Col], width: int) -> tuple[Table, list[bool]]:
    keep = [width >= c.hide_below for c in cols]
    kept = [c for c, k in zip(cols, keep) if k]
    # room left for the flexible column: inside the pane (4 columns of frame and padding) minus the
    # others' minimum widths and the 2-space gaps between columns
    fixed = sum(max(c.min_width or 0, len(c.name)) for c in kept if not c.flex) + 2 * (len(kept) - 1)
    room = max(width - 4 - fixed, 6)
    t = Table(box=None, padding=(0, 1), expand=True, show_edge=False, header_style="bold", pad_edge=False)
    for c in kept:
        t.add_column(c.name, justify=c.justify, no_wrap=True, overflow="ellipsis",  # type: ignore[arg-type]
                     min_width=c.min_width, max_width=room if c.flex else None)
    return t, keep


def _fill(table: Table, keep: list[bool], rows: list[list[Any]], max_rows: int, empty: str) -> Table:
    """Add up to max_rows rows (the pane title carries the full count)."""
    if not rows:
        table.add_row(Text(empty, style="dim"), *[""] * (len(table.columns) - 1))
        return table
    for r in rows[:max(max_rows, 0)]:
        table.add_row(*[cell for cell, k in zip(r, keep) if k])
    return table


def _client_rows(state: MonitorState, now: float, focus: str | None) -> list[tuple[dict[str, Any], bool]]:
    live = [(row, False) for row in state.clients.values()]
    gone = [(row, True) for row, _ in state.gone.values()]
    rows = live + gone
    if focus:
        rows = [r for r in rows if r[0].get("strategy") == focus]
    order = {Role.STRATEGY: 0, Role.ADMIN: 1, Role.MONITOR: 2}
    rows.sort(key=lambda r: (r[1], order.get(r[0].get("role"), 3), str(r[0].get("strategy"))))
    return rows


def strategies_table(state: MonitorState, now: float, max_rows: int, width: int = 80, lang: str = "zh",
                     focus: str | None = None) -> Table:
    t, keep = _table([Col("strategy", min_width=10), Col("role", min_width=8), Col("since", min_width=8),
                      Col("heard", "right", 5), Col("open", "right", 4), Col("ord", "right", 4),
                      Col("fill", "right", 4), Col("rej", "right", 4), Col("halted", min_width=6, flex=True)], width)
    rows = []
    for row, gone in _client_rows(state, now, focus):
        name = str(row.get("strategy"))
        role = str(row.get("role") or Role.STRATEGY)
        keys = ("open_orders", "orders_today", "fills_today", "rejects_today")
        if all(row.get(k) is not None for k in keys):
            counts = [row[k] for k in keys]
        else:  # an older hub without counters: count from the monitor's own book
            derived = state.strategy_counts(name)
            counts = [row.get(k) if row.get(k) is not None else derived[k] for k in keys]
        if gone:
            heard: Any = Text("gone", style="dim")
        else:
            age = row.get("last_heard_age")
            if age is not None and state.clients_at is not None:
                age = float(age) + (now - state.clients_at)
            heard = Text(fmt_age(age), style="yellow" if age and age > 3 else "")
        halted = state.strategy_halted(name) if role == Role.STRATEGY else None
        halted_cell = Text("HALTED" + (f" {halted}" if halted else ""), style="bold red") if halted is not None \
            else Text("-", style="dim")
        rejects = Text(fmt_int(counts[3]), style="red" if counts[3] else "")
        name_style = "dim" if gone else ("bold" if role == Role.STRATEGY else "")
        rows.append([Text(name, style=name_style), role, fmt_clock(row.get("connected_at")), heard,
                     fmt_int(counts[0]), fmt_int(counts[1]), fmt_int(counts[2]), rejects, halted_cell])
    return _fill(t, keep, rows, max_rows, f"no client named {focus}" if focus else "no clients connected")


def sleeves_table(state: MonitorState, max_rows: int, width: int = 80, focus: str | None = None) -> Table:
    """Per strategy (the pool last): cash, market value, P&L, orders today against its limit, actions/s."""
    t, keep = _table([Col("sleeve", min_width=10), Col("cash", "right", 12), Col("reserved", "right", 10),
                      Col("mkt value", "right", 12), Col("P&L", "right", 10), Col("orders", "right", 8),
                      Col("act/s", "right", 5, hide_below=90), Col("refused", "right", 7, hide_below=100),
                      Col("positions", min_width=8, flex=True)], width)
    rows = []
    for sl in state.sleeves:
        name = str(sl.get("strategy"))
        if focus and name != focus:
            continue
        lim = sl.get("limits") or {}
        pnl = (sl.get("realized_pnl") or 0.0) + (sl.get("floating_pnl") or 0.0)
        orders = fmt_int(sl.get("orders_today")) + (f"/{lim['max_daily_orders']}" if lim.get("max_daily_orders")
                                                    else "")
        cash = fmt_money(sl.get("cash")) if sl.get("cash_source") == "own" else Text("pool", style="dim")
        pos = " ".join(f"{p.get('stock_code')} {p.get('volume')}" for p in sl.get("positions") or [])
        rows.append([Text("pool" if sl.get("pool") else name, style="dim" if sl.get("pool") else "bold"), cash,
                     fmt_money(sl.get("reserved_cash")), fmt_money(sl.get("market_value")),
                     Text(fmt_money(pnl, signed=True), style=_pnl_style(pnl)), orders,
                     fmt_int(sl.get("actions_per_second")),
                     Text(fmt_int(sl.get("refused_today")), style="yellow" if sl.get("refused_today") else ""),
                     pos or "-"])
    return _fill(t, keep, rows, max_rows, "no sleeves")


def risk_title(state: MonitorState) -> str:
    """The sleeves pane's title: the account rate guard and the reconciliation state."""
    r = state.risk.get("rate") or {}
    rec = state.risk.get("reconcile") or {}
    parts = [f"sleeves ({len(state.sleeves)})"]
    if r:
        parts.append(f"guard {r.get('per_second', 0)}/s (peak {r.get('peak_per_second', 0)}) of "
                     f"{r.get('limit_per_second', '-')}/s, {r.get('per_day', 0):,} of {r.get('limit_per_day', 0):,}/day")
    diffs = len(rec.get("differences") or [])
    if rec.get("ok") is False:  # seen once, not booked yet
        parts.append(f"RECONCILE: {diffs} difference(s) unconfirmed")
    elif rec.get("ok") and diffs:  # booked to the pool: the account moved outside the hub, say so
        parts.append(f"RECONCILE: {diffs} difference(s) booked to _external")
    elif rec.get("ok"):
        parts.append("reconciled")
    if state.risk.get("trading") not in (None, "on"):
        parts.append(f"TRADING {str(state.risk['trading']).upper()}")
    return " - ".join(parts)


def positions_table(state: MonitorState, max_rows: int, width: int = 80, lang: str = "zh") -> Table:
    with_names = any(state.stock_name(c) for c in state.positions)
    t, keep = _table([Col("code", min_width=9), Col("name", hide_below=0 if with_names else 10 ** 6, flex=True),
                      Col("volume", "right", 6), Col("sellable", "right", 6), Col("cost", "right", 6),
                      Col("last", "right", 6), Col("mkt value", "right", 10), Col("float P&L", "right", 10)], width)
    rows = []
    for code in sorted(state.positions):
        p = state.positions[code]
        vol = int(p.get("volume") or 0)
        last = state.last_price(code)
        cost = p.get("avg_price") if p.get("avg_price") is not None else p.get("open_price")
        mv = last * vol if last is not None and code in state.quotes else p.get("market_value")
        pnl = (last - float(cost)) * vol if last is not None and cost is not None else None
        name = state.stock_name(code) or Text(code, style="dim")  # no name known: the code
        rows.append([code, name, fmt_int(vol), fmt_int(p.get("can_use_volume")), fmt_price(cost),
                     fmt_price(last), fmt_money(mv), Text(fmt_money(pnl, signed=True), style=_pnl_style(pnl))])
    return _fill(t, keep, rows, max_rows, "no positions")


def _order_sort_key(o: dict[str, Any]) -> tuple:
    oid = o.get("order_id")
    return (o.get("order_time") or 0, oid if isinstance(oid, (int, float)) else 0)


def visible_orders(state: MonitorState, focus: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    orders = [o for o in state.orders.values() if not focus or order_owner(o) == focus]
    if open_only:
        orders = [o for o in orders if is_open(o.get("order_status"))]
    return sorted(orders, key=_order_sort_key, reverse=True)


def orders_table(state: MonitorState, max_rows: int, width: int = 80, lang: str = "zh",
                 focus: str | None = None, open_only: bool = False) -> Table:
    t, keep = _table([Col("time", min_width=8), Col("owner", min_width=6), Col("id", "right", 4, hide_below=100),
                      Col("code", min_width=9), Col("side", min_width=4), Col("price", "right", 6),
                      Col("filled/qty", "right", 10), Col("state", min_width=4 if lang == "zh" else 9),
                      Col("reason", min_width=6, flex=True)], width)
    rows = []
    for o in visible_orders(state, focus, open_only)[:max(max_rows, 0)]:
        status = o.get("order_status")
        style = "red" if status == ORDER_JUNK else ("yellow" if is_open(status) else "")
        rows.append([fmt_clock(o.get("order_time")), order_owner(o), str(o.get("order_id", "-")),
                     str(o.get("stock_code") or "-"), side_name(o.get("order_type"), lang), fmt_price(o.get("price")),
                     f"{fmt_int(o.get('traded_volume') or 0)}/{fmt_int(o.get('order_volume'))}",
                     Text(order_status_name(status, lang), style=style), Text(order_reason(o), style="red")])
    return _fill(t, keep, rows, max_rows, "no open orders" if open_only else "no orders today")


def trades_table(state: MonitorState, max_rows: int, width: int = 80, lang: str = "zh",
                 focus: str | None = None) -> Table:
    t, keep = _table([Col("time", min_width=8), Col("owner", min_width=6), Col("order", "right", 5, hide_below=100),
                      Col("code", min_width=9), Col("side", min_width=4), Col("price", "right", 6),
                      Col("volume", "right", 6), Col("amount", "right", 10)], width)
    trades = [x for x in state.trades.values() if not focus or order_owner(x) == focus]
    trades.sort(key=lambda x: (x.get("traded_time") or 0, str(x.get("traded_id"))), reverse=True)
    rows = [[fmt_clock(x.get("traded_time")), order_owner(x), str(x.get("order_id", "-")),
             str(x.get("stock_code") or "-"), side_name(x.get("order_type"), lang), fmt_price(x.get("traded_price")),
             fmt_int(x.get("traded_volume")), fmt_money(x.get("traded_amount"))] for x in trades[:max(max_rows, 0)]]
    return _fill(t, keep, rows, max_rows, "no trades today")


def traffic_lines(state: MonitorState, focus: str | None = None) -> list[Text]:
    r, lat, c = state.rates, state.latency_ms, state.counters

    def num(v: Any, fmt: str) -> str:
        return format(float(v), fmt) if isinstance(v, (int, float)) else "-"

    first = Text()
    for label, value in (("requests/s", num(r.get("requests_per_s"), ".1f")),
                         ("events/s", num(r.get("events_per_s"), ".1f")),
                         ("ticks/s", num(r.get("ticks_per_s"), ".1f")),
                         ("latency p50", num(lat.get("p50"), ".2f") + " ms"),
                         ("p99", num(lat.get("p99"), ".2f") + " ms")):
        first.append(f"{label} ", style="dim")
        first.append(f"{value}  ")
    if state.last_seq is not None:
        first.append("seq ", style="dim")
        first.append(str(state.last_seq) + "  ")
    if c.get("bad_frames"):
        first.append("bad frames ", style="dim")
        first.append(str(c["bad_frames"]), style="yellow")
    second = Text()
    second.append("dropped ticks ", style="dim")
    drops = [(str(row.get("strategy")), int(row.get("missed_ticks") or 0)) for row in state.clients.values()
             if not focus or row.get("strategy") == focus]
    if drops:
        for i, (name, n) in enumerate(sorted(drops)):
            second.append((", " if i else "") + f"{name} ")
            second.append(str(n), style="bold yellow" if n else "")
    else:
        second.append("-")
    errors = c.get("errors") or {}
    if errors:
        second.append("   errors ", style="dim")
        second.append(", ".join(f"{k} {v}" for k, v in sorted(errors.items())), style="yellow")
    return [first, second]


def log_lines(state: MonitorState, focus: str | None = None) -> list[Text]:
    """Newest first."""
    out = []
    for e in sorted(state.log, key=lambda e: e.ts, reverse=True):
        if focus and e.strategy not in (None, focus):
            continue
        style = {ERROR: "bold red", WARNING: "yellow"}.get(e.level, "")
        line = Text()
        line.append(fmt_clock(e.ts) + " ", style="dim")
        line.append(f"{e.level.upper():7} ", style=style)
        line.append(e.text, style=style if e.level == ERROR else "")
        out.append(line)
    return out


def _lines_block(lines: list[Text], max_rows: int, width: int, empty: str) -> Text:
    if not lines:
        return Text(empty, style="dim")
    shown = lines[:max_rows]
    for line in shown:
        line.no_wrap, line.overflow = True, "ellipsis"
        line.truncate(max(width, 1), overflow="ellipsis")
    return Text("\n").join(shown)


# ---------------------------------------------------------------------------- layout

@dataclass
class Pane:
    key: str
    title: str
    want: int  # rows wanted inside the border (including a table's header row)
    least: int  # fewest inside rows worth showing
    build: Callable[[int], RenderableType]  # inside rows -> renderable


#: Which panes stay when rows run out, most important first.
PRIORITY = ("strategies", "log", "orders", "positions", "traffic", "trades", "sleeves")
#: Top-to-bottom order on screen.
DISPLAY = ("strategies", "sleeves", "positions", "orders", "trades", "traffic", "log")


def _panes(state: MonitorState, now: float, width: int, lang: str, focus: str | None) -> dict[str, Pane]:
    inner = max(width - 4, 10)  # inside a box or the compact padding
    n_clients = len(_client_rows(state, now, focus))
    n_orders = len(visible_orders(state, focus))
    n_trades = sum(1 for x in state.trades.values() if not focus or order_owner(x) == focus)
    logs = log_lines(state, focus)
    n_strat = sum(1 for row in state.clients.values() if row.get("role", Role.STRATEGY) == Role.STRATEGY)
    others = len(state.clients) - n_strat
    strat_title = f"strategies ({n_strat})" + (f" + {others} other client(s)" if others else "")
    if focus:
        strat_title = f"strategy {focus}"
    own = f" - {focus}" if focus else ""
    return {
        "strategies": Pane("strategies", strat_title, 1 + max(n_clients, 1),
                           1 + min(max(n_clients if focus else n_strat, 1), 5),
                           lambda h: strategies_table(state, now, h - 1, width, lang, focus)),
        "positions": Pane("positions", f"positions ({len(state.positions)})", 1 + max(len(state.positions), 1),
                          1 + min(max(len(state.positions), 1), 2),
                          lambda h: positions_table(state, h - 1, width, lang)),
        "orders": Pane("orders", f"orders{own} ({n_orders}, newest first)", 1 + min(max(n_orders, 1), 12),
                       1 + min(max(n_orders, 1), 3), lambda h: orders_table(state, h - 1, width, lang, focus)),
        "trades": Pane("trades", f"trades{own} ({n_trades}, newest first)", 1 + min(max(n_trades, 1), 10),
                       1 + min(max(n_trades, 1), 2), lambda h: trades_table(state, h - 1, width, lang, focus)),
        "traffic": Pane("traffic", "traffic", 2, 1,
                        lambda h: _lines_block(traffic_lines(state, focus), h, inner, "")),
        # a hub without the risk engine has no sleeves: the pane never fits (least = "more than any screen")
        "sleeves": Pane("sleeves", risk_title(state), 1 + max(len(state.sleeves), 1),
                        1 + min(len(state.sleeves), 3) if state.sleeves else 10 ** 6,
                        lambda h: sleeves_table(state, h - 1, width, focus)),
        "log": Pane("log", f"log ({len(logs)}, newest first)", min(max(len(logs), 1), 10), min(max(len(logs), 1), 2),
                    lambda h: _lines_block(logs, h, inner, "no warnings or errors")),
    }


def plan_layout(panes: dict[str, Pane], rows: int, overhead: int = 2) -> dict[str, int]:
    """Inside heights per kept pane: keep panes by priority at their least, then grow them by priority.

    `overhead` is the rows each pane spends on its frame (2 for a box, 1 for a title rule).
    """
    left = rows
    heights: dict[str, int] = {}
    for key in PRIORITY:
        need = panes[key].least + overhead
        if left >= need:
            heights[key] = panes[key].least
            left -= need
    for key in PRIORITY:
        if key in heights and left > 0:
            extra = min(panes[key].want - heights[key], left)
            if extra > 0:
                heights[key] += extra
                left -= extra
    return heights


def render_dashboard(state: MonitorState, *, now: float, width: int = 80, height: int = 24, lang: str = "zh",
                     focus: str | None = None) -> RenderableType:
    """The whole screen for a terminal of width x height."""
    header = render_header(state, now, width, lang, focus)
    panes = _panes(state, now, width, lang, focus)
    boxed = height >= BOXED_FROM_HEIGHT  # short terminals: a title rule instead of a box saves a row per pane
    heights = plan_layout(panes, max(height - HEADER_ROWS, 0), 2 if boxed else 1)
    parts: list[RenderableType] = [header]
    alarm = _has_errors(state)
    for key in DISPLAY:
        if key not in heights:
            continue
        pane, h = panes[key], heights[key]
        style = "red" if key == "log" and alarm else "blue"
        if boxed:
            parts.append(Panel(pane.build(h), title=pane.title, title_align="left", box=box.ROUNDED,
                               height=h + 2, padding=(0, 1), border_style=style))
        else:
            parts.append(Rule(Text(pane.title, style="bold"), align="left", style=style))
            parts.append(Padding(pane.build(h), (0, 1)))
    return Group(*parts)


def _has_errors(state: MonitorState) -> bool:
    return any(e.level == ERROR for e in list(state.log)[-10:])
