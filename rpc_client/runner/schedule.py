"""The runner's scheduler: run_daily jobs on A-share trading days, never skipping silently.

* Times are jqtrade's: ``HH:MM[:SS]``, ``open``, ``close``, ``open±Nm`` / ``close±Nm`` (also ``s``/``h``),
  ``every_minute`` (each minute of ``market_period``, start inclusive, end exclusive: 240 a day),
  plus the named points ``auction_open`` (09:15), ``auction_cancel_cutoff`` (09:20) and
  ``close_auction`` (14:57). All in Asia/Shanghai on the runner's clock.
* Nothing runs on a day the trading calendar says is closed; a day outside the calendar's
  coverage raises (:class:`rpc_client.calendar.CalendarCoverageError`), never guessed.
* Each job has a misfire ``grace`` (default 60 s) and a ``catch_up`` rule: a run found later than its
  grace is *missed* (logged, counted) and then either ``skip``-ped or run once (``run_once``; several
  missed runs of one job coalesce into one).
* The last handled fire of every job is persisted (JSON, atomically) *before* the job runs, so a
  restarted runner never runs a fire twice (at most once: a job killed mid-run is not re-run).
  The first start of a day does not run what was due before it started (beyond the grace).
* An exception in a job is logged with its traceback and counted; the strategy goes on. A job that
  fails ``max_failures`` times in a row triggers ``on_halt`` once (the runner stops the strategy's
  new orders and tells the hub, so the monitor shows it).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

from rpc_client.calendar import (AUCTION_CANCEL_CUTOFF, AUCTION_OPEN, CLOSE_AUCTION, MARKET_PERIOD, SHANGHAI,
                                 TradingCalendar, at)
from rpc_client.runner.clock import Clock, wait_until

log = logging.getLogger("rpc_client.runner")

DEFAULT_GRACE = 60.0
CATCH_UP = ("skip", "run_once")
DEFAULT_MAX_FAILURES = 5
_NAMED = {"auction_open": AUCTION_OPEN, "auction_cancel_cutoff": AUCTION_CANCEL_CUTOFF, "close_auction": CLOSE_AUCTION}
_REL = re.compile(r"^(open|close)\s*(?:([+-])\s*(\d+)\s*([smh]))?$")
_ABS = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class ScheduleError(ValueError):
    """A run_daily time or option that cannot work; the message says which and why."""


def parse_period(period: Any) -> tuple[tuple[dtime, dtime], ...]:
    """jqtrade's ``market_period``: [("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")]."""
    if period is None:
        return MARKET_PERIOD
    out = []
    try:
        for a, b in period:
            ta, tb = _clock_time(str(a)), _clock_time(str(b))
            if ta >= tb:
                raise ScheduleError(f"market_period {a}-{b}: the start must be before the end")
            out.append((ta, tb))
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"market_period must be a list of (start, end) 'HH:MM:SS' pairs: {exc}") from None
    if not out or any(out[i][1] > out[i + 1][0] for i in range(len(out) - 1)):
        raise ScheduleError("market_period must be non-empty, in order and not overlapping")
    return tuple(out)


def _clock_time(text: str) -> dtime:
    m = _ABS.match(text.strip())
    if not m:
        raise ScheduleError(f"not a time of day: {text!r} (use HH:MM or HH:MM:SS)")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ScheduleError(f"not a time of day: {text!r}")
    return dtime(h, mi, s)


def resolve(spec: str, period: Sequence[tuple[dtime, dtime]] = MARKET_PERIOD) -> list[dtime]:
    """The clock times a run_daily ``spec`` fires at on a trading day, in order."""
    if not isinstance(spec, str):
        raise ScheduleError(f"run_daily time must be a string, got {type(spec).__name__}")
    s = spec.strip().lower()
    if s == "every_minute":
        out = []
        for a, b in period:
            t = datetime.combine(date(2000, 1, 1), a)
            end = datetime.combine(date(2000, 1, 1), b)
            while t < end:
                out.append(t.time())
                t += timedelta(minutes=1)
        return out
    if s in _NAMED:
        return [_NAMED[s]]
    m = _REL.match(s)
    if m:
        base = period[0][0] if m.group(1) == "open" else period[-1][1]
        t = datetime.combine(date(2000, 1, 1), base)
        if m.group(2):
            n = int(m.group(3)) * {"s": 1, "m": 60, "h": 3600}[m.group(4)]
            t += timedelta(seconds=n if m.group(2) == "+" else -n)
        if t.date() != date(2000, 1, 1):
            raise ScheduleError(f"run_daily time {spec!r} leaves the day")
        return [t.time()]
    if _ABS.match(s):
        return [_clock_time(s)]
    raise ScheduleError(f"unknown run_daily time {spec!r}: use 'HH:MM[:SS]', 'open', 'close', 'open-30m', "
                        f"'close+30m', 'every_minute' or {', '.join(sorted(_NAMED))}")


@dataclass
class Job:
    func: Callable[..., Any]
    spec: str
    times: list[dtime]
    key: str
    grace: float = DEFAULT_GRACE
    catch_up: str = "run_once"
    index: int = 0

    @property
    def name(self) -> str:
        return getattr(self.func, "__name__", repr(self.func))


@dataclass
class JobStats:
    runs: int = 0
    failures: int = 0
    missed: int = 0
    consecutive_failures: int = 0
    last: dict[str, Any] = field(default_factory=dict)


class Scheduler:
    """Runs jobs on the clock; see the module docstring for the rules.

    ``invoke(job, scheduled)`` calls the job (the runner sets ``context.strategy_dt`` there);
    it may raise, which counts as a failure. ``on_fire(record)`` sees every run and miss (the
    runner writes it to the task registry and the log)."""

    def __init__(self, clock: Clock, calendar: TradingCalendar, state_path: str | Path | None = None, *,
                 invoke: Callable[[Job, datetime], Any] | None = None, max_failures: int = DEFAULT_MAX_FAILURES,
                 on_halt: Callable[[Job, int], None] | None = None,
                 on_fire: Callable[[dict[str, Any]], None] | None = None,
                 on_resume: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.calendar = calendar
        self.state_path = Path(state_path) if state_path else None
        self.invoke = invoke or (lambda job, when: job.func())
        self.max_failures = int(max_failures)
        self.on_halt = on_halt
        self.on_fire = on_fire
        self.on_resume = on_resume
        self.jobs: list[Job] = []
        self.stats: dict[str, JobStats] = {}
        self.halted: str = ""
        self.running: str = ""
        self._day: date | None = None
        self._day_start: datetime | None = None
        self._last_fire: dict[str, datetime] = {}
        self._closed_logged: date | None = None
        self._lock = threading.Lock()
        self._load()

    # ------------------------------------------------------------------ jobs
    def add(self, func: Callable[..., Any], spec: str, period: Sequence[tuple[dtime, dtime]] = MARKET_PERIOD,
            grace: float | None = None, catch_up: str | None = None) -> Job:
        if not callable(func):
            raise ScheduleError(f"run_daily needs a function, got {func!r}")
        times = resolve(spec, period)
        g = DEFAULT_GRACE if grace is None else float(grace)
        if g < 0:
            raise ScheduleError("misfire grace must be >= 0 seconds")
        rule = catch_up or ("skip" if spec.strip().lower() == "every_minute" else "run_once")
        if rule not in CATCH_UP:
            raise ScheduleError(f"catch_up must be one of {', '.join(CATCH_UP)}, got {rule!r}")
        base = f"{getattr(func, '__name__', 'job')}@{spec.strip()}"
        n = sum(1 for j in self.jobs if j.key.split("#")[0] == base)
        job = Job(func, spec.strip(), times, base if n == 0 else f"{base}#{n + 1}", g, rule, len(self.jobs))
        self.jobs.append(job)
        self.stats.setdefault(job.key, JobStats())
        return job

    # ------------------------------------------------------------------ state
    def _load(self) -> None:
        if not self.state_path:
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        try:
            self._day = date.fromisoformat(data["day"])
            self._day_start = datetime.fromisoformat(data["day_start"])
            self._last_fire = {k: datetime.fromisoformat(v) for k, v in (data.get("last_fire") or {}).items()}
            for k, v in (data.get("stats") or {}).items():
                self.stats[k] = JobStats(**v)
            self.halted = str(data.get("halted") or "")  # a halt holds for the rest of its day
        except (KeyError, TypeError, ValueError):
            log.warning("runner state %s unreadable: starting the day afresh", self.state_path)
            self._day, self._day_start, self._last_fire = None, None, {}

    def _save(self) -> None:
        if not self.state_path:
            return
        data = {"day": self._day.isoformat() if self._day else None,
                "day_start": self._day_start.isoformat() if self._day_start else None,
                "last_fire": {k: v.isoformat() for k, v in self._last_fire.items()},
                "stats": {k: vars(v) for k, v in self.stats.items()}, "halted": self.halted,
                "running": self.running, "saved_at": time.time()}
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with self._lock:  # the scheduler's thread and a hub event (resume) may both save
            try:
                self.state_path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(json.dumps(data), encoding="utf-8")
                os.replace(tmp, self.state_path)
            except OSError as exc:  # a full disk must not stop the strategy; say so
                log.error("cannot save runner state %s: %s", self.state_path, exc)

    def resume(self) -> None:
        """Lift the failure halt (an operator resumed the strategy at the hub)."""
        self.halted = ""
        for st in self.stats.values():
            st.consecutive_failures = 0
        self._save()

    def _roll(self, today: date, now: datetime) -> None:
        if self._day != today:
            if self.halted:
                log.info("runner: a new trading day; the halt of %s is lifted: %s", self._day, self.halted)
                if self.on_resume:
                    self.on_resume()
            self._day, self._day_start, self._last_fire, self.halted = today, now, {}, ""
            for s in self.stats.values():
                s.consecutive_failures = 0
            self._save()

    # ------------------------------------------------------------------ loop
    def fires(self, job: Job, day: date) -> list[datetime]:
        return [at(day, t) for t in job.times]

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; returns after the job running then has finished."""
        while not stop.is_set():
            now = self.clock.now()
            today = now.date()
            if not self.calendar.is_trading_day(today):  # CalendarCoverageError propagates: fail loudly
                if self._closed_logged != today:
                    log.info("%s is not a trading day: nothing runs until %s", today,
                             self.calendar.next_trading_day(today))
                    self._closed_logged = today
                wait_until(self.clock, datetime.combine(today + timedelta(days=1), dtime(0), SHANGHAI), stop)
                continue
            self._roll(today, now)
            nxt = self.run_due(now, stop)
            if stop.is_set():
                break
            if nxt is None:
                nxt = datetime.combine(today + timedelta(days=1), dtime(0), SHANGHAI)
            wait_until(self.clock, nxt, stop)

    def run_due(self, now: datetime, stop: threading.Event | None = None) -> datetime | None:
        """Run (or miss) every fire due by ``now``; return the next fire time today (None: none left)."""
        assert self._day_start is not None
        due: list[tuple[datetime, int, Job, list[datetime], bool]] = []
        nxt: datetime | None = None
        for job in self.jobs:
            last = self._last_fire.get(job.key)
            floor = self._day_start - timedelta(seconds=job.grace)
            pending = [t for t in self.fires(job, now.date()) if (last is None or t > last) and t >= floor]
            ready = [t for t in pending if t <= now]
            later = [t for t in pending if t > now]
            if later and (nxt is None or later[0] < nxt):
                nxt = later[0]
            if not ready:
                continue
            late = [t for t in ready if (now - t).total_seconds() > job.grace]
            ontime = [t for t in ready if (now - t).total_seconds() <= job.grace]
            if ontime:  # each fire still inside its grace runs (late ones before them are missed)
                for k, t in enumerate(ontime):
                    due.append((t, job.index, job, late if k == 0 else [], False))
            elif job.catch_up == "run_once":
                due.append((late[-1], job.index, job, late, True))
            else:
                self._missed(job, late, now, caught_up=False)
                self._last_fire[job.key] = late[-1]
                self._save()
        for when, _, job, late, catch_up in sorted(due, key=lambda d: (d[0], d[1])):
            if stop is not None and stop.is_set():
                break
            if late:
                self._missed(job, late, now, caught_up=catch_up)
            self._run(job, when, catch_up)
        return nxt

    def _missed(self, job: Job, late: list[datetime], now: datetime, caught_up: bool) -> None:
        st = self.stats[job.key]
        st.missed += len(late)
        span = late[0].strftime("%H:%M:%S") + (f"..{late[-1].strftime('%H:%M:%S')}" if len(late) > 1 else "")
        log.warning("missed %d run(s) of %s (%s) at %s: later than the %gs grace at %s; %s", len(late), job.name,
                    job.spec, span, job.grace, now.strftime("%H:%M:%S"),
                    "running it once now (catch_up=run_once)" if caught_up else "skipped (catch_up=skip)")
        rec = {"job": job.key, "func": job.name, "spec": job.spec, "scheduled": late[-1].isoformat(),
               "at": now.isoformat(), "result": "missed", "count": len(late), "catch_up": job.catch_up}
        st.last = rec
        if self.on_fire:
            self.on_fire(rec)

    def _run(self, job: Job, when: datetime, catch_up: bool) -> None:
        st = self.stats[job.key]
        self._last_fire[job.key] = when
        self.running = job.key
        self._save()  # before running: a restart never runs this fire again
        started = self.clock.now()
        t0 = time.perf_counter()
        result, error = "ok", ""
        try:
            self.invoke(job, when)
        except Exception as exc:  # the strategy goes on: log, count, maybe halt
            result, error = "error", f"{type(exc).__name__}: {exc}"
            log.error("%s (%s) scheduled %s failed:\n%s", job.name, job.spec, when.strftime("%H:%M:%S"),
                      traceback.format_exc())
        dur = time.perf_counter() - t0
        st.runs += 1
        if result == "ok":
            st.consecutive_failures = 0
        else:
            st.failures += 1
            st.consecutive_failures += 1
        rec = {"job": job.key, "func": job.name, "spec": job.spec, "scheduled": when.isoformat(),
               "at": started.isoformat(), "result": result, "error": error, "duration": round(dur, 6),
               "catch_up": catch_up}
        st.last = rec
        self.running = ""
        if result != "ok" and self.max_failures > 0 and st.consecutive_failures >= self.max_failures \
                and not self.halted:
            self.halted = (f"{job.name} ({job.spec}) failed {st.consecutive_failures} times in a row "
                           f"(max_failures={self.max_failures}): new orders halted")
            log.error("runner: %s", self.halted)
            if self.on_halt:
                try:
                    self.on_halt(job, st.consecutive_failures)
                except Exception:
                    log.exception("runner: telling the hub about the halt failed")
        self._save()
        if self.on_fire:
            self.on_fire(rec)

    def summary(self) -> dict[str, Any]:
        """Counts per job and the last run, for `hub tasks` and the monitor."""
        return {"jobs": {k: vars(v) for k, v in self.stats.items()}, "halted": self.halted,
                "runs": sum(s.runs for s in self.stats.values()),
                "failures": sum(s.failures for s in self.stats.values()),
                "missed": sum(s.missed for s in self.stats.values())}
