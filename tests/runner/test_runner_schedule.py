"""The scheduler on a hand-moved clock: times, trading days, grace, catch-up, restarts, failures."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

import pytest

from rpc_client.calendar import SHANGHAI, FileSource, TradingCalendar
from rpc_client.runner.clock import ManualClock
from rpc_client.runner.schedule import Scheduler, ScheduleError, parse_period, resolve


@pytest.fixture
def calendar(tmp_path: Path) -> TradingCalendar:
    f = tmp_path / "h.toml"
    # 2024: 除夕 02-09 closed, and the Spring Festival week
    f.write_text("[closed]\n2024 = [2024-02-09, 2024-02-12, 2024-02-13, 2024-02-14, 2024-02-15, 2024-02-16]\n",
                 encoding="utf-8")
    return TradingCalendar([FileSource(f)])


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def test_resolve_jqtrade_times() -> None:
    assert resolve("open-30m") == [dtime(9, 0)]
    assert resolve("open") == [dtime(9, 30)]
    assert resolve("10:00:00") == [dtime(10, 0)]
    assert resolve("14:50") == [dtime(14, 50)]
    assert resolve("close") == [dtime(15, 0)]
    assert resolve("close+30m") == [dtime(15, 30)]
    assert resolve("close-1m") == [dtime(14, 59)]
    assert resolve("open+90s") == [dtime(9, 31, 30)]
    mins = resolve("every_minute")
    assert len(mins) == 240 and mins[0] == dtime(9, 30) and mins[119] == dtime(11, 29)
    assert mins[120] == dtime(13, 0) and mins[-1] == dtime(14, 59)
    period = parse_period([("09:30:00", "10:00:00"), ("13:00:00", "13:30:00")])
    assert len(resolve("every_minute", period)) == 60 and resolve("close", period) == [dtime(13, 30)]
    for bad in ("9:61", "opening", "open-30x", "25:00", "close+10h"):
        with pytest.raises(ScheduleError):
            resolve(bad)
    with pytest.raises(ScheduleError):
        parse_period([("10:00:00", "09:00:00")])


class Day:
    """Drive a scheduler through time on a manual clock, recording every run."""

    def __init__(self, calendar: TradingCalendar, state: Path | None, start: datetime, **kw) -> None:
        self.clock = ManualClock(start)
        self.runs: list[tuple[str, datetime, datetime]] = []
        self.sched = Scheduler(self.clock, calendar, state, invoke=self._invoke, **kw)

    def _invoke(self, job, when) -> None:
        self.runs.append((job.name, when, self.clock.now()))
        job.func()

    def walk(self, until: datetime, step: float = 60.0) -> None:
        """Step the clock to `until`, letting the scheduler act at each step (as its loop would)."""
        while self.clock.now() < until:
            now = self.clock.now()
            if self.sched.calendar.is_trading_day(now.date()):
                self.sched._roll(now.date(), now)
                self.sched.run_due(now)
            self.clock.advance(step)


def test_full_day_counts_and_times(calendar: TradingCalendar) -> None:
    d = Day(calendar, None, sh(2024, 2, 8, 8, 0))
    for name, spec in [("before", "open-30m"), ("open", "open"), ("at10", "10:00:00"), ("close", "close"),
                       ("after", "close+30m"), ("minute", "every_minute")]:
        d.sched.add(lambda: None, spec).func.__name__  # noqa: B018
        d.sched.jobs[-1].func = _named(name)
    d.walk(sh(2024, 2, 8, 16, 0), step=30)
    by = {}
    for name, when, at in d.runs:
        by.setdefault(name, []).append(when)
        assert timedelta(0) <= at - when <= timedelta(seconds=30)
    assert by["before"] == [sh(2024, 2, 8, 9, 0)] and by["open"] == [sh(2024, 2, 8, 9, 30)]
    assert by["at10"] == [sh(2024, 2, 8, 10, 0)] and by["close"] == [sh(2024, 2, 8, 15, 0)]
    assert by["after"] == [sh(2024, 2, 8, 15, 30)]
    assert len(by["minute"]) == 240 and len(set(by["minute"])) == 240
    assert d.sched.summary()["missed"] == 0


def _named(name: str):
    def f() -> None:
        return None
    f.__name__ = name
    return f


def test_holiday_and_weekend_run_nothing(calendar: TradingCalendar) -> None:
    clock = ManualClock(sh(2024, 2, 9, 8, 0), speed=3600 * 24 * 8)  # 8 days per real second
    runs: list[datetime] = []
    sched = Scheduler(clock, calendar, None, invoke=lambda job, when: runs.append(when))
    sched.add(_named("open"), "open")
    stop = threading.Event()
    t = threading.Thread(target=sched.run, args=(stop,))
    t.start()
    deadline = datetime.now().timestamp() + 20
    while not runs and datetime.now().timestamp() < deadline:
        threading.Event().wait(0.02)
    stop.set()
    t.join(10)
    # Fri 02-09 (除夕), the weekend and the festival week ran nothing: the first run is Mon 02-19
    assert runs and runs[0] == sh(2024, 2, 19, 9, 30)


def test_late_fire_misses_then_catch_up_rule(calendar: TradingCalendar, tmp_path: Path) -> None:
    for rule, expect_runs in (("skip", 0), ("run_once", 1)):
        state = tmp_path / f"{rule}.json"
        d = Day(calendar, state, sh(2024, 2, 8, 9, 0))
        d.sched.add(_named("at10"), "10:00:00", catch_up=rule)
        d.sched.add(_named("minute"), "every_minute")
        d.walk(sh(2024, 2, 8, 9, 59, 50))
        # the process is killed at 09:59:50 and restarted at 10:05 (beyond the 60 s grace)
        d2 = Day(calendar, state, sh(2024, 2, 8, 10, 5))
        d2.sched.add(_named("at10"), "10:00:00", catch_up=rule)
        d2.sched.add(_named("minute"), "every_minute")
        d2.walk(sh(2024, 2, 8, 10, 30))
        at10 = [r for r in d.runs + d2.runs if r[0] == "at10"]
        assert len(at10) == expect_runs, rule
        st = d2.sched.stats["at10@10:00:00"]
        assert st.missed == 1 and st.runs == expect_runs
        # the every_minute fires between the kill and the restart are missed (skip), counted, never run twice
        minutes = [r[1] for r in d.runs + d2.runs if r[0] == "minute"]
        assert len(minutes) == len(set(minutes))
        # 10:00 .. 10:03 are later than the grace at 10:05; 10:04 (60 s ago) and 10:05 still run
        assert d2.sched.stats["minute@every_minute"].missed == 4
        assert sh(2024, 2, 8, 10, 4) in minutes and sh(2024, 2, 8, 10, 3) not in minutes
        saved = json.loads(state.read_text(encoding="utf-8"))
        assert saved["stats"]["at10@10:00:00"]["missed"] == 1


def test_restart_within_grace_runs_once_never_twice(calendar: TradingCalendar, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    d = Day(calendar, state, sh(2024, 2, 8, 9, 0))
    d.sched.add(_named("open"), "open", catch_up="skip")
    d.walk(sh(2024, 2, 8, 9, 29, 50))
    # killed before 09:30, restarted at 09:30:40: inside the grace, so it runs, once, even with skip
    d2 = Day(calendar, state, sh(2024, 2, 8, 9, 30, 40))
    d2.sched.add(_named("open"), "open", catch_up="skip")
    d2.walk(sh(2024, 2, 8, 9, 35), step=5)
    # killed after it ran, restarted at 09:30:50 (still inside the grace): not run again
    d3 = Day(calendar, state, sh(2024, 2, 8, 9, 30, 50))
    d3.sched.add(_named("open"), "open", catch_up="run_once")
    d3.walk(sh(2024, 2, 8, 10, 0), step=5)
    assert [r[0] for r in d.runs + d2.runs + d3.runs] == ["open"]


def test_job_killed_mid_run_is_not_run_again(calendar: TradingCalendar, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    d = Day(calendar, state, sh(2024, 2, 8, 9, 29, 59))

    def dies() -> None:
        raise SystemExit("killed")  # stands for the process dying inside the function

    dies.__name__ = "open"
    d.sched.add(dies, "open")
    d.clock.set(sh(2024, 2, 8, 9, 30, 1))
    d.sched._roll(date(2024, 2, 8), d.clock.now())
    with pytest.raises(SystemExit):
        d.sched.run_due(d.clock.now())
    d2 = Day(calendar, state, sh(2024, 2, 8, 9, 30, 5))
    d2.sched.add(_named("open"), "open")
    d2.walk(sh(2024, 2, 8, 9, 40))
    assert [r[0] for r in d2.runs] == []


def test_fresh_start_does_not_run_earlier_fires(calendar: TradingCalendar) -> None:
    d = Day(calendar, None, sh(2024, 2, 8, 14, 0))
    d.sched.add(_named("open"), "open")
    d.sched.add(_named("minute"), "every_minute")
    d.walk(sh(2024, 2, 8, 14, 10))
    assert [r[0] for r in d.runs if r[0] == "open"] == []
    # only what fell due inside the grace before the start (13:59) runs; nothing earlier, nothing missed
    assert [r[1] for r in d.runs][:3] == [sh(2024, 2, 8, 13, 59), sh(2024, 2, 8, 14, 0), sh(2024, 2, 8, 14, 1)]
    assert d.sched.summary()["missed"] == 0


def test_exception_logged_counted_others_go_on_then_halt(calendar: TradingCalendar, caplog) -> None:
    halts = []
    d = Day(calendar, None, sh(2024, 2, 8, 9, 29), max_failures=3, on_halt=lambda job, n: halts.append((job.name, n)))

    def boom() -> None:
        raise ValueError("bad data")

    boom.__name__ = "boom"
    d.sched.add(boom, "every_minute")
    d.sched.add(_named("fine"), "every_minute")
    with caplog.at_level("ERROR", logger="rpc_client.runner"):
        d.walk(sh(2024, 2, 8, 9, 40))
    assert d.sched.stats["boom@every_minute"].failures == 10
    assert d.sched.stats["fine@every_minute"].runs == 10 and d.sched.stats["fine@every_minute"].failures == 0
    assert halts == [("boom", 3)]
    assert "ValueError: bad data" in caplog.text and "Traceback" in caplog.text
    assert "failed 3 times in a row" in d.sched.halted


def test_halt_holds_across_a_restart_then_lifts_the_next_trading_day(calendar: TradingCalendar, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    d = Day(calendar, state, sh(2024, 2, 8, 9, 29), max_failures=2)

    def boom() -> None:
        raise RuntimeError("x")

    boom.__name__ = "boom"
    d.sched.add(boom, "every_minute")
    d.walk(sh(2024, 2, 8, 9, 33))
    assert d.sched.halted
    resumed = []
    d2 = Day(calendar, state, sh(2024, 2, 8, 9, 40), on_resume=lambda: resumed.append(True))
    assert "failed 2 times in a row" in d2.sched.halted  # the restarted runner keeps the day's halt
    d2.sched.add(_named("boom"), "every_minute")
    d2.walk(sh(2024, 2, 8, 9, 42))
    assert d2.sched.halted and resumed == []
    d2.clock.set(sh(2024, 2, 19, 9, 29))  # the next trading day
    d2.walk(sh(2024, 2, 19, 9, 31))
    assert d2.sched.halted == "" and resumed == [True]
