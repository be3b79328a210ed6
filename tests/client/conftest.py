"""Fixtures for client tests: a scripted fake hub on free ports and fast-heartbeat gateways."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client_fakehub import FakeHub  # noqa: E402
from client_helpers import FAST, free_port, wait_for  # noqa: E402

from rpc_client import RpcGateway  # noqa: E402


@pytest.fixture
def fake_hub():
    hub = FakeHub(f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}", heartbeat=0.1).start()
    yield hub
    hub.close()


@pytest.fixture
def make_gw(fake_hub):
    made = []

    def make(**kw) -> RpcGateway:
        opts = {**FAST, "timeout": 2.0, **kw}
        gw = RpcGateway(fake_hub.rpc, fake_hub.pub, **opts)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()


@pytest.fixture
def free_rpc() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


@pytest.fixture(autouse=True)
def no_leaked_client_threads():
    """Every test closes what it opens: no socket or callback thread of the client survives it."""
    yield
    from rpc_client import xtdata

    xtdata.close()
    assert wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("rpc-client")], 5), \
        [t.name for t in threading.enumerate()]
