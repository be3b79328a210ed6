"""Sleeves and risk commands: `hub sleeves`, `hub allot`, `hub transfer`, `hub limits set`, `hub reconcile`.

`hub sleeves` reads (role monitor); the others change state and need the admin token. Each
prints a short line or table, or the raw result with `--json`. Exit codes as every command:
0 ok, 1 the hub refused (the message says the figures), 2 usage error, 3 hub unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.table import Table

from hub.cli import EXIT_USAGE, app
from hub.cli.common import (CurveDirOpt, DataDirOpt, JsonOpt, PubOpt, RpcOpt, TimeoutOpt, TokenOpt, admin_token,
                            fail, out, print_json, rows, session)
from hub.monitor.link import as_dict
from hub.monitor.render import fmt_money
from rpc_client.protocol import Role

limits_app = typer.Typer(help="A strategy's run-time limits.", no_args_is_help=True)
app.add_typer(limits_app, name="limits")


def _admin(method: str, params: dict[str, Any], token: Optional[str], data_dir: Optional[Path], rpc: Optional[str],
           pub: Optional[str], timeout: float, curve_dir: Optional[Path]) -> Any:
    secret = admin_token(token, data_dir)
    with session(rpc, pub, timeout, role=Role.ADMIN, token=secret, curve_dir=curve_dir) as link:
        return as_dict(link.call(method, **params))


def sleeves_table(sleeves: list[dict[str, Any]]) -> Table:
    """One row per sleeve (the pool last): cash, reserved, market value, P&L, orders and limits."""
    t = Table(title="sleeves", title_justify="left", expand=False)
    for col, just in (("strategy", "left"), ("cash", "right"), ("reserved", "right"), ("free", "right"),
                      ("mkt value", "right"), ("realized", "right"), ("floating", "right"), ("fees", "right"),
                      ("orders", "right"), ("open", "right"), ("refused", "right"), ("positions", "left")):
        t.add_column(col, justify=just, no_wrap=True)
    for s in sleeves:
        lim = s.get("limits") or {}
        orders = f"{s.get('orders_today', 0)}" + (f"/{lim['max_daily_orders']}" if lim.get("max_daily_orders") else "")
        pos = " ".join(f"{p['stock_code']}:{p['volume']}({p['can_use_volume']})" for p in s.get("positions") or [])
        name = "pool (_external)" if s.get("pool") else s["strategy"] + ("" if s.get("has_cash") else " *")
        t.add_row(name, fmt_money(s.get("cash")) if s.get("cash_source") == "own" else "pool",
                  fmt_money(s.get("reserved_cash")), fmt_money(s.get("free_cash")), fmt_money(s.get("market_value")),
                  fmt_money(s.get("realized_pnl"), signed=True), fmt_money(s.get("floating_pnl"), signed=True),
                  fmt_money(s.get("fees")), orders, str(s.get("open_orders", 0)), str(s.get("refused_today", 0)),
                  pos or "-")
    return t


@app.command("sleeves")
def sleeves_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="Only this strategy's sleeve."),
                rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Each strategy's sleeve and the unallotted pool: cash, reserved, positions, P&L, limit use.

    A strategy marked * has no cash allotment and spends the pool's cash."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = rows(link.call("sleeves", **({"strategy": strategy} if strategy else {})))
    if as_json:
        return print_json(result)
    out().print(sleeves_table(result))


@app.command("allot")
def allot_cmd(strategy: str = typer.Argument(..., help="The strategy that receives the allotment."),
              cash: Optional[float] = typer.Option(None, "--cash", help="CNY from the pool (negative: back to it)."),
              code: Optional[str] = typer.Option(None, "--code", help="Shares of this code from the pool."),
              volume: int = typer.Option(0, "--volume", help="How many shares (negative: back to the pool)."),
              token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt, rpc: Optional[str] = RpcOpt,
              pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt, curve_dir: Optional[Path] = CurveDirOpt,
              as_json: bool = JsonOpt) -> None:
    """Allot cash or shares of the unallotted pool to a strategy (journaled). Needs the admin token.

    Allotting more than the pool holds is refused with the figures."""
    if cash is None and not (code and volume):
        fail(EXIT_USAGE, "give --cash X, or --code C --volume N")
    params: dict[str, Any] = {"strategy": strategy}
    if cash is not None:
        params["cash"] = cash
    if code:
        params.update(stock_code=code, volume=volume)
    result = _admin("allot", params, token, data_dir, rpc, pub, timeout, curve_dir)
    if as_json:
        return print_json(result)
    what = [f"{cash:,.2f} CNY"] if cash is not None else []
    what += [f"{volume} {code}"] if code else []
    out().print(f"allotted {' and '.join(what)} to {strategy}", markup=False, highlight=False)


@app.command("transfer")
def transfer_cmd(src: str = typer.Option(..., "--from", help="The sleeve giving (a strategy, or _external: the pool)."),
                 dst: str = typer.Option(..., "--to", help="The sleeve receiving."),
                 cash: Optional[float] = typer.Option(None, "--cash", help="CNY to move."),
                 code: Optional[str] = typer.Option(None, "--code", help="Shares of this code."),
                 volume: int = typer.Option(0, "--volume", help="How many shares."),
                 token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt,
                 rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                 curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Move cash or shares from one sleeve to another (journaled). Needs the admin token."""
    if (cash is None) == (not (code and volume)):
        fail(EXIT_USAGE, "give either --cash X or --code C --volume N")
    params: dict[str, Any] = {"src": src, "dst": dst}
    if cash is not None:
        params["cash"] = cash
    else:
        params.update(stock_code=code, volume=volume)
    result = _admin("transfer", params, token, data_dir, rpc, pub, timeout, curve_dir)
    if as_json:
        return print_json(result)
    what = f"{cash:,.2f} CNY" if cash is not None else f"{volume} {code}"
    out().print(f"moved {what} from {src} to {dst}", markup=False, highlight=False)


@limits_app.command("set")
def limits_set_cmd(strategy: str = typer.Argument(..., help="The strategy."),
                   assignments: List[str] = typer.Argument(..., metavar="KEY=VALUE...",
                                                           help="e.g. max_order_volume=5000 symbols_block=600000.SH"),
                   token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt,
                   rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                   curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Change a strategy's limits now (journaled; effective for its next order). Needs the admin token.

    Keys are those of [strategies.NAME] except cash and positions (use `hub allot`); 0 = no limit;
    lists are comma-separated."""
    from hub.risk.config import RiskConfigError, parse_assignment

    changes: dict[str, Any] = {}
    for text in assignments:
        try:
            key, value = parse_assignment(text)
        except RiskConfigError as exc:
            fail(EXIT_USAGE, str(exc))
        changes[key] = value
    result = _admin("set_limits", {"strategy": strategy, "limits": changes}, token, data_dir, rpc, pub, timeout,
                    curve_dir)
    if as_json:
        return print_json(result)
    lim = result.get("limits") or {}
    shown = ", ".join(f"{k}={lim.get(k)}" for k in changes)
    out().print(f"limits of {strategy}: {shown}", markup=False, highlight=False)


@app.command("reconcile")
def reconcile_cmd(token: Optional[str] = TokenOpt, data_dir: Optional[Path] = DataDirOpt,
                  rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt, timeout: float = TimeoutOpt,
                  curve_dir: Optional[Path] = CurveDirOpt, as_json: bool = JsonOpt) -> None:
    """Compare the broker's account with every sleeve plus the pool now. Needs the admin token.

    A difference (a manual trade, fee rounding, a corporate action) is booked to the pool
    (_external), never to a strategy; external trades of today are listed."""
    result = _admin("reconcile", {}, token, data_dir, rpc, pub, timeout, curve_dir)
    if as_json:
        return print_json(result)
    cash = result.get("cash") or {}
    o = out()
    o.print(f"reconciliation: {'ok' if result.get('ok') else 'differences found'}; cash broker "
            f"{fmt_money(cash.get('broker'))} ledger {fmt_money(cash.get('ledger'))}", markup=False, highlight=False)
    for row in result.get("positions") or []:
        o.print(f"  {row['code']}: broker {row['broker']} ledger {row['ledger']} diff {row['diff']:+d}", markup=False,
                highlight=False)
    for b in result.get("booked") or []:
        what = f"{b['cash']:+,.2f} CNY" if "cash" in b else f"{b['volume']:+d} {b['code']}"
        o.print(f"  booked {what} to {b['to']} ({b['why']})", markup=False, highlight=False)
    for t in result.get("external_trades") or []:
        o.print(f"  external trade: {t['side']} {t['volume']} {t['code']} (order {t['order_id']}) booked to "
                f"{t['booked_to']}", markup=False, highlight=False)
