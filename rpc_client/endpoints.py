"""Where the hub is: endpoints from arguments and the QMT_HUB / QMT_HUB_PUB environment variables.

* ``QMT_HUB``: the hub's rpc endpoint, e.g. ``tcp://192.168.1.5:5555`` (default ``tcp://127.0.0.1:5555``).
* ``QMT_HUB_PUB``: the hub's event endpoint; default: the rpc endpoint's port + 1.
* ``QMT_HUB_CURVE``: for a hub with CurveZMQ on, the folder with ``server.key`` and this client's
  keypair (read by ``rpc_client.security.resolve_curve``, so every client picks it up).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rpc_client.protocol import DEFAULT_PUB_ENDPOINT, DEFAULT_RPC_ENDPOINT

ENV_RPC = "QMT_HUB"
ENV_PUB = "QMT_HUB_PUB"
#: Where a hub on this machine keeps its journal, admin token and keys unless told otherwise
#: (`hub start --data-dir`); clients read the admin token from there.
DEFAULT_DATA_DIR = Path("~/.qmt-hub")

_TCP = re.compile(r"^tcp://(?P<host>.+):(?P<port>\d+)$")


def is_endpoint(value: object) -> bool:
    return isinstance(value, str) and bool(_TCP.match(value.strip()))


def pub_for(rpc: str) -> str:
    """The event endpoint that goes with an rpc endpoint: same host, port + 1."""
    if rpc == DEFAULT_RPC_ENDPOINT:
        return DEFAULT_PUB_ENDPOINT
    m = _TCP.match(rpc.strip())
    if not m:
        raise ValueError(f"not a tcp endpoint: {rpc!r} (expected tcp://host:port)")
    return f"tcp://{m.group('host')}:{int(m.group('port')) + 1}"


def resolve(path: object = None) -> tuple[str, str]:
    """(rpc, pub) for a path argument: a ``tcp://host:port`` endpoint, or anything else
    (such as a MiniQMT userdata folder) meaning the default hub, which QMT_HUB can change."""
    if is_endpoint(path):
        rpc = str(path).strip()
    else:
        rpc = os.environ.get(ENV_RPC, "").strip() or DEFAULT_RPC_ENDPOINT
    pub = os.environ.get(ENV_PUB, "").strip() or pub_for(rpc)
    return rpc, pub


def _host(endpoint: str) -> str:
    m = _TCP.match(endpoint.strip())
    host = (m.group("host") if m else "").strip("[]").lower()
    return "127.0.0.1" if host in ("localhost", "::1") else host


def via_relay(rpc: str, pub: str) -> bool:
    """True when the event endpoint is on another host than the call endpoint: a `hub relay` on this
    machine (a hub's PUB and ROUTER are always on the same host). The client then subscribes to the
    relay in plain loopback and keeps CurveZMQ for its calls to the hub."""
    return _host(rpc) != _host(pub)
