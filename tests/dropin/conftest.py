"""Fixtures for the xtquant drop-in tests: a real hub (hub.core on the simulator) on free ports,
restartable on the same endpoints and data folder, and the drop-in tuned for fast reconnects."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from hub.config import HubConfig
from hub.core import HubServer
from rpc_client import xttrader
from tests.conftest import free_port

ACCOUNT = "1000000365"
#: fast liveness for in-process drop-in traders (a reconnect test finishes in seconds)
FAST = dict(heartbeat_interval=0.1, dead_after=0.8, backoff_initial=0.1, backoff_max=0.3)


def wait_for(pred: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def port_pair() -> int:
    """A free port whose next port is free too: the drop-ins find the hub's events on rpc port + 1."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def hub_config(data_dir: Path, rpc: str | None = None, pub: str | None = None, hub: dict | None = None,
               **sim: Any) -> HubConfig:
    port = port_pair()
    return HubConfig.from_dict({**(hub or {}),
        "rpc": rpc or f"tcp://127.0.0.1:{port}", "pub": pub or f"tcp://127.0.0.1:{port + 1}",
        "data_dir": data_dir, "heartbeat_interval": 0.2, "account": ACCOUNT,
        "sim": {"auto_tick": False, **sim}})


class Hubs:
    """Starts hubs; `restart()` stops the current one and starts it again on the same endpoints."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.servers: list[HubServer] = []

    def start(self, hub: dict | None = None, **sim: Any) -> HubServer:
        """A hub with `hub` settings (e.g. client_dead_after) and [sim] settings `sim`."""
        cfg = hub_config(self.data_dir, hub=hub, **sim) if not self.servers else \
            hub_config(self.data_dir, self.current.config.rpc, self.current.config.pub, hub=hub, **sim)
        server = HubServer(cfg).start()
        self.servers.append(server)
        return server

    @property
    def current(self) -> HubServer:
        return self.servers[-1]

    def stop(self) -> None:
        self.current.stop()
        assert self.current.wait(15)

    def restart(self, down_for: float = 0.0, **sim: Any) -> HubServer:
        self.stop()
        time.sleep(down_for)
        return self.start(**sim)

    def close(self) -> None:
        for s in self.servers:
            s.stop()
            s.wait(15)


@pytest.fixture
def hubs(tmp_path: Path):
    h = Hubs(tmp_path / "hub")
    yield h
    h.close()


@pytest.fixture
def hub(hubs: Hubs) -> HubServer:
    return hubs.start()


@pytest.fixture
def fast_dropin(monkeypatch):
    """The drop-in's gateways with fast heartbeats and reconnects."""
    monkeypatch.setattr(xttrader, "GATEWAY_OPTIONS", dict(FAST))


@pytest.fixture(autouse=True)
def no_leaked_traders():
    yield
    for t in list(xttrader._LIVE.values()):
        t.stop()
    assert wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("rpc-client")], 5), \
        [t.name for t in threading.enumerate()]


class Recorder:
    """An xtquant callback that records every push: (kind, record)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def _add(self, kind: str, obj: Any = None) -> None:
        with self.lock:
            self.got.append((kind, obj))

    def on_connected(self): self._add("connected")
    def on_disconnected(self): self._add("disconnected")
    def on_stock_order(self, o): self._add("order", o)
    def on_stock_trade(self, t): self._add("trade", t)
    def on_stock_position(self, p): self._add("position", p)
    def on_stock_asset(self, a): self._add("asset", a)
    def on_order_error(self, e): self._add("order_error", e)
    def on_cancel_error(self, e): self._add("cancel_error", e)
    def on_order_stock_async_response(self, r): self._add("order_response", r)
    def on_cancel_order_stock_async_response(self, r): self._add("cancel_response", r)

    def of(self, kind: str) -> list[Any]:
        with self.lock:
            return [o for k, o in self.got if k == kind]

    def kinds(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self.got]
