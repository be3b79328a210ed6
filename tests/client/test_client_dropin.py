"""The xtquant drop-ins (rpc_client.xttrader, rpc_client.xtdata) against the scripted fake hub."""

from __future__ import annotations

import threading
import time

import pytest

from client_helpers import wait_for
from rpc_client import xtdata
from rpc_client.endpoints import resolve
from rpc_client.protocol import ErrorCode
from rpc_client.xttrader import XtQuantTrader, XtQuantTraderCallback, strategy_for_session


class Account:  # what xtquant.xttype.StockAccount looks like, without importing xtquant
    def __init__(self, account_id, account_type=2):
        self.account_id, self.account_type = account_id, account_type


class CB(XtQuantTraderCallback):
    def __init__(self):
        self.got = []

    def on_connected(self):
        self.got.append(("connected",))

    def on_stock_order(self, order):
        self.got.append(("order", order.order_id, order.order_status))

    def on_order_error(self, e):
        self.got.append(("order_error", e.order_id, e.error_msg))

    def on_cancel_error(self, e):
        self.got.append(("cancel_error", e.order_id, e.error_msg))

    def on_order_stock_async_response(self, r):
        self.got.append(("order_resp", r.seq, r.order_id, r.error_msg))

    def on_cancel_order_stock_async_response(self, r):
        self.got.append(("cancel_resp", r.seq, r.cancel_result))

    def of(self, kind):
        return [g for g in self.got if g[0] == kind]


@pytest.fixture
def trader(fake_hub, monkeypatch):
    monkeypatch.setenv("QMT_HUB_PUB", fake_hub.pub)
    cb = CB()
    t = XtQuantTrader(fake_hub.rpc, 123456, strategy_name="xt123456")
    t.register_callback(cb)
    t.start()
    assert t.connect() == 0
    yield t, cb
    t.stop()


def test_names_and_endpoints(monkeypatch):
    assert strategy_for_session(123456) == "xt123456"
    monkeypatch.delenv("QMT_HUB", raising=False)
    monkeypatch.delenv("QMT_HUB_PUB", raising=False)
    assert resolve(r"D:\迅投极速交易终端 睿智融科版\userdata_mini") == ("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556")
    assert resolve("tcp://10.0.0.2:7000") == ("tcp://10.0.0.2:7000", "tcp://10.0.0.2:7001")
    monkeypatch.setenv("QMT_HUB", "tcp://10.0.0.3:6000")
    assert resolve("userdata_mini") == ("tcp://10.0.0.3:6000", "tcp://10.0.0.3:6001")
    monkeypatch.setenv("QMT_HUB_PUB", "tcp://10.0.0.3:9999")
    assert resolve("userdata_mini")[1] == "tcp://10.0.0.3:9999"
    t = XtQuantTrader("x", 7, strategy_name="mine")
    assert t.strategy_name == "mine"
    monkeypatch.setenv("QMT_HUB_STRATEGY", "from-env")
    assert XtQuantTrader("x", 7).strategy_name == "from-env"


def test_connect_failure_returns_minus_one(free_rpc):
    t = XtQuantTrader(free_rpc, 1)
    t.set_timeout(0.3)
    t.start()
    assert t.connect() == -1
    assert t.query_stock_asset(Account("1000000365")) is None
    assert t.order_stock(Account("1000000365"), "600000.SH", 23, 100, 11, 10.0) == -1
    t.stop()


def test_sync_calls_and_records(trader, fake_hub):
    t, cb = trader
    acc = Account("1000000365")
    assert fake_hub.sessions and list(fake_hub.sessions.values())[0]["strategy"] == "xt123456"
    assert t.subscribe(acc) == 0
    oid = t.order_stock(acc, "600000.SH", 23, 200, 11, 10.5, "strategy_name", "remark")
    assert oid > 0 and fake_hub.methods("order_stock")[-1]["order_remark"] == "remark"
    assert t.cancel_order_stock(acc, oid) == 0
    assert t.cancel_order_stock_sysid(acc, "SH", "123") == 0
    assert fake_hub.methods("cancel_order_stock_sysid")[-1] == {"market": 0, "order_sysid": "123"}
    assert t.query_stock_asset(acc).cash == 1e6
    assert t.query_stock_order(acc, oid).order_id == oid
    assert t.query_stock_order(acc, 404) is None  # unknown order: None, as xtquant
    orders = t.query_stock_orders(acc)
    assert len(orders) == 1 and orders[-1].order_volume == 100
    assert t.query_stock_trades(acc) == []
    assert t.query_stock_positions(acc)[-1].stock_code == "600000.SH"
    assert t.query_stock_position(acc, "600000.SH").volume == 200
    assert t.query_account_status()[0].status == 0
    assert t.query_account_infos()[0].account_id == "1000000365"
    fake_hub.publish("order.xt123456", {"order_id": oid, "order_status": 54})
    assert wait_for(lambda: cb.of("order") == [("order", oid, 54)])


def test_wrong_account_fails_like_xtquant(trader, fake_hub):
    t, cb = trader
    bad = Account("999")
    assert t.subscribe(bad) == -1
    assert t.order_stock(bad, "600000.SH", 23, 100, 11, 10.5) == -1
    assert wait_for(lambda: len(cb.of("order_error")) == 1)
    assert "999" in cb.of("order_error")[0][2] and "1000000365" in cb.of("order_error")[0][2]
    assert t.query_stock_asset(bad) is None and t.query_stock_orders(bad) is None
    seq = t.order_stock_async(bad, "600000.SH", 23, 100, 11, 10.5)
    assert wait_for(lambda: [r[:3] for r in cb.of("order_resp")] == [("order_resp", seq, -1)])
    assert fake_hub.methods("order_stock") == []


def test_hub_rejection_is_minus_one_and_on_order_error(trader, fake_hub):
    t, cb = trader
    fake_hub.order_error = (ErrorCode.HALTED, "new orders are halted")
    assert t.order_stock(Account("1000000365"), "600000.SH", 23, 100, 11, 10.5) == -1
    assert wait_for(lambda: cb.of("order_error") == [("order_error", -1, "[HALTED] new orders are halted")])


def test_async_orders_and_cancels(trader, fake_hub):
    t, cb = trader
    acc = Account("1000000365")
    s1 = t.order_stock_async(acc, "600000.SH", 23, 100, 11, 10.5, "s", "r")
    s2 = t.order_stock_async(acc, "600000.SH", 23, 100, 11, 10.5, "s", "r")
    assert s1 > 0 and s2 == s1 + 1
    assert wait_for(lambda: len(cb.of("order_resp")) == 2)
    resp = {r[1]: r for r in cb.of("order_resp")}
    assert resp[s1][2] > 0 and resp[s2][2] > 0 and resp[s1][3] == ""
    s3 = t.cancel_order_stock_async(acc, resp[s1][2])
    assert wait_for(lambda: cb.of("cancel_resp") == [("cancel_resp", s3, 0)])
    got = []
    done = threading.Event()
    seq = t.query_stock_orders_async(acc, lambda orders: (got.append(len(orders)), done.set()))
    assert isinstance(seq, int) and done.wait(3) and got == [2]
    assets = []
    assert t.query_stock_asset_async(acc, lambda a: assets.append(a.cash)) is None
    assert wait_for(lambda: assets == [1e6])


def test_run_forever_returns_after_stop(trader):
    t, _ = trader
    threading.Timer(0.3, t.stop).start()
    t0 = time.monotonic()
    t.run_forever()
    assert time.monotonic() - t0 < 2


def test_xtdata_dropin(fake_hub, monkeypatch):
    monkeypatch.setenv("QMT_HUB", fake_hub.rpc)
    monkeypatch.setenv("QMT_HUB_PUB", fake_hub.pub)
    try:
        one, whole = [], []
        seq = xtdata.subscribe_quote("600000.SH", period="tick", callback=one.append)
        seq2 = xtdata.subscribe_whole_quote(["SZ"], callback=whole.append)
        assert seq > 0 and seq2 > seq
        # bar periods are served since issue 12 (bars built from the hub's ticks); others are refused
        seq_1d = xtdata.subscribe_quote("600000.SH", period="1d")
        assert seq_1d > seq2
        assert xtdata.subscribe_quote("600000.SH", period="l2quote") == -1
        xtdata.unsubscribe_quote(seq_1d)
        assert list(fake_hub.sessions.values())[0]["role"] == "monitor"
        time.sleep(0.2)
        fake_hub.tick("600000.SH", 1, {"lastPrice": 10.5})
        # a whole market comes in batches: one callback per batch with {code: tick}, as xtquant's
        fake_hub.batch("SZ", {"000001.SZ": (1, {"lastPrice": 11.0}), "000002.SZ": (1, {"lastPrice": 9.0})})
        assert wait_for(lambda: one == [{"600000.SH": [{"lastPrice": 10.5}]}])
        assert wait_for(lambda: whole == [{"000001.SZ": {"lastPrice": 11.0}, "000002.SZ": {"lastPrice": 9.0}}])
        assert xtdata.get_full_tick(["600000.SH"])["600000.SH"]["lastPrice"] == 10.0
        xtdata.unsubscribe_quote(seq)
        assert wait_for(lambda: "600000.SH" not in fake_hub.quotes.get(f"xtdata-{__import__('os').getpid()}", {1}))
    finally:
        xtdata.close()


def test_on_disconnected_only_when_the_hub_is_really_lost(fake_hub, monkeypatch):
    """A hub that answers again at once (a quick restart: new hub_id, NO_SESSION) is not a disconnect
    for an xtquant program; a hub silent past the deadline is, once. on_connected is never called."""
    from client_helpers import FAST
    from rpc_client import xttrader

    monkeypatch.setattr(xttrader, "GATEWAY_OPTIONS", dict(FAST))
    monkeypatch.setenv("QMT_HUB_PUB", fake_hub.pub)
    cb = CB()
    down = []
    cb.on_disconnected = lambda: down.append(time.monotonic())
    t = XtQuantTrader(fake_hub.rpc, 1, cb, strategy_name="xt_quick")
    t.start()
    assert t.connect() == 0
    first_hub = t.gateway.hub_id
    fake_hub.restart()  # back at once with a new hub_id: the session resumes
    assert wait_for(lambda: t.gateway.hub_id not in (None, first_hub), 5)
    time.sleep(0.3)
    assert down == [] and cb.of("connected") == []
    fake_hub.restart(down_for=1.5)  # silent past the 0.6 s deadline: really lost
    assert wait_for(lambda: len(down) == 1, 5)
    assert wait_for(lambda: t.gateway.connected, 5) and t.query_stock_asset(Account("1000000365")).cash == 1e6
    time.sleep(0.3)
    assert len(down) == 1 and cb.of("connected") == []
    t.stop()
