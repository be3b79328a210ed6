"""Fixtures: a hub in a background thread with the in-process simulator; raw clients."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "core"))

from core_helpers import RawClient, free_port  # noqa: E402

from hub.config import HubConfig  # noqa: E402


@pytest.fixture
def make_hub(tmp_path: Path) -> Callable[..., Any]:
    """make_hub(data_dir=None, **config) -> a started HubServer; all are stopped at teardown."""
    from hub.core import HubServer

    started: list[Any] = []

    def make(data_dir: Path | None = None, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
            "data_dir": data_dir or tmp_path / "hub", "heartbeat_interval": 0.2,
            "sim": {"auto_tick": False, "starting_positions": {"600000.SH": 5000}},
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
def connect() -> Callable[..., RawClient]:
    made: list[RawClient] = []

    def make(server: Any, name: str | None = None, role: str = "strategy", subscribe: bool = False,
             **hello: Any) -> RawClient:
        client = RawClient(server.config.rpc, server.config.pub if subscribe else None)
        made.append(client)
        if subscribe:
            client.wait_connected()
        if name is not None:
            if role == "admin":
                hello.setdefault("token", server.token)
            client.hello(name, role=role, **hello)
        return client

    yield make
    for c in made:
        c.close()
