"""`hub sim`: run the simulated MiniQMT as its own process, served over ZeroMQ.

Traders connect with `hub.sim.XtQuantTrader("tcp://127.0.0.1:PORT", session_id)`.
Imports only `hub.sim` (the broker), not the hub core.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_USAGE, app


@app.command("sim")
def sim(
    path: Path = typer.Option(Path("./sim-terminal"), "--path", help="folder holding the simulator's SQLite state"),
    endpoint: str = typer.Option("tcp://127.0.0.1:5560", "--endpoint", help="ZeroMQ endpoint to serve on"),
    config: Optional[str] = typer.Option(None, "--config", help="SimConfig as JSON, e.g. '{\"speed\": 10}'"),
) -> None:
    """Run the simulated MiniQMT broker in this process until Ctrl+C."""
    import hub.sim as simmod
    from hub.sim.server import SimServer

    try:
        cfg = simmod.SimConfig.from_dict(json.loads(config)) if config else None
    except (ValueError, TypeError) as exc:
        typer.echo(f"invalid --config: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE)
    exchange = simmod.get_exchange(path, cfg)
    try:
        server = SimServer(exchange, endpoint)
    except Exception as exc:  # noqa: BLE001 - e.g. address in use
        typer.echo(f"cannot serve on {endpoint}: {exc}", err=True)
        simmod.shutdown_exchange(path)
        raise typer.Exit(EXIT_USAGE)
    done = threading.Event()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    server.start()
    typer.echo(f"simulated MiniQMT at {endpoint}, state in {exchange.folder}", err=True)
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        simmod.shutdown_exchange(path)
