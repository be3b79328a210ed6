"""Fixtures for the monitor tests: a real hub (in-process, simulated broker) and its strategies."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def live_hub(tmp_path, endpoints):
    """A started HubServer with the in-process simulator on free ports; stopped at teardown."""
    from hub.config import HubConfig
    from hub.core import HubServer

    rpc, pub = endpoints
    server = HubServer(HubConfig.from_dict({
        "rpc": rpc, "pub": pub, "data_dir": tmp_path / "hub", "heartbeat_interval": 0.2,
        "reconnect_interval": 3600.0,  # a stopped broker stays down until the test says otherwise
        "sim": {"auto_tick": False},
        "risk": {"static_checks": False},  # the 150-share buy must reach the broker and be rejected there
    })).start()
    yield server
    server.stop()
    assert server.wait(10), "hub loop did not end"


@pytest.fixture
def gateways():
    """gateways(rpc, name, role='strategy', token=None) -> a connected RpcGateway; all closed at teardown."""
    from rpc_client import RpcGateway

    made: list = []

    def make(rpc: str, pub: str, name: str, role: str = "strategy", token: str | None = None) -> RpcGateway:
        gw = RpcGateway(rpc, pub, timeout=5.0)
        gw.connect(strategy=name, role=role, token=token)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()
