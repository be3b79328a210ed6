"""`plain_tick`: a tick that already is plain data is kept as it is; anything else is copied by
`plain` as before, so what the hub publishes is the same either way."""

from __future__ import annotations

from hub.broker.convert import plain
from hub.core.quotes import TickStore, plain_tick


class _Num:
    """Stands in for a numpy scalar (has tolist)."""

    def __init__(self, v: float):
        self.v = v

    def tolist(self) -> float:
        return self.v


def _tick() -> dict:
    return {"time": 1796196847416, "lastPrice": 10.2, "open": 10.1, "stockStatus": 0, "volume": 1200,
            "askPrice": [10.21, 10.22, 10.23, 10.24, 10.25], "askVol": [1, 2, 3, 4, 5], "name": "x",
            "flag": True, "none": None}


def test_a_plain_tick_is_kept_without_a_copy_and_equals_plain():
    t = _tick()
    out = plain_tick(t)
    assert out is t
    assert out == plain(t)


def test_anything_not_plain_is_converted_by_plain():
    cases = [
        {**_tick(), "lastPrice": _Num(10.5)},  # numpy-like scalar
        {**_tick(), "askPrice": (10.21, 10.22)},  # tuple
        {**_tick(), "askPrice": [_Num(1.0), 2.0]},  # numpy-like inside a list
        {**_tick(), "depth": {"a": 1}},  # nested map
        {**_tick(), "askVol": [[1, 2], [3]]},  # nested list
        {1: 2.0, "x": 1},  # non-str key
        {**_tick(), "raw": b"bytes"},
    ]
    for t in cases:
        out = plain_tick(t)
        assert out is not t
        assert out == plain(t)
    assert plain_tick([1, 2]) == [1, 2]
    assert plain_tick("x") == "x"


def test_tick_store_still_converts_keeps_the_latest_and_counts_conflation():
    woken = []
    store = TickStore(lambda: woken.append(1))
    a = {**_tick(), "lastPrice": _Num(10.5)}
    store.put({"600000.SH": a, "000001.SZ": [_tick()]})
    store.put({"600000.SH": {**_tick(), "lastPrice": 11.0}})  # replaces the pending one: conflated
    store.put({"000001.SZ": _tick()})  # identical to the pending one: a duplicate, not counted
    got = dict(store.take(10))
    assert got["600000.SH"]["lastPrice"] == 11.0
    assert got["000001.SZ"] == _tick()
    assert store.conflated == 1
    assert len(woken) == 3 and not store.pending()
