"""rpc_client.xtdata against a real hub on the simulator: each function's return shape
(type, keys, columns, index, dtypes) as xtquant's xtdata documents it."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from rpc_client.bars import BAR_DTYPES, BAR_FIELDS

BAR_COLUMNS = ["time", "open", "high", "low", "close", "volume", "amount", "settelementPrice", "openInterest",
               "preClose", "suspendFlag"]
#: get_instrument_detail(iscomplete=False)'s keys, in xtdata's order (xtquant/xtdata.py field_list + quotas)
DETAIL_KEYS = ["ExchangeID", "InstrumentID", "InstrumentName", "ProductID", "ProductName", "ProductType",
               "ExchangeCode", "UniCode", "CreateDate", "OpenDate", "ExpireDate", "TradingDay", "PreClose",
               "SettlementPrice", "UpStopPrice", "DownStopPrice", "FloatVolume", "TotalVolume", "LongMarginRatio",
               "ShortMarginRatio", "PriceTick", "VolumeMultiple", "MainContract", "LastVolume", "InstrumentStatus",
               "IsTrading", "IsRecent", "ProductTradeQuota", "ContractTradeQuota", "ProductOpenInterestQuota",
               "ContractOpenInterestQuota"]


def test_bar_fields_match_xtdata():
    assert list(BAR_FIELDS) == BAR_COLUMNS
    assert BAR_DTYPES["time"] == "int64" and BAR_DTYPES["volume"] == "int64"


def test_get_market_data_ex_daily_shape(xtdata):
    out = xtdata.get_market_data_ex([], ["600000.SH", "510300.SH", "999998.SH"], period="1d", count=5)
    assert set(out) == {"600000.SH", "510300.SH", "999998.SH"}
    df = out["600000.SH"]
    assert isinstance(df, pd.DataFrame) and list(df.columns) == BAR_COLUMNS and len(df) == 5
    assert {c: str(t) for c, t in df.dtypes.items()} == dict(BAR_DTYPES)
    assert all(re.fullmatch(r"\d{8}", i) for i in df.index)
    assert list(df.index) == sorted(df.index)
    # the index is the time column in Beijing time; the last day before today closes at the reference price
    assert [xtdata.timetag_to_datetime(t, "%Y%m%d") for t in df["time"]] == list(df.index)
    assert df["close"].iloc[-1] == 10.20 and (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert out["999998.SH"].empty and list(out["999998.SH"].columns) == BAR_COLUMNS


def test_get_market_data_ex_fields_and_minutes(xtdata):
    out = xtdata.get_market_data_ex(["close", "volume"], ["600000.SH"], period="1m", start_time="20261201",
                                    end_time="20261201")
    df = out["600000.SH"]
    assert list(df.columns) == ["close", "volume"] and str(df["volume"].dtype) == "int64"
    assert len(df) == 241 and df.index[0] == "20261201093000" and df.index[-1] == "20261201150000"
    assert "20261201113000" in df.index and "20261201130000" not in df.index
    day = xtdata.get_market_data_ex([], ["600000.SH"], period="1d", start_time="20261201", end_time="20261201")
    assert int(df["volume"].sum()) == int(day["600000.SH"]["volume"].iloc[0])
    assert df["close"].iloc[-1] == day["600000.SH"]["close"].iloc[0]


@pytest.mark.parametrize("period,per_day", [("5m", 48), ("15m", 16), ("30m", 8), ("1h", 4)])
def test_intraday_periods(xtdata, period, per_day):
    df = xtdata.get_market_data_ex([], ["000001.SZ"], period=period, start_time="20261201", end_time="20261201")
    df = df["000001.SZ"]
    assert len(df) == per_day and df.index[-1] == "20261201150000" and list(df.columns) == BAR_COLUMNS
    one = xtdata.get_market_data_ex([], ["000001.SZ"], period="1m", start_time="20261201", end_time="20261201")
    assert int(df["volume"].sum()) == int(one["000001.SZ"]["volume"].sum())
    assert df["high"].max() == one["000001.SZ"]["high"].max()


def test_week_and_month_bars(xtdata):
    w = xtdata.get_market_data_ex([], ["600036.SH"], period="1w", start_time="20261101", end_time="20261130")
    m = xtdata.get_market_data_ex([], ["600036.SH"], period="1mon", start_time="20261101", end_time="20261130")
    d = xtdata.get_market_data_ex([], ["600036.SH"], period="1d", start_time="20261101", end_time="20261130")
    w, m, d = w["600036.SH"], m["600036.SH"], d["600036.SH"]
    assert len(m) == 1 and m.index[0] == d.index[-1] and int(m["volume"].iloc[0]) == int(d["volume"].sum())
    assert m["open"].iloc[0] == d["open"].iloc[0] and m["high"].iloc[0] == d["high"].max()
    assert 4 <= len(w) <= 5 and int(w["volume"].sum()) == int(d["volume"].sum())


def test_get_market_data_shape(xtdata):
    out = xtdata.get_market_data(["close", "open"], ["600000.SH", "000001.SZ"], period="1d", count=3)
    assert set(out) == {"close", "open"}
    df = out["close"]
    assert isinstance(df, pd.DataFrame) and list(df.index) == ["600000.SH", "000001.SZ"]
    assert len(df.columns) == 3 and all(re.fullmatch(r"\d{8}", c) for c in df.columns)
    ex = xtdata.get_market_data_ex([], ["000001.SZ"], period="1d", count=3)["000001.SZ"]
    assert list(df.loc["000001.SZ"]) == list(ex["close"])


def test_get_market_data_tick_shape(xtdata, md_hub):
    ex = md_hub.broker.quotes.source._ex
    xtdata.subscribe_quote("601398.SH", period="tick")
    ex.advance(9)
    time.sleep(0.2)
    out = xtdata.get_market_data([], ["601398.SH"], period="tick")
    arr = out["601398.SH"]
    assert isinstance(arr, np.ndarray) and {"time", "lastPrice", "volume", "lastClose"} <= set(arr.dtype.names)
    assert len(arr) >= 3 and list(arr["time"]) == sorted(arr["time"])
    ticks = xtdata.get_market_data_ex([], ["601398.SH"], period="tick")["601398.SH"]
    assert {"lastPrice", "askPrice", "bidVol"} <= set(ticks.columns) and len(ticks["askPrice"].iloc[0]) == 5


def test_get_local_data_is_market_data_ex(xtdata):
    a = xtdata.get_local_data([], ["600519.SH"], "1d", "20261101", "20261120", -1, "front_ratio", False)
    b = xtdata.get_market_data_ex([], ["600519.SH"], "1d", "20261101", "20261120")
    pd.testing.assert_frame_equal(a["600519.SH"], b["600519.SH"])


def test_get_full_kline_shape(xtdata, md_hub):
    ex = md_hub.broker.quotes.source._ex
    xtdata.subscribe_quote("601288.SH", period="tick")
    ex.advance(6)
    time.sleep(0.2)
    out = xtdata.get_full_kline([], ["601288.SH"], period="1m", count=1)
    assert set(BAR_COLUMNS) <= set(out) and list(out["close"].index) == ["601288.SH"]
    assert len(out["close"].columns) == 1 and out["close"].columns[0].startswith("20261202")


def test_download_history_data(xtdata):
    assert xtdata.download_history_data("600000.SH", "1d", "20260101") is None
    progress = []
    assert xtdata.download_history_data2(["600000.SH", "000001.SZ"], "1m", callback=progress.append) == {}
    assert [p["finished"] for p in progress] == [1, 2] and progress[-1]["total"] == 2


def test_subscribe_quote_bars_every_period(xtdata, md_hub):
    ex = md_hub.broker.quotes.source._ex
    got: dict[str, list] = {}
    seqs = []
    for period in ("1m", "5m", "15m", "30m", "1h", "1d", "1w", "1mon"):
        seqs.append(xtdata.subscribe_quote("600030.SH", period=period,
                                           callback=lambda d, p=period: got.setdefault(p, []).append(d)))
    tick_seq = xtdata.subscribe_quote("600030.SH", period="tick",
                                      callback=lambda d: got.setdefault("tick", []).append(d))
    assert all(s > 0 for s in seqs) and tick_seq > 0
    for _ in range(4):
        ex.advance(3)
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(got) < 9:
        time.sleep(0.05)
    assert set(got) == {"1m", "5m", "15m", "30m", "1h", "1d", "1w", "1mon", "tick"}
    last_tick = got["tick"][-1]["600030.SH"][-1]
    for period in ("1m", "1d", "1w", "1mon"):
        bar = got[period][-1]["600030.SH"][-1]
        assert set(bar) == set(BAR_COLUMNS) and bar["close"] == last_tick["lastPrice"]
    assert got["1d"][-1]["600030.SH"][0]["volume"] == last_tick["volume"]
    for s in seqs + [tick_seq]:
        xtdata.unsubscribe_quote(s)


def test_subscribe_quote_default_period_is_1d(xtdata, md_hub):
    import inspect

    assert inspect.signature(xtdata.subscribe_quote).parameters["period"].default == "1d"
    assert inspect.signature(xtdata.subscribe_quote2).parameters["dividend_type"].default is None
    got = []
    seq = xtdata.subscribe_quote2("601318.SH", callback=got.append)
    md_hub.broker.quotes.source._ex.advance(6)
    deadline = time.monotonic() + 3
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    bar = got[-1]["601318.SH"][0]
    assert xtdata.timetag_to_datetime(bar["time"], "%H%M%S") == "000000"  # a daily bar
    xtdata.unsubscribe_quote(seq)


def test_get_instrument_detail_shape(xtdata):
    d = xtdata.get_instrument_detail("600000.SH")
    assert list(d) == DETAIL_KEYS
    assert d["InstrumentName"] == "浦发银行" and d["ExchangeID"] == "SH" and d["InstrumentID"] == "600000"
    assert d["PriceTick"] == 0.01 and d["VolumeMultiple"] == 1 and isinstance(d["OpenDate"], str)
    assert (d["DownStopPrice"], d["UpStopPrice"]) == (9.18, 11.22) and d["PreClose"] == 10.2
    assert xtdata.get_instrument_detail("510300.SH")["PriceTick"] == 0.001
    assert xtdata.get_instrument_detail("999998.SH") is None
    full = xtdata.get_instrument_detail("113050.SH", True)
    assert set(DETAIL_KEYS) - {"ProductTradeQuota", "ContractTradeQuota", "ProductOpenInterestQuota",
                               "ContractOpenInterestQuota"} <= set(full)
    both = xtdata.get_instrument_detail_list(["600000.SH", "999998.SH"])
    assert both["600000.SH"] == d and both["999998.SH"] is None


def test_get_instrument_type(xtdata):
    assert xtdata.get_instrument_type("600000.SH") == {"stock": True, "a": True}
    assert xtdata.get_instrument_type("510300.SH") == {"fund": True, "etf": True}
    assert xtdata.get_instrument_type("000300.SH", ["index", "stock"]) == {"index": True, "stock": False}
    assert xtdata.get_instrument_type("113050.SH")["bond"] is True


def test_sectors(xtdata):
    names = xtdata.get_sector_list()
    assert {"沪深A股", "上证A股", "深证A股", "创业板", "科创板", "京市A股", "沪深ETF", "沪深指数", "沪深转债"} <= set(names)
    a = xtdata.get_stock_list_in_sector("沪深A股")
    assert "600000.SH" in a and "000001.SZ" in a and "510300.SH" not in a and "830809.BJ" not in a
    assert set(xtdata.get_stock_list_in_sector("创业板")) <= {c for c in a if c.startswith("30")}
    assert "510300.SH" in xtdata.get_stock_list_in_sector("沪深ETF")
    assert "000300.SH" in xtdata.get_stock_list_in_sector("沪深指数")
    bonds = xtdata.get_stock_list_in_sector("沪深转债")
    assert "113050.SH" in bonds and all(c[:3] in ("110", "111", "113", "118", "123", "127", "128") for c in bonds)
    assert "830809.BJ" in xtdata.get_stock_list_in_sector("京市A股")
    assert set(xtdata.get_stock_list_in_sector("SH")) >= {"600000.SH", "510300.SH"}
    assert xtdata.get_stock_list_in_sector("没有这个板块") == []
    assert xtdata.download_sector_data() is None


def test_trading_dates_and_calendar(xtdata):
    days = xtdata.get_trading_dates("SH", "20260928", "20261012")
    labels = [xtdata.timetag_to_datetime(t, "%Y%m%d") for t in days]
    from datetime import date

    from rpc_client import calendar

    assert labels == [d.strftime("%Y%m%d") for d in calendar.trading_days(date(2026, 9, 28), date(2026, 10, 12))]
    assert labels[:3] == ["20260928", "20260929", "20260930"] and "20261001" not in labels  # 国庆
    assert all(isinstance(t, int) for t in days)
    assert len(xtdata.get_trading_dates("SZ", count=3)) == 3
    cal = xtdata.get_trading_calendar("SH", "20261228", "20261231")
    assert cal == ["20261228", "20261229", "20261230", "20261231"]
    with pytest.raises(Exception, match="SH,SZ"):
        xtdata.get_trading_calendar("BJ")


def test_divid_factors_empty_but_shaped(xtdata):
    df = xtdata.get_divid_factors("600000.SH")
    assert isinstance(df, pd.DataFrame) and df.empty
    assert list(df.columns) == ["time", "interest", "stockBonus", "stockGift", "allotNum", "allotPrice", "gugai",
                                "dr"]


def test_financial_data_empty_but_shaped(xtdata):
    assert xtdata.download_financial_data(["600000.SH"], ["Balance"]) is None
    out = xtdata.get_financial_data(["600000.SH", "000001.SZ"], ["Balance", "Income"])
    assert set(out) == {"600000.SH", "000001.SZ"} and set(out["600000.SH"]) == {"Balance", "Income"}
    frame = out["600000.SH"]["Balance"]
    assert isinstance(frame, pd.DataFrame) and frame.empty and list(frame.columns) == ["m_timetag", "m_anntime"]
    every = xtdata.get_financial_data(["600000.SH"])["600000.SH"]
    assert set(every) == {"Balance", "Income", "CashFlow", "Capital", "HolderNum", "Top10Holder", "Top10FlowHolder",
                          "PershareIndex"}


def test_time_helpers_and_connect(xtdata):
    assert xtdata.timetag_to_datetime(1796140800000, "%Y%m%d %H:%M:%S") == "20261202 00:00:00"
    assert xtdata.datetime_to_timetag("20261202") == 1796140800000.0
    client = xtdata.connect()
    assert client.is_connected()


def test_unserved_functions_name_themselves(xtdata):
    with pytest.raises(xtdata.NotServedError, match="get_l2_quote is not served by qmt-hub"):
        xtdata.get_l2_quote([], "600000.SH")
    from rpc_client.xttrader import NotServedError as TraderNotServed

    with pytest.raises(TraderNotServed):
        xtdata.subscribe_formula("f", "600000.SH", "1d")
    with pytest.raises(AttributeError, match="no attribute 'no_such_function'"):
        xtdata.no_such_function  # noqa: B018
    assert xtdata.subscribe_quote("600000.SH", period="l2quote") == -1


def test_client_doc_lists_every_xtdata_function():
    from pathlib import Path

    from rpc_client import xtdata as xd

    doc = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text(encoding="utf-8")
    section = doc.split("## Drop-in for `xtquant.xtdata`", 1)[1].split("\n## ", 1)[0]
    missing = [f for f in xd.XTDATA_FUNCTIONS if f"`{f}`" not in section and f"`{f}(" not in section]
    assert missing == []
    for name in xd.SERVED:
        assert callable(getattr(xd, name)) and name in vars(xd)


def test_status_counts_market_data(xtdata, md_hub):
    xtdata.get_sector_list()
    xtdata.get_sector_list()
    from rpc_client import RpcGateway

    gw = RpcGateway(md_hub.config.rpc, md_hub.config.pub, follow_events=False)
    try:
        gw.connect(strategy="md-status", role="monitor")
        md = gw.status()["marketdata"]
    finally:
        gw.close()
    assert md["requests"] >= 2 and md["cache_hits"] >= 1 and md["jobs"] == 0 and md["timeouts"] == 0


def test_a_request_too_big_for_one_reply_is_split_by_the_client(xtdata, md_hub, monkeypatch):
    monkeypatch.setattr("hub.marketdata.service.MD_MAX_ROWS", 300)  # the hub's own limit, made small
    out = xtdata.get_market_data_ex(["close"], ["600000.SH", "000001.SZ", "600036.SH"], period="1d", count=200)
    assert [len(out[c]) for c in ("600000.SH", "000001.SZ", "600036.SH")] == [200, 200, 200]
    with pytest.raises(xtdata.HubError) as err:
        xtdata.get_market_data_ex([], ["600000.SH"], period="1m", count=400)  # one code is already too many
    assert err.value.data["limit"] == 300
