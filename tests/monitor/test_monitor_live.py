"""The dashboard against a real hub (simulated broker) with three trading strategies.

Acceptance of issue #5: strategy rows, a rejected order with its reason, a halted
strategy, and the broker-down banner after the simulated broker is stopped.
"""

from __future__ import annotations

import pytest
from monitor_helpers import exchange_of, wait_until
from rich.console import Console

from hub.monitor.feed import Feed
from hub.monitor.link import HubLink
from hub.monitor.render import render_dashboard
from hub.monitor.state import MonitorState, order_reason
from rpc_client import HubError

BUY, SELL, FIX_PRICE = 23, 24, 11


def screen(state: MonitorState, width: int = 120, height: int = 50, **kw) -> str:
    import time

    console = Console(record=True, width=width, height=height, color_system=None)
    console.print(render_dashboard(state, now=time.time(), width=width, height=height, **kw))
    return console.export_text()


def row(text: str, needle: str) -> list[str]:
    for line in text.splitlines():
        if needle in line:
            return line.strip().strip("│").split()
    raise AssertionError(f"{needle!r} not on screen:\n{text}")


@pytest.fixture
def trading(live_hub, gateways):
    """alpha fills a buy, beta gets a broker rejection, gamma is halted by the operator."""
    rpc, pub = live_hub.config.rpc, live_hub.config.pub
    ex = exchange_of(live_hub)
    ex.set_book("600000.SH", last=10.0, ask=[(10.0, 100_000)], bid=[(9.99, 100_000)])
    alpha, beta, gamma = (gateways(rpc, pub, n) for n in ("alpha", "beta", "gamma"))
    admin = gateways(rpc, pub, "ops", role="admin", token=live_hub.token)
    alpha.order_stock("600000.SH", BUY, 200, FIX_PRICE, 10.0)
    alpha.order_stock("600000.SH", BUY, 100, FIX_PRICE, 9.5)  # rests: open
    beta.order_stock("600000.SH", BUY, 150, FIX_PRICE, 10.0)  # not a round lot: the broker rejects it
    admin.halt(strategy="gamma", reason="risk check")
    with pytest.raises(HubError) as refused:
        gamma.order_stock("600000.SH", BUY, 100, FIX_PRICE, 10.0)
    assert refused.value.code == "HALTED"
    return live_hub


def test_dashboard_shows_strategies_rejection_halt_then_broker_down(trading):
    server = trading
    state = MonitorState(rpc=server.config.rpc, pub=server.config.pub)
    feed = Feed(state, lambda: HubLink(server.config.rpc, server.config.pub, timeout=3.0), status_every=0.2)
    try:
        wait_until(lambda: len(state.clients) >= 4 and len(state.orders) == 3 and state.trades,
                   step=feed.step, what="clients, orders and the fill")
        wait_until(lambda: state.heartbeat_at is not None, step=feed.step, what="a hub.heartbeat")
        assert state.heartbeat_interval == 0.2  # from the hub's hello
        text = screen(state)

        head = text.splitlines()
        assert " hb " in head[0]
        assert server.config.rpc in head[0] and "SIM0001" in head[0] and server.hub_id in head[0]
        assert "BROKER UP" in head[1] and "halted: gamma" in head[1]
        assert "total 1,000,000" not in head[2] and "cash" in head[2]  # money moved: the fill is in the asset

        alpha, beta, gamma = row(text, "alpha "), row(text, "beta "), row(text, "gamma ")
        assert alpha[:2] == ["alpha", "strategy"] and alpha[-5:] == ["1", "2", "1", "0", "-"]
        assert beta[-5:] == ["0", "1", "0", "1", "-"]
        assert gamma[-3:] == ["HALTED", "risk", "check"]

        rejected = " ".join(row(text, "废单"))
        assert "beta" in rejected and "150" in rejected
        junk = next(o for o in state.orders.values() if o.get("order_status") == 57)
        assert "150" in junk["status_msg"] and order_reason(junk)[:20] in text  # the broker's reason, shown

        assert "已成" in text and "已报" in text
        assert row(text, "600000.SH  ")[0] == "600000.SH" and "200" in row(text, "600000.SH  ")
        assert "halted gamma: risk check" in text and "rejected" in text  # the log pane

        exchange_of(server).disconnect_all(offline=True)
        # the state turns "down" from the heartbeat or the status poll; the log line comes from the
        # journaled hub.broker event, which may land a moment later: wait for both
        wait_until(lambda: state.broker["state"] == "down"
                   and any(e.text.startswith("broker down") for e in list(state.log)),
                   step=feed.step, what="broker down (state and log)")
        text = screen(state)
        assert "BROKER DOWN" in text.splitlines()[1]
        assert "ERROR" in " ".join(row(text, "broker down"))

        narrow = screen(state, width=80, height=24)
        assert len(narrow.rstrip("\n").splitlines()) <= 24
        assert "BROKER DOWN" in narrow and " alpha " in narrow and " gamma " in narrow
    finally:
        exchange_of(server).go_online()
        feed.stop()


def test_focus_shows_one_strategy(trading):
    server = trading
    state = MonitorState(rpc=server.config.rpc, pub=server.config.pub)
    feed = Feed(state, lambda: HubLink(server.config.rpc, server.config.pub, timeout=3.0))
    try:
        wait_until(lambda: len(state.orders) == 3, step=feed.step, what="orders")
        text = screen(state, focus="beta")
        assert "focus beta" in text.splitlines()[0]
        orders = text.split("orders - beta")[1].split("trades")[0]
        assert "废单" in orders and "alpha" not in orders
    finally:
        feed.stop()
