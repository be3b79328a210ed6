"""The drop-in's identity survives restarts (issue 12 part 3).

A strategy is named by ``strategy_name=``, else ``QMT_HUB_STRATEGY``, else the main script's file
name -- never the session id, which easytrader and vnpy_xt draw at random on every connect. A trader
rebuilt in ``on_disconnected`` (as vnpy_xt does) gets the same session back however long the hub
was away, and a second instance of a script is told clearly.
"""

from __future__ import annotations

import logging
import random
import sys
import time
import types

import pytest
from xtquant.xttype import StockAccount

from rpc_client import RpcGateway
from rpc_client import xttrader
from rpc_client.xttrader import XtQuantTrader, default_strategy_name, name_from_text
from tests.dropin.conftest import ACCOUNT, Recorder, wait_for

ACC = StockAccount(ACCOUNT)


def _main_is(monkeypatch, path: str | None) -> None:
    main = types.ModuleType("__main__")
    if path is not None:
        main.__file__ = path
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", [path or ""])


def test_the_name_is_the_argument_then_the_environment_then_the_script(monkeypatch):
    monkeypatch.delenv("QMT_HUB_STRATEGY", raising=False)
    _main_is(monkeypatch, "/home/me/strategies/ma_cross.py")
    assert XtQuantTrader("userdata_mini", random.randint(100000, 999999)).strategy_name == "ma_cross"
    assert XtQuantTrader("userdata_mini", 1).strategy_name == XtQuantTrader("userdata_mini", 2).strategy_name
    monkeypatch.setenv("QMT_HUB_STRATEGY", "from-env")
    assert XtQuantTrader("userdata_mini", 1).strategy_name == "from-env"
    assert XtQuantTrader("userdata_mini", 1, strategy_name="given").strategy_name == "given"


@pytest.mark.parametrize("path,name", [
    (r"C:\quant\my strategy.py", "my_strategy"),
    ("/x/pkg/__main__.py", "pkg"),
    ("/x/双均线.py", name_from_text("双均线")),
    (None, "xtquant"),
])
def test_script_names_become_valid_stable_strategy_names(monkeypatch, path, name):
    monkeypatch.delenv("QMT_HUB_STRATEGY", raising=False)
    _main_is(monkeypatch, path.replace("\\", "/") if path else path)
    got = default_strategy_name()
    assert got == name and xttrader.STRATEGY_NAME_RE.match(got)
    assert name_from_text("双均线") == name_from_text("双均线") != name_from_text("三均线")


def test_a_restarted_program_with_a_new_random_session_sees_and_cancels_its_orders(hub):
    rpc = hub.config.rpc
    first = XtQuantTrader(rpc, random.randint(100000, 999999), strategy_name="dropin_restart")
    first.start()
    assert first.connect() == 0 and first.subscribe(ACC) == 0
    resting = first.order_stock(ACC, "600000.SH", 23, 100, 11, 9.5, "", "rest")
    assert resting > 0
    first.stop()  # the program exits

    again = XtQuantTrader(rpc, random.randint(100000, 999999), strategy_name="dropin_restart")
    again.start()
    assert again.connect() == 0 and again.subscribe(ACC) == 0
    assert [o.order_id for o in again.query_stock_orders(ACC)] == [resting]
    assert again.cancel_order_stock(ACC, resting) == 0  # its own order: no NOT_OWNER
    assert wait_for(lambda: again.query_stock_order(ACC, resting).order_status == 54)
    again.stop()


def test_a_second_instance_of_the_same_script_is_told_clearly(hub, caplog):
    rpc = hub.config.rpc
    with RpcGateway(rpc, hub.config.pub, timeout=5) as other:  # the first instance, in another process
        other.connect(strategy="twice")
        t = XtQuantTrader(rpc, 1, strategy_name="twice")
        t.start()
        with caplog.at_level(logging.ERROR, logger="rpc_client"):
            assert t.connect() == -1
        assert "another instance" in caplog.text and "QMT_HUB_STRATEGY" in caplog.text
        t.stop()
    # and two traders of one process under one name: the second is refused, the first keeps working
    a = XtQuantTrader(rpc, 1, strategy_name="twice")
    a.start()
    assert a.connect() == 0
    b = XtQuantTrader(rpc, 2, strategy_name="twice")
    b.start()
    with caplog.at_level(logging.ERROR, logger="rpc_client"):
        assert b.connect() == -1
    assert "already connected" in caplog.text
    assert a.query_stock_asset(ACC) is not None
    a.stop()


def test_a_program_restarted_after_being_killed_gets_its_name_back(hubs):
    """Killed without a bye, the old process still holds the name until the hub's silence timeout:
    the restarted program waits for it instead of failing (a live holder fails at once, above)."""
    import subprocess

    hub = hubs.start(hub={"client_dead_after": 2.0})
    code = ("import os, sys; from rpc_client import RpcGateway; "
            "gw = RpcGateway(sys.argv[1], sys.argv[2], timeout=5); gw.connect(strategy='killed'); "
            "gw.order_stock('600000.SH', 23, 100, 11, 9.5, 'before'); print('up', flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code, hub.config.rpc, hub.config.pub], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "up", out.stderr
    t = XtQuantTrader(hub.config.rpc, random.randint(100000, 999999), strategy_name="killed")
    t.start()
    assert t.connect() == 0
    assert [o.order_remark for o in t.query_stock_orders(ACC)] == ["before"]
    t.stop()


class Rebuilder(Recorder):
    """What vnpy_xt does: on_disconnected builds a new trader with a new session id and connects it."""

    def __init__(self, rpc: str, name: str) -> None:
        super().__init__()
        self.rpc, self.name = rpc, name
        self.traders: list[XtQuantTrader] = []
        self.results: list[int] = []

    def connect(self) -> XtQuantTrader:
        t = XtQuantTrader(self.rpc, random.randint(100000, 999999), strategy_name=self.name)
        t.register_callback(self)
        t.start()
        self.results.append(t.connect())
        if self.results[-1] == 0:
            self.results.append(t.subscribe(ACC))
        self.traders.append(t)
        return t

    def on_disconnected(self):
        super().on_disconnected()
        self.connect()


def test_a_trader_rebuilt_in_on_disconnected_gets_the_session_back_however_long_the_hub_is_away(
        hubs, fast_dropin):
    hub = hubs.start()
    prog = Rebuilder(hub.config.rpc, "dropin_rebuild")
    first = prog.connect()
    assert prog.results == [0, 0]
    oid = first.order_stock(ACC, "600000.SH", 23, 100, 11, 10.5, "", "before")
    assert oid > 0 and wait_for(lambda: prog.of("trade"))
    hubs.stop()
    assert wait_for(lambda: prog.kinds().count("disconnected") == 1, 5)
    # rebuilt while the hub is still down: connect() and subscribe() succeed at once
    assert wait_for(lambda: len(prog.traders) == 2) and prog.results == [0, 0, 0, 0]
    time.sleep(2.5)  # the hub stays away several heartbeat deadlines
    hub = hubs.start()
    rebuilt = prog.traders[-1]
    assert wait_for(lambda: rebuilt.gateway is not None and rebuilt.gateway.connected, 10)
    assert [o.order_id for o in rebuilt.query_stock_orders(ACC)] == [oid]  # sees its earlier order
    new = rebuilt.order_stock(ACC, "600000.SH", 23, 100, 11, 10.5, "", "after")
    assert new > 0 and wait_for(lambda: any(t.order_id == new for t in prog.of("trade")))
    # one session for the strategy, not two; the old trader no longer holds it
    with RpcGateway(hub.config.rpc, hub.config.pub, timeout=5) as mon:
        mon.connect(strategy="check", role="monitor")
        names = [c.get("strategy") for c in mon.clients()]
    assert names.count("dropin_rebuild") == 1, names
    assert first.gateway is None and first.query_stock_asset(ACC) is None
    assert "connected" not in prog.kinds()  # xtquant never calls on_connected
    assert prog.kinds().count("disconnected") == 1
