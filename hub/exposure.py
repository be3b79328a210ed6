"""The exposure rule, in one leaf: the hub listens beyond loopback only with CurveZMQ, or when told
`allow_insecure_remote` on a network the user trusts.

A leaf (standard library only) so that the configuration can check it when it is read and the
security module can report it, without either importing the other.
"""

from __future__ import annotations

import ipaddress
import re

_TCP = re.compile(r"^tcp://(?P<host>.+):(?P<port>\d+|\*)$")


def endpoint_host(endpoint: str) -> str:
    m = _TCP.match(endpoint.strip())
    host = m.group("host") if m else ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def is_loopback_endpoint(endpoint: str) -> bool:
    """True only for tcp:// on 127.0.0.0/8, ::1 or localhost. `*`, 0.0.0.0, interface and host names: False."""
    host = endpoint_host(endpoint).lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def remote_endpoints(rpc: str, pub: str) -> list[tuple[str, str]]:
    """[(what, endpoint)] of the hub's endpoints reachable from other hosts."""
    return [(what, ep) for what, ep in (("rpc", rpc), ("pub", pub)) if not is_loopback_endpoint(ep)]


def exposure_problem(rpc: str, pub: str, *, curve: bool, allow_insecure: bool) -> str | None:
    """Why the hub must not listen on `rpc`/`pub`, or None when it may."""
    remote = remote_endpoints(rpc, pub)
    if not remote or curve or allow_insecure:
        return None
    where = " and ".join(f"{ep} ({what})" for what, ep in remote)
    return (f"refusing to listen on {where}: not a loopback address, and without CurveZMQ anyone who can reach "
            f"it could place and cancel orders on the account, unauthenticated and unencrypted. Either turn "
            f"CurveZMQ on (`hub keys init`, `hub keys add-client NAME`, then `curve = true` or --curve), or, on a "
            f"network you fully trust, set `allow_insecure_remote = true` (or --allow-insecure-remote). Or keep "
            f"the default loopback endpoints (tcp://127.0.0.1:...). See docs/security.md.")
