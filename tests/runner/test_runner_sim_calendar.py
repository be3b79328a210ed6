"""A runner on the simulator agrees with the simulator's calendar, also past the published years.

exchange-calendars records the Shanghai exchange's holidays up to its last year (2026 in 4.13.2);
the simulator trades Monday-Friday beyond that (hub/sim/marketdata.py). A runner on a simulated
hub must schedule the days the simulator trades, or a simulator started in the next year would
have a runner that refuses to start. With a real broker the calendar still never guesses
(tests/runner/test_runner_calendar.py::test_past_coverage_fails_loudly).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rpc_client.calendar import CalendarCoverageError, PackageSource, SimulatorWeekdays, TradingCalendar
from rpc_client.runner import tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from integration_helpers import REPO, HubProcess  # noqa: E402

STRATEGY = '''
def process_initialize(context):
    set_options(account_no="1234567")
    run_daily(market_open, "open")


def market_open(context):
    log.info("market_open ran on %s", context.current_dt.date())
'''


def _first_uncovered_monday() -> date:
    last = PackageSource().span().last
    assert last is not None
    day = last + timedelta(days=1)
    while day.weekday() != 0 or day.month < 3:  # a plain Monday in March (no holiday week)
        day += timedelta(days=1)
    return day


def test_the_simulators_weekdays_agree_with_the_simulator_past_the_package() -> None:
    from hub.sim.marketdata import calendar as sim_calendar

    last = PackageSource().span().last
    runner_cal = TradingCalendar([PackageSource(), SimulatorWeekdays()])
    first, end = last - timedelta(days=90), last + timedelta(days=400)
    assert runner_cal.trading_days(first, end) == sim_calendar().trading_days(first, end)
    # the package's holidays still win inside its years (National Day week is closed)
    assert runner_cal.is_trading_day(date(last.year, 10, 1)) is False
    # without it the same day past the package is an error, as for a real broker
    try:
        TradingCalendar([PackageSource()]).is_trading_day(last + timedelta(days=10))
    except CalendarCoverageError:
        pass
    else:  # pragma: no cover - the package grew a year: the test still holds, one year later
        assert PackageSource().span().last > last


def test_a_runner_on_the_simulator_runs_a_day_past_the_published_years(tmp_path: Path) -> None:
    day = _first_uncovered_monday()
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "hub.toml").write_text('account = "1234567"\n', encoding="utf-8")
    code = tmp_path / "opener.py"
    code.write_text(STRATEGY, encoding="utf-8")
    log = tmp_path / "opener.log"
    # the simulator's clock from the command line (--sim-start / --sim-speed), four minutes before the open
    hub = HubProcess(data, "--config", str(tmp_path / "hub.toml"), "--sim-speed", "30",
                     "--sim-start", f"{day.isoformat()} 09:26:00")
    proc = None
    try:
        assert hub.status["clock"]["speed"] == 30
        proc = subprocess.Popen([sys.executable, "-m", "hub", "run", str(code), "-n", "opener", "-o", str(log),
                                 "--rpc", hub.rpc, "--data-dir", str(data)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            if "market_open ran" in text or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, (proc.stdout.read().decode(errors="replace"), text)
        assert f"market_open ran on {day.isoformat()}" in text, text
        fired = re.search(r"fire market_open spec=open scheduled=(\S+) at=\S+ result=(\w+)", text)
        assert fired and fired.group(1).startswith(f"{day.isoformat()}T09:30:00") and fired.group(2) == "ok", text
        assert "outside the trading calendar" not in text
    finally:
        if proc is not None and proc.poll() is None:
            subprocess.run([sys.executable, "-m", "hub", "stop", "-n", "opener", "--data-dir", str(data)],
                           cwd=REPO, capture_output=True, timeout=60)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        hub.stop()
    assert tasks.list_tasks(data) == []
