"""The trading calendar: exchange holidays, weekends, 除夕, coverage that fails loudly, sources in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from rpc_client import calendar as cal
from rpc_client.calendar import (BrokerSource, CalendarCoverageError, FileSource, PackageSource, SHANGHAI,
                                 TradingCalendar)


@pytest.fixture(scope="module")
def package_cal() -> TradingCalendar:
    return TradingCalendar([PackageSource()])


def test_holiday_weekend_and_chuxi_are_not_trading_days(package_cal: TradingCalendar) -> None:
    assert package_cal.is_trading_day(date(2024, 2, 8)) is True       # Thursday before 除夕
    assert package_cal.is_trading_day(date(2024, 2, 9)) is False      # 除夕: a workday, the exchange closed
    assert package_cal.is_trading_day("2024-10-01") is False          # National Day (a Tuesday)
    assert package_cal.is_trading_day("20240106") is False            # Saturday
    assert package_cal.is_trading_day(20240107) is False              # Sunday
    assert package_cal.is_trading_day(date(2026, 2, 14)) is False     # make-up Saturday: a workday, not a trading day
    assert package_cal.is_trading_day(date(2026, 12, 2)) is True


def test_range_next_previous(package_cal: TradingCalendar) -> None:
    days = package_cal.trading_days("2024-02-05", "2024-02-19")
    assert days == [date(2024, 2, 5), date(2024, 2, 6), date(2024, 2, 7), date(2024, 2, 8), date(2024, 2, 19)]
    assert package_cal.next_trading_day(date(2024, 2, 8)) == date(2024, 2, 19)
    assert package_cal.previous_trading_day(date(2024, 2, 19)) == date(2024, 2, 8)
    assert package_cal.previous_trading_day(date(2024, 10, 8)) == date(2024, 9, 30)
    assert len(package_cal.trading_days("2024-01-01", "2024-12-31")) == 242


def test_past_coverage_fails_loudly(package_cal: TradingCalendar) -> None:
    span = package_cal.coverage()[0]
    assert span.last == date(span.last.year, 12, 31) and span.first.year <= 2000 and span.first.month == 1
    past = date(span.last.year + 1, 3, 1)
    with pytest.raises(CalendarCoverageError) as err:
        package_cal.is_trading_day(past)
    assert err.value.day == past
    assert past.isoformat() in str(err.value) and "exchange-calendars XSHG" in str(err.value)
    with pytest.raises(CalendarCoverageError):
        package_cal.trading_days(span.last, past)
    # the last covered day answers; the walk out of coverage raises rather than guess
    assert package_cal.is_trading_day(span.last) in (True, False)
    with pytest.raises(CalendarCoverageError):
        package_cal.next_trading_day(date(span.last.year, 12, 31))
    with pytest.raises(CalendarCoverageError):
        package_cal.is_trading_day(date(span.first.year - 1, 6, 1))


def test_file_source_covers_a_year_the_package_does_not(tmp_path: Path, package_cal: TradingCalendar) -> None:
    last = package_cal.coverage()[0].last
    y = last.year + 1
    f = tmp_path / "holidays.toml"
    f.write_text(f'override_closed = ["{last.year}-06-01"]\n[closed]\n{y} = [{y}-01-01, "{y}-02-05"]\n', encoding="utf-8")
    c = TradingCalendar([PackageSource(), FileSource(f)])
    assert c.is_trading_day(date(y, 1, 1)) is False
    assert c.is_trading_day(date(y, 2, 5)) is False
    assert c.is_trading_day(date(y, 2, 4)) is (date(y, 2, 4).weekday() < 5)
    assert c.source_of(date(y, 3, 1)).startswith("holidays file")
    assert c.source_of(date(last.year, 3, 1)).startswith("exchange-calendars XSHG")
    # the operator's override closes a day the package says trades
    assert package_cal.is_trading_day(date(last.year, 6, 1)) is (date(last.year, 6, 1).weekday() < 5)
    assert c.is_trading_day(date(last.year, 6, 1)) is False
    with pytest.raises(CalendarCoverageError) as err:
        c.is_trading_day(date(y + 1, 1, 4))
    assert str(f) in str(err.value)
    # a missing file covers nothing, says so, and does not break the package's answers
    missing = TradingCalendar([PackageSource(), FileSource(tmp_path / "nope.toml")])
    assert missing.coverage()[1].note == "missing"
    assert missing.is_trading_day(date(2024, 2, 9)) is False


def test_broker_first_and_falls_through_when_it_fails() -> None:
    calls = []

    def fetch(a, b):
        calls.append((a, b))
        # xtdata's form: epoch milliseconds at Shanghai midnight
        return [int(datetime(2024, 2, d, tzinfo=SHANGHAI).timestamp() * 1000) for d in (5, 6, 7, 8)]

    broker = BrokerSource(fetch, lambda: (date(2024, 2, 1), date(2024, 2, 8)))
    c = TradingCalendar([broker, PackageSource()])
    assert c.is_trading_day(date(2024, 2, 7)) is True
    assert c.is_trading_day(date(2024, 2, 2)) is False  # the broker says so (it lists no 02-02)
    assert c.source_of(date(2024, 2, 2)) == "broker"
    assert c.source_of(date(2024, 2, 9)).startswith("exchange-calendars")
    assert len(calls) == 1  # cached per year

    def down():
        raise ConnectionError("hub unreachable")

    c2 = TradingCalendar([BrokerSource(fetch, down), PackageSource()])
    assert c2.coverage()[0].first is None and "hub unreachable" in c2.coverage()[0].note
    assert c2.is_trading_day(date(2024, 2, 9)) is False


def test_disk_cache_answers_without_the_package(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    c = TradingCalendar([PackageSource()], cache_path=cache)
    assert c.is_trading_day(date(2024, 2, 9)) is False
    data = json.loads(cache.read_text(encoding="utf-8"))
    (entry,) = data["sources"].values()
    assert "2024-02-08" in entry["years"]["2024"]["days"] and "2024-02-09" not in entry["years"]["2024"]["days"]
    # a fresh process with the cache answers without importing exchange_calendars (pandas)
    code = ("import sys; from rpc_client.calendar import *; "
            f"c = TradingCalendar([PackageSource()], cache_path={str(cache)!r}); "
            "assert c.is_trading_day('2024-02-08') and not c.is_trading_day('2024-02-09'); "
            "assert 'exchange_calendars' not in sys.modules and 'pandas' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_times_are_shanghai_whatever_the_host_zone() -> None:
    # 2024-02-09 01:00 UTC is 09:00 in Shanghai, the same day; 2024-02-08 17:00 UTC is 02-09 01:00 Shanghai
    assert cal.as_date(datetime(2024, 2, 8, 17, 0, tzinfo=timezone.utc)) == date(2024, 2, 9)
    assert cal.to_shanghai(datetime(2024, 2, 9, 1, 0, tzinfo=timezone.utc)).hour == 9
    assert cal.at(date(2024, 2, 8), cal.OPEN).utcoffset().total_seconds() == 8 * 3600
    code = ("import time; from datetime import date; from rpc_client import calendar as c; "
            "print(c.to_shanghai(1707440400.0).isoformat(), c.at(date(2024,2,8), c.OPEN).timestamp())")
    for tz in ("UTC", "America/New_York", "Asia/Tokyo"):
        env = dict(os.environ, TZ=tz)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["2024-02-09T09:00:00+08:00", str(datetime(2024, 2, 8, 1, 30, tzinfo=timezone.utc).timestamp())]


def test_module_functions_use_the_default(tmp_path: Path) -> None:
    f = tmp_path / "h.toml"
    f.write_text("[closed]\n2024 = [2024-02-09]\n", encoding="utf-8")
    cal.set_default_calendar(TradingCalendar([FileSource(f)]))
    try:
        assert cal.is_trading_day("2024-02-09") is False
        assert cal.next_trading_day("2024-02-08") == date(2024, 2, 12)
        assert cal.previous_trading_day("2024-02-12") == date(2024, 2, 8)
        assert cal.trading_days("2024-02-08", "2024-02-12") == [date(2024, 2, 8), date(2024, 2, 12)]
        assert cal.coverage()[0].last == date(2024, 12, 31)
        with pytest.raises(CalendarCoverageError):
            cal.is_trading_day("2025-01-02")
    finally:
        cal.set_default_calendar(None)


def test_coverage_warning_in_november(package_cal: TradingCalendar) -> None:
    last = package_cal.coverage()[0].last
    assert "ends" in package_cal.coverage_warning(date(last.year, 11, 20))
    assert package_cal.coverage_warning(date(last.year, 6, 1)) == ""


def test_hub_calendar_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    r = CliRunner().invoke(app, ["calendar", "--year", "2024", "--data-dir", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert len(data["trading_days"]) == 242 and "2024-02-09" in data["closed_weekdays"]
    assert data["coverage"][1]["note"] == "missing"
    (tmp_path / "holidays.toml").write_text("[closed]\n2027 = [2027-01-01]\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["calendar", "--year", "2027", "--data-dir", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["closed_weekdays"] == ["2027-01-01"]
    r = CliRunner().invoke(app, ["calendar", "--year", "2028", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1 and "2028-01-01 is outside" in r.output
