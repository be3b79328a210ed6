"""When the hub tries the broker again (hub/core/reconnect.py): backoff, the MiniQMT probe first, at most one attempt
an hour on a non-trading day, and the reason shown while waiting; and the MiniQMT probe itself."""

from __future__ import annotations

import datetime as dt

from hub.broker.probe import miniqmt_probe
from hub.core.reconnect import NON_TRADING_DAY_EVERY, ReconnectPlan, TradingDays

MONDAY = dt.date(2026, 12, 7)
SATURDAY = dt.date(2026, 12, 5)


def _plan(probe=None, trading=True, day=MONDAY, interval=5.0, max_interval=60.0):
    return ReconnectPlan(interval, max_interval, probe=probe, trading_day=lambda d: trading,
                         today=lambda now: day, what="MiniQMT")


def test_failures_back_off_doubling_to_the_cap():
    plan = _plan()
    now, waits = 0.0, []
    for _ in range(6):
        assert plan.decide(now).attempt
        reason = plan.failed(now, "connect() returned -1")
        waits.append(plan.next_at - now)
        assert "attempt" in reason and "connect() returned -1" in reason and "next try in" in reason
        d = plan.decide(now + 1)
        assert not d.attempt and "next try in" in d.reason
        now = plan.next_at
        d = plan.decide(now)  # the next attempt still names the last failure (what `hub status` shows meanwhile)
        assert d.attempt and d.reason.startswith("trying a fresh connection (last: attempt")
        assert "connect() returned -1" in d.reason
    assert waits == [5, 10, 20, 40, 60, 60]
    plan.succeeded()
    assert plan.decide(now).attempt and plan.failures == 0


def test_a_failed_probe_is_not_an_attempt_and_says_what_is_missing():
    state = {"up": False}
    plan = _plan(probe=lambda: (state["up"], "XtMiniQmt.exe is not running"))
    d = plan.decide(100.0)
    assert not d.attempt and "waiting for MiniQMT: XtMiniQmt.exe is not running" in d.reason
    assert plan.failures == 0  # probing costs no backoff
    assert not plan.decide(104.0).attempt  # probed again only after the interval
    state["up"] = True
    assert plan.decide(105.0).attempt


def test_a_probe_that_cannot_tell_or_breaks_lets_the_attempt_go():
    assert _plan(probe=lambda: (None, "cannot list processes")).decide(0).attempt

    def broken():
        raise RuntimeError("boom")
    assert _plan(probe=broken).decide(0).attempt


def test_non_trading_day_at_most_one_attempt_an_hour():
    plan = _plan(trading=False, day=SATURDAY)
    assert plan.decide(0.0).attempt
    plan.failed(1.0, "no MiniQMT")
    attempts = sum(plan.decide(t).attempt for t in range(2, int(NON_TRADING_DAY_EVERY), 5))
    assert attempts == 0
    d = plan.decide(100.0)
    assert "non-trading day 2026-12-05" in d.reason or "next try in" in d.reason
    assert plan.decide(NON_TRADING_DAY_EVERY + 1).attempt


def test_a_down_miniqmt_on_a_holiday_says_both():
    plan = _plan(probe=lambda: (False, "XtMiniQmt.exe is not running"), trading=False, day=SATURDAY)
    d = plan.decide(0.0)
    assert not d.attempt and "non-trading day 2026-12-05" in d.reason


def test_trading_days_never_block_and_unknown_is_none():
    import threading

    release = threading.Event()

    def slow(day):
        release.wait(5)
        return day.weekday() < 5
    days = TradingDays(slow)
    assert days(MONDAY) is None  # not known yet: never waits for the calendar
    release.set()
    for _ in range(100):
        if days(MONDAY) is not None:
            break
        threading.Event().wait(0.02)
    assert days(MONDAY) is True

    def raising(day):
        raise LookupError("past coverage")
    past = TradingDays(raising)
    past(MONDAY)
    for _ in range(50):
        threading.Event().wait(0.02)
    assert past(MONDAY) is None


def test_miniqmt_probe(tmp_path):
    folder = tmp_path / "userdata_mini"
    assert miniqmt_probe(str(folder), lambda: {"xtminiqmt.exe"})()[0] is False  # no folder
    folder.mkdir()
    assert miniqmt_probe(str(folder), lambda: {"xtminiqmt.exe", "explorer.exe"})() == (True, "MiniQMT is running")
    ok, why = miniqmt_probe(str(folder), lambda: {"explorer.exe"})()
    assert ok is False and "XtMiniQmt.exe is not running" in why

    def no_list():
        raise OSError("denied")
    assert miniqmt_probe(str(folder), no_list)()[0] is None
