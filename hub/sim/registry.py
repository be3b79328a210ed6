"""One shared exchange per terminal path in a process, like sessions on one MiniQMT.

`get_exchange(path)` returns the same `SimExchange` for every trader and quote
source created with that path. A Windows path such as the docs'
'D:\\迅投极速交易终端 睿智融科版\\userdata_mini' cannot be created on Linux, so
on non-Windows systems it maps to a folder under the temp dir named by a hash
of the string.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path

from hub.sim.config import SimConfig
from hub.sim.exchange import SimExchange

_lock = threading.Lock()
_exchanges: dict[str, SimExchange] = {}
_pending_config: dict[str, SimConfig] = {}

_WINDOWS_LOOKING = re.compile(r"^[A-Za-z]:[\\/]|\\")


def resolve_folder(path: str | os.PathLike) -> Path:
    """The local folder that stores the state of terminal `path`."""
    s = os.fspath(path)
    if os.name != "nt" and _WINDOWS_LOOKING.search(s):
        digest = hashlib.sha256(s.encode("utf-8")).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / "qmt-hub-sim" / digest
    return Path(s).expanduser().resolve()


def _key(path: str | os.PathLike) -> str:
    return str(resolve_folder(path))


def configure(path: str | os.PathLike, config: SimConfig) -> None:
    """Set the config used when the exchange of `path` is first created.

    Raises RuntimeError if that exchange already runs with a different config.
    """
    key = _key(path)
    with _lock:
        ex = _exchanges.get(key)
        if ex is not None and not ex.closed:
            if ex.config != config:
                raise RuntimeError(f"simulator at {key} already running with another config")
            return
        _pending_config[key] = config


def get_exchange(path: str | os.PathLike, config: SimConfig | None = None) -> SimExchange:
    """The shared exchange of terminal `path`, created (with `config`) on first use."""
    key = _key(path)
    with _lock:
        ex = _exchanges.get(key)
        if ex is not None and not ex.closed:
            if config is not None and config != ex.config:
                raise RuntimeError(f"simulator at {key} already running with another config")
            return ex
        cfg = config or _pending_config.pop(key, None) or SimConfig()
        ex = SimExchange(Path(key), cfg, key=key)
        _exchanges[key] = ex
        return ex


def shutdown_exchange(path: str | os.PathLike) -> None:
    """Stop and forget the exchange of `path` (its state stays in SQLite)."""
    key = _key(path)
    with _lock:
        ex = _exchanges.pop(key, None)
    if ex is not None:
        ex.shutdown()


def shutdown_all() -> None:
    with _lock:
        exs = list(_exchanges.values())
        _exchanges.clear()
    for ex in exs:
        ex.shutdown()
