"""`hub sim`: run the simulated MiniQMT as its own process, served over ZeroMQ.

Traders connect with `hub.sim.XtQuantTrader("tcp://127.0.0.1:PORT", session_id)`, quote
sources with `hub.sim.SimXtData("tcp://127.0.0.1:PORT")`. `--config hub.toml` reads the
`[sim]` table of the hub's own file.
Imports only `hub.sim` (the broker), not the hub core.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_USAGE, app


def _sim_table(config: str) -> dict:
    """The `[sim]` table of the TOML file `config` ({} when it has none); a value starting with
    '{' is read as JSON settings (the older form). Raises ValueError with a message for the user."""
    text = config.strip()
    if text.startswith("{"):
        try:
            table = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"--config is neither a TOML file nor valid JSON: {exc}") from None
        if not isinstance(table, dict):
            raise ValueError("--config JSON must be an object")
        return table
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10
        import tomli as tomllib
    file = Path(config).expanduser()
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {file} is not valid TOML: {exc}") from None
    table = data.get("sim", {})
    if not isinstance(table, dict):
        raise ValueError(f"{file}: sim must be a table ([sim]), got {type(table).__name__}")
    return table


@app.command("sim")
def sim(
    path: Path = typer.Option(Path("./sim-terminal"), "--path", help="folder holding the simulator's SQLite state"),
    endpoint: str = typer.Option("tcp://127.0.0.1:5560", "--endpoint", help="ZeroMQ endpoint to serve on"),
    config: Optional[str] = typer.Option(None, "--config", help="TOML file (the hub's own) whose sim table sets "
                                                                "the simulator; see docs/simulator.md"),
) -> None:
    """Run the simulated MiniQMT broker in this process until Ctrl+C."""
    import hub.sim as simmod
    from hub.sim.server import SimServer

    try:
        cfg = simmod.SimConfig.from_dict(_sim_table(config)) if config else None
    except (ValueError, TypeError) as exc:
        where = "" if config is None or config.strip().startswith("{") else f" in {config}"
        typer.echo(f"invalid --config{where}: {exc}", err=True)
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
