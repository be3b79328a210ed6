"""One-shot and operator commands: `hub clients|orders|trades|positions|asset` and `hub halt|resume|cancel-all`.

Each command opens one session with the hub (role monitor; admin for the operator
actions), makes its calls and prints a rich table, or the raw result with `--json`.
Tables are the monitor's own panes (`hub.monitor.render`), so both show the same thing.

Exit codes (see `hub --help`): 0 ok, 1 the hub refused or the call failed, 2 usage error
(including a missing admin token), 3 hub unreachable.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from hub.cli import app
from hub.cli.common import (BIG, CurveDirOpt, DataDirOpt, JsonOpt, Lang, LangOpt, PubOpt, RpcOpt, TimeoutOpt,
                            TokenOpt, admin_token, out, print_json, rows, session)
from hub.monitor.link import UNREACHABLE_CODES, as_dict
from hub.monitor.render import (fmt_money, orders_table, positions_table, strategies_table, trades_table,
                                visible_orders)
from hub.monitor.state import MonitorState
from rpc_client.protocol import HubError, Role

# ----------------------------------------------------------------------------- read-only commands

@app.command("clients")
def clients_cmd(rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                curve_dir: Optional[Path] = CurveDirOpt,
                as_json: bool = JsonOpt) -> None:
    """Connected clients: role, since, last heard, orders / fills / rejects today, halted."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = rows(link.call("clients"))
        status = as_dict(link.call("status")) if not as_json else {}
    if as_json:
        return print_json(result)
    now = time.time()
    state = MonitorState()
    state.apply_status(status, now)  # halt reasons
    state.apply_clients(result, now)
    out().print(strategies_table(state, now, BIG, width=out().width))


@app.command("orders")
def orders_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="Only this strategy's orders."),
               open_only: bool = typer.Option(False, "--open", help="Only orders that can still trade."),
               lang: Lang = LangOpt, rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt,
               timeout: float = TimeoutOpt,
               curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Today's orders, newest first, with readable states and rejection reasons."""
    params: dict[str, Any] = {}
    if strategy:
        params["strategy"] = strategy
    if open_only:
        params["cancelable_only"] = True
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = rows(link.call("query_stock_orders", **params))
    state = MonitorState()
    state.apply_orders(result)
    if as_json:
        return print_json(visible_orders(state, strategy, open_only))
    out().print(orders_table(state, BIG, width=out().width, lang=lang.value, focus=strategy, open_only=open_only))


@app.command("trades")
def trades_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="Only this strategy's trades."),
               lang: Lang = LangOpt, rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt,
               timeout: float = TimeoutOpt,
               curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Today's trades (fills), newest first."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = rows(link.call("query_stock_trades", **({"strategy": strategy} if strategy else {})))
    if as_json:
        return print_json(result)
    state = MonitorState()
    state.apply_trades(result)
    out().print(trades_table(state, BIG, width=out().width, lang=lang.value, focus=strategy))


@app.command("positions")
def positions_cmd(rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                  curve_dir: Optional[Path] = CurveDirOpt,
                  as_json: bool = JsonOpt) -> None:
    """The account's positions with last price and floating P&L (when the hub has quotes)."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = rows(link.call("query_stock_positions"))
        ticks: dict[str, Any] = {}
        codes = sorted({str(p.get("stock_code")) for p in result if p.get("stock_code")})
        if codes and not as_json:
            try:
                ticks = {k: as_dict(v) for k, v in (link.call("get_full_tick", codes=codes) or {}).items()}
            except HubError as exc:
                if exc.code in UNREACHABLE_CODES:
                    raise
    if as_json:
        return print_json(result)
    state = MonitorState()
    state.apply_positions(result)
    state.apply_ticks(ticks)
    out().print(positions_table(state, BIG, width=out().width))


@app.command("asset")
def asset_cmd(rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
              curve_dir: Optional[Path] = CurveDirOpt,
              as_json: bool = JsonOpt) -> None:
    """The account's asset: total, cash, frozen cash, market value."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = as_dict(link.call("query_stock_asset"))
    if as_json:
        return print_json(result)
    t = Table(box=None, show_header=False, padding=(0, 2))
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("account", str(result.get("account_id", "-")))
    for label, key in (("total asset", "total_asset"), ("cash", "cash"), ("frozen cash", "frozen_cash"),
                       ("market value", "market_value")):
        t.add_row(label, fmt_money(result.get(key)))
    out().print(t)


# ----------------------------------------------------------------------------- operator actions (admin)

def _admin_call(method: str, params: dict[str, Any], token: str | None, data_dir: Path | None, rpc: str | None,
                pub: str | None, timeout: float, curve_dir: Path | None = None) -> dict[str, Any]:
    secret = admin_token(token, data_dir)
    with session(rpc, pub, timeout, role=Role.ADMIN, token=secret, curve_dir=curve_dir) as link:
        return as_dict(link.call(method, **params))


def _count(x: Any) -> int:
    return len(x) if isinstance(x, (list, tuple, set)) else int(x or 0)


@app.command("halt")
def halt_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s",
                                                    help="Halt only this strategy [default: all]."),
             cancel_open: bool = typer.Option(False, "--cancel-open", help="Also cancel the open orders."),
             reason: Optional[str] = typer.Option(None, "--reason", help="Shown to the strategies in HALTED."),
             token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt, rpc: Optional[str] = RpcOpt,
             pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
             curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Block new orders (rejected with HALTED) for one strategy or all. Needs the admin token."""
    params: dict[str, Any] = {"cancel_open": cancel_open}
    if strategy:
        params["strategy"] = strategy
    if reason:
        params["reason"] = reason
    result = _admin_call("halt", params, token, data_dir, rpc, pub, timeout, curve_dir)
    if as_json:
        return print_json(result)
    msg = f"halted {strategy or 'all strategies'}: new orders are rejected with HALTED"
    if cancel_open:
        msg += f"; cancelled {_count(result.get('cancelled'))} open order(s)"
    out().print(msg, markup=False, highlight=False)


@app.command("resume")
def resume_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s",
                                                      help="Resume only this strategy [default: all]."),
               token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt,
               rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
               curve_dir: Optional[Path] = CurveDirOpt,
               as_json: bool = JsonOpt) -> None:
    """Undo `hub halt`: accept new orders again. Needs the admin token."""
    result = _admin_call("resume", {"strategy": strategy} if strategy else {}, token, data_dir, rpc, pub, timeout,
                         curve_dir)
    if as_json:
        return print_json(result)
    out().print(f"resumed {strategy or 'all strategies'}", markup=False, highlight=False)


@app.command("cancel-all")
def cancel_all_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s",
                                                          help="Only this strategy's orders [default: all]."),
                   token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt,
                   rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                   curve_dir: Optional[Path] = CurveDirOpt,
                   as_json: bool = JsonOpt) -> None:
    """Cancel every open order (of one strategy or all). Needs the admin token."""
    result = _admin_call("cancel_all", {"strategy": strategy} if strategy else {}, token, data_dir, rpc, pub,
                         timeout, curve_dir)
    if as_json:
        return print_json(result)
    out().print(f"cancel requested for {_count(result.get('cancelled'))} open order(s) of "
                f"{strategy or 'all strategies'}", markup=False, highlight=False)
