"""The simulator's market data: deterministic history, user history files, today's bars from
the tick feed, and ETF / convertible-bond / index rules."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.sim.conftest import frozen_config, wait_for
from xtquant import xtconstant as C

from hub.sim import SimXtData, get_exchange
from rpc_client.bars import from_ms, to_ms

ROOT = Path(__file__).resolve().parents[2]


def _bars(ex, **kw):
    return ex.market_data().bars(**kw)


SCRIPT = textwrap.dedent("""
    import json, sys, tempfile
    from hub.sim import SimConfig, get_exchange
    ex = get_exchange(tempfile.mkdtemp(), SimConfig(auto_tick=False, seed=7, start_time="2026-12-02 10:00:00"))
    md = ex.market_data()
    out = {p: md.bars(["600519.SH", "300750.SZ"], p, "20261120", "20261125") for p in ("1d", "1m", "30m")}
    ex.shutdown()
    print(json.dumps(out))
""")


def test_history_is_the_same_in_every_run(sim_path):
    """Same code, same day, same bars: this process and a fresh one agree exactly."""
    ex = get_exchange(sim_path, frozen_config(seed=7, start_time="2026-12-02 10:00:00"))
    here = {p: _bars(ex, codes=["600519.SH", "300750.SZ"], period=p, start_time="20261120", end_time="20261125")
            for p in ("1d", "1m", "30m")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True).stdout
    other = json.loads(out.strip().splitlines()[-1])  # (xtquant prints a banner when imported)
    assert here == other
    daily = here["1d"]["600519.SH"]
    assert len(daily["time"]) == 4  # 20, 23, 24, 25 November (a weekend between)
    assert [from_ms(t).strftime("%Y%m%d") for t in daily["time"]] == ["20261120", "20261123", "20261124", "20261125"]
    assert len(here["1m"]["600519.SH"]["time"]) == 4 * 241 and len(here["30m"]["300750.SZ"]["time"]) == 4 * 8
    # a day's bars do not depend on how far back the request reaches
    longer = _bars(ex, codes=["600519.SH"], period="1d", start_time="20260101", end_time="20261125")
    assert {k: v[-4:] for k, v in longer["600519.SH"].items()} == daily


def test_history_meets_the_reference_price_and_the_limits(sim_path):
    ex = get_exchange(sim_path, frozen_config(start_time="2026-12-02 10:00:00"))
    for code, ref, tick in (("600000.SH", 10.20, 0.01), ("510300.SH", 3.900, 0.001), ("113050.SH", 120.0, 0.001)):
        d = _bars(ex, codes=[code], period="1d", count=120)[code]
        assert d["close"][-1] == ref and len(d["time"]) == 120
        assert from_ms(d["time"][-1]).strftime("%Y%m%d") == "20261201"
        inst = ex.universe.get(code)
        for i in range(1, 120):
            assert d["preClose"][i] == d["close"][i - 1]
            assert d["low"][i] <= min(d["open"][i], d["close"][i]) <= max(d["open"][i], d["close"][i]) <= d["high"][i]
            lo, hi = inst.limits(d["preClose"][i], ex.trading_day)
            assert lo - 1e-9 <= d["low"][i] and d["high"][i] <= hi + 1e-9
            assert abs(d["close"][i] / tick - round(d["close"][i] / tick)) < 1e-6


def test_csv_history_is_served_exactly_as_written(sim_path, tmp_path):
    folder = tmp_path / "history"
    (folder / "1d").mkdir(parents=True)
    (folder / "1m").mkdir()
    (folder / "divid").mkdir()
    (folder / "financial" / "Balance").mkdir(parents=True)
    (folder / "1d" / "600000.SH.csv").write_text(
        "date,open,high,low,close,volume,amount,preClose\n"
        "20261127,10.01,10.33,9.97,10.12,345678,350123456.78,10.00\n"
        "2026-11-30,10.12,10.25,10.02,10.19,222222,226666666.66,10.12\n"
        "20261201,10.19,10.40,10.11,10.20,111111,113333333.33,10.19\n", encoding="utf-8")
    (folder / "1m" / "600000.SH.csv").write_text(
        "time,open,high,low,close,volume,amount\n"
        f"{to_ms(__import__('datetime').datetime(2026, 12, 1, 9, 31))},10.19,10.22,10.18,10.21,1200,1224000.0\n"
        "20261201093200,10.21,10.23,10.20,10.22,900,919800.0\n", encoding="utf-8")
    (folder / "divid" / "600000.SH.csv").write_text(
        "date,interest,stockBonus,stockGift,allotNum,allotPrice,gugai,dr\n20260715,0.41,0,0,0,0,0,1.04\n",
        encoding="utf-8")
    (folder / "financial" / "Balance" / "600000.SH.csv").write_text(
        "m_timetag,m_anntime,tot_assets\n20260630,20260830,9.1e12\n", encoding="utf-8")
    ex = get_exchange(sim_path, frozen_config(history_dir=str(folder), start_time="2026-12-02 10:00:00"))
    md = ex.market_data()
    d = md.bars(["600000.SH"], "1d", "20261101", "20261201")["600000.SH"]
    assert [from_ms(t).strftime("%Y%m%d") for t in d["time"]] == ["20261127", "20261130", "20261201"]
    assert d["open"] == [10.01, 10.12, 10.19] and d["high"] == [10.33, 10.25, 10.40]
    assert d["close"] == [10.12, 10.19, 10.20] and d["volume"] == [345678, 222222, 111111]
    assert d["amount"] == [350123456.78, 226666666.66, 113333333.33] and d["preClose"] == [10.00, 10.12, 10.19]
    m = md.bars(["600000.SH"], "1m", "20261201", "20261201")["600000.SH"]
    assert [from_ms(t).strftime("%H%M") for t in m["time"]] == ["0931", "0932"]
    assert m["close"] == [10.21, 10.22] and m["volume"] == [1200, 900] and m["amount"] == [1224000.0, 919800.0]
    five = md.bars(["600000.SH"], "5m", "20261201", "20261201")["600000.SH"]
    assert five["volume"] == [2100] and five["high"] == [10.23] and five["close"] == [10.22]
    div = md.divid_factors("600000.SH")
    assert div["index"] == ["20260715"] and div["data"][0][div["columns"].index("interest")] == 0.41
    fin = md.financial_data(["600000.SH"], ["Balance", "Income"])["600000.SH"]
    assert fin["Balance"]["data"] == [[20260630, 20260830, 9.1e12]] and fin["Income"]["data"] == []
    # a code without a file keeps its generated history
    assert len(md.bars(["600036.SH"], "1d", count=3)["600036.SH"]["time"]) == 3


def test_parquet_history(sim_path, tmp_path):
    import pandas as pd  # pyarrow (a dev dependency) writes and reads the Parquet file
    folder = tmp_path / "history"
    (folder / "1d").mkdir(parents=True)
    pd.DataFrame({"date": ["20261130", "20261201"], "open": [1.5, 1.6], "high": [1.7, 1.8], "low": [1.4, 1.5],
                  "close": [1.6, 1.7], "volume": [10, 20], "amount": [16.0, 34.0]}
                 ).to_parquet(folder / "1d" / "510050.SH.parquet")
    ex = get_exchange(sim_path, frozen_config(history_dir=str(folder), start_time="2026-12-02 10:00:00"))
    d = ex.market_data().bars(["510050.SH"], "1d", "20261101", "20261201")["510050.SH"]
    assert d["close"] == [1.6, 1.7] and d["volume"] == [10, 20]


def test_todays_bars_come_from_the_tick_feed(sim_path):
    ex = get_exchange(sim_path, frozen_config(volatility=0.002, start_time="2026-12-02 10:00:00"))
    xd = SimXtData(str(sim_path))
    try:
        xd.subscribe_quote("600000.SH", period="tick")
        ticks = []
        ex.add_tick_listener(lambda t: ticks.append(t["600000.SH"]))
        ex.advance(150)  # 50 snapshots, 10:00:03 .. 10:02:30
        wait_for(lambda: len(ticks) >= 50)
        m = xd.market_data("bars", codes=["600000.SH"], period="1m", start_time="20261202")["600000.SH"]
        labels = [from_ms(t).strftime("%H:%M") for t in m["time"]]
        assert labels == ["10:01", "10:02", "10:03"]
        assert m["close"][-1] == ticks[-1]["lastPrice"] and sum(m["volume"]) == ticks[-1]["volume"]
        assert max(m["high"]) == max(t["lastPrice"] for t in ticks)
        day = xd.market_data("bars", codes=["600000.SH"], period="1d", count=2)["600000.SH"]
        assert from_ms(day["time"][-1]).strftime("%Y%m%d") == "20261202" and day["close"][-1] == ticks[-1]["lastPrice"]
        assert day["volume"][-1] == ticks[-1]["volume"] and day["preClose"][-1] == 10.20
        assert day["close"][-2] == 10.20  # yesterday's generated close is today's reference
        tk = xd.market_data("bars", codes=["600000.SH"], period="tick", count=5)["600000.SH"]
        assert tk["lastPrice"] == [t["lastPrice"] for t in ticks[-5:]] and len(tk["askPrice"][0]) == 5
    finally:
        xd.close()


def test_etf_orders_trade_on_the_0001_tick(s, acc, ex):
    inst = ex.universe.get("510300.SH")
    assert (inst.tick, inst.lot, inst.t_plus_zero) == (0.001, 100, False)
    ex.set_book("510300.SH", last=3.900, ask=[(3.901, 10_000)], bid=[(3.899, 10_000)])
    oid = s.trader.order_stock(acc, "510300.SH", C.STOCK_BUY, 1000, C.FIX_PRICE, 3.901)
    o = s.trader.query_stock_order(acc, oid)
    assert o.order_status == C.ORDER_SUCCEEDED and o.traded_price == 3.901
    bad = s.trader.order_stock(acc, "510300.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 3.9015)
    assert s.trader.query_stock_order(acc, bad).order_status == C.ORDER_JUNK
    pos = s.trader.query_stock_position(acc, "510300.SH")
    assert pos.volume == 1000 and pos.can_use_volume == 0  # T+1
    assert ex.quote("510300.SH").limit_up == 4.29 and ex.quote("510300.SH").limit_down == 3.51


def test_convertible_bonds_lots_of_ten_and_t_plus_zero(s, acc, ex):
    inst = ex.universe.get("113050.SH")
    assert (inst.tick, inst.lot, inst.buy_min, inst.t_plus_zero) == (0.001, 10, 10, True)
    assert ex.quote("113050.SH").limit_up == 144.0 and ex.quote("113050.SH").limit_down == 96.0  # ±20 %
    ex.set_book("113050.SH", last=120.0, ask=[(120.005, 1000)], bid=[(119.995, 1000)])
    oid = s.trader.order_stock(acc, "113050.SH", C.STOCK_BUY, 30, C.FIX_PRICE, 120.005)
    assert s.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED
    bad = s.trader.order_stock(acc, "113050.SH", C.STOCK_BUY, 15, C.FIX_PRICE, 120.005)
    assert s.trader.query_stock_order(acc, bad).order_status == C.ORDER_JUNK
    pos = s.trader.query_stock_position(acc, "113050.SH")
    assert pos.volume == 30 and pos.can_use_volume == 30  # T+0: sellable the same day
    sell = s.trader.order_stock(acc, "113050.SH", C.STOCK_SELL, 30, C.FIX_PRICE, 119.995)
    assert s.trader.query_stock_order(acc, sell).order_status == C.ORDER_SUCCEEDED
    trades = [t for t in s.trader.query_stock_trades(acc) if t.stock_code == "113050.SH"]
    assert [t.traded_volume for t in trades] == [30, 30]
    tick = ex.full_ticks(["113050.SH"])["113050.SH"]
    assert tick["volume"] == (ex.quote("113050.SH").volume // 10)  # 手 of 10 bonds


def test_an_index_has_quotes_but_takes_no_orders(s, acc, ex):
    assert ex.full_ticks(["000300.SH"])["000300.SH"]["lastClose"] == 3900.0
    oid = s.trader.order_stock(acc, "000300.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 3900.0)
    err = s.cb.wait("order_error")
    assert "指数不可交易" in err.error_msg and s.trader.query_stock_order(acc, oid).order_status == C.ORDER_JUNK


def test_etf_and_bond_sells_pay_no_stamp_duty(s, acc, ex):
    ex.set_book("113052.SH", last=110.0, ask=[(110.0, 1000)], bid=[(110.0, 1000)])
    s.trader.order_stock(acc, "113052.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 110.0)
    sell = s.trader.order_stock(acc, "113052.SH", C.STOCK_SELL, 100, C.FIX_PRICE, 110.0)
    t = [x for x in s.trader.query_stock_trades(acc) if x.order_id == sell][0]
    assert t.commission == 5.11  # 5.00 minimum commission + 0.11 transfer fee, no stamp duty on 11,000


def test_roll_day_skips_exchange_holidays(sim_path):
    from datetime import date

    ex = get_exchange(sim_path, frozen_config(start_time="2026-09-30 10:00:00"))
    assert ex.trading_day == date(2026, 9, 30)
    nxt = ex.roll_day()
    from rpc_client import calendar

    assert nxt == calendar.next_trading_day(date(2026, 9, 30)) and nxt > date(2026, 10, 7)  # 国庆
