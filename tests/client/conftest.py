"""Fixtures for client tests: a scripted fake hub on free ports and fast-heartbeat gateways."""

from __future__ import annotations

import socket
import time

import pytest

from fakehub import FakeHub
from rpc_client import RpcGateway


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: fast liveness settings so reconnect tests finish in a second or two
FAST = dict(heartbeat_interval=0.1, dead_after=0.6, backoff_initial=0.1, backoff_max=0.4)


@pytest.fixture
def fake_hub():
    hub = FakeHub(f"tcp://127.0.0.1:{_free_port()}", f"tcp://127.0.0.1:{_free_port()}", heartbeat=0.1).start()
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


def wait_for(pred, timeout: float = 5.0, interval: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


@pytest.fixture
def free_rpc() -> str:
    return f"tcp://127.0.0.1:{_free_port()}"


@pytest.fixture(autouse=True)
def no_leaked_client_threads():
    """Every test closes what it opens: no socket or callback thread of the client survives it."""
    import threading

    yield
    from rpc_client import xtdata

    xtdata.close()
    assert wait_for(lambda: not [t for t in threading.enumerate() if t.name.startswith("rpc-client")], 5), \
        [t.name for t in threading.enumerate()]
