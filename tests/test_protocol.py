"""The protocol tables: envelopes, validation, and docs/protocol.md matching the code."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from rpc_client import protocol as p

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def test_pack_roundtrip_and_garbage_is_a_value_error():
    msg = p.request(7, "ping")
    assert p.unpack(p.pack(msg)) == msg
    with pytest.raises(ValueError):
        p.unpack(b"\xc1\xc1 not msgpack")


def test_validation_reports_what_was_wrong():
    m = p.METHODS["order_stock"]
    good = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10}
    assert m.validate(good)["price"] == 10.0
    cases = [
        ({**good, "order_volume": -5}, "order_volume"),
        ({**good, "order_volume": True}, "order_volume"),
        ({**good, "price": math.nan}, "price"),
        ({**good, "stock_code": "junk"}, "stock_code"),
        ({k: v for k, v in good.items() if k != "order_type"}, "order_type"),
        ({**good, "colour": "red"}, "colour"),
    ]
    for params, name in cases:
        with pytest.raises(p.HubError) as info:
            m.validate(params)
        assert info.value.code == p.ErrorCode.INVALID_PARAMS
        assert name in info.value.message


def test_strategy_names_reserved_prefix_refused():
    hello = p.METHODS["hello"]
    with pytest.raises(p.HubError):
        hello.validate({"protocol": 1, "strategy": "_external"})
    assert hello.validate({"protocol": 1, "strategy": "alpha-1"})["role"] == "strategy"


def test_streams_and_visibility():
    assert p.stream_of("order.alpha") == "alpha"
    assert p.stream_of("position") == p.ACCOUNT_STREAM
    assert p.stream_of("hub.client") == p.HUB_STREAM
    assert p.visible_to("order.alpha", "strategy", "alpha")
    assert not p.visible_to("order.alpha2", "strategy", "alpha")
    assert not p.visible_to("hub.client", "strategy", "alpha")
    assert p.visible_to("order.alpha2", "monitor", "m")


def _doc_table_names(heading: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    names = set()
    for line in section.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            names.add(m.group(1))
    return names


def test_doc_lists_every_method_and_nothing_else():
    assert _doc_table_names("### Methods") == set(p.METHODS)


def test_doc_lists_every_error_code():
    assert _doc_table_names("## Error codes") == set(p.WIRE_ERROR_CODES)


def test_doc_lists_every_topic():
    documented = {name.split(".<")[0] for name in _doc_table_names("## Events")}
    assert documented == set(p.ALL_TOPICS)
