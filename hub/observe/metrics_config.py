"""The `[metrics]` section of hub.toml (kept apart from `metrics` so reading a config never imports
prometheus-client).

```toml
[metrics]
listen = "127.0.0.1:9108"   # /metrics and /healthz; "" = off (the default)
allow_remote = false        # a non-loopback address only with this (and an authenticating proxy in front)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from hub.exposure import is_loopback_endpoint


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = ""  # "127.0.0.1:9108"; "" = off
    allow_remote: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.listen)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, source: str = "[metrics]") -> "MetricsConfig":
        raw = dict(raw or {})
        unknown = sorted(set(raw) - {"listen", "allow_remote"})
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)} (known: allow_remote, listen)")
        listen = raw.get("listen", "")
        if not isinstance(listen, str) or (listen and not host_port(listen)):
            raise ValueError(f"{source}.listen must be \"HOST:PORT\" (e.g. \"127.0.0.1:9108\"), got {listen!r}")
        allow = raw.get("allow_remote", False)
        if not isinstance(allow, bool):
            raise ValueError(f"{source}.allow_remote must be true or false")
        if listen and not allow and not is_loopback_endpoint(f"tcp://{listen}"):
            raise ValueError(f"{source}.listen {listen} is not a loopback address: the metrics endpoint has no "
                             f"authentication. Keep it on 127.0.0.1, or set allow_remote = true behind a proxy that "
                             f"authenticates (docs/security.md)")
        return cls(listen=listen, allow_remote=allow)


def host_port(text: str) -> tuple[str, int] | None:
    """"HOST:PORT" -> (host, port); None when it is not that."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)
