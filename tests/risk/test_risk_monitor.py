"""The monitor's sleeves pane and hub.risk log lines, from a live hub with the risk engine."""

from __future__ import annotations

import time

from rich.console import Console

from hub.monitor.feed import Feed
from hub.monitor.link import HubLink
from hub.monitor.render import render_dashboard
from hub.monitor.state import MonitorState

CODE = "600000.SH"


def screen(state: MonitorState, width: int = 140, height: int = 60) -> str:
    console = Console(record=True, width=width, height=height, color_system=None)
    console.print(render_dashboard(state, now=time.time(), width=width, height=height))
    return console.export_text()


def test_sleeves_pane_shows_cash_pnl_orders_against_limit_and_the_guard(make_hub, connect):
    hub = make_hub(strategies={"alpha": {"cash": 200000, "max_daily_orders": 50}})
    alpha = connect(hub, "alpha")
    alpha.call("order_stock", {"stock_code": CODE, "order_type": 23, "order_volume": 1000, "price_type": 11,
                               "price": 10.5})
    alpha.error("order_stock", {"stock_code": CODE, "order_type": 24, "order_volume": 100, "price_type": 11,
                                "price": 10.9})  # alpha owns no settled shares: refused
    state = MonitorState(rpc=hub.config.rpc, pub=hub.config.pub)
    feed = Feed(state, lambda: HubLink(hub.config.rpc, hub.config.pub, timeout=3.0), status_every=0.2)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            feed.step()
            if any(s["strategy"] == "alpha" and s["positions"] for s in state.sleeves) and \
                    any("sleeve_position" in e.text for e in list(state.log)):
                break
            time.sleep(0.05)
    finally:
        feed.stop()  # its hub session (client threads) ends with the test
    text = screen(state)
    assert "guard 0/s" in text or "guard 1/s" in text or "guard 2/s" in text
    assert "of 200/s" in text and "of 18,000/day" in text and "reconciled" in text
    row = next(line for line in text.splitlines() if " alpha " in line and "/50" in line)
    assert "1/50" in row and "1" in row  # orders today against max_daily_orders, one refused
    assert "pool" in text
    assert any("RISK_REJECTED alpha [sleeve_position]" in e.text for e in list(state.log))
