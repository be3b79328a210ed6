"""The hub's market-data service on its own: pages, cache, coalescing, deadlines, and the live
xtdata adapter's conversion of DataFrames to the wire's plain shapes."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from hub.marketdata import MarketData, XtDataUpstream, paginate
from hub.marketdata.service import PageStore
from rpc_client.protocol import MD_PAGE_ROWS, ErrorCode, HubError


class Source:
    """A simulator-shaped source that counts calls and can be held up."""

    def __init__(self):
        self.calls = []
        self.gate = threading.Event()
        self.gate.set()
        self.threads = set()

    def market_data(self, kind, **params):
        self.threads.add(threading.current_thread().name)
        self.gate.wait(10)
        self.calls.append((kind, params))
        if kind == "bars":
            n = params["count"]
            return {c: {"time": list(range(n)), "close": [float(i) for i in range(n)]} for c in params["codes"]}
        if kind == "boom":
            raise RuntimeError("the source failed")
        return {"kind": kind, **params}


class Loop:
    """Stands in for the hub's loop: mailbox items are handled when `pump` runs."""

    def __init__(self, source, timeout=5.0):
        self.mail = []
        self.replies = {}
        self.errors = {}
        self.md = MarketData(source, lambda kind, data: self.mail.append((kind, data)),
                             lambda call, result: self.replies.__setitem__(call, result),
                             lambda call, err: self.errors.__setitem__(call, err), lambda: "20261202",
                             timeout=timeout)

    def pump(self, until=lambda: True, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.mail:
                kind, data = self.mail.pop(0)
                assert kind == "md_done"
                self.md.finish(data)
            self.md.expire()
            if until():
                return
            time.sleep(0.01)
        raise AssertionError("condition not met")


@pytest.fixture
def loop():
    lp = Loop(Source())
    yield lp
    lp.md.close()


def test_pages_join_back_to_the_whole_result():
    data = {"A": {"time": list(range(5000)), "x": list(range(5000))}, "B": {"time": [], "x": []},
            "C": {"time": list(range(3500)), "x": list(range(3500))}}
    pages = paginate(data, rows=MD_PAGE_ROWS)
    assert len(pages) == 3 and all(sum(len(c["time"]) for c in p.values()) <= MD_PAGE_ROWS for p in pages)
    joined: dict = {}
    for p in pages:
        for code, cols in p.items():
            for f, v in cols.items():
                joined.setdefault(code, {}).setdefault(f, []).extend(v)
    assert joined == data


def test_paged_reply_and_cursors(loop):
    call = object()
    loop.md.request(call, "bars", {"codes": ["A", "B"], "count": 6000},
                    finish=lambda r: loop.md.paged("s1", r))
    loop.pump(lambda: call in loop.replies)
    first = loop.replies[call]
    assert first["more"] is True and len(first["data"]["A"]["time"]) == MD_PAGE_ROWS
    with pytest.raises(HubError) as other:
        loop.md.next_page("s2", first["cursor"])  # another session's cursor
    assert other.value.code == ErrorCode.INVALID_PARAMS
    second = loop.md.next_page("s1", first["cursor"])
    again = loop.md.next_page("s1", first["cursor"])  # a retried next_page gets the same page
    assert again == second
    cursor = second["cursor"]
    pages = [first, second]
    while pages[-1]["more"]:
        pages.append(loop.md.next_page("s1", pages[-1]["cursor"]))
    joined: dict = {}
    for p in pages:
        for code, cols in p["data"].items():
            joined.setdefault(code, []).extend(cols["time"])
    assert joined == {"A": list(range(6000)), "B": list(range(6000))}
    assert cursor and len(loop.md.pages) == 0  # the last page freed the result
    with pytest.raises(HubError):
        loop.md.next_page("s1", pages[-2]["cursor"])


def test_cache_and_coalescing(loop):
    src = loop.md.upstream._source
    src.gate.clear()
    a, b, c = object(), object(), object()
    assert loop.md.request(a, "sector_list", {}, cache=True) is not None
    loop.md.request(b, "sector_list", {}, cache=True)  # in flight: joins the first call
    src.gate.set()
    loop.pump(lambda: a in loop.replies and b in loop.replies)
    assert len(src.calls) == 1 and loop.md.counters["coalesced"] == 1
    assert loop.md.request(c, "sector_list", {}, cache=True) == {"kind": "sector_list"}  # from the cache
    assert len(src.calls) == 1 and loop.md.counters["cache_hits"] == 1
    assert src.threads == {"hub-marketdata"}  # every call on the one market-data thread


def test_source_errors_and_deadlines():
    lp = Loop(Source(), timeout=0.3)
    try:
        bad = object()
        lp.md.request(bad, "boom", {})
        lp.pump(lambda: bad in lp.errors)
        assert lp.errors[bad].code == ErrorCode.BROKER_ERROR and "the source failed" in lp.errors[bad].message
        src = lp.md.upstream._source
        src.gate.clear()  # the source hangs
        slow = object()
        lp.md.request(slow, "instrument_type", {"stock_code": "600000.SH"})
        lp.pump(lambda: slow in lp.errors, timeout=3)
        assert "did not answer" in lp.errors[slow].message and lp.md.counters["timeouts"] == 1
        src.gate.set()
        lp.pump(lambda: not lp.md.thread.pending() and lp.md.thread.busy_since is None)
        assert slow not in lp.replies  # the late result was dropped
    finally:
        lp.md.close()


def test_too_many_rows_is_refused(loop, monkeypatch):
    monkeypatch.setattr("hub.marketdata.service.MD_MAX_ROWS", 100)
    call = object()
    loop.md.request(call, "bars", {"codes": ["A"], "count": 101}, finish=lambda r: loop.md.paged("s", r))
    loop.pump(lambda: call in loop.errors)
    assert loop.errors[call].code == ErrorCode.INVALID_PARAMS and "fewer codes" in loop.errors[call].message


def test_no_source_is_broker_down():
    md = MarketData(None, lambda *a: None, lambda *a: None, lambda *a: None, lambda: "d")
    with pytest.raises(HubError) as err:
        md.request(object(), "sector_list", {})
    assert err.value.code == ErrorCode.BROKER_DOWN


def test_page_store_bounds(monkeypatch):
    monkeypatch.setattr("hub.marketdata.service.MAX_CURSORS", 2)
    store = PageStore()
    tokens = [store.add("s", [{"A": {"time": [1]}}, {"A": {"time": [2]}}]) for _ in range(3)]
    assert len(store) == 2
    with pytest.raises(HubError):
        store.take("s", tokens[0] + "0000")  # the oldest was dropped
    assert store.take("s", tokens[2] + "0001")["more"] is False


def test_live_xtdata_frames_become_plain_columns():
    """XtDataUpstream reads xtdata's DataFrames back into the wire's shapes."""
    frame = pd.DataFrame({"time": pd.array([1796054400000], dtype="int64"), "open": [10.0], "close": [10.2],
                          "volume": pd.array([12], dtype="int64")}, index=["20261201"])
    divid = pd.DataFrame({"interest": [0.4], "dr": [1.04]}, index=["20260715"])
    calls = []
    fake = SimpleNamespace(
        get_market_data_ex=lambda *a: calls.append(a) or {"600000.SH": frame},
        get_instrument_detail=lambda code, full: {"InstrumentName": "浦发银行", "PriceTick": 0.01},
        get_divid_factors=lambda code, s, e: divid,
        get_financial_data=lambda codes, tables, s, e, r: {
            "600000.SH": {"Balance": pd.DataFrame({"m_timetag": ["20260630"]})}},
        download_history_data=lambda *a: calls.append(("dl",) + a),
        get_trading_dates=lambda m, s, e, c: [1796054400000],
    )
    up = XtDataUpstream(fake)
    bars = up.call("bars", codes=["600000.SH", "000001.SZ"], period="1d", count=1)
    assert bars == {"600000.SH": {"time": [1796054400000], "open": [10.0], "close": [10.2], "volume": [12]},
                    "000001.SZ": {}}
    assert all(type(v[0]) in (int, float) for v in bars["600000.SH"].values())
    assert calls[0] == ([], ["600000.SH", "000001.SZ"], "1d", "", "", 1, "none", True)
    assert up.call("instrument_detail", codes=["600000.SH"]) == {"600000.SH": {"InstrumentName": "浦发银行",
                                                                               "PriceTick": 0.01}}
    assert up.call("divid_factors", stock_code="600000.SH") == {"index": ["20260715"], "columns": ["interest", "dr"],
                                                                 "data": [[0.4, 1.04]]}
    assert up.call("financial_data", codes=["600000.SH"], tables=["Balance"]) == {
        "600000.SH": {"Balance": {"index": [0], "columns": ["m_timetag"], "data": [["20260630"]]}}}
    up.call("download_history", codes=["600000.SH", "000001.SZ"], period="1d")
    assert [c[1] for c in calls if c[0] == "dl"] == ["600000.SH", "000001.SZ"]  # one code per call
    assert up.call("trading_dates", market="SH") == [1796054400000]


def test_live_every_xtdata_call_on_one_thread():
    """Live: quote subscriptions and data requests share the one thread; a subscription goes
    ahead of queued requests, never beside a running one, and gives up after its timeout."""
    from hub.broker.adapter import SerializedQuotes
    from hub.marketdata.upstream import UpstreamThread

    seen, running = [], []
    gate = threading.Event()

    def record(name):
        seen.append((name, threading.current_thread().name))
        running.append(name)
        assert len(running) == 1, "two xtdata calls at once"
        if name == "get_sector_list":
            gate.wait(5)
        running.pop()

    fake = SimpleNamespace(
        subscribe_quote=lambda code, period, count, callback: record("subscribe_quote") or 7,
        unsubscribe_quote=lambda seq: record("unsubscribe_quote"),
        get_full_tick=lambda codes: record("get_full_tick") or {},
        get_sector_list=lambda: record("get_sector_list") or ["沪深A股"],
        get_trading_dates=lambda m, s, e, c: record("get_trading_dates") or [1],
    )
    runner = UpstreamThread(name="hub-xtdata")
    quotes = SerializedQuotes(fake, runner=runner)
    quotes.CALL_TIMEOUT = 0.3
    lp = Loop(None)
    lp.md.close()
    lp.md = MarketData(fake, lambda kind, data: lp.mail.append((kind, data)),
                       lambda call, result: lp.replies.__setitem__(call, result),
                       lambda call, err: lp.errors.__setitem__(call, err), lambda: "20261202", thread=runner)
    try:
        assert quotes.subscribe_quote("600000.SH", lambda d: None) == 7
        a, b = object(), object()
        lp.md.request(a, "sector_list", {})  # holds the thread until the gate opens
        lp.md.request(b, "trading_dates", {"market": "SH"})  # queued behind it
        time.sleep(0.1)
        with pytest.raises(TimeoutError):
            quotes.get_full_tick(["600000.SH"])  # the thread is busy: gives up, never runs beside it
        gate.set()
        lp.pump(lambda: a in lp.replies and b in lp.replies)
        quotes.unsubscribe_quote(7)
        names = [n for n, _ in seen]
        assert names == ["subscribe_quote", "get_sector_list", "get_trading_dates", "unsubscribe_quote"]
        assert {t for _, t in seen} == {"hub-xtdata"}
    finally:
        gate.set()
        lp.md.close()
        quotes.close()


@pytest.mark.parametrize("params,complaint", [
    ({"codes": ["600000.SH"], "period": "2m"}, "period"),
    ({"codes": ["600000.SH"], "start_time": "2026-12-01"}, "start_time"),
    ({"codes": ["600000.SH"], "count": -2}, "count"),
    ({"codes": [f"{i:06d}.SH" for i in range(501)]}, "codes"),
    ({"codes": ["not a code"]}, "codes"),
    ({"codes": ["600000.SH"], "dividend_type": "weird"}, "dividend_type"),
])
def test_get_bars_params_are_bounded(params, complaint):
    from rpc_client.protocol import METHODS

    with pytest.raises(HubError) as err:
        METHODS["get_bars"].validate(params)
    assert err.value.code == ErrorCode.INVALID_PARAMS and complaint in err.value.message
    with pytest.raises(HubError):
        METHODS["next_page"].validate({"cursor": "../../etc"})
