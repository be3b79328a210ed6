"""The `hub` command line: a thin front end; each command group lives in its own module.

Exit codes (fixed across every command):
    0 ok, 1 the call failed, 2 usage error, 3 hub unreachable.
"""

from __future__ import annotations

import typer

EXIT_OK = 0
EXIT_CALL_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

app = typer.Typer(
    name="hub",
    help=(
        "qmt-hub: share one MiniQMT account between many strategy processes.\n\n"
        "Exit codes: 0 ok, 1 call failed, 2 usage error, 3 hub unreachable."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    """Import each command module; each adds its commands to `app`."""
    import importlib

    for name in ("start", "sim", "ops", "monitor", "journal", "keys", "alerts", "service", "relay", "calendar", "risk", "run", "runxt"):
        try:
            importlib.import_module(f"hub.cli.{name}")
        except ModuleNotFoundError as exc:  # a module not written yet
            if exc.name != f"hub.cli.{name}":
                raise


_register_commands()


def main() -> None:
    app()
