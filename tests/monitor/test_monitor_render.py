"""Rendering a synthetic hub state: the panes show what an operator needs, at 80x24 too."""

from __future__ import annotations

from monitor_sample import NOW, ev, sample_state
from rich.console import Console

from hub.monitor.render import render_dashboard
from hub.monitor.state import MonitorState


def screen(state: MonitorState, width: int = 120, height: int = 50, **kw) -> str:
    console = Console(record=True, width=width, height=height, force_terminal=False, color_system=None)
    console.print(render_dashboard(state, now=NOW, width=width, height=height, **kw))
    return console.export_text()


def cells(line: str) -> list[str]:
    return line.strip().strip("│").split()


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, f"{needle!r} not on screen:\n{text}"
    return lines[0]


def test_header_shows_hub_account_broker_uptime_and_halts():
    text = screen(sample_state())
    head = text.splitlines()[:3]
    assert "tcp://127.0.0.1:5555" in head[0] and "88001234" in head[0] and "h-1a2b3c" in head[0]
    assert "uptime 1h02m" in head[0]
    assert "BROKER UP" in head[1] and "halted: gamma" in head[1]
    assert "total 1,000,000.00" in head[2] and "cash 897,000.00" in head[2] and "frozen 1,000.00" in head[2]
    # P&L today = value now - value at yesterday's close - net buys (600000.SH: 5000*10.2 - 3000*10.1 - 20000;
    # 000001.SZ: 4000*12.75 - 4000*12.6 + 1280)
    assert "P&L today +2,580.00" in head[2]


def test_strategy_rows_show_counts_heartbeat_and_halt():
    text = screen(sample_state())
    alpha = line_with(text, "alpha    ")
    assert cells(alpha)[:2] == ["alpha", "strategy"] and "0.3s" in alpha
    beta = line_with(text, " beta ")
    assert cells(beta)[-5:] == ["0", "1", "0", "1", "-"]  # open, orders, fills, rejects, not halted
    gamma = line_with(text, " gamma ")
    assert "HALTED too many rejects" in gamma
    assert "strategies (3) + 1 other client(s)" in text


def test_rejected_order_shows_state_name_and_reason_newest_first():
    text = screen(sample_state())
    rejected = line_with(text, " 104 ")
    assert "废单" in rejected and "可用资金不足" in rejected and "beta" in rejected
    orders = [line for line in text.splitlines() if "600000.SH" in line and ("已报" in line or "已成" in line)]
    assert "已报" in orders[0] and "已成" in orders[1]  # 102 (newer) above 101
    assert text.index(" 104 ") < text.index(" 103 ") < text.index(" 102 ")
    log = line_with(text, "rejected: 可用资金不足")
    assert "WARNING" in log and "beta" in log


def test_english_state_names():
    text = screen(sample_state(), lang="en")
    assert "rejected" in line_with(text, " 104 ") and "reported" in line_with(text, " 102 ")
    assert "sell" in line_with(text, " 103 ")
    assert "废单" not in text


def test_positions_traffic_and_trades():
    text = screen(sample_state())
    pos = line_with(text, "600000.SH       ")
    assert cells(pos)[1:] == ["5,000", "3,000", "10.00", "10.20", "51,000.00", "+1,000.00"]
    assert "requests/s 12.5" in text and "p50 0.42 ms" in text and "p99 2.50 ms" in text
    assert "beta 17" in line_with(text, "dropped ticks")
    assert "20,000.00" in line_with(text, "alpha ") or "20,000.00" in text


def test_broker_down_banner_and_log():
    s = sample_state()
    s.apply_event("hub.broker", ev("hub.broker", {"state": "down", "since": NOW - 3, "reason": "connection lost"}),
                  NOW - 3)
    text = screen(s)
    banner = text.splitlines()[1]
    assert "BROKER DOWN" in banner and "connection lost" in banner
    assert "ERROR" in line_with(text, "broker down: connection lost")


def test_hub_unreachable_keeps_last_data():
    s = sample_state()
    s.set_unreachable(NOW - 2, "no heartbeat for 3.0s")
    text = screen(s)
    assert "HUB UNREACHABLE tcp://127.0.0.1:5555" in text.splitlines()[1]
    assert " gamma " in text  # last known data stays
    assert "hub unreachable" in line_with(text, "ERROR")


def test_fits_80x24_dropping_low_priority_panes():
    text = screen(sample_state(), width=80, height=24)
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    assert "qmt-hub" in lines[0] and "BROKER UP" in lines[1]
    for name in ("alpha", "beta", "gamma"):
        assert f" {name} " in text
    assert "P&L today" in lines[2]
    assert "rejected: 可用资金不足" in text  # the log survives
    assert "trades (" not in text  # lowest priority goes first


def test_tiny_terminal_keeps_header_and_strategies():
    text = screen(sample_state(), width=60, height=12)
    assert len(text.rstrip("\n").splitlines()) <= 12
    assert "qmt-hub" in text and "strategies (3)" in text and " alpha " in text


def test_focus_on_one_strategy():
    text = screen(sample_state(), focus="beta")
    assert "focus beta" in text.splitlines()[0]
    assert " beta " in text and " alpha " not in text and " gamma " not in text.split("log")[0]
    assert " 104 " in text and " 101 " not in text


def test_client_that_left_is_dimmed_then_ages_out():
    s = sample_state()
    rows = [r for r in s.clients.values() if r["strategy"] != "beta"]
    s.apply_clients(rows, NOW)
    assert "gone" in line_with(screen(s), " beta ")
    s.apply_clients(rows, NOW + 31)
    assert " beta " not in screen(s).split("orders")[0]


def test_hub_restart_is_logged_and_asks_for_resync():
    s = sample_state()
    s.needs_resync = False
    s.apply_event("hub.heartbeat", ev("hub.heartbeat", {"uptime": 1.0}, hub_id="h-new"), NOW)
    assert s.needs_resync and s.hub_id == "h-new"
    assert "hub restarted" in line_with(screen(s), "WARNING")


def test_empty_state_renders():
    s = MonitorState(rpc="tcp://127.0.0.1:5555")
    text = screen(s, width=80, height=24)
    assert "CONNECTING" in text and "no clients connected" in text


def test_monitor_is_a_pure_client_of_the_hub():
    """hub.monitor imports rpc_client and rich only: it may run on a machine without the hub or xtquant."""
    import subprocess
    import sys

    code = ("import sys, hub.monitor.feed, hub.monitor.render, hub.monitor.link; "
            "bad = sorted(m for m in sys.modules if m.startswith(('hub.core', 'hub.sim', 'hub.broker', 'xtquant'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
