"""Bad input never hurts the hub: each kind gets the right code, others keep trading."""

from __future__ import annotations

import msgpack
import pytest

from rpc_client.protocol import MAX_MESSAGE_SIZE, pack, request

from core_helpers import exchange_of  # noqa: F401

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10.5}


def raw_error(client, *frames):
    client.send_raw(*frames)
    reply = client.recv_reply()
    assert reply["ok"] is False
    return reply


@pytest.mark.parametrize("frames, code", [
    ((b"\xc1\xc1garbage",), "BAD_FRAME"),
    ((pack([1, 2, 3]),), "BAD_FRAME"),
    ((pack({"v": 1, "method": "ping", "params": {}}),), "BAD_FRAME"),  # no id
    ((pack({"v": 1, "id": 1.5, "method": "ping", "params": {}}),), "BAD_FRAME"),  # float id
    ((pack({"v": 1, "id": 3, "method": 7, "params": {}}),), "BAD_FRAME"),
    ((pack(request(1, "ping")), b"extra frame"), "BAD_FRAME"),
    ((pack({"v": 2, "id": 4, "method": "ping", "params": {}}),), "BAD_VERSION"),
    ((pack(request(5, "no_such_method")),), "UNKNOWN_METHOD"),
    ((pack(request(6, "query_stock_asset", {})),), "NO_SESSION"),
    ((b"x" * (MAX_MESSAGE_SIZE + 1),), "TOO_LARGE"),
])
def test_each_bad_frame_gets_its_code(hub, connect, frames, code):
    c = connect(hub, subscribe=False)
    reply = raw_error(c, *frames)
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    # the hub carries on
    assert c.call("ping")["hub_id"] == hub.hub_id


def test_bad_params_after_hello(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    cases = [
        ("order_stock", {**ORDER, "order_volume": "100"}, "order_volume"),
        ("order_stock", {**ORDER, "order_volume": True}, "order_volume"),
        ("order_stock", {k: v for k, v in ORDER.items() if k != "stock_code"}, "stock_code"),
        ("order_stock", {**ORDER, "colour": "red"}, "colour"),
        ("order_stock", {**ORDER, "client_order_id": "x" * 49}, "client_order_id"),
        ("cancel_order_stock", {"order_id": -1}, "order_id"),
        ("subscribe_quote", {"codes": []}, "codes"),
        ("subscribe_quote", {"codes": [1, 2]}, "codes"),
        ("replay", {"after": "zero"}, "after"),
    ]
    for method, params, name in cases:
        err = c.error(method, params)
        assert err["code"] == "INVALID_PARAMS", (method, params, err)
        assert name in err["message"]
    reply = raw_error(c, pack({"v": 1, "id": 99, "method": "order_stock", "params": "not a map"}))
    assert reply["id"] == 99 and reply["error"]["code"] == "INVALID_PARAMS"


def test_after_a_storm_of_bad_input_another_client_still_trades(hub, connect):
    bad = connect(hub, subscribe=False)
    bad.hello("vandal")
    good = connect(hub, subscribe=False)
    good.hello("alpha")
    junk = [b"", b"\x00", b"\xff" * 100, msgpack.packb({"v": 1, "id": None}), pack(request(1, "hello", {})),
            pack(request(2, "order_stock", {"stock_code": None})), pack({"id": {"nested": 1}})]
    for frame in junk * 20:
        bad.send_raw(frame)
    for _ in range(len(junk) * 20):
        assert bad.recv_reply()["ok"] is False
    r = good.call("order_stock", ORDER)
    assert r["order_id"] > 0
    st = good.call("status")
    assert st["counters"]["bad_frames"] >= 80
    assert st["counters"]["errors"]["INVALID_PARAMS"] >= 40
    assert st["counters"]["internal"] == 0


def test_oversized_above_hard_limit_drops_the_connection_not_the_hub(hub, connect):
    c = connect(hub, subscribe=False)
    c.send_raw(b"x" * (9 << 20))  # above HARD_MESSAGE_SIZE: libzmq drops the peer
    other = connect(hub, subscribe=False)
    other.hello("alpha")
    assert other.call("order_stock", ORDER)["order_id"] > 0


def test_a_crashing_handler_becomes_internal(hub, connect, monkeypatch):
    from hub.core import methods

    def boom(hub_, call, params):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(methods.HANDLERS, "query_stock_asset", boom)
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    err = c.error("query_stock_asset")
    assert err["code"] == "INTERNAL" and "kaboom" in err["message"]
    assert c.call("ping")["hub_id"] == hub.hub_id
