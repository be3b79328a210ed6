"""The bounds of the protocol table hold for every method and parameter (issue 9, "make the class
of defect impossible"): a parameter added to the table without a bound fails here."""

from __future__ import annotations

import math

import pytest

from rpc_client import protocol as p

PARAMS = [(m.name, prm) for m in p.METHODS.values() for prm in m.params]


def _refused(method: p.Method, name: str, value) -> p.HubError:
    with pytest.raises(p.HubError) as info:
        method.params[[x.name for x in method.params].index(name)].validate({name: value})
    return info.value


@pytest.mark.parametrize("method_name, param", PARAMS, ids=[f"{m}.{x.name}" for m, x in PARAMS])
def test_every_parameter_is_bounded(method_name, param):
    method = p.METHODS[method_name]
    if int in param.types and bool not in param.types or float in param.types:
        for value in (1 << 63, -(1 << 63) - 1, (1 << 64) - 1):
            err = _refused(method, param.name, value)
            assert err.code == p.ErrorCode.INVALID_PARAMS and param.name in err.message
            assert len(err.message) < 200
        lo, hi = param.bounds()
        assert p.INT64_MIN <= lo <= hi <= p.INT64_MAX
    if float in param.types:
        for value in (math.nan, math.inf, -math.inf, 1e308):
            assert _refused(method, param.name, value).code == p.ErrorCode.INVALID_PARAMS
    if str in param.types:
        limit = param.length_limit()
        assert limit is not None and limit <= p.MAX_STR_BYTES
        err = _refused(method, param.name, "x" * (limit + 1))
        assert err.code == p.ErrorCode.INVALID_PARAMS and len(err.message) < 200
    if list in param.types:
        assert param.length_limit() is not None
    if dict in param.types:
        # a map is either cut before anything stores it (clean) or refused when large (check)
        assert param.clean is not None or param.check is not None, f"{method_name}.{param.name}: unbounded map"
        big = {f"k{i}": "v" * 1000 for i in range(500)}
        try:
            cleaned = param.validate({param.name: big})
        except p.HubError as err:
            assert err.code == p.ErrorCode.INVALID_PARAMS
        else:
            assert len(cleaned) <= p.FREE_MAP_KEYS + 1 and len(p.pack(cleaned)) < 16 << 10


def test_wrong_types_are_described_in_bounded_text():
    method = p.METHODS["order_stock"]
    deep: list = []
    for _ in range(5000):  # deeper than Python's recursion limit: repr() of it would fail
        deep = [deep]
    for value in (deep, "x" * 100_000, {"k": "v" * 100_000}, b"\x00" * 100_000, 10 ** 5000):
        err = _refused(method, "stock_code", value)
        assert err.code == p.ErrorCode.INVALID_PARAMS and len(err.message) < 200, err.message


def test_check_bounds_is_iterative_and_refuses_depth_and_odd_types():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert "nested deeper" in p.check_bounds({"x": deep})
    assert p.check_bounds({"a": [1, 2.0, "s", b"b", None, True, {"k": []}]}) is None
    assert "type" in p.check_bounds({"t": (1, 2)})
    for depth in range(1, 20):  # `depth` nested lists around a scalar
        value: object = 0
        for _ in range(depth):
            value = [value]
        assert (p.check_bounds(value) is None) == (depth <= p.MAX_DEPTH)


def test_decode_request_keeps_the_id_of_a_request_that_breaks_a_bound():
    frame = b"\x84" + p.pack("v") + p.pack(1) + p.pack("id") + p.pack(9) + p.pack("method") + p.pack("ping") \
        + p.pack("params") + b"\x91" * 40 + b"\xc0"
    with pytest.raises(p.DecodeError) as info:
        p.decode_request(frame)
    assert info.value.req_id == 9
    with pytest.raises(p.DecodeError):
        p.decode_request(p.pack({"s": "x" * (p.MAX_STR_BYTES + 1)}))
    assert p.decode_request(p.pack(p.request(1, "ping"))) == p.request(1, "ping")


def test_bounded_map_truncates_and_says_so():
    out = p.bounded_map({"pid": 7, "host": "h" * 1000, "k" * 100: 1, "nested": {"a": [1]}, "nan": math.nan,
                         **{f"x{i}": i for i in range(100)}})
    assert out["pid"] == 7 and len(out["host"]) == p.FREE_STR_LEN and out["nested"] == "<dict of 1>"
    assert out["nan"] is None and "k" * p.FREE_KEY_LEN in out
    assert out["_truncated"] > 0 and len(out) == p.FREE_MAP_KEYS + 1
    assert p.bounded_map({"n": 1, "s": "x", "f": 2.5}, numbers_only=True) == {"n": 1, "f": 2.5, "_truncated": 1}


def test_preview_never_fails_and_is_bounded():
    class Evil:
        def __len__(self):
            raise RuntimeError("no")

    for value in ("x" * 10 ** 6, b"y" * 10 ** 6, 10 ** 5000, [[]] * 10 ** 5, {i: i for i in range(10 ** 4)},
                  math.nan, None, True, Evil()):
        assert len(p.preview(value)) <= p.PREVIEW_LEN + 10
