"""The monitor's and the operator CLI's one doorway to the hub: a thin wrapper over `rpc_client.RpcGateway`.

Everything the front ends assume about the client library lives here, so the feed and
the CLI commands are tested against a fake link with the same four members
(`connect`, `call`, `close` and the three callbacks).

Also here: where the hub is (`--rpc`, `QMT_HUB`, `--pub`), a client name for the
monitor's session, and the admin token (`--token` or `<data_dir>/admin.token`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable, Mapping

from rpc_client.endpoints import DEFAULT_DATA_DIR, ENV_PUB, ENV_RPC, pub_for
from rpc_client.protocol import DEFAULT_RPC_ENDPOINT, ErrorCode, HubError, Role
TOKEN_FILE = "admin.token"
#: Errors that mean "the hub is not answering", as opposed to "the hub refused".
UNREACHABLE_CODES = (ErrorCode.TIMEOUT, ErrorCode.CLOSED)
#: Longest wait between the monitor's reconnect attempts (the client library doubles from 1 s).
RECONNECT_EVERY = 2.0


def as_dict(x: Any) -> Any:
    """Query results may be plain maps or rpc_client records; the monitor works on maps."""
    if x is None:
        return {}
    if hasattr(x, "to_dict"):
        return x.to_dict()
    if isinstance(x, Mapping):
        return dict(x)
    return x


def resolve_rpc(rpc: str | None) -> str:
    """--rpc, else $QMT_HUB, else the default endpoint."""
    return rpc or os.environ.get(ENV_RPC, "").strip() or DEFAULT_RPC_ENDPOINT


def resolve_pub(pub: str | None, rpc: str) -> str:
    """--pub, else $QMT_HUB_PUB, else the rpc endpoint's host with the next port (5555 -> 5556)."""
    return pub or os.environ.get(ENV_PUB, "").strip() or pub_for(rpc)


def client_name(prefix: str) -> str:
    """A session name unique enough among the hub's clients (max 32 chars, protocol rule)."""
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(2)}"[:32]


class TokenError(Exception):
    """No admin token could be found; the message says where we looked."""


def read_token(token: str | None, data_dir: str | Path | None) -> str:
    if token:
        return token.strip()
    folder = Path(data_dir or DEFAULT_DATA_DIR).expanduser()
    path = folder / TOKEN_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenError(f"no admin token: cannot read {path} ({exc.strerror or exc}). Pass --token, or "
                         f"--data-dir with the hub's data folder (the token is printed when the hub starts).") from None
    if not text:
        raise TokenError(f"no admin token: {path} is empty")
    return text


def unreachable_hint(rpc: str, timeout: float) -> str:
    return (f"hub unreachable: no answer from {rpc} within {timeout:g}s. Check that the hub is running "
            f"(`hub start`, `hub status`), that --rpc or ${ENV_RPC} names its address, and, for a hub on another "
            f"machine, that it listens on a non-loopback address and lets this host in (with CurveZMQ on: "
            f"--curve-dir or $QMT_HUB_CURVE, and this client's key in the hub's authorized/ folder).")


class HubLink:
    """One session with the hub (monitor role unless told otherwise), over `rpc_client.RpcGateway`."""

    def __init__(self, rpc: str, pub: str, *, role: str = Role.MONITOR, token: str = "", timeout: float = 3.0,
                 name: str | None = None, curve: Any = None):
        self.rpc, self.pub, self.role, self.token, self.timeout = rpc, pub, role, token, float(timeout)
        self.curve = curve  # rpc_client.security.CurveKeys for a hub with CurveZMQ on (None: $QMT_HUB_CURVE or none)
        self.name = name or client_name("admin" if role == Role.ADMIN else "monitor")
        self.on_event: Callable[[str, dict], None] | None = None
        self.on_connected: Callable[[Any], None] | None = None
        self.on_disconnected: Callable[[Any], None] | None = None
        self._gw: Any = None

    def connect(self) -> Any:
        """Open the session; returns the hello result. Raises HubError (TIMEOUT when nobody answers)."""
        from rpc_client import RpcGateway  # imported late: the CLI's --help must not need a hub client

        # an operator watching wants the screen back soon after a hub restart: retry every 2 s at most
        gw = RpcGateway(self.rpc, self.pub, timeout=self.timeout, backoff_max=RECONNECT_EVERY, curve=self.curve)
        gw.on_event = lambda topic, payload: self.on_event and self.on_event(topic, payload)
        gw.on_connected = lambda *a: self.on_connected and self.on_connected(*a)
        gw.on_disconnected = lambda *a: self.on_disconnected and self.on_disconnected(*a)
        self._gw = gw
        try:
            return gw.connect(strategy=self.name, role=self.role, token=self.token or None)
        except BaseException:
            self.close()
            raise

    def call(self, method: str, **params: Any) -> Any:
        if self._gw is None:
            raise HubError(ErrorCode.CLOSED, "not connected")
        return self._gw.call(method, **params)

    def close(self) -> None:
        gw, self._gw = self._gw, None
        if gw is not None:
            gw.close()
