"""`hub start` (run the hub) and `hub status` (ask a running hub how it is)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import (CurveDirOpt, JsonOpt, PubOpt, RpcOpt, err, fail, print_json, run_until_stopped,
                            session)
from hub.monitor.link import as_dict


@app.command()
def start(
    broker: Optional[str] = typer.Option(None, "--broker", help="sim (simulated MiniQMT in-process, the default) "
                                                                 "or qmt (real MiniQMT via xtquant)"),
    qmt_path: Optional[str] = typer.Option(None, "--qmt-path", help="MiniQMT's userdata_mini folder (--broker qmt)"),
    account: Optional[str] = typer.Option(None, "--account", help="brokerage account id"),
    sim_endpoint: Optional[str] = typer.Option(None, "--sim-endpoint", help="with --broker sim: the tcp:// endpoint "
                                                                             "of a simulator process (`hub sim`)"),
    sim_speed: Optional[float] = typer.Option(None, "--sim-speed", min=0.001,
                                              help="with --broker sim: virtual seconds per real second (60: a "
                                                   "trading day in minutes; runners follow it) [sim.speed, 1]"),
    sim_start: Optional[str] = typer.Option(None, "--sim-start", metavar="'YYYY-MM-DD HH:MM:SS'",
                                            help="with --broker sim: the virtual clock's start, Shanghai time "
                                                 "[sim.start_time, now]"),
    session_id: Optional[int] = typer.Option(None, "--session-id", help="xtquant session id (default: random)"),
    rpc: Optional[str] = typer.Option(None, "--rpc", help="ROUTER endpoint for calls [tcp://127.0.0.1:5555]"),
    pub: Optional[str] = typer.Option(None, "--pub", help="PUB endpoint for events [tcp://127.0.0.1:5556]"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file (see docs/configuration.md)"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="journal, sim state, admin token [~/.qmt-hub]"),
    log_level: Optional[str] = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING or ERROR [INFO]"),
    log_file: Optional[Path] = typer.Option(None, "--log-file", help="also log to this file, rotated at 10 MB, "
                                                                    "10 kept (what `hub service` uses)"),
    keep_days: Optional[int] = typer.Option(None, "--keep-days", help="trading days the journal keeps; 0 = all [30]"),
    curve: Optional[bool] = typer.Option(None, "--curve/--no-curve",
                                         help="CurveZMQ: encrypt, and answer only clients whose key is in "
                                              "<curve-dir>/authorized (see `hub keys`) [off]"),
    curve_dir: Optional[Path] = typer.Option(None, "--curve-dir", help="the hub's keys folder [<data-dir>/curve]"),
    allow_insecure_remote: Optional[bool] = typer.Option(
        None, "--allow-insecure-remote",
        help="listen on a non-loopback address WITHOUT CurveZMQ: anyone who can reach it can trade (refused unless "
             "given)"),
) -> None:
    """Start the hub: own the broker connection and serve strategies until Ctrl+C or SIGTERM."""
    from hub import security
    from hub.config import ConfigError, HubConfig
    from hub.core import HubServer, HubStartError

    overrides = {"broker": broker, "qmt_path": qmt_path, "account": account, "session_id": session_id,
                 "rpc": rpc, "pub": pub, "data_dir": data_dir, "log_level": log_level, "sim_endpoint": sim_endpoint,
                 "keep_days": keep_days, "curve": curve, "curve_dir": str(curve_dir) if curve_dir else None,
                 "allow_insecure_remote": allow_insecure_remote or None}
    try:
        cfg = HubConfig.load(config, overrides)
    except ConfigError as exc:
        fail(EXIT_USAGE, str(exc))
    if sim_speed is not None or sim_start is not None:
        cfg.sim = {**cfg.sim, **({"speed": sim_speed} if sim_speed is not None else {}),
                   **({"start_time": sim_start} if sim_start is not None else {})}
    if cfg.curve:
        from hub.security import load_server_keys
        from rpc_client.security import CurveKeyError

        try:
            load_server_keys(cfg.curve_path)
        except CurveKeyError as exc:
            fail(EXIT_USAGE, str(exc))
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(_rotating_log(log_file))
    logging.basicConfig(level=getattr(logging, cfg.log_level), handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = HubServer(cfg)
    try:
        server.start()
    except HubStartError as exc:
        fail(EXIT_CALL_FAILED, f"could not start: {exc}")
    where = f" at {cfg.sim_endpoint}" if cfg.sim_endpoint else ""
    typer.echo(f"qmt-hub {server.hub_id} running ({cfg.broker} broker{where})")
    typer.echo(f"  calls   {cfg.rpc}")
    typer.echo(f"  events  {cfg.pub}")
    typer.echo(f"  account {server.account_id}")
    typer.echo(f"  data    {cfg.data_dir}")
    typer.echo(f"  admin token file {cfg.token_path}")
    authorized = len(server.curve.keys) if server.curve is not None else None
    typer.echo(f"  access  {_fmt_security(security.summary(cfg, authorized))}")
    broker_state = server.broker_state
    if broker_state.get("state") != "up":  # not reachable yet (MiniQMT starts later): the hub waits for it
        typer.echo(f"  broker  {broker_state.get('state')}: {broker_state.get('reason')}")
        typer.echo("          orders answer BROKER_DOWN until it connects; `hub status` says what the hub waits for")
    warning = security.insecure_warning(cfg)
    if warning:
        err().print(f"hub: WARNING: {warning}", style="bold red", markup=False, highlight=False)
    observers = _start_observers(cfg, server)
    typer.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()

    run_until_stopped(lambda: server.running)
    typer.echo("stopping...")
    if observers is not None:
        observers.stop(stopping_alert=True)
    server.stop()
    typer.echo("stopped.")


def _rotating_log(path: Path) -> logging.Handler:
    """A log file rotated at 10 MB with 10 kept, so an unattended hub never fills the disk."""
    from logging.handlers import RotatingFileHandler

    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=10, encoding="utf-8")
    except OSError as exc:
        fail(EXIT_USAGE, f"--log-file {path}: {exc}")


def _start_observers(cfg: Any, server: Any) -> Any:
    """The watcher (alerts) and the metrics endpoint beside the hub, when configured; None otherwise."""
    from hub.alerts.config import AlertsConfig
    from hub.observe.metrics_config import MetricsConfig
    from hub.observe.run import start_observers

    alerts, metrics = AlertsConfig.parse(cfg.alerts), MetricsConfig.parse(cfg.metrics)
    if not alerts.enabled and not metrics.enabled:
        return None
    # with CurveZMQ on, the watcher (a client of this hub) gets a keypair the hub authorises in memory
    curve = server.curve.own_client() if server.curve is not None else None
    try:
        observers = start_observers(cfg.rpc, cfg.pub, alerts, metrics, account=server.account_id, curve=curve)
    except OSError as exc:  # the metrics port is taken
        server.stop()
        fail(EXIT_CALL_FAILED, f"metrics: cannot listen on {metrics.listen}: {exc}")
    server.status_sources["observe"] = observers.counters
    if alerts.enabled:
        typer.echo(f"  alerts  {len(alerts.targets)} target(s): {', '.join(t.name for t in alerts.targets)}")
    if observers.metrics is not None:
        typer.echo(f"  metrics http://{observers.metrics.address}/metrics  (health: /healthz)")
    return observers


def _fmt_status(s: dict[str, Any]) -> str:
    broker = s.get("broker") or {}
    halted = s.get("halted") or {}
    counters = s.get("counters") or {}
    lines = [
        f"hub {s.get('hub_id')}  version {s.get('version')}  up {s.get('uptime', 0):.0f}s",
        f"  account   {s.get('account_id')}  ({s.get('broker_name', '')} broker: {broker.get('state')}"
        f"{' - ' + str(broker.get('reason')) if broker.get('reason') else ''})",
        f"  endpoints {(s.get('endpoints') or {}).get('rpc')}  {(s.get('endpoints') or {}).get('pub')}",
        f"  data dir  {s.get('data_dir')}",
        f"  halted    {'ALL: ' + str(halted.get('reason')) if halted.get('all') else 'no'}"
        + (f"; strategies {', '.join(sorted(halted.get('strategies') or {}))}" if halted.get("strategies") else ""),
        f"  clients   {s.get('clients')}   last seq {s.get('last_seq')}",
        f"  counters  requests {counters.get('requests', 0)}, events {counters.get('events', 0)}, "
        f"ticks {counters.get('ticks', 0)}, orders {counters.get('orders', 0)}, "
        f"cancels {counters.get('cancels', 0)}, rejects {counters.get('rejects', 0)}, "
        f"bad frames {counters.get('bad_frames', 0)}",
    ]
    observe = s.get("observe") or {}
    if observe.get("alerts"):
        a = observe["alerts"]
        lines.append(f"  alerts    sent {a.get('sent', 0)}, FAILED {a.get('failed', 0)}, suppressed "
                     f"{a.get('suppressed', 0)}, repeats {a.get('deduplicated', 0)}"
                     + "".join(f"; {name}: {t['last_error']}" for name, t in (a.get("targets") or {}).items()
                               if t.get("last_error") and t.get("failed")))
    if observe.get("metrics"):
        lines.append(f"  metrics   http://{observe['metrics']}/metrics")
    errors = counters.get("errors") or {}
    if errors:
        lines.append("  errors    " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
    if s.get("risk"):
        lines.extend(_fmt_risk(s["risk"]))
    if s.get("security"):
        lines.append(f"  access    {_fmt_security(s['security'], counters)}")
        if s["security"].get("warning"):
            lines.append(f"  WARNING   {s['security']['warning']}")
    return "\n".join(lines)


def _fmt_risk(r: dict[str, Any]) -> list[str]:
    """The risk engine's lines: trading switch, the account rate guard (peaks), reconciliation, refusals."""
    rate = r.get("rate") or {}
    rec = r.get("reconcile") or {}
    lines = [f"  risk      trading {r.get('trading')}, self-trade {r.get('self_trade')}, "
             f"{r.get('open_reservations', 0)} open reservation(s)",
             f"  guard     {rate.get('per_second', 0)}/s now, peak {rate.get('peak_per_second', 0)}/s of "
             f"{rate.get('limit_per_second')}/s; today {rate.get('per_day', 0)} (peak {rate.get('peak_per_day', 0)}) "
             f"of {rate.get('limit_per_day')} orders+cancels"]
    diffs = rec.get("differences") or []
    if rec.get("ok") is None:
        state = "not run yet"
    elif not diffs:
        state = "ok"
    elif rec.get("ok") is False:  # seen by one snapshot: the next confirms (books) or clears it
        state = f"{len(diffs)} difference(s) seen once, not confirmed yet (the next snapshot confirms or clears them)"
    else:
        state = f"{len(diffs)} difference(s) booked to the pool (_external)"
    lines.append(f"  reconcile {state}" + "".join(
        f"; {d.get('code')} broker {d.get('broker')} ledger {d.get('ledger')}" for d in diffs[:5]))
    refusals = r.get("refusals") or {}
    if refusals:
        lines.append("  refused   " + ", ".join(f"{k} {v}" for k, v in sorted(refusals.items())))
    for w in (r.get("warnings") or [])[-2:] + list(r.get("problems") or []):
        lines.append(f"  WARNING   {w}")
    return lines


def _fmt_security(sec: dict[str, Any], counters: dict[str, Any] | None = None) -> str:
    """One line: who may connect (the `security` map of the hub's status)."""
    if sec.get("curve"):
        denied = (counters or {}).get("auth_denied")
        return (f"CurveZMQ, {sec.get('authorized_clients')} authorised client key(s) in {sec.get('curve_dir')}"
                + (f", {denied} refused handshake(s)" if denied else ""))
    if sec.get("remote"):
        return "NO encryption, NO authentication (allow_insecure_remote)"
    return "loopback only (this machine)"


@app.command()
def status(
    rpc: Optional[str] = RpcOpt,
    pub: Optional[str] = PubOpt,
    timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds to wait for the hub."),
    as_json: bool = JsonOpt,
    curve_dir: Optional[Path] = CurveDirOpt,
) -> None:
    """Show a running hub's state. Exit 0 when a hub answers, 3 when none does."""
    with session(rpc, pub, timeout, curve_dir=curve_dir) as link:
        result = as_dict(link.call("status"))
    warning = _calendar_warning(result.get("data_dir"))
    if as_json:
        print_json({**result, "calendar_warning": warning} if warning else result)
    else:
        typer.echo(_fmt_status(result))
        if warning:
            typer.echo(f"calendar: {warning}")
    raise typer.Exit(EXIT_OK)


def _calendar_warning(data_dir: Any) -> str:
    """The trading calendar's coverage warning for the hub's data folder, when its calendar cache exists
    (a runner or `hub calendar` made it; without it answering would mean importing pandas here)."""
    if not data_dir or not (Path(str(data_dir)) / "calendar-cache.json").exists():
        return ""
    try:
        from hub.cli.calendar import calendar_for

        return calendar_for(data_dir).coverage_warning()
    except Exception as exc:  # noqa: BLE001 - a status line must not fail the status command
        return f"cannot read the trading calendar: {exc}"
