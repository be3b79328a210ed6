"""The header shows how long ago the hub's last heartbeat arrived, and flags a quiet hub."""

from __future__ import annotations

from monitor_sample import NOW, ev, sample_state
from rich.console import Console

from hub.monitor.render import render_dashboard, render_header


def screen(state, width=120, height=50) -> str:
    console = Console(record=True, width=width, height=height, force_terminal=False, color_system=None)
    console.print(render_dashboard(state, now=NOW, width=width, height=height))
    return console.export_text()


def style_of(state, needle: str, now: float = NOW) -> str:
    """The style of the header's text at the last character of `needle` (the age, not the label)."""
    text = render_header(state, now, 120)
    idx = text.plain.index(needle) + len(needle) - 1
    styles = [str(span.style) for span in text.spans if span.start <= idx < span.end]
    return " ".join(styles)


def beat(state, at: float, **data) -> None:
    state.apply_event("hub.heartbeat", ev("hub.heartbeat", {"last_seq": 42, "heads": {}, "broker": "up",
                                                            "halted": False, "uptime": 10.0, "clients": 4, **data}),
                      at)


def test_heartbeat_age_in_header():
    s = sample_state()
    s.apply_status({"heartbeat_interval": 1.0}, NOW - 10)
    beat(s, NOW - 0.4)
    head = screen(s).splitlines()[0]
    assert "hb 0.4s" in head
    assert "bold" not in style_of(s, "hb 0.4s") and "red" not in style_of(s, "hb 0.4s")


def test_heartbeat_stale_after_two_intervals_is_coloured():
    s = sample_state()
    s.apply_status({"heartbeat_interval": 1.0}, NOW - 10)
    beat(s, NOW - 1.9)
    assert "hb 1.9s" in screen(s).splitlines()[0]
    assert "red" not in style_of(s, "hb 1.9s")
    beat(s, NOW - 2.5)
    assert "hb 2.5s" in screen(s).splitlines()[0]
    assert "red" in style_of(s, "hb 2.5s")
    # the interval comes from the hub's hello: a hub beating every 5 s is not stale after 2.5 s
    s.apply_status({"heartbeat_interval": 5.0}, NOW)
    assert "red" not in style_of(s, "hb 2.5s")


def test_no_heartbeat_yet_shows_a_dash_and_fits_80_columns():
    s = sample_state()
    assert "hb -" in screen(s).splitlines()[0]
    beat(s, NOW - 0.2)
    first = screen(s, width=80, height=24).splitlines()[0]
    assert "hb 0.2s" in first and len(first) <= 80


def test_heartbeat_merges_with_richer_status_data():
    """A heartbeat carries only the broker state and the global halt flag: it must not wipe the
    broker's since/reason or the per-strategy halts the status poll and hub.halt events gave."""
    s = sample_state()
    since = s.broker["since"]
    beat(s, NOW - 0.3, last_seq=57)
    assert s.broker["since"] == since and s.broker["state"] == "up"
    assert s.halted["strategies"] == {"gamma": "too many rejects"}
    text = screen(s)
    assert "halted: gamma" in text.splitlines()[1]
    assert "seq 57" in text  # fresher than the 1 s status poll in the traffic pane
    assert s.hub_clients == 4
    beat(s, NOW - 0.2, broker="down", halted=True)
    assert s.broker["state"] == "down" and s.halted["all"] is True
    assert s.halted["strategies"] == {"gamma": "too many rejects"}
    assert "BROKER DOWN" in screen(s).splitlines()[1]
