"""Robustness of rpc_client (it handles real money): callbacks that fail, waits that must end, threads.

Each test with a "Fix:" docstring failed before that fix; the close() tests are guards."""

from __future__ import annotations

import threading
import time

import pytest

from client_helpers import wait_for
from rpc_client import ErrorCode, HubError


def _in_thread(fn, limit: float = 15.0):
    """Run fn in a daemon thread; return (finished, result-or-exception) so a hang fails instead of blocking."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036
            box["value"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    return not t.is_alive(), box.get("value")


def test_a_raising_callback_does_not_cost_on_event_the_same_event(make_gw, fake_hub):
    """Fix: each callback of an event runs on its own; on_stock_order raising used to skip on_event."""
    orders, raw, ticks = [], [], []

    def bad_order(o):
        orders.append(o.order_id)
        raise ValueError("strategy bug")

    gw = make_gw()
    gw.on_stock_order = bad_order
    gw.on_tick = lambda code, tick: 1 / 0
    gw.on_event = lambda topic, payload: raw.append(topic) if topic != "hub.heartbeat" else None
    gw.connect(strategy="alpha")
    gw.subscribe_quote(["600000.SH"])
    time.sleep(0.2)
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("order.alpha", {"order_id": 2})
    fake_hub.tick("600000.SH", 1)
    assert wait_for(lambda: raw == ["order.alpha", "order.alpha", "tick.600000.SH"], 3), raw
    assert orders == [1, 2]
    assert gw._dispatcher.errors == 3  # logged and counted


@pytest.mark.parametrize("exc", [SystemExit, KeyboardInterrupt])
def test_sys_exit_in_a_callback_does_not_kill_the_callback_thread(make_gw, fake_hub, exc):
    """Fix: the dispatcher caught Exception only; SystemExit / KeyboardInterrupt ended the thread and
    every later event (and future callback) was silently lost."""
    got = []

    def on_order(o):
        got.append(o.order_id)
        if o.order_id == 1:
            raise exc()

    gw = make_gw()
    gw.on_stock_order = on_order
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1})
    fake_hub.publish("order.alpha", {"order_id": 2})
    assert wait_for(lambda: got == [1, 2], 3), got
    assert gw._dispatcher.alive
    done = []
    gw.query_stock_asset_async(callback=lambda f: done.append(f.result().cash))
    assert wait_for(lambda: done == [1e6], 3)


def test_a_call_never_waits_forever_when_the_socket_thread_does_not_answer(make_gw, fake_hub):
    """Fix: blocking calls waited on fut.result() with no timeout; a lost command (socket thread stuck
    or gone) hung the caller forever. Now bounded by the call's timeout(s) plus a grace."""
    gw = make_gw(timeout=0.3)
    gw.connect(strategy="alpha")
    gw.wait_grace = 0.5
    gw._transport._send_cmd = lambda *cmd: None  # the socket thread never sees the call
    t0 = time.monotonic()
    finished, result = _in_thread(gw.query_stock_asset, 10)
    assert finished, "query_stock_asset hung"
    assert isinstance(result, HubError) and result.code == ErrorCode.TIMEOUT and "query_stock_asset" in \
        result.message
    assert time.monotonic() - t0 < 3
    finished, result = _in_thread(lambda: gw.order_stock("600000.SH", 23, 100, 11, 10.5), 10)
    assert finished and isinstance(result, HubError) and result.code == ErrorCode.TIMEOUT  # 3 x 0.3 + 0.5
    finished, result = _in_thread(lambda: gw.subscribe_quote(["600000.SH"]), 10)
    assert finished and isinstance(result, HubError) and result.code == ErrorCode.TIMEOUT
    del gw._transport._send_cmd  # let close() reach the socket thread again


def test_concurrent_connect_opens_one_session_and_leaks_nothing(make_gw, fake_hub):
    """Fix: two threads calling connect() at once both built a transport; one leaked its threads and
    sockets (and the loser's cleanup could close the winner's). Now serialized: one wins, one is told."""
    gw = make_gw()
    barrier = threading.Barrier(4)
    results: list = []

    def go():
        barrier.wait()
        try:
            results.append(gw.connect(strategy="alpha")["hub_id"])
        except HubError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert sorted(map(str, results)) == sorted([fake_hub.hub_id] + [ErrorCode.CLOSED] * 3), results
    assert gw.connected and gw.query_stock_asset().cash == 1e6
    sockets = [t for t in threading.enumerate() if t.name == "rpc-client-sockets"]
    assert len(sockets) == 1, [t.name for t in threading.enumerate()]
    # the conftest's autouse check then proves close() leaves no client thread behind


def test_close_is_bounded_when_a_callback_hangs(make_gw, fake_hub):
    release = threading.Event()
    gw = make_gw()
    gw.on_stock_order = lambda o: release.wait(30)
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1})
    time.sleep(0.2)
    t0 = time.monotonic()
    finished, _ = _in_thread(gw.close, 10)
    assert finished and time.monotonic() - t0 < 5
    release.set()


def test_close_from_inside_a_callback(make_gw, fake_hub):
    closed = []
    gw = make_gw()

    def on_order(o):
        gw.close()
        closed.append(True)

    gw.on_stock_order = on_order
    gw.connect(strategy="alpha")
    fake_hub.publish("order.alpha", {"order_id": 1})
    assert wait_for(lambda: closed == [True], 5)
    assert not gw.connected
