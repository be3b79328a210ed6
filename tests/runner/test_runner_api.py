"""jqtrade's API on a fake gateway: code forms, empty positions, status names, refusals as rejected orders."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime

import pytest

from rpc_client.protocol import ErrorCode, HubError
from rpc_client.records import XtAsset, XtOrder, XtPosition, XtTrade
from rpc_client.runner.api import LimitOrderStyle, MarketOrderStyle, StrategyApi, StrategyError
from rpc_client.runner.clock import ManualClock
from rpc_client.runner.schedule import ScheduleError, Scheduler
from rpc_client.calendar import SHANGHAI, TradingCalendar


class FakeGateway:
    """Answers like the hub: orders get ids, cancels return 0; `refuse` makes order_stock fail."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.positions = [XtPosition(stock_code="000001.SZ", volume=1000, can_use_volume=600, open_price=10.5,
                                     market_value=11000.0, last_price=11.0)]
        self.refuse: HubError | None = None
        self.cancelled: list[int] = []

    def query_stock_asset(self):
        return XtAsset(cash=5000.0, frozen_cash=120.0, market_value=11000.0, total_asset=16120.0)

    def query_stock_positions(self):
        return list(self.positions)

    def order_stock_async(self, code, otype, volume, ptype, price, remark, coid):
        fut: Future = Future()
        if self.refuse:
            fut.set_exception(self.refuse)
        else:
            oid = 100 + len(self.orders)
            self.orders.append(dict(stock_code=code, order_type=otype, order_volume=volume, price_type=ptype,
                                    price=price, order_id=oid, client_order_id=coid, order_status=50,
                                    traded_volume=0, order_time=1764639000))
            fut.set_result(oid)
        return fut

    def query_stock_orders(self):
        return [XtOrder(o) for o in self.orders]

    def query_stock_trades(self):
        return [XtTrade(stock_code=o["stock_code"], traded_id=f"t{o['order_id']}", traded_volume=o["order_volume"],
                        traded_price=10.0, order_id=o["order_id"], order_type=o["order_type"], commission=5.0,
                        traded_time=1764639060) for o in self.orders]

    def cancel_order_stock(self, order_id):
        self.cancelled.append(order_id)
        return 0


@pytest.fixture
def api() -> StrategyApi:
    clock = ManualClock(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    a = StrategyApi(FakeGateway(), clock, Scheduler(clock, TradingCalendar([]), None))
    a.set_options(account_no="1234567")
    return a


def test_portfolio_names_and_empty_position(api: StrategyApi) -> None:
    p = api.context.portfolio
    assert p.total_assert == p.total_asset == 16120.0
    assert p.available_cash == 5000.0 and p.locked_cash == 120.0
    pos = p.long_positions["000001.XSHE"]
    assert (pos.total_amount, pos.closeable_amount, pos.available_amount) == (1000, 600, 600)
    assert pos.avg_cost == 10.5 and pos.value == 11000.0 and pos.price == 11.0 and pos.code == "000001.XSHE"
    assert p.long_positions["000001.SZ"].code == "000001.SZ"  # the form given
    empty = p.long_positions["000002.XSHE"]
    assert empty.total_amount == 0 and empty.available_amount == 0 and empty.avg_cost == 0.0
    assert "000002.XSHE" not in p.long_positions and "000001.XSHE" in p.long_positions
    assert list(p.long_positions) == ["000001.XSHE"] and len(p.short_positions) == 0
    assert api.context.current_dt == datetime(2026, 12, 2, 10, 0)


def test_orders_codes_status_cancel(api: StrategyApi) -> None:
    gw = api.gateway
    sell = api.order("000001.XSHE", -100, LimitOrderStyle(10))
    buy = api.order("600000.SH", 200, MarketOrderStyle())
    assert gw.orders[0]["stock_code"] == "000001.SZ" and gw.orders[0]["order_type"] == 24
    assert gw.orders[0]["price_type"] == 11 and gw.orders[0]["price"] == 10.0
    assert gw.orders[1]["order_type"] == 23 and gw.orders[1]["price_type"] == 42  # SH market: best five, rest cancel
    assert gw.orders[0]["client_order_id"] == sell
    (o,) = api.get_orders(order_id=sell)
    assert o.code == "000001.XSHE" and o.status == "open" and o.action == "close" and o.amount == 100
    assert [x.order_id for x in api.get_orders(code="600000.XSHG")] == [buy]
    assert api.get_orders(code="600000.SH")[0].code == "600000.SH"
    assert len(api.get_orders(status="open")) == 2 and api.get_orders(status="filled") == []
    gw.orders[1]["order_status"] = 56
    gw.orders[1]["traded_volume"] = 200
    assert api.get_orders(order_id=buy)[0].status == "filled"
    assert api.get_orders(order_id=buy)[0].filled_amount == 200
    api.cancel_order(sell)
    api.batch_cancel_orders([buy, "nope"])
    assert gw.cancelled == [100, 101]
    trades = api.get_trades()
    assert {t.order_id for t in trades.values()} == {sell, buy}
    assert {t.code for t in trades.values()} == {"000001.XSHE", "600000.SH"}
    with pytest.raises(StrategyError):
        api.get_orders(status="done")


def test_refusals_are_rejected_orders_never_exceptions(api: StrategyApi) -> None:
    gw = api.gateway
    gw.refuse = HubError(ErrorCode.RISK_REJECTED, "over the sleeve's cash")
    oid = api.order("000002.XSHE", 100, LimitOrderStyle(8))
    (o,) = api.get_orders(order_id=oid)
    assert o.status == "rejected" and "RISK_REJECTED" in o.err_msg and o.code == "000002.XSHE"
    gw.refuse = None
    for args in (("000002.XSHE", 0), ("000002.XSHE", 1.5), ("000002.XYZ", 100), ("000002.XSHE", 100)):
        kw = {"side": "short"} if args == ("000002.XSHE", 100) else {}
        oid = api.order(*args, **kw)
        assert api.get_orders(order_id=oid)[0].status == "rejected"
    assert gw.orders == []
    api.halted = "boom failed 3 times in a row"
    oid = api.order("000002.XSHE", 100, LimitOrderStyle(8))
    assert "halted by the runner" in api.get_orders(order_id=oid)[0].err_msg
    api.halted = ""
    ids = api.batch_submit_orders([{"code": "000001.XSHE", "amount": 100, "style": LimitOrderStyle(11)},
                                   {"code": "bad", "amount": 100}])
    assert ids[0] is not None and ids[1] is None  # jqtrade: None for an order that failed
    assert len(api.get_orders(status="rejected")) == 7


def test_account_required_and_run_daily_only_in_initialize(api: StrategyApi) -> None:
    api.options.account_no = None
    oid = api.order("000001.XSHE", 100, LimitOrderStyle(11))
    assert "account_no" in api.get_orders(order_id=oid)[0].err_msg
    with pytest.raises(ScheduleError, match="only be called in process_initialize"):
        api.run_daily(lambda c: None, "open")
    api.in_initialize = True
    api.set_options(market_period=[("09:30:00", "11:30:00")], counter_type="UM0", sync_period=[])
    api.run_daily(lambda c: None, "every_minute")
    assert len(api.scheduler.jobs[-1].times) == 120
    assert set(api.options.ignored) == {"counter_type", "sync_period"}
    with pytest.raises(ScheduleError):
        api.run_daily(lambda c: None, "at noon")


def test_runner_settings_from_the_hubs_file(tmp_path) -> None:
    from rpc_client.runner.main import RunnerExit, load_settings, parse_args

    f = tmp_path / "hub.toml"
    f.write_text('rpc = "tcp://127.0.0.1:6001"\ndata_dir = "%s"\n[sim]\nspeed = 5\n[runner]\nmisfire_grace = 30\n'
                 'catch_up = "skip"\nmax_failures = 2\n' % (tmp_path / "d").as_posix(), encoding="utf-8")
    s = load_settings(parse_args(["x.py", "-n", "a", "--config", str(f)]))
    assert (s.rpc, s.data_dir, s.misfire_grace, s.catch_up, s.max_failures) == (
        "tcp://127.0.0.1:6001", tmp_path / "d", 30.0, "skip", 2)
    s = load_settings(parse_args(["x.py", "-n", "a", "--config", str(f), "--rpc", "tcp://127.0.0.1:7001"]))
    assert s.rpc == "tcp://127.0.0.1:7001"
    f.write_text('[runner]\nmisfire_grase = 30\n', encoding="utf-8")
    with pytest.raises(RunnerExit) as err:
        load_settings(parse_args(["x.py", "-n", "a", "--config", str(f)]))
    assert err.value.code == 2 and "misfire_grase" in err.value.message
    from hub.config import HubConfig

    f.write_text('account = "1"\n[runner]\nmisfire_grace = 30\n', encoding="utf-8")
    assert HubConfig.load(f).runner == {"misfire_grace": 30}  # the hub accepts the table and leaves it alone


def test_runner_asks_the_hub_for_the_brokers_trading_dates() -> None:
    from datetime import date

    from rpc_client.calendar import BrokerSource, PackageSource, TradingCalendar
    from rpc_client.runner.main import _HubXtdata

    class Gw:
        calls: list = []

        def call(self, method, **params):
            self.calls.append((method, params))
            return [int(datetime(2024, 2, d, tzinfo=SHANGHAI).timestamp() * 1000) for d in (5, 6, 7, 8)]

    gw = Gw()
    cal = TradingCalendar([BrokerSource.from_xtdata(_HubXtdata(gw), name="hub"), PackageSource()])
    assert cal.is_trading_day("2024-02-06") and not cal.is_trading_day("2024-02-03")
    assert cal.source_of("2024-02-06") == "hub" and cal.source_of("2024-02-09").startswith("exchange-calendars")
    assert gw.calls == [("get_trading_dates", {"market": "SH", "start_time": "", "end_time": "", "count": -1})]
    assert cal.is_trading_day(date(2024, 2, 9)) is False


def test_wrong_account_fails_at_set_options_before_any_order(api: StrategyApi) -> None:
    from rpc_client.runner.api import AccountMismatch

    api.hub_account = "1234567"
    api.set_options(account_no="1234567")
    with pytest.raises(AccountMismatch, match="never trades on the wrong hub"):
        api.set_options(account_no="7654321")
    oid = api.order("000001.XSHE", 100, LimitOrderStyle(11))  # even if the strategy swallowed the error
    assert "not the hub's account" in api.get_orders(order_id=oid)[0].err_msg and api.gateway.orders == []
