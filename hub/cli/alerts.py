"""`hub alerts test` (one message to every target) and `hub alerts watch` (the watcher on its own).

`hub start` runs the watcher beside the hub when `[alerts]` or `[metrics]` is configured. Run
`hub alerts watch --config hub.toml` as a second process (or service) as well when you want the
dead-man alert to fire even if the hub process itself is gone or never started.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import run_until_stopped, CurveDirOpt, PubOpt, RpcOpt, client_curve, endpoints, fail

alerts_app = typer.Typer(help="Alerts to WeCom / DingTalk / Feishu robots or a JSON webhook (the alerts section of hub.toml).",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

ConfigOpt = typer.Option(..., "--config", help="the hub's TOML file with its alerts (and metrics) section")


def _load(config: Path):
    from hub.alerts.config import AlertsConfig, AlertsConfigError
    from hub.config import ConfigError, HubConfig
    from hub.observe.metrics_config import MetricsConfig

    try:
        cfg = HubConfig.load(config, check_exposure=False)
        return cfg, AlertsConfig.parse(cfg.alerts), MetricsConfig.parse(cfg.metrics)
    except (ConfigError, AlertsConfigError, ValueError) as exc:
        fail(EXIT_USAGE, str(exc))


@alerts_app.command("test")
def test_cmd(config: Path = ConfigOpt) -> None:
    """Send one test message to each target; exit 1 when any target did not take it."""
    from hub.alerts.rules import Alert, Level
    from hub.alerts.sender import AlertSender

    cfg, alerts, _ = _load(config)
    if not alerts.targets:
        fail(EXIT_USAGE, f"{config}: [alerts] has no [[alerts.targets]]")
    # every target gets the test, whatever its filters: a test that filters itself out proves nothing
    everyone = replace(alerts, targets=tuple(replace(t, events=frozenset({"test"}), min_level=Level.INFO)
                                             for t in alerts.targets), max_per_minute=0)
    sender = AlertSender(everyone, cfg.account_id).start()
    sender.submit(Alert("test", Level.INFO, "test message",
                        f"`hub alerts test` from the hub of account {cfg.account_id}: this target works.",
                        key=f"test:{time.time()}"))
    sender.wait_idle(everyone.timeout * (everyone.retries + 1) * len(everyone.targets) + 10)
    sender.stop()
    failed = False
    for name, c in sender.counters()["targets"].items():
        if c["sent"]:
            typer.echo(f"{name}: sent")
        else:
            failed = True
            typer.echo(f"{name}: FAILED ({c['last_error']})", err=True)
    raise typer.Exit(EXIT_CALL_FAILED if failed else EXIT_OK)


@alerts_app.command("watch")
def watch_cmd(config: Path = ConfigOpt, rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt,
              curve_dir: Optional[Path] = CurveDirOpt) -> None:
    """Watch a hub from its own process: alerts (dead-man included) and metrics, until Ctrl+C."""
    from hub.observe.run import start_observers

    cfg, alerts, metrics = _load(config)
    rpc, pub = endpoints(rpc or cfg.rpc, pub or cfg.pub)
    observers = start_observers(rpc, pub, alerts, metrics, account=cfg.account_id, curve=client_curve(curve_dir),
                                announce=False)
    if observers is None:
        fail(EXIT_USAGE, f"{config}: neither [alerts] targets nor [metrics] listen is configured")
    typer.echo(f"watching {rpc}: {len(alerts.targets)} alert target(s)"
               + (f", metrics on http://{observers.metrics.address}/metrics" if observers.metrics else ""))
    run_until_stopped()
    observers.stop(stopping_alert=False)
    raise typer.Exit(EXIT_OK)
