"""The monitor's sleeves pane and hub.risk log lines, from a live hub with the risk engine."""

from __future__ import annotations

import time

import pytest

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


def watch(feed: Feed, pred, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        feed.step()
        time.sleep(0.05)


def title_line(text: str) -> str:
    return next(line for line in text.splitlines() if "sleeves (" in line)


def test_reconcile_differences_found_after_a_reconnect_in_the_title_and_the_log(make_hub, connect):
    from risk_helpers import reconnect_with_a_difference

    hub = make_hub(strategies={"alpha": {"cash": 200000}}, reconnect_interval=0.2)
    admin = connect(hub, "ops", role="admin")
    state = MonitorState(rpc=hub.config.rpc, pub=hub.config.pub)
    feed = Feed(state, lambda: HubLink(hub.config.rpc, hub.config.pub, timeout=3.0), status_every=0.2)
    try:
        watch(feed, lambda: (state.risk.get("reconcile") or {}).get("ok") is True, "the first status")
        assert "reconciled" in title_line(screen(state))
        reconnect_with_a_difference(hub, admin)  # +500 shares, +1,234.56 CNY at the broker, no trade
        watch(feed, lambda: len((state.risk.get("reconcile") or {}).get("differences") or []) == 2,
              "the differences in the monitor's status")
        title = title_line(screen(state))
        assert "RECONCILE: 2 difference(s)" in title and "reconciled" not in title, title
        assert admin.call("reconcile")["ok"] is True  # books them (if the reconnect did not already)
        watch(feed, lambda: any("reconciliation: 2 difference(s) booked to the pool (_external)" in e.text
                                for e in list(state.log)), "the reconciled event in the log")
    finally:
        feed.stop()


def test_title_keeps_booked_differences():
    from risk_helpers import pending_difference

    state = MonitorState(rpc="tcp://127.0.0.1:1", pub="tcp://127.0.0.1:2")
    e = pending_difference(book=True)
    state.risk, state.sleeves = e.status(), e.sleeves_view()
    assert state.risk["reconcile"]["ok"] is True and len(state.risk["reconcile"]["differences"]) == 2
    assert "RECONCILE: 2 difference(s)" in title_line(screen(state))


def test_title_counts_a_pending_difference():
    from risk_helpers import pending_difference

    state = MonitorState(rpc="tcp://127.0.0.1:1", pub="tcp://127.0.0.1:2")
    e = pending_difference()
    state.risk, state.sleeves = e.status(), e.sleeves_view()
    title = title_line(screen(state))
    assert "RECONCILE: 2 difference(s)" in title and "reconciled" not in title, title
