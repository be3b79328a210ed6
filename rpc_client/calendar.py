"""The A-share trading calendar: which days the Shanghai and Shenzhen exchanges trade.

One authority for the runner, the simulator and the hub's market-data service, so it
imports nothing from ``hub``. A day is answered by the first source, in this order,
whose coverage holds it:

1. the broker (on MiniQMT: xtdata's trading dates, served by the hub) -- see
   :class:`BrokerSource`, the seam a caller fills with a fetch function;
2. the ``exchange-calendars`` package's XSHG calendar (the exchange's own holidays,
   1999 to the last year the package records; see docs/decisions.md for why this one);
3. a local file the user keeps (``holidays.toml``, format below), for a year that
   neither of the others has published yet;
4. on the simulator only, :class:`SimulatorWeekdays` (Monday-Friday, as the simulator
   trades past the published years), so a runner agrees with its simulated broker.

A day outside every source's coverage raises :class:`CalendarCoverageError`: with a
real broker the calendar never guesses (a statutory-holiday calendar is not an exchange calendar, and
"Mon-Fri" is wrong on 除夕 2024-02-09). Answers are cached in memory and, given a
``cache_path``, on disk (JSON), so a restart or a simulator runs without the package.

Every time is in Asia/Shanghai whatever the host's zone (:data:`SHANGHAI`).

``holidays.toml``::

    # Weekdays the exchange is closed, one list per year. A year listed here is
    # covered: its trading days are Monday-Friday minus these dates.
    [closed]
    2027 = [2027-01-01, 2027-02-05, ...]   # TOML dates or "YYYY-MM-DD" strings

    # Optional: ad-hoc closures that win over every source (an operator's override).
    override_closed = [2026-12-31]
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence
from zoneinfo import ZoneInfo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

#: The exchanges' zone. Never the host's: CI and the simulator run in UTC.
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Continuous trading sessions (jqtrade's default ``market_period``).
MARKET_PERIOD: tuple[tuple[dtime, dtime], ...] = ((dtime(9, 30), dtime(11, 30)), (dtime(13, 0), dtime(15, 0)))
#: Named points of the A-share day (exchange rules; field-notes section 5).
AUCTION_OPEN = dtime(9, 15)           # opening call auction: orders and cancels
AUCTION_CANCEL_CUTOFF = dtime(9, 20)  # 09:20-09:25 orders but no cancels
OPEN = dtime(9, 30)
LUNCH = (dtime(11, 30), dtime(13, 0))
CLOSE_AUCTION = dtime(14, 57)         # closing call auction, no cancels
CLOSE = dtime(15, 0)

#: Longest run of consecutive closed days we will walk before calling it a coverage hole.
_MAX_GAP = 31
_CACHE_VERSION = 1


class CalendarCoverageError(LookupError):
    """A day that no calendar source covers. The message names the day and every source's span."""

    def __init__(self, day: date, spans: Sequence["Span"], hint: str = "") -> None:
        self.day = day
        self.spans = tuple(spans)
        parts = [f"{s.source}: {s.describe()}" for s in self.spans] or ["no sources"]
        msg = f"{day.isoformat()} is outside the trading calendar's coverage ({'; '.join(parts)})"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


@dataclass(frozen=True)
class Span:
    """What one source covers: [first, last] inclusive, or nothing (``first is None``) with a reason."""

    source: str
    first: date | None
    last: date | None
    note: str = ""

    def holds(self, day: date) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last

    def describe(self) -> str:
        if self.first is None or self.last is None:
            return self.note or "unavailable"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


# ----------------------------------------------------------------------------- dates
def as_date(value: date | datetime | str | int) -> date:
    """A day from a date, a datetime (aware: its Shanghai date; naive: taken as Shanghai),
    'YYYY-MM-DD', 'YYYYMMDD' or 20240209."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD or YYYYMMDD)") from None


def now() -> datetime:
    """The current time in Shanghai (aware)."""
    return datetime.now(SHANGHAI)


def to_shanghai(moment: datetime | float) -> datetime:
    """An aware Shanghai datetime from epoch seconds or a datetime (naive = already Shanghai)."""
    if isinstance(moment, (int, float)):
        return datetime.fromtimestamp(moment, SHANGHAI)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def at(day: date, clock: dtime) -> datetime:
    """``day`` at ``clock`` o'clock in Shanghai (aware)."""
    return datetime.combine(day, clock, SHANGHAI)


def _parse_day(value: object) -> date:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 10**9:
        # epoch milliseconds as xtdata returns them (midnight; read in Shanghai, never the host zone)
        return datetime.fromtimestamp(float(value) / 1000.0, SHANGHAI).date()
    return as_date(value)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- sources
class CalendarSource(Protocol):
    """One place trading days come from."""

    #: Stable identity for the on-disk cache ("" = never cache). Include a version
    #: when the data behind it can change.
    key: str
    #: True when ``key`` pins the data (package version, file stat): coverage may then come from the cache.
    static: bool

    def span(self) -> Span:
        """What this source covers now (never raises: an unavailable source spans nothing)."""
        ...

    def trading_days(self, first: date, last: date) -> Iterable[date]:
        """The trading days in [first, last], a range inside :meth:`span`."""
        ...


class BrokerSource:
    """The broker's own calendar: the seam for xtdata's trading dates served by the hub.

    ``fetch(first, last)`` returns the trading days in that range (dates, 'YYYYMMDD' or
    xtdata's epoch milliseconds); ``coverage()`` returns (first, last) the broker knows, or
    None when it cannot say (disconnected, no data). Any exception either raises makes the
    calendar fall through to the next source for that call."""

    static = False

    def __init__(self, fetch: Callable[[date, date], Iterable[object]],
                 coverage: Callable[[], tuple[date, date] | None], name: str = "broker") -> None:
        self._fetch = fetch
        self._coverage = coverage
        self.name = name
        self.key = f"broker:{name}"

    def span(self) -> Span:
        try:
            cov = self._coverage()
        except Exception as exc:  # a broker that cannot answer covers nothing
            return Span(self.name, None, None, f"unavailable ({type(exc).__name__}: {exc})")
        if not cov:
            return Span(self.name, None, None, "no trading dates")
        return Span(self.name, _parse_day(cov[0]), _parse_day(cov[1]))

    def trading_days(self, first: date, last: date) -> list[date]:
        return sorted({d for d in (_parse_day(v) for v in self._fetch(first, last)) if first <= d <= last})

    @classmethod
    def from_xtdata(cls, xtdata: object, market: str = "SH", name: str = "xtdata") -> "BrokerSource":
        """Wrap an xtdata-like module (``get_trading_dates(market, start_time, end_time)``).

        Coverage is the first to the last date it returns: past days only, so a future day
        falls through to the package (conservative: never extrapolated)."""
        cache: dict[str, list[date]] = {}

        def _all() -> list[date]:
            if "days" not in cache:
                raw = xtdata.get_trading_dates(market, "", "", -1)  # type: ignore[attr-defined]
                cache["days"] = sorted({_parse_day(v) for v in raw})
            return cache["days"]

        def _coverage() -> tuple[date, date] | None:
            days = _all()
            return (days[0], days[-1]) if days else None

        return cls(lambda a, b: [d for d in _all() if a <= d <= b], _coverage, name)


class PackageSource:
    """exchange-calendars' XSHG: the Shanghai exchange's recorded holidays, 1999 to its last year.

    Imported lazily (it brings pandas); with a disk cache it is imported once per version."""

    static = True
    name = "exchange-calendars XSHG"

    def __init__(self) -> None:
        self._cal = None
        try:
            from importlib.metadata import version
            self.version = version("exchange-calendars")
        except Exception:
            self.version = ""
        self.key = f"exchange-calendars:{self.version}:XSHG" if self.version else ""

    def _calendar(self):
        if self._cal is None:
            import warnings

            with warnings.catch_warnings():  # the package's own pandas deprecation noise, not ours
                warnings.simplefilter("ignore")
                import exchange_calendars as xcals  # lazy: pandas is slow to import

                from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar as cls
                first_year = min(cls.precomputed_holidays()).year
                self._cal = xcals.get_calendar("XSHG", start=f"{first_year}-01-01", end=cls.bound_max())
            self._first = date(first_year, 1, 1)
            self._last = cls.bound_max().date()
        return self._cal

    def span(self) -> Span:
        if not self.version:
            return Span(self.name, None, None, "package not installed")
        try:
            self._calendar()
        except Exception as exc:
            return Span(self.name, None, None, f"unavailable ({type(exc).__name__}: {exc})")
        return Span(f"{self.name} {self.version}", self._first, self._last)

    def trading_days(self, first: date, last: date) -> list[date]:
        import warnings

        cal = self._calendar()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [ts.date() for ts in cal.sessions_in_range(first.isoformat(), last.isoformat())]


class SimulatorWeekdays:
    """Monday-Friday for every day, for a runner on the simulator only, after the other sources.

    The simulator trades the exchange's published holidays and Monday-Friday past them
    (hub/sim/marketdata.py): a runner on it must agree with it, or a 2027 day the simulator
    trades would be one the runner refuses to start on. Never used with a real broker, where
    the calendar does not guess."""

    static = True
    key = "simulator-weekdays:1"
    name = "the simulator's Monday-Friday (past the published years)"

    def span(self) -> Span:
        return Span(self.name, date(1990, 1, 1), date(2099, 12, 31))

    def trading_days(self, first: date, last: date) -> list[date]:
        return [first + timedelta(days=i) for i in range((last - first).days + 1)
                if (first + timedelta(days=i)).weekday() < 5]


class FileSource:
    """The user's ``holidays.toml``: one closed-weekday list per year (format in the module docstring)."""

    static = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = f"holidays file {self.path}"
        self._loaded: tuple[tuple[int, int], dict[int, set[date]], set[date]] | None = None
        self._stat_at: tuple[float, tuple[int, int] | None] | None = None

    @property
    def key(self) -> str:  # type: ignore[override]
        st = self._stat()
        return f"file:{self.path}:{st[0]}:{st[1]}" if st else ""

    def _stat(self) -> tuple[int, int] | None:
        """(mtime, size), looked at most once a second: an edit is seen within a second, lookups stay cheap."""
        now = time.monotonic()
        if self._stat_at is not None and now - self._stat_at[0] < 1.0:
            return self._stat_at[1]
        try:
            st = self.path.stat()
            got: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            got = None
        self._stat_at = (now, got)
        return got

    def _load(self) -> tuple[dict[int, set[date]], set[date]]:
        st = self._stat()
        if st is None:
            return {}, set()
        if self._loaded is None or self._loaded[0] != st:
            with self.path.open("rb") as fh:
                data = tomllib.load(fh)
            years: dict[int, set[date]] = {}
            for year, days in (data.get("closed") or {}).items():
                y = int(year)
                parsed = {as_date(d) for d in days}
                wrong = sorted(d for d in parsed if d.year != y)
                if wrong:
                    raise ValueError(f"{self.path}: [closed] {y} lists {wrong[0]} of another year")
                years[y] = parsed
            override = {as_date(d) for d in data.get("override_closed") or []}
            self._loaded = (st, years, override)
        return self._loaded[1], self._loaded[2]

    def override_closed(self) -> set[date]:
        try:
            return self._load()[1]
        except Exception:
            return set()

    def span(self) -> Span:
        if self._stat() is None:
            return Span(self.name, None, None, "missing")
        try:
            years, _ = self._load()
        except Exception as exc:
            return Span(self.name, None, None, f"unreadable ({type(exc).__name__}: {exc})")
        if not years:
            return Span(self.name, None, None, "lists no year")
        ys = sorted(years)
        # contiguous years only: a gap year is not covered
        last = ys[0]
        for y in ys[1:]:
            if y != last + 1:
                break
            last = y
        return Span(self.name, date(ys[0], 1, 1), date(last, 12, 31))

    def trading_days(self, first: date, last: date) -> list[date]:
        years, _ = self._load()
        out, d = [], first
        while d <= last:
            if d.weekday() < 5 and d not in years.get(d.year, set()):
                out.append(d)
            d += timedelta(days=1)
        return out


# ----------------------------------------------------------------------------- the calendar
class TradingCalendar:
    """Trading days from a chain of sources, first covering source wins; cached; never guesses.

    Thread-safe: the runner's scheduler and a strategy's thread may both ask."""

    def __init__(self, sources: Sequence[CalendarSource] | None = None, cache_path: str | Path | None = None,
                 holidays_file: str | Path | None = None) -> None:
        if sources is None:
            sources = [PackageSource()]
            if holidays_file is not None:
                sources.append(FileSource(holidays_file))
        self.sources: list[CalendarSource] = list(sources)
        self.cache_path = Path(cache_path).expanduser() if cache_path else None
        self._lock = threading.RLock()
        self._spans: dict[int, Span] = {}                     # index of source -> span (this process)
        self._years: dict[tuple[int, int], tuple[date, date, frozenset[date]]] = {}
        self._disk: dict[str, dict] = self._read_cache()

    # ------------------------------------------------------------- cache
    def _read_cache(self) -> dict[str, dict]:
        if not self.cache_path:
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
            return {}
        return data.get("sources") or {}

    def _write_cache(self) -> None:
        if not self.cache_path:
            return
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_name(self.cache_path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": _CACHE_VERSION, "sources": self._disk}), encoding="utf-8")
            os.replace(tmp, self.cache_path)
        except OSError:
            pass  # a cache that cannot be written only costs speed

    def _span(self, i: int) -> Span:
        if i not in self._spans:
            src = self.sources[i]
            key = src.key
            entry = self._disk.get(key) if key else None
            if src.static and entry and entry.get("span"):
                name, a, b = entry["span"]
                span = Span(name, date.fromisoformat(a), date.fromisoformat(b))
            else:
                span = src.span()
                if key and span.first is not None and span.last is not None:
                    entry = self._disk.setdefault(key, {})
                    old = entry.get("span")
                    new = [span.source, span.first.isoformat(), span.last.isoformat()]
                    if old != new:  # coverage moved: cached years may be stale
                        entry.clear()
                        entry["span"] = new
                        self._write_cache()
            self._spans[i] = span
        return self._spans[i]

    def _year(self, i: int, year: int, span: Span) -> frozenset[date]:
        got = self._years.get((i, year))
        if got is None:
            assert span.first is not None and span.last is not None
            first, last = max(span.first, date(year, 1, 1)), min(span.last, date(year, 12, 31))
            src = self.sources[i]
            entry = self._disk.get(src.key) if src.key else None
            cached = (entry or {}).get("years", {}).get(str(year))
            if cached and cached.get("first") == first.isoformat() and cached.get("last") == last.isoformat():
                days = frozenset(date.fromisoformat(d) for d in cached["days"])
            else:
                days = frozenset(src.trading_days(first, last))
                if src.key:
                    e = self._disk.setdefault(src.key, {})
                    e.setdefault("years", {})[str(year)] = {
                        "first": first.isoformat(), "last": last.isoformat(),
                        "days": sorted(d.isoformat() for d in days)}
                    self._write_cache()
            got = (first, last, days)
            self._years[(i, year)] = got
        return got[2]

    def _overrides(self) -> set[date]:
        out: set[date] = set()
        for src in self.sources:
            if isinstance(src, FileSource):
                out |= src.override_closed()
        return out

    # ------------------------------------------------------------- answers
    def source_of(self, day: date | datetime | str | int) -> str:
        """The name of the source that answers for ``day`` (raises past coverage)."""
        d = as_date(day)
        with self._lock:
            for i in range(len(self.sources)):
                span = self._span(i)
                if span.holds(d):
                    return span.source
            raise self._coverage_error(d)

    def is_trading_day(self, day: date | datetime | str | int) -> bool:
        """True when the exchanges trade on ``day``; CalendarCoverageError when no source covers it."""
        d = as_date(day)
        with self._lock:
            return self._answer(d, self._overrides())

    def _answer(self, d: date, overrides: set[date]) -> bool:
        with self._lock:
            for i in range(len(self.sources)):
                span = self._span(i)
                if span.holds(d):
                    try:
                        days = self._year(i, d.year, span)
                    except Exception:
                        if self.sources[i].static:
                            raise
                        continue  # a broker that failed mid-call: fall through
                    return d in days and d not in overrides
            raise self._coverage_error(d)

    def trading_days(self, start: date | datetime | str | int, end: date | datetime | str | int) -> list[date]:
        """Every trading day in [start, end]; raises if any day in the range is uncovered."""
        a, b = as_date(start), as_date(end)
        out, d = [], a
        with self._lock:
            overrides = self._overrides()  # once per range, not per day
            while d <= b:
                if self._answer(d, overrides):
                    out.append(d)
                d += timedelta(days=1)
        return out

    def next_trading_day(self, day: date | datetime | str | int) -> date:
        """The first trading day strictly after ``day``."""
        return self._walk(as_date(day), 1)

    def previous_trading_day(self, day: date | datetime | str | int) -> date:
        """The last trading day strictly before ``day``."""
        return self._walk(as_date(day), -1)

    def _walk(self, d: date, step: int) -> date:
        for _ in range(_MAX_GAP):
            d += timedelta(days=step)
            if self.is_trading_day(d):
                return d
        raise CalendarCoverageError(d, self.coverage(), f"no trading day within {_MAX_GAP} days")

    def coverage(self) -> list[Span]:
        """Every source's span, in the order they are asked."""
        with self._lock:
            return [self._span(i) for i in range(len(self.sources))]

    def covered_until(self) -> date | None:
        """The last day of the contiguous coverage that includes today, or None when today is uncovered."""
        spans = [s for s in self.coverage() if s.first is not None and s.last is not None]
        d = now().date()
        end = None
        moved = True
        while moved:
            moved = False
            for s in spans:
                if s.holds(d):
                    assert s.last is not None
                    end, d, moved = s.last, s.last + timedelta(days=1), True
        return end

    def coverage_warning(self, today: date | None = None) -> str:
        """A warning to show from November on while next year is not covered ('' when all is well)."""
        t = today or now().date()
        try:
            self.is_trading_day(t)
        except CalendarCoverageError as exc:
            return str(exc)
        if t.month >= 11:
            nxt = date(t.year + 1, 1, 4)
            try:
                self.is_trading_day(nxt)
            except CalendarCoverageError:
                return (f"the trading calendar ends {t.year}-12-31: add {t.year + 1} to the holidays file "
                        f"or upgrade exchange-calendars once the exchange publishes it")
        return ""

    def _coverage_error(self, d: date) -> CalendarCoverageError:
        files = [s for s in self.sources if isinstance(s, FileSource)]
        hint = (f"Add the year's closed weekdays to {files[0].path} (see docs/runner.md)" if files else
                "Give a holidays file (see docs/runner.md) or upgrade exchange-calendars")
        return CalendarCoverageError(d, self.coverage(), hint)

    # ------------------------------------------------------------- the day's clock
    @staticmethod
    def market_period(day: date, period: Sequence[tuple[dtime, dtime]] = MARKET_PERIOD) -> list[tuple[datetime, datetime]]:
        """The day's continuous sessions as aware Shanghai datetimes."""
        return [(at(day, a), at(day, b)) for a, b in period]


# ----------------------------------------------------------------------------- process default
_default: TradingCalendar | None = None
_default_lock = threading.Lock()


def default_calendar() -> TradingCalendar:
    """The process-wide calendar: set by :func:`set_default_calendar`, else the package with the
    holidays file and cache in ``$QMT_HUB_DATA`` (default ``~/.qmt-hub``)."""
    global _default
    with _default_lock:
        if _default is None:
            from rpc_client.endpoints import DEFAULT_DATA_DIR

            data = Path(os.environ.get("QMT_HUB_DATA") or DEFAULT_DATA_DIR).expanduser()
            _default = TradingCalendar(holidays_file=data / "holidays.toml", cache_path=data / "calendar-cache.json")
        return _default


def set_default_calendar(calendar: TradingCalendar | None) -> None:
    """Install the calendar every module-level function uses (None = build the default again)."""
    global _default
    with _default_lock:
        _default = calendar


def is_trading_day(day: date | datetime | str | int) -> bool:
    return default_calendar().is_trading_day(day)


def trading_days(start: date | datetime | str | int, end: date | datetime | str | int) -> list[date]:
    return default_calendar().trading_days(start, end)


def next_trading_day(day: date | datetime | str | int) -> date:
    return default_calendar().next_trading_day(day)


def previous_trading_day(day: date | datetime | str | int) -> date:
    return default_calendar().previous_trading_day(day)


def coverage() -> list[Span]:
    return default_calendar().coverage()
