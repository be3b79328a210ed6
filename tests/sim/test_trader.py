"""The xttrader API surface: return conventions, callbacks, threads and broker order."""

from __future__ import annotations

import threading

import pytest
from xtquant import xtconstant as C
from xtquant import xttype
from xtquant.xttype import StockAccount

from hub.sim import XtQuantTrader, get_exchange, resolve_folder, shutdown_exchange
from tests.sim.conftest import ACCOUNT, Recorder, wait_for


def test_connect_needs_start_and_subscribe_needs_connect(ex, sim_path, acc):
    t = XtQuantTrader(str(sim_path), 9)
    assert t.subscribe(acc) == -1
    assert t.connect() == -1  # not started
    t.start()
    assert t.connect() == 0
    assert t.subscribe(acc) == 0
    assert t.subscribe(StockAccount(ACCOUNT, "CREDIT")) == -1
    assert t.unsubscribe(acc) == 0
    assert t.unsubscribe(acc) == -1
    t.stop()


def test_order_fills_with_callbacks_on_trader_thread_in_broker_order(s, acc):
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5, "strat", "tag-1")
    assert oid > 0
    s.cb.wait("asset", lambda a: a.frozen_cash == 0 and a.market_value > 0)
    # every push came from the trader's thread, none from ours
    names = {n for _, _, n in s.cb.events}
    assert names == {"sim-trader-1"} and threading.current_thread().name not in names
    order_kinds = [k for k in s.cb.kinds() if k in ("order", "trade", "position", "asset")]
    assert order_kinds == ["order", "asset", "trade", "order", "position", "asset"]
    first, last = s.cb.of("order")
    assert first.order_status == C.ORDER_REPORTED and last.order_status == C.ORDER_SUCCEEDED
    trade = s.cb.of("trade")[0]
    assert isinstance(trade, xttype.XtTrade) and isinstance(last, xttype.XtOrder)
    assert (trade.order_id, trade.traded_volume, trade.traded_price) == (oid, 200, 10.21)
    assert trade.traded_id and trade.order_sysid == last.order_sysid != ""
    assert trade.strategy_name == last.strategy_name == "strat"
    assert trade.order_remark == last.order_remark == "tag-1"
    assert last.traded_volume == 200 and last.traded_price == 10.21 and last.instrument_name == "浦发银行"
    assert last.order_time > 0 and trade.traded_time >= last.order_time
    pos = s.cb.of("position")[-1]
    assert (pos.volume, pos.can_use_volume, pos.yesterday_volume) == (200, 0, 0)


def test_every_documented_attribute_is_filled(s, acc):
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5, "s", "r")
    s.cb.wait("trade")
    checks = {
        s.trader.query_stock_order(acc, oid): "account_type account_id stock_code order_id order_sysid order_time "
        "order_type order_volume price_type price traded_volume traded_price order_status status_msg strategy_name "
        "order_remark direction offset_flag instrument_name secu_account",
        s.trader.query_stock_trades(acc)[0]: "account_type account_id stock_code order_type traded_id traded_time "
        "traded_price traded_volume traded_amount order_id order_sysid strategy_name order_remark direction "
        "offset_flag commission instrument_name secu_account",
        s.trader.query_stock_position(acc, "600000.SH"): "account_type account_id stock_code volume can_use_volume "
        "open_price market_value frozen_volume on_road_volume yesterday_volume avg_price direction instrument_name "
        "last_price profit_rate secu_account float_profit open_date position_profit",
        s.trader.query_stock_asset(acc): "account_type account_id cash frozen_cash market_value total_asset "
        "fetch_balance",
    }
    for obj, names in checks.items():
        for name in names.split():
            assert getattr(obj, name) is not None, (type(obj).__name__, name)
    assert s.trader.query_stock_order(acc, oid).offset_flag == C.OFFSET_FLAG_OPEN


def test_async_order_response_comes_before_the_order_push(s, acc):
    seq = s.trader.order_stock_async(acc, "000001.SZ", C.STOCK_BUY, 100, C.FIX_PRICE, 11.01, "s", "r")
    assert seq > 0
    resp = s.cb.wait("order_response")
    assert isinstance(resp, xttype.XtOrderResponse)
    assert resp.seq == seq and resp.order_id > 0 and resp.error_msg == ""
    s.cb.wait("order", lambda o: o.order_status == C.ORDER_SUCCEEDED)
    kinds = s.cb.kinds()
    assert kinds.index("order_response") < kinds.index("order")
    seq2 = s.trader.order_stock_async(acc, "000001.SZ", C.STOCK_BUY, 100, C.FIX_PRICE, 11.0)
    assert seq2 == seq + 1


def test_async_calls_only_queue_the_request_and_sync_calls_do_not_overtake_it(s, ex, acc):
    with ex.lock:  # the exchange is busy: an async call must still return at once
        seq = s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.0, "s", "r")
        cseq = s.trader.cancel_order_stock_async(acc, 424242)
        assert seq > 0 and cseq == seq + 1
        assert s.cb.of("order_response") == [] and ex.orders == {}
    resp = s.cb.wait("order_response")
    assert resp.seq == seq and resp.order_id > 0
    s.cb.wait("cancel_response", lambda r: r.seq == cseq and r.cancel_result == -1)
    kinds = s.cb.kinds()
    assert kinds.index("order_response") < kinds.index("order") < kinds.index("cancel_response")
    # a sync call queued behind async requests runs after them (order ids in request order)
    with ex.lock:
        s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.0)
        oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.0)
    first = s.cb.wait("order_response", lambda r: r.seq == cseq + 1)
    assert first.order_id == oid - 1


def test_a_sync_query_never_overtakes_an_earlier_async_order(s, ex, acc):
    """One connection's requests are handled in order: a query after order_stock_async sees it."""
    real_wake = ex._wake
    # the worker (started lazily) waits on the real queue, which this test never wakes
    ex._wake = type("NoWake", (), {"put": lambda self, item: None, "get": lambda self: real_wake.get()})()
    try:
        seq = s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 9.5, "s", "r")
        assert seq > 0 and ex._requests  # queued, not yet run
        orders = s.trader.query_stock_orders(acc)
        assert [o.order_remark for o in orders] == ["r"]  # the query ran the queued request first
        assert s.trader.query_stock_asset(acc).frozen_cash > 0
    finally:
        ex._wake = real_wake


def test_async_rejection_response_then_junk_then_error(s, acc):
    seq = s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 150, C.FIX_PRICE, 10.2, "s", "r")
    err = s.cb.wait("order_error")
    resp = s.cb.of("order_response")[0]
    assert resp.seq == seq and resp.order_id == err.order_id and "multiple of 100" in resp.error_msg
    kinds = s.cb.kinds()
    assert kinds.index("order_response") < kinds.index("order") < kinds.index("order_error")


def test_cancel_unknown_and_filled_orders(s, acc):
    assert s.trader.cancel_order_stock(acc, 987654) == -1
    e = s.cb.wait("cancel_error")
    assert isinstance(e, xttype.XtCancelError) and e.order_id == 987654 and "no such order" in e.error_msg
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5)
    seq = s.trader.cancel_order_stock_async(acc, oid)
    r = s.cb.wait("cancel_response")
    assert isinstance(r, xttype.XtCancelOrderResponse)
    assert (r.seq, r.cancel_result, r.order_id) == (seq, -1, oid) and "already final" in r.error_msg
    s.cb.wait("cancel_error", lambda e: e.order_id == oid)
    kinds = s.cb.kinds()
    assert kinds.index("cancel_response") < len(kinds) - 1 - kinds[::-1].index("cancel_error")


def test_cancel_resting_order_by_id_async_and_by_sysid(s, acc):
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.0)
    seq = s.trader.cancel_order_stock_async(acc, oid)
    r = s.cb.wait("cancel_response")
    assert (r.seq, r.cancel_result, r.order_id) == (seq, 0, oid)
    s.cb.wait("order", lambda o: o.order_id == oid and o.order_status == C.ORDER_CANCELED)
    statuses = [o.order_status for o in s.cb.of("order") if o.order_id == oid]
    assert statuses == [C.ORDER_REPORTED, C.ORDER_REPORTED_CANCEL, C.ORDER_CANCELED]

    oid2 = s.trader.order_stock(acc, "000001.SZ", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    sysid = s.trader.query_stock_order(acc, oid2).order_sysid
    assert s.trader.cancel_order_stock_sysid(acc, C.SH_MARKET, sysid) == -1  # wrong market
    assert s.trader.cancel_order_stock_sysid(acc, "SZ", sysid) == 0
    assert s.trader.query_stock_order(acc, oid2).order_status == C.ORDER_CANCELED
    oid3 = s.trader.order_stock(acc, "000001.SZ", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    seq3 = s.trader.cancel_order_stock_sysid_async(acc, C.SZ_MARKET, s.trader.query_stock_order(acc, oid3).order_sysid)
    s.cb.wait("cancel_response", lambda r: r.seq == seq3 and r.cancel_result == 0)


def test_queries_and_async_queries(s, acc):
    s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5)
    rest = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.0)
    assert len(s.trader.query_stock_orders(acc)) == 2
    assert [o.order_id for o in s.trader.query_stock_orders(acc, cancelable_only=True)] == [rest]
    assert len(s.trader.query_stock_trades(acc)) == 1
    assert [p.stock_code for p in s.trader.query_stock_positions(acc)] == ["600000.SH"]
    assert s.trader.query_stock_position(acc, "000001.SZ") is None
    assert s.trader.query_stock_order(acc, 424242) is None
    assert s.trader.query_stock_asset(StockAccount("nobody")) is None
    assert s.trader.query_stock_orders(StockAccount("nobody")) == []
    infos = s.trader.query_account_infos()
    assert [(i.account_id, i.account_type, i.login_status) for i in infos] == [(ACCOUNT, C.SECURITY_ACCOUNT, 0)]
    st = s.trader.query_account_status()
    assert isinstance(st[0], xttype.XtAccountStatus) and st[0].status == C.ACCOUNT_STATUS_OK

    got: dict[str, tuple] = {}

    def keep(name):
        return lambda v: got.setdefault(name, (v, threading.current_thread().name))

    s.trader.query_stock_asset_async(acc, keep("asset"))
    s.trader.query_stock_orders_async(acc, keep("orders"), cancelable_only=True)
    s.trader.query_stock_trades_async(acc, keep("trades"))
    s.trader.query_stock_positions_async(acc, keep("positions"))
    s.trader.query_account_infos_async(keep("infos"))
    s.trader.query_account_status_async(keep("status"))
    wait_for(lambda: len(got) == 6)
    assert {n for _, n in got.values()} == {"sim-trader-1"}
    assert got["asset"][0].frozen_cash > 0
    assert [o.order_id for o in got["orders"][0]] == [rest]
    assert len(got["trades"][0]) == 1 and len(got["positions"][0]) == 1


def test_remark_truncated_to_24_and_strategy_echoed_in_errors(s, acc):
    remark = "x" * 30
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.001, "alpha", remark)
    e = s.cb.wait("order_error")
    assert (e.order_id, e.strategy_name, e.order_remark) == (oid, "alpha", "x" * 24)
    assert s.trader.query_stock_order(acc, oid).order_remark == "x" * 24


def test_two_sessions_share_one_terminal(ex, make_session, acc):
    a, b = make_session(1), make_session(2)
    oid = a.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200, C.FIX_PRICE, 10.5)
    b.cb.wait("trade", lambda t: t.order_id == oid)
    assert b.trader.query_stock_order(acc, oid).order_status == C.ORDER_SUCCEEDED
    assert {n for _, n, in [(k, n) for k, _, n in b.cb.events]} == {"sim-trader-2"}


def test_stop_ends_thread_and_calls_fail(s, acc):
    thread = s.trader._thread
    s.trader.stop()
    assert not thread.is_alive()
    assert s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2) == -1
    assert s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2) == -1
    assert s.trader.cancel_order_stock(acc, 1) == -1
    assert s.trader.query_stock_asset(acc) is None
    assert s.trader.query_stock_orders(acc) is None
    assert s.trader.connect() == -1
    s.trader.run_forever()  # returns at once after stop


def test_disconnect_all_and_offline(ex, make_session, acc, sim_path):
    a = make_session(1)
    ex.disconnect_all(offline=True)
    a.cb.wait("disconnected")
    assert a.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2) == -1
    assert a.trader.query_stock_asset(acc) is None
    t = XtQuantTrader(str(sim_path), 2)
    t.start()
    assert t.connect() == -1
    ex.go_online()
    assert t.connect() == 0
    t.stop()


def test_shutdown_exchange_disconnects_and_later_calls_fail(s, acc, sim_path):
    shutdown_exchange(sim_path)
    s.cb.wait("disconnected")
    assert s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.2) == -1
    assert s.trader.connect() == -1


def test_windows_path_maps_to_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    win = "D:\\迅投极速交易终端 睿智融科版\\userdata_mini"
    folder = resolve_folder(win)
    assert folder.parent == tmp_path / "qmt-hub-sim" and folder == resolve_folder(win)
    ex = get_exchange(win)
    try:
        assert (folder / "sim.db").exists()
    finally:
        shutdown_exchange(win)


def test_callback_exception_does_not_stop_pushes(ex, sim_path, acc):
    class Bad(Recorder):
        def on_stock_order(self, o):
            super().on_stock_order(o)
            raise RuntimeError("user bug")

    cb = Bad()
    t = XtQuantTrader(str(sim_path), 5, cb)
    t.start()
    assert t.connect() == 0 and t.subscribe(acc) == 0
    t.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    cb.wait("asset", lambda a: a.market_value > 0)
    assert len(cb.of("order")) == 2
    t.stop()


# ---- MiniQMT's conventions (issue 12) ---------------------------------------------------------
@pytest.mark.parametrize("code,ptype,price,counter", [
    ("600000.SH", C.FIX_PRICE, 10.5, 50),
    ("600000.SH", C.LATEST_PRICE, 0, 50),
    ("600000.SH", C.MARKET_PEER_PRICE_FIRST, 0, 84),
    ("600000.SH", C.MARKET_MINE_PRICE_FIRST, -1, 86),
    ("600000.SH", C.MARKET_SH_CONVERT_5_CANCEL, -1, 88),
    ("600000.SH", C.MARKET_SH_CONVERT_5_LIMIT, 0, 85),
    ("000001.SZ", C.MARKET_SZ_INSTBUSI_RESTCANCEL, -1, 87),
    ("000001.SZ", C.MARKET_SZ_CONVERT_5_CANCEL, 0, 88),
    ("000001.SZ", C.MARKET_SZ_FULL_OR_CANCEL, -1, 89),
])
def test_orders_report_the_counters_price_type_and_market_prices_are_ignored(s, acc, code, ptype, price, counter):
    """MiniQMT reports price_type in the counter's enum (limit 50), not the request's value; a market
    order's price is ignored whatever it is (scripts pass 0 or -1)."""
    oid = s.trader.order_stock(acc, code, C.STOCK_BUY, 100, ptype, price, "s", "r")
    assert oid > 0
    pushed = s.cb.wait("order", lambda o: o.order_id == oid)
    assert pushed.price_type == counter and s.trader.query_stock_order(acc, oid).price_type == counter
    assert pushed.order_status != C.ORDER_JUNK, pushed.status_msg
    if ptype not in (C.FIX_PRICE, C.LATEST_PRICE):
        assert pushed.price == 0.0


def test_volume_goes_through_int_as_in_xtquant(s, acc):
    oid = s.trader.order_stock(acc, "600000.SH", C.STOCK_BUY, 200.0, C.FIX_PRICE, 10.5)
    assert s.trader.query_stock_order(acc, oid).order_volume == 200
    seq = s.trader.order_stock_async(acc, "600000.SH", C.STOCK_BUY, "100", C.FIX_PRICE, 10.5)
    resp = s.cb.wait("order_response", lambda r: r.seq == seq)
    assert s.trader.query_stock_order(acc, resp.order_id).order_volume == 100


def test_on_connected_is_never_called(ex, sim_path, acc):
    cb = Recorder()
    t = XtQuantTrader(str(sim_path), 5, cb)
    t.start()
    assert t.connect() == 0 and t.subscribe(acc) == 0
    t.order_stock(acc, "600000.SH", C.STOCK_BUY, 100, C.FIX_PRICE, 10.5)
    cb.wait("order")
    assert "connected" not in cb.kinds()
    t.stop()
