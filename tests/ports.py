"""Free loopback ports for the tests: one definition, and never the same port twice in a process.

Binding port 0 and closing gives a port nothing listens on now, but the OS may hand the same
ephemeral port to the next bind at once: a hub then got one port for both its ROUTER and its PUB
("rpc and pub must be different endpoints"). So the ports handed out here are remembered.
"""

from __future__ import annotations

import socket
import threading

_given: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on now and that this process has not handed out before."""
    with _lock:
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _given:
                _given.add(port)
                return port
    raise RuntimeError("no loopback port this process has not used yet in 200 tries")
