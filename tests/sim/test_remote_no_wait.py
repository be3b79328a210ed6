"""The remote trader's async calls only send; trading needs a connection attached to this simulator.

* `order_stock_async` / `cancel_order_stock_async` return their seq at once, even when the
  simulator is frozen; the answer is the `on_order_stock_async_response` push.
* A trading request on a connection that never attached to this server process (as a request
  queued for a simulator that died reaches its restarted successor on a new connection) is
  refused and runs nothing; its async response says so.
"""

from __future__ import annotations

import threading
import time

import msgpack
import pytest
import zmq

import hub.sim as sim
from hub.sim import XtQuantTrader, XtQuantTraderCallback
from hub.sim.server import SimServer
from tests.conftest import free_port

ACCOUNT = "SIM0001"


class _Account:
    account_id, account_type = ACCOUNT, 2


class Responses(XtQuantTraderCallback):
    def __init__(self):
        self.responses: list = []
        self.got = threading.Event()

    def on_order_stock_async_response(self, response):
        self.responses.append(response)
        self.got.set()


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "terminal"
    exchange = sim.get_exchange(folder, sim.SimConfig.from_dict({"auto_tick": False}))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    srv = SimServer(exchange, endpoint)
    srv.start()
    yield endpoint, exchange, srv
    srv.stop()
    sim.shutdown_exchange(folder)


def test_async_order_returns_at_once_and_is_answered_by_push(server):
    endpoint, exchange, srv = server
    cb = Responses()
    t = XtQuantTrader(endpoint, 101, cb)
    t.start()
    try:
        assert t.connect() == 0 and t.subscribe(_Account()) == 0
        with exchange.lock:  # the simulator cannot run the request meanwhile (as if frozen)
            t0 = time.monotonic()
            seq = t.order_stock_async(_Account(), "600000.SH", 23, 100, 11, 9.5, "s", "tag1")
            took = time.monotonic() - t0
            assert seq > 0 and took < 0.2, took
            time.sleep(0.3)
            assert cb.responses == []  # no answer while the simulator is held
        assert cb.got.wait(5)
        [resp] = cb.responses
        assert resp.seq == seq and resp.order_id > 0 and resp.order_remark == "tag1"
        assert [o["order_id"] for o in exchange.order_list(ACCOUNT)] == [resp.order_id]
    finally:
        t.stop()


def test_trading_on_a_connection_not_attached_here_is_refused(server):
    endpoint, exchange, srv = server
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    try:
        for rid, method, params in (
                (1, "subscribe", {"account_id": ACCOUNT, "account_type": 2}),
                (2, "place_order", {"account_id": ACCOUNT, "account_type": 2, "stock_code": "600000.SH",
                                    "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5,
                                    "strategy_name": "s", "order_remark": "stale", "seq": 5}),
                (3, "cancel", {"account_id": ACCOUNT, "order_id": 1, "seq": 6})):
            s.send(msgpack.packb({"id": rid, "method": method, "params": params}, use_bin_type=True))
            deadline = time.monotonic() + 5
            while True:
                assert s.poll(int(max(0.0, deadline - time.monotonic()) * 1000)), f"no reply to {method}"
                msg = msgpack.unpackb(s.recv(), raw=False)
                if msg.get("id") == rid:
                    break
            assert msg["ok"] is False and "not attached" in msg["error"], msg
    finally:
        s.close(0)
    assert exchange.order_list(ACCOUNT) in (None, [])


def test_a_refused_async_order_still_gets_its_response(server):
    endpoint, exchange, srv = server
    cb = Responses()
    t = XtQuantTrader(endpoint, 102, cb)
    t.start()
    try:
        assert t.connect() == 0 and t.subscribe(_Account()) == 0
        for sess in list(srv._sessions.values()):  # the simulator forgets this connection (as if restarted)
            exchange.detach(sess)
        seq = t.order_stock_async(_Account(), "600000.SH", 23, 100, 11, 9.5, "s", "tag2")
        assert seq > 0
        assert cb.got.wait(5)
        [resp] = cb.responses
        assert resp.seq == seq and resp.order_id == -1 and "not attached" in resp.error_msg
        assert exchange.order_list(ACCOUNT) == []
    finally:
        t.stop()
