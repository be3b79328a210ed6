"""`hub service install | uninstall | start | stop | status`: the hub at boot, without a login.

Windows: a Task Scheduler task (see hub/service.py), registered with schtasks (run from an
administrator prompt). Linux: prints the systemd unit and the systemctl commands (it does not
write into /etc by itself); macOS: prints a launchd plist. `--dry-run` prints what would run.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import fail

service_app = typer.Typer(help="Run the hub at boot without a login (Windows Task Scheduler; systemd on Linux).",
                          no_args_is_help=True)
app.add_typer(service_app, name="service")


class Platform(str, Enum):
    windows = "windows"
    linux = "linux"
    macos = "macos"


def _this_platform() -> Platform:
    if sys.platform == "win32":
        return Platform.windows
    return Platform.macos if sys.platform == "darwin" else Platform.linux


PlatformOpt = typer.Option(None, "--platform", help="the system to write for [this one]")
DryRunOpt = typer.Option(False, "--dry-run", help="print the definition and the commands; run nothing")
NameOpt = typer.Option("qmt-hub", "--name", help="the task / unit name")


def _spec(config: Optional[Path], name: str, user: str = ""):
    from hub.config import ConfigError, HubConfig
    from hub.service import ServiceSpec

    if config is None:
        fail(EXIT_USAGE, "--config FILE is required: the service runs `hub start --config FILE` (a service has no "
                         "command line of its own to hold settings)")
    config = config.expanduser().resolve()
    try:
        cfg = HubConfig.load(config)
    except ConfigError as exc:
        fail(EXIT_USAGE, str(exc))
    return ServiceSpec(config=config, data_dir=cfg.data_dir, name=name, user=user)


def _act(action: str, config: Optional[Path], platform: Optional[Platform], dry_run: bool, name: str,
         user: str = "") -> None:
    from hub import service

    platform = platform or _this_platform()
    if action == "install":
        spec = _spec(config, name, user)
    else:
        from hub.service import ServiceSpec

        spec = ServiceSpec(config=Path(config or "hub.toml"), data_dir=Path("."), name=name, user=user)
    if platform == Platform.windows:
        xml_path = spec.data_dir / "service" / f"{name}.xml"
        if action == "install":
            if dry_run:
                typer.echo(service.windows_task_xml(spec))
            else:
                xml_path = service.write_task_xml(spec)
                typer.echo(f"task definition written to {xml_path}")
        commands = service.windows_commands(action, spec, xml_path)
    else:
        if action == "install":
            if platform == Platform.macos:
                typer.echo(f"# save as ~/Library/LaunchAgents/com.qmt-hub.{name}.plist, then: "
                           f"launchctl load -w ~/Library/LaunchAgents/com.qmt-hub.{name}.plist")
                typer.echo(service.launchd_plist(spec))
                raise typer.Exit(EXIT_OK)
            typer.echo(f"# save as /etc/systemd/system/{name}.service (as root), then run the commands below")
            typer.echo(service.systemd_unit(spec))
        if platform == Platform.macos:
            fail(EXIT_USAGE, f"on macOS use launchctl ({action}) for com.qmt-hub.{name}")
        commands = service.systemd_commands(action, spec)
        dry_run = True  # on Linux the user runs systemctl (root); we only say what to run
    for cmd in commands:
        typer.echo(("would run: " if dry_run else "running: ") + " ".join(cmd))
    if dry_run:
        raise typer.Exit(EXIT_OK)
    code, output = service.run(commands)
    if output.strip():
        typer.echo(output.strip())
    if code != 0:
        fail(EXIT_CALL_FAILED, f"{action} failed (exit {code}); schtasks needs an administrator prompt for "
                               f"install/uninstall")
    raise typer.Exit(EXIT_OK)


@service_app.command("install")
def install_cmd(config: Optional[Path] = typer.Option(None, "--config", help="the hub's TOML file (required)"),
                user: str = typer.Option("", "--user", help="Windows: run as this account (DOMAIN\\user; asks for "
                                                            "its password) [SYSTEM]"),
                platform: Optional[Platform] = PlatformOpt, dry_run: bool = DryRunOpt, name: str = NameOpt) -> None:
    """Register `hub start --config FILE` to start at boot and restart on failure."""
    _act("install", config, platform, dry_run, name, user)


@service_app.command("uninstall")
def uninstall_cmd(platform: Optional[Platform] = PlatformOpt, dry_run: bool = DryRunOpt,
                  name: str = NameOpt) -> None:
    """Stop and remove the task / unit."""
    _act("uninstall", None, platform, dry_run, name)


@service_app.command("start")
def start_cmd(platform: Optional[Platform] = PlatformOpt, dry_run: bool = DryRunOpt, name: str = NameOpt) -> None:
    """Start the registered hub now."""
    _act("start", None, platform, dry_run, name)


@service_app.command("stop")
def stop_cmd(platform: Optional[Platform] = PlatformOpt, dry_run: bool = DryRunOpt, name: str = NameOpt) -> None:
    """Stop the registered hub."""
    _act("stop", None, platform, dry_run, name)


@service_app.command("status")
def status_cmd(platform: Optional[Platform] = PlatformOpt, dry_run: bool = DryRunOpt, name: str = NameOpt) -> None:
    """What the system says of the registered hub (for the hub's own state: `hub status`)."""
    _act("status", None, platform, dry_run, name)
