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


# ---- the page and the tables, field by field (issue 9 item 11) ----------------------------------

def _section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    return re.split(r"\n## ", section, maxsplit=1)[0]


def _rows(heading: str) -> dict[str, list[str]]:
    """First-column name -> the row's cells, for the table rows of a section."""
    rows = {}
    for line in _section(heading).splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    return rows


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets and parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def _map_keys(text: str) -> tuple[frozenset, bool]:
    """Top-level keys of '{a, b: {...}, c: [x], ...}' and whether it is open ('...')."""
    text = text.strip()
    assert text.startswith("{"), text
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "{[("
        depth -= ch in "}])"
        if depth == 0:
            break
    inner = text[1:i]
    keys = {re.split(r"[:\s]", item, maxsplit=1)[0] for item in _split_top(inner)}
    return frozenset(keys - {"...", ""}), "..." in keys


def _result_shape(text: str) -> tuple:
    """What a result description promises: ('map', keys, open), ('record'|'list', Xt name), or the text."""
    text = text.strip()
    m = re.match(r"^(\[?)\s*(Xt\w+) map\s*(\]?)", text)
    if m:
        return ("list" if m.group(1) else "record", m.group(2))
    if text.startswith("{"):
        return ("map",) + _map_keys(text)
    if text.startswith("["):
        return ("list", text[:text.index("]") + 1])
    return ("other", text)


def _doc_result(cell: str) -> str:
    m = re.match(r"`([^`]*)`", cell)
    return m.group(1) if m else cell


_TYPE_WORDS = {"str": str, "int": int, "float": float, "bool": bool, "map": dict}


def _doc_params(cell: str) -> dict[str, tuple[bool, type | None]]:
    """name -> (required, type) from a params cell: `name` type, *`optional`* type, `a` / `b` type."""
    if cell.strip() in ("–", "-", ""):
        return {}
    same = re.match(r"the parameters of `(\w+)`", cell)
    if same:
        return {p.name: (p.required, None) for p in METHODS[same.group(1)].params}
    out: dict[str, tuple[bool, type | None]] = {}
    for item in _split_top(cell):
        names = re.findall(r"(\*?)`(\w+)`(\*?)", item.split(" (")[0].split(":")[0].split(" =")[0])
        typed = re.search(r"`\*?\s+(\[|str|int|float|bool|map)", item)
        kind = None if typed is None else (list if typed.group(1) == "[" else _TYPE_WORDS[typed.group(1)])
        head = item.split("`")[0].strip()
        assert head in ("", "*"), f"a params item that does not start with a name: {item!r}"
        chain = [n for n in names if item.find(f"`{n[1]}`") < (item.find(" / ") + 6 if " / " in item else 10**6)]
        for star, name, _ in (chain if " / " in item else names[:1]):
            out[name] = (star != "*", kind)
    return out


METHODS = p.METHODS


def test_doc_methods_have_the_tables_parameters_required_and_types():
    rows = _rows("### Methods")
    for name, method in METHODS.items():
        doc = _doc_params(rows[name][2])
        table = {q.name: q for q in method.params}
        assert set(doc) == set(table), (name, sorted(doc), sorted(table))
        for pname, (required, kind) in doc.items():
            assert required == table[pname].required, (name, pname, "required" if required else "optional")
            if kind is not None:
                assert kind in table[pname].types, (name, pname, kind, table[pname].types)


def test_doc_methods_have_the_tables_result_keys():
    rows = _rows("### Methods")
    for name, method in METHODS.items():
        assert _result_shape(_doc_result(rows[name][3])) == _result_shape(method.result), name


def test_doc_methods_have_the_tables_roles():
    words = {"all": set(p.ROLES), "strategy": {"strategy"}, "monitor": {"monitor"}, "admin": {"admin"}}
    for name, cells in _rows("### Methods").items():
        roles: set[str] = set()
        for w in _split_top(cells[1]):
            roles |= words[w]
        assert roles == set(METHODS[name].roles), name


def test_doc_events_have_the_tables_stream_journaling_and_fields():
    rows = {name.split(".<")[0]: cells for name, cells in _rows("## Events").items()}
    assert set(rows) == set(p.EVENTS)
    for kind, spec in p.EVENTS.items():
        topic, stream, journaled, data = rows[kind]
        assert stream.strip("`").replace("–", "-") == spec.stream, kind
        assert journaled.startswith("yes") == spec.journaled, kind
        main = data.split(";")[0]
        records = tuple(r for r in re.findall(r"\b(Xt\w+|tick)\b", main.split("`")[0]))
        assert records == spec.records, (kind, records)
        if "`{" in main:
            keys, _open = _map_keys(main[main.index("`{") + 1:])
        else:
            keys = frozenset(re.findall(r"`(\w+)`", main))
        assert keys == set(spec.fields), (kind, sorted(keys), spec.fields)
        adds = re.search(r"payload adds (.*)", data)
        assert frozenset(re.findall(r"`(\w+)`", adds.group(1)) if adds else ()) == set(spec.payload), kind


def test_doc_records_list_the_tables_fields_and_the_client_records_agree():
    from rpc_client import records

    rows = _rows("## Records")
    assert set(rows) == set(p.RECORD_FIELDS)
    for name, fields in p.RECORD_FIELDS.items():
        assert tuple(re.findall(r"`(\w+)`", rows[name][1])) == fields, name
        for spec in p.EVENTS.values():
            assert set(spec.records) <= set(p.RECORD_FIELDS)
        if name != "tick":
            assert tuple(getattr(records, name).FIELDS) == fields, name


def test_doc_xtquant_values_are_xtquants():
    from rpc_client import xt

    section = _section("## xtquant values a client needs to trade")
    pairs = re.findall(r"\|\s*`(\d+)`\s*\|\s*`([A-Z_0-9]+)`\s*\|", section)
    pairs += re.findall(r"`(\d+)` `([A-Z_0-9]+)`", section)
    assert len(pairs) >= 20
    for value, name in pairs:
        assert getattr(xt, name) == int(value), name
    for value, name in pairs:
        if name.startswith("ORDER_"):
            group = re.search(rf"`{value}` \| `{name}` \| [^|]+\| ([^|]+)\|", section).group(1).strip()
            v = int(value)
            assert ("final" in group) == (v in xt.FINAL) and ("open" in group) == xt.is_open(v), name
            assert ("cancel pending" in group) == (v in xt.CANCEL_PENDING), name


def test_invalid_params_data_takes_the_documented_shapes():
    section = _section("## Writing a long-running client")
    documented = {frozenset(_map_keys(m)[0]) for m in re.findall(r"\| `(\{[^`]*\})` \|", section)}
    order = METHODS["order_stock"]
    good = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11}
    shapes = []
    for params in ({**good, "colour": "red"}, {**good, "order_volume": "many"},
                   {k: v for k, v in good.items() if k != "stock_code"}):
        with pytest.raises(p.HubError) as info:
            order.validate(params)
        shapes.append(frozenset(info.value.data))
    assert shapes == [frozenset({"params"}), frozenset({"param"}), frozenset({"param"})]
    assert set(shapes) <= documented
    assert frozenset({"client_order_id", "params", "first", "order_id"}) in documented  # hub/core/orders.py
    with pytest.raises(p.HubError) as info:
        order.validate(["not", "a", "map"])
    assert info.value.data == {}
