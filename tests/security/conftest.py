"""Fixtures: a hub with CurveZMQ on (loopback only), its keys, and clean-up of client threads."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import loopback_endpoints, make_keys, wait_for  # noqa: E402

from hub.config import HubConfig  # noqa: E402
from hub.core import HubServer  # noqa: E402


@pytest.fixture
def curve_dir(tmp_path: Path) -> Path:
    return tmp_path / "hub" / "curve"


@pytest.fixture
def client_dirs(curve_dir: Path) -> dict[str, Path]:
    """Keys: the hub's, and two authorised clients (alpha, ops)."""
    return make_keys(curve_dir, "alpha", "ops")


@pytest.fixture
def make_curve_hub(tmp_path: Path) -> Callable[..., HubServer]:
    """make_curve_hub(**config) -> a started hub on 127.0.0.1 with curve = true; stopped at teardown."""
    started: list[HubServer] = []

    def make(**overrides: Any) -> HubServer:
        rpc, pub = loopback_endpoints()
        values: dict[str, Any] = {"rpc": rpc, "pub": pub, "data_dir": tmp_path / "hub", "heartbeat_interval": 0.2,
                                  "curve": True, "sim": {"auto_tick": False}}
        values.update(overrides)
        server = HubServer(HubConfig.from_dict(values)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
        assert server.wait(10), "hub loop did not end"


@pytest.fixture
def curve_hub(make_curve_hub, client_dirs) -> HubServer:
    return make_curve_hub()


@pytest.fixture(autouse=True)
def no_leaked_threads(monkeypatch):
    """No client socket thread and no ZAP authenticator thread outlives a test; no stray QMT_HUB_* setting."""
    for name in ("QMT_HUB", "QMT_HUB_PUB", "QMT_HUB_CURVE"):
        monkeypatch.delenv(name, raising=False)
    before = set(threading.enumerate())  # judged per test: a thread another test left is that test's failure

    def leaked() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before
                and (t.name.startswith("rpc-client") or "Authentication" in type(t).__name__)]
    yield
    assert wait_for(lambda: not leaked(), 5), [t.name for t in leaked()]
