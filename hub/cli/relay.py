"""`hub relay`: on a strategy machine, subscribe once to a remote hub's events and republish them locally."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_OK, EXIT_USAGE, app
from hub.cli.common import run_until_stopped, CurveDirOpt, client_curve, fail


@app.command("relay")
def relay_cmd(hub_pub: str = typer.Option(..., "--hub-pub", metavar="ENDPOINT",
                                          help="the hub's event endpoint, e.g. tcp://10.0.0.5:5556"),
              listen: str = typer.Option("tcp://127.0.0.1:5556", "--listen", metavar="ENDPOINT",
                                         help="where local strategies subscribe (loopback)"),
              curve_dir: Optional[Path] = CurveDirOpt) -> None:
    """Republish a remote hub's events on this machine (ZeroMQ XSUB/XPUB, subscriptions forwarded).

    Local strategies then use QMT_HUB=<the hub's call endpoint> and QMT_HUB_PUB=<--listen>
    (see docs/deployment.md)."""
    from hub.relay import Relay, RelayError

    try:
        relay = Relay(hub_pub, listen, curve=client_curve(curve_dir)).start()
    except RelayError as exc:
        fail(EXIT_USAGE, str(exc))
    typer.echo(f"relaying {hub_pub} -> {relay.address}  (Ctrl+C to stop)")
    run_until_stopped()
    relay.stop()
    raise typer.Exit(EXIT_OK)
