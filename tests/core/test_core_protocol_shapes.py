"""The protocol table is true: a real hub's results and events carry the keys and fields that
rpc_client/protocol.py (and so docs/protocol.md, which tests/test_protocol.py holds to it) lists."""

from __future__ import annotations

import re

from rpc_client.protocol import EVENTS, METHODS, PAYLOAD_FIELDS, RECORD_FIELDS, Topic, split_topic

BUY, FIX = 23, 11


def _keys(method: str) -> set[str]:
    text = METHODS[method].result
    inner = text[text.index("{") + 1:text.rindex("}")]
    depth, cur, out = 0, "", []
    for ch in inner:
        depth += ch in "{[("
        depth -= ch in "}])"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return {re.split(r"[:\s]", x.strip(), maxsplit=1)[0] for x in out} - {"...", ""}


def _record(method: str) -> str:
    return re.search(r"(Xt\w+) map", METHODS[method].result).group(1)


def test_results_have_the_tables_keys(hub, connect):
    c = connect(hub, subscribe=False)
    hello = c.hello("alpha")
    assert set(hello) == _keys("hello")
    assert set(c.call("ping")) == _keys("ping")
    placed = c.call("order_stock", {"stock_code": "600000.SH", "order_type": BUY, "order_volume": 100,
                                    "price_type": FIX, "price": 9.5})
    assert set(placed) == _keys("order_stock")
    cancel = c.call("cancel_order_stock", {"order_id": placed["order_id"]})
    assert set(cancel) == _keys("cancel_order_stock") and cancel["cancel_result"] == 0, (cancel, c.call("query_stock_order", {"order_id": placed["order_id"]}))
    again = c.call("cancel_order_stock", {"order_id": placed["order_id"]})  # now final: refused, not an error
    assert set(again) == _keys("cancel_order_stock")
    assert again["cancel_result"] != 0 and again["error_msg"]  # a normal reply, not BROKER_ERROR, and then:
    err = c.wait_event(lambda t, p: t == "error.alpha" and p["data"]["kind"] == "cancel")
    assert err["data"]["order_id"] == placed["order_id"]
    assert set(c.call("status")) >= _keys("status")
    assert set(c.call("replay", {"after": 0})) == _keys("replay")
    for method in ("query_stock_asset", "query_stock_order", "query_stock_orders", "query_stock_positions",
                   "query_account_status", "query_account_infos"):
        params = {"order_id": placed["order_id"]} if method == "query_stock_order" else {}
        result = c.call(method, params)
        for item in result if isinstance(result, list) else [result]:
            assert set(item) >= set(RECORD_FIELDS[_record(method)]), (method, set(RECORD_FIELDS[_record(method)])
                                                                       - set(item))
    ticks = c.call("get_full_tick", {"codes": ["600000.SH"]})
    assert set(ticks["600000.SH"]) >= set(RECORD_FIELDS["tick"])


def test_events_have_the_tables_fields(hub, connect):
    mon = connect(hub)  # the SUB for the heartbeat
    mon.hello("watch", role="monitor")
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    order = {"stock_code": "600000.SH", "order_type": BUY, "order_volume": 100, "price_type": FIX, "price": 10.5}
    c.call("order_stock", order)
    c.call("order_stock", {**order, "order_volume": 150})  # rejected: an error event
    for topic in ("order.alpha", "trade.alpha", "error.alpha", "position", "asset", "hub.client", "hub.heartbeat"):
        mon.wait_event(lambda t, p, topic=topic: t == topic)
    seen: set[str] = set()
    for ev in mon.events:
        kind, _ = split_topic(ev["_topic"])
        spec = EVENTS[kind]
        seen.add(kind)
        assert set(ev) - {"_topic", "_socket"} >= set(PAYLOAD_FIELDS) | set(spec.payload), kind
        assert (ev["seq"] is not None) == spec.journaled, kind
        data = set(ev["data"])
        if spec.records:
            assert any(data >= set(RECORD_FIELDS[r]) for r in spec.records), (kind, data)
        assert data >= set(spec.fields), (kind, set(spec.fields) - data)
        if kind == Topic.HEARTBEAT:
            assert data == set(spec.fields)  # public: nothing more than the table says
    assert seen >= {"order", "trade", "error", "position", "asset", "hub.client", "hub.heartbeat"}
