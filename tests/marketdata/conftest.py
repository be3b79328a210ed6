"""Fixtures: one hub on the in-process simulator per module, and rpc_client.xtdata pointed at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from hub.config import HubConfig
from hub.core import HubServer
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)




def start_hub(data_dir: Path, **sim: Any) -> HubServer:
    cfg = HubConfig.from_dict({
        "rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}", "data_dir": data_dir,
        "heartbeat_interval": 0.2, "sim": {"auto_tick": False, "start_time": "2026-12-02 10:00:00", **sim},
    })
    return HubServer(cfg).start()


@pytest.fixture(scope="module")
def md_hub(tmp_path_factory) -> Iterator[HubServer]:
    hub = start_hub(tmp_path_factory.mktemp("mdhub"))
    yield hub
    hub.stop()
    assert hub.wait(10)


@pytest.fixture
def xtdata(md_hub, monkeypatch):
    """rpc_client.xtdata connected to the module's hub; closed after the test."""
    from rpc_client import xtdata as xd

    monkeypatch.setenv("QMT_HUB", md_hub.config.rpc)
    monkeypatch.setenv("QMT_HUB_PUB", md_hub.config.pub)
    xd.close()
    yield xd
    xd.close()
