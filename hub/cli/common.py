"""What every `hub` command shares: the options, the one way to fail, and the one way to reach a hub.

Every command that talks to a hub goes through `session()` (the client library's `RpcGateway`
under `hub.monitor.link.HubLink`), so endpoint resolution ($QMT_HUB, $QMT_HUB_PUB), CurveZMQ keys
($QMT_HUB_CURVE) and the exit codes are the same everywhere. Exit codes: 0 ok, 1 the hub refused
or the call failed, 2 usage error (including a missing admin token), 3 hub unreachable.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

import typer
from rich.console import Console

from hub.cli import EXIT_CALL_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from hub.monitor.link import (ENV_RPC, HubLink, TokenError, as_dict, read_token, resolve_pub, resolve_rpc,
                              unreachable_hint)
from rpc_client.endpoints import DEFAULT_DATA_DIR
from rpc_client.protocol import ErrorCode, HubError, Role
from rpc_client.security import CurveKeyError, CurveKeys, resolve_curve

#: How the CLI makes its hub session; tests replace it with a fake.
make_link: Callable[..., HubLink] = HubLink

BIG = 10 ** 9  # "no row limit" for tables printed once


class Lang(str, Enum):
    zh = "zh"
    en = "en"


# ----------------------------------------------------------------------------- shared options

RpcOpt = typer.Option(None, "--rpc", metavar="ENDPOINT",
                      help=f"The hub's call endpoint [default: ${ENV_RPC} or tcp://127.0.0.1:5555].")
PubOpt = typer.Option(None, "--pub", metavar="ENDPOINT",
                      help="The hub's event endpoint [default: $QMT_HUB_PUB or the --rpc host, next port].")
TimeoutOpt = typer.Option(3.0, "--timeout", min=0.1, help="Seconds to wait for the hub.")
JsonOpt = typer.Option(False, "--json", help="Print the raw result as JSON (for scripts).")
LangOpt = typer.Option(Lang.zh, "--lang", help="Order state names: zh (已报, 废单 ...) or en.")
TokenOpt = typer.Option(None, "--token", envvar="QMT_HUB_TOKEN",
                        help="The hub's admin token [default: read from <data-dir>/admin.token].")
DataDirOpt = typer.Option(None, "--data-dir", metavar="DIR",
                          help=f"The hub's data folder, to read admin.token from [default: {DEFAULT_DATA_DIR}].")
CurveDirOpt = typer.Option(None, "--curve-dir", metavar="DIR",
                           help="For a hub with CurveZMQ on: the folder `hub keys add-client` wrote (server.key and "
                                "one client keypair) [default: $QMT_HUB_CURVE; neither: no CurveZMQ].")


def out() -> Console:
    return Console(soft_wrap=False)


def err() -> Console:
    return Console(stderr=True, soft_wrap=True)


def fail(code: int, message: str) -> NoReturn:
    """Print `message` for a person on stderr and exit with `code` (one of hub.cli's EXIT_*)."""
    err().print(f"hub: {message}", style="bold red", markup=False, highlight=False)
    raise typer.Exit(code)


def explain(exc: HubError, rpc: str, timeout: float, role: str) -> tuple[int, str]:
    """An error from the hub (or the client library) -> (exit code, message for a person)."""
    if exc.code == ErrorCode.TIMEOUT:
        return EXIT_UNREACHABLE, unreachable_hint(rpc, timeout)
    if exc.code == ErrorCode.CLOSED:
        return EXIT_UNREACHABLE, f"{unreachable_hint(rpc, timeout)} ({exc.message})"
    if exc.code == ErrorCode.FORBIDDEN and role == Role.ADMIN:
        return EXIT_CALL_FAILED, (f"refused by the hub (FORBIDDEN): {exc.message}. Pass the token printed by "
                                  f"`hub start` with --token, or the hub's data folder with --data-dir.")
    return EXIT_CALL_FAILED, f"the hub refused the call ({exc.code}): {exc.message}"


def endpoints(rpc: str | None, pub: str | None) -> tuple[str, str]:
    """(rpc, pub) from the options and the environment; a malformed endpoint is a usage error."""
    rpc = resolve_rpc(rpc)
    try:
        return rpc, resolve_pub(pub, rpc)
    except ValueError as exc:
        fail(EXIT_USAGE, f"bad endpoint: {exc}")
    raise AssertionError("not reached")


def client_curve(curve_dir: Path | str | None) -> CurveKeys | None:
    """The CurveZMQ keys of --curve-dir (else $QMT_HUB_CURVE), or None; unreadable keys are a usage error."""
    try:
        return resolve_curve(curve_dir=curve_dir)
    except CurveKeyError as exc:
        fail(EXIT_USAGE, f"bad CurveZMQ keys: {exc}")
    raise AssertionError("not reached")


@contextmanager
def session(rpc: str | None, pub: str | None, timeout: float, role: str = Role.MONITOR,
            token: str = "", curve_dir: Path | None = None) -> Iterator[HubLink]:
    """A connected link; every failure becomes a message and a fixed exit code."""
    rpc, pub = endpoints(rpc, pub)
    link = make_link(rpc, pub, role=role, token=token, timeout=timeout, curve=client_curve(curve_dir))
    try:
        try:
            link.connect()
            yield link
        except HubError as exc:
            code, message = explain(exc, rpc, timeout, role)
            fail(code, message)
    finally:
        try:
            link.close()
        except Exception:
            pass


def admin_token(token: str | None, data_dir: Path | None) -> str:
    try:
        return read_token(token, data_dir)
    except TokenError as exc:
        fail(EXIT_USAGE, str(exc))
    raise AssertionError("not reached")


def print_json(result: Any) -> None:
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=_jsonable) + "\n")


def _jsonable(x: Any) -> Any:
    d = as_dict(x)
    return d if isinstance(d, dict) else str(x)


def rows(result: Any) -> list[dict[str, Any]]:
    return [as_dict(r) for r in (result or [])]


def run_until_stopped(running: Callable[[], bool] = lambda: True) -> None:
    """Block until Ctrl+C, SIGTERM or Ctrl+Break (Windows), or until `running()` turns false.

    Every long-running command (`hub start`, `hub relay`, `hub alerts watch`) waits here, so
    each stops the same way on every OS.
    """
    import signal
    import threading

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:  # noqa: ARG001
        stop.set()

    for name in ("SIGTERM", "SIGBREAK"):  # SIGBREAK: Ctrl+Break on Windows
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, on_signal)
            except (ValueError, OSError):  # not the main thread
                pass
    try:
        while not stop.is_set() and running():
            stop.wait(0.2)
    except KeyboardInterrupt:
        pass
