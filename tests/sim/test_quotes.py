"""The quote source: xtdata tick dicts, seeded random walk inside limits, CSV replay, SimXtData."""

from __future__ import annotations

import threading

from hub.sim import SimXtData, get_exchange, shutdown_exchange
from tests.sim.conftest import frozen_config, wait_for

TICK_FIELDS = {"time", "lastPrice", "open", "high", "low", "lastClose", "amount", "volume", "pvolume",
               "stockStatus", "openInt", "lastSettlementPrice", "askPrice", "bidPrice", "askVol", "bidVol",
               "transactionNum"}


def test_tick_dict_has_xtdata_fields_and_five_levels(ex):
    xd = SimXtData("", exchange=ex)
    t = xd.get_full_tick(["600000.SH", "NOPE.SH"])
    xd.close()
    assert list(t) == ["600000.SH"]
    tick = t["600000.SH"]
    assert set(tick) == TICK_FIELDS
    assert tick["askPrice"] == [10.21, 10.22, 10.23, 10.24, 10.25]
    assert tick["bidPrice"] == [10.20, 10.19, 10.18, 10.17, 10.16]
    assert tick["askVol"] == [5] * 5 and tick["bidVol"] == [5] * 5  # lots of 100 shares, like xtdata
    assert tick["lastClose"] == 10.20 and tick["lastPrice"] == 10.20


def test_random_walk_is_seeded_and_stays_within_limits(tmp_path):
    paths = [tmp_path / "a", tmp_path / "b"]
    exs = [get_exchange(p, frozen_config(volatility=0.05, seed=3)) for p in paths]
    try:
        series = []
        for ex in exs:
            q = ex.quote("300750.SZ")
            prices = []
            for _ in range(200):
                ex.step()
                prices.append(q.last)
                assert q.limit_down <= q.last <= q.limit_up
                assert q.last == round(q.last, 2)  # on the 0.01 tick
            series.append(prices)
        assert series[0] == series[1]
        assert len(set(series[0])) > 20
        tick = exs[0].full_ticks(["300750.SZ"])["300750.SZ"]
        assert tick["high"] == max(series[0]) and tick["low"] == min(series[0])
        assert tick["volume"] > 0 and tick["amount"] > 0 and tick["transactionNum"] == 200
    finally:
        for p in paths:
            shutdown_exchange(p)


def test_subscribe_quote_callbacks_on_own_thread(ex):
    xd = SimXtData("", exchange=ex)
    got = []
    seq = xd.subscribe_quote("600000.SH", period="tick",
                             callback=lambda d: got.append((d, threading.current_thread().name)))
    assert seq > 0
    assert xd.subscribe_quote("600000.SH", period="1d") == -1
    assert xd.subscribe_quote("BAD", callback=print) == -1
    assert xd.active_subscriptions() == {"600000.SH": 1}
    ex.advance(3)
    data, thread = wait_for(lambda: got and got[0])
    assert list(data) == ["600000.SH"] and isinstance(data["600000.SH"], list)
    assert set(data["600000.SH"][0]) == TICK_FIELDS and thread == "sim-xtdata"
    xd.unsubscribe_quote(seq)
    assert xd.active_subscriptions() == {}
    xd.close()


def test_whole_quote_by_market_and_counts_across_instances(ex):
    a, b = SimXtData("", exchange=ex), SimXtData("", exchange=ex)
    got = []
    seq = a.subscribe_whole_quote(["SZ"], callback=got.append)
    b.subscribe_quote("000001.SZ", callback=lambda d: None)
    b.subscribe_quote("000001.SZ", callback=lambda d: None)
    assert ex.active_subscriptions() == {"SZ": 1, "000001.SZ": 2}
    ex.advance(3)
    first = wait_for(lambda: got and got[0])
    assert len(first) >= 20 and all(c.endswith(".SZ") for c in first)
    assert isinstance(first["000001.SZ"], dict) and "lastPrice" in first["000001.SZ"]
    a.unsubscribe_quote(seq)
    b.close()
    assert ex.active_subscriptions() == {}
    a.close()


def test_csv_replay(tmp_path, sim_path):
    csv = tmp_path / "ticks.csv"
    csv.write_text(
        "code,lastPrice,volume,askPrice1,askVol1,bidPrice1,bidVol1\n"
        "600000.SH,10.30,100,10.31,7,10.30,9\n"
        "600000.SH,10.40,250,10.41,3,10.40,4\n",
        encoding="utf-8",
    )
    ex = get_exchange(sim_path, frozen_config(replay_csv=str(csv)))
    ex.quote("600000.SH")
    ex.step()
    t = ex.full_ticks(["600000.SH"])["600000.SH"]
    assert (t["lastPrice"], t["volume"], t["askPrice"][0], t["askVol"][0], t["bidVol"][0]) == (10.30, 100, 10.31, 7, 9)
    ex.step()
    ex.step()  # rows used up: stays at the last row
    t = ex.full_ticks(["600000.SH"])["600000.SH"]
    assert (t["lastPrice"], t["volume"], t["askPrice"][0]) == (10.40, 250, 10.41)
