"""Fixtures: a hub in a background thread on free ports with the in-process simulator."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core_helpers import RawClient, free_port  # noqa: E402

from hub.config import HubConfig  # noqa: E402
from hub.core import HubServer  # noqa: E402


@pytest.fixture
def make_hub(tmp_path: Path) -> Callable[..., HubServer]:
    """make_hub(data_dir=None, **config) -> a started HubServer; all are stopped at teardown."""
    started: list[HubServer] = []

    def make(data_dir: Path | None = None, **overrides: Any) -> HubServer:
        values: dict[str, Any] = {
            "rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
            "data_dir": data_dir or tmp_path / "hub", "heartbeat_interval": 0.2,
            "sim": {"auto_tick": False},
            # the hub core's tests provoke the broker's own rejections (odd lots, bad ticks): the
            # risk stage's static checks (tested in tests/risk) would answer them first
            "risk": {"static_checks": False},
        }
        values.update(overrides)
        server = HubServer(HubConfig.from_dict(values)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
        assert server.wait(10), "hub loop did not end"


@pytest.fixture
def hub(make_hub) -> HubServer:
    return make_hub()


@pytest.fixture
def connect() -> Callable[..., RawClient]:
    """connect(hub, subscribe=True) -> RawClient (DEALER, plus SUB on everything); closed at teardown."""
    made: list[RawClient] = []

    def make(server: HubServer, subscribe: bool = True, **kw: Any) -> RawClient:
        client = RawClient(server.config.rpc, server.config.pub if subscribe else None, **kw)
        made.append(client)
        if subscribe:
            client.wait_connected()
        return client

    yield make
    for c in made:
        c.close()

