"""MiniQMT's conventions in the drop-in, against a real hub on the simulator (issue 12 part 4)."""

from __future__ import annotations

import pytest
from xtquant import xtconstant as C
from xtquant import xttype
from xtquant.xttype import StockAccount

from rpc_client.xttrader import NOT_SERVED, NotServedError, XtQuantTrader
from tests.dropin.conftest import ACCOUNT, Recorder, wait_for

ACC = StockAccount(ACCOUNT)


def _trader(rpc: str, name: str, cb: Recorder | None = None) -> XtQuantTrader:
    t = XtQuantTrader(rpc, 123, strategy_name=name)
    if cb is not None:
        t.register_callback(cb)
    t.start()
    assert t.connect() == 0 and t.subscribe(ACC) == 0
    return t


def test_records_are_xttype_and_carry_the_callers_names_across_a_hub_restart(hubs):
    hub = hubs.start()
    cb = Recorder()
    t = _trader(hub.config.rpc, "conv", cb)
    oid = t.order_stock(ACC, "600000.SH", C.STOCK_BUY, 200.0, C.FIX_PRICE, 10.5, "my-strat", "my-remark")
    assert oid > 0
    assert wait_for(lambda: cb.of("trade") and any(o.order_status == 56 for o in cb.of("order")))
    pushed, trade = cb.of("order")[-1], cb.of("trade")[-1]
    assert isinstance(pushed, xttype.XtOrder) and isinstance(trade, xttype.XtTrade)
    assert isinstance(t.query_stock_asset(ACC), xttype.XtAsset)
    assert all(isinstance(p, xttype.XtPosition) for p in t.query_stock_positions(ACC))
    for rec in (pushed, trade, t.query_stock_order(ACC, oid), t.query_stock_trades(ACC)[0]):
        assert (rec.strategy_name, rec.order_remark) == ("my-strat", "my-remark")
    assert pushed.order_volume == 200 and pushed.price_type == 50  # int() volume; the counter's limit type
    t.stop()
    hubs.restart()
    t = _trader(hub.config.rpc, "conv")
    again = t.query_stock_order(ACC, oid)
    assert (again.strategy_name, again.order_remark, again.price_type) == ("my-strat", "my-remark", 50)
    t.stop()


@pytest.mark.parametrize("price", [0, -1, -1.0])
def test_a_market_orders_price_is_ignored_whatever_it_is(hub, price):
    t = _trader(hub.config.rpc, "conv_mkt")
    oid = t.order_stock(ACC, "600000.SH", C.STOCK_BUY, 100, C.MARKET_PEER_PRICE_FIRST, price)
    assert oid > 0
    assert wait_for(lambda: t.query_stock_order(ACC, oid).order_status == 56)
    assert t.query_stock_order(ACC, oid).price_type == 84
    t.stop()


def test_a_function_the_hub_does_not_serve_says_so_by_name(hub):
    t = XtQuantTrader(hub.config.rpc, 1, strategy_name="conv_ns")
    assert "query_credit_detail" in NOT_SERVED
    with pytest.raises(NotServedError, match=r"XtQuantTrader\.query_credit_detail is not served by the hub"):
        t.query_credit_detail(ACC)
    with pytest.raises(NotServedError, match="smart_algo_order_async"):
        t.smart_algo_order_async
    assert not hasattr(t, "no_such_function_anywhere") and not hasattr(t, "fund_transfer")


def test_every_xtquant_trader_function_is_served_or_listed_as_not_served():
    from tests.test_dropin_parity import REFERENCE  # read from the installed xtquant's own source

    public = [n for n in REFERENCE if not n.startswith("_")]
    assert len(public) > 70
    for name in public:
        assert (name in XtQuantTrader.__dict__) != (name in NOT_SERVED), name
    assert set(NOT_SERVED) <= set(public)
