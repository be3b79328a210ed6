"""RpcGateway against the scripted fake hub: calls, results, errors, order retries."""

from __future__ import annotations

import threading
import time

import pytest

from client_helpers import wait_for
from rpc_client import ErrorCode, HubError, RpcGateway, XtAsset, XtOrder, XtPosition


def test_connect_and_query(make_gw, fake_hub):
    gw = make_gw()
    hello = gw.connect(strategy="alpha")
    assert hello["account_id"] == "1000000365" and gw.account_id == "1000000365"
    assert gw.connected and gw.hub_id == fake_hub.hub_id
    asset = gw.query_stock_asset()
    assert isinstance(asset, XtAsset) and asset.cash == 1e6 and asset.to_dict()["total_asset"] == 1e6
    pos = gw.query_stock_position("600000.SH")
    assert isinstance(pos, XtPosition) and pos.volume == 200 and pos.can_use_volume == 100
    assert gw.query_stock_position("000001.SZ") is None
    assert [p.stock_code for p in gw.query_stock_positions()] == ["600000.SH"]
    assert gw.query_account_status()[0].status == 0
    assert gw.query_account_infos()[0].account_id == "1000000365"
    assert gw.get_full_tick(["600000.SH"]) == {"600000.SH": {"lastPrice": 10.0, "time": 0}}
    assert gw.status()["hub_id"] == fake_hub.hub_id
    assert gw.call("status")["account_id"] == "1000000365"


def test_order_sends_client_order_id_and_returns_int(make_gw, fake_hub):
    gw = make_gw()
    gw.connect(strategy="alpha")
    oid = gw.order_stock("600000.SH", 23, 100, 11, 10.5, "r1")
    assert isinstance(oid, int) and oid > 1000
    sent = fake_hub.methods("order_stock")[-1]
    assert len(sent["client_order_id"]) == 32 and sent["order_remark"] == "r1" and sent["price"] == 10.5
    # the same client_order_id twice: the hub deduplicates, the client returns the first id
    a = gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id="mine-1")
    b = gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id="mine-1")
    assert a == b and fake_hub.broker_orders == 2
    orders = gw.query_stock_orders()
    assert all(isinstance(o, XtOrder) for o in orders) and {o.order_id for o in orders} == {oid, a}
    assert gw.cancel_order_stock(oid) == 0
    assert gw.cancel_order_stock_sysid(0, "123") == 0


def test_order_timeout_is_retried_with_the_same_client_order_id(make_gw, fake_hub):
    gw = make_gw(timeout=0.4)
    gw.connect(strategy="alpha")
    fake_hub.swallow_orders = 2  # the first two attempts get no reply
    fut = gw.order_stock_async("600000.SH", 23, 100, 11, 10.5)
    oid = fut.result(5)
    sent = fake_hub.methods("order_stock")
    assert len(sent) == 3 and len({s["client_order_id"] for s in sent}) == 1
    assert sent[0]["client_order_id"] == fut.client_order_id
    assert fake_hub.broker_orders == 1 and oid == 1001


def test_order_gives_up_after_attempts_with_a_clear_error(make_gw, fake_hub):
    gw = make_gw(timeout=0.3)
    gw.connect(strategy="alpha")
    fake_hub.swallow_orders = 10
    t0 = time.monotonic()
    with pytest.raises(HubError) as info:
        gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id="c-9")
    assert info.value.code == ErrorCode.TIMEOUT
    assert 0.8 < time.monotonic() - t0 < 3
    msg = info.value.message
    assert "order_stock" in msg and fake_hub.rpc in msg and "hub start" in msg and "c-9" in msg
    assert "3 attempts" in msg
    assert len(fake_hub.methods("order_stock")) == 3


def test_hub_errors_raise_hub_error(make_gw, fake_hub):
    gw = make_gw()
    gw.connect(strategy="alpha")
    with pytest.raises(HubError) as info:
        gw.query_stock_order(404)
    assert info.value.code == ErrorCode.UNKNOWN_ORDER and "404" in info.value.message
    fake_hub.order_error = (ErrorCode.UNKNOWN_OUTCOME, "broker connection dropped")
    with pytest.raises(HubError) as info:
        gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id="u-1")
    assert info.value.code == ErrorCode.UNKNOWN_OUTCOME and "query" in info.value.message
    assert info.value.data["client_order_id"] == "u-1"


def test_bad_params_fail_fast_without_a_round_trip(make_gw, fake_hub):
    gw = make_gw()
    gw.connect(strategy="alpha")
    n = len(fake_hub.requests)
    with pytest.raises(HubError) as info:
        gw.order_stock("junk", 23, 100, 11, 10.5)
    assert info.value.code == ErrorCode.INVALID_PARAMS and "stock_code" in info.value.message
    with pytest.raises(HubError) as info:
        gw.order_stock("600000.SH", 23, -1, 11, 10.5)
    assert "order_volume" in info.value.message
    with pytest.raises(HubError) as info:
        gw.call("no_such_method")
    assert info.value.code == ErrorCode.UNKNOWN_METHOD
    assert len(fake_hub.requests) == n


def test_numpy_like_scalars_are_sent_as_plain_values(make_gw, fake_hub):
    class Scalar:  # what numpy.int64 / float64 look like to msgpack: an object with .item()
        def __init__(self, v):
            self.v = v

        def item(self):
            return self.v

    gw = make_gw()
    gw.connect(strategy="alpha")
    assert gw.order_stock("600000.SH", 23, Scalar(100), 11, Scalar(10.5)) > 0
    assert fake_hub.methods("order_stock")[-1]["order_volume"] == 100


def test_no_hub_times_out_with_advice(free_rpc):
    gw = RpcGateway(free_rpc, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(HubError) as info:
        gw.connect(strategy="alpha")
    assert time.monotonic() - t0 < 3
    assert info.value.code == ErrorCode.TIMEOUT
    assert free_rpc in info.value.message and "hub start" in info.value.message and "--rpc" in info.value.message
    gw.close()


def test_calls_before_connect_and_after_close_fail_with_closed(make_gw):
    gw = make_gw()
    with pytest.raises(HubError) as info:
        gw.query_stock_asset()
    assert info.value.code == ErrorCode.CLOSED and "connect" in info.value.message
    gw.connect(strategy="alpha")
    gw.close()
    with pytest.raises(HubError) as info:
        gw.query_stock_asset()
    assert info.value.code == ErrorCode.CLOSED


def test_name_taken_and_bad_name(make_gw, fake_hub):
    a = make_gw()
    a.connect(strategy="alpha")
    b = make_gw()
    with pytest.raises(HubError) as info:
        b.connect(strategy="alpha")
    assert info.value.code == ErrorCode.NAME_TAKEN
    with pytest.raises(HubError) as info:
        make_gw().connect(strategy="bad name!")
    assert info.value.code == ErrorCode.INVALID_PARAMS


def test_async_callback_runs_on_the_callback_thread(make_gw):
    gw = make_gw()
    gw.connect(strategy="alpha")
    got = []
    done = threading.Event()

    def cb(fut):
        got.append((fut.result().cash, threading.current_thread().name))
        done.set()

    fut = gw.query_stock_asset_async(callback=cb)
    assert done.wait(3)
    assert got == [(1e6, "rpc-client-callbacks")]
    assert fut.result().cash == 1e6


def test_blocking_call_inside_a_callback_does_not_deadlock(make_gw, fake_hub):
    gw = make_gw()
    results = []
    gw.on_stock_asset = lambda asset: results.append(gw.query_stock_asset().cash)
    gw.connect(strategy="alpha")
    fake_hub.publish("asset", {"cash": 5.0})
    assert wait_for(lambda: results == [1e6], 3)


def test_many_calls_in_flight_from_many_threads(make_gw, fake_hub):
    gw = make_gw()
    gw.connect(strategy="alpha")
    fake_hub.reply_delay = 0.05
    out = []

    def worker():
        for _ in range(10):
            out.append(gw.query_stock_asset().cash)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert out == [1e6] * 80


def test_importing_the_client_imports_neither_xtquant_nor_hub():
    import subprocess
    import sys

    code = ("import sys, rpc_client, rpc_client.xttrader, rpc_client.xtdata; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('xtquant', 'hub')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
