"""`hub calendar [--year Y]`: the trading calendar the runner and the simulator use.

Shows every source's coverage (broker, exchange-calendars, the user's holidays file), then
the year's closed weekdays and trading-day count. A year outside every source's coverage
is an error (exit 1), never a guess.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import EXIT_CALL_FAILED, app
from rpc_client.calendar import CalendarCoverageError, TradingCalendar, now
from rpc_client.endpoints import DEFAULT_DATA_DIR


def calendar_for(data_dir: Path | str | None) -> TradingCalendar:
    """The package, then <data_dir>/holidays.toml; cached in <data_dir>/calendar-cache.json."""
    data = Path(data_dir or DEFAULT_DATA_DIR).expanduser()
    return TradingCalendar(holidays_file=data / "holidays.toml", cache_path=data / "calendar-cache.json")


@app.command("calendar")
def calendar_cmd(
    year: Optional[int] = typer.Option(None, "--year", "-y", help="The year to show [default: this year in Shanghai]."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", metavar="DIR",
                                            help="The hub's data folder (holidays.toml, cache) [default: ~/.qmt-hub]."),
    as_json: bool = typer.Option(False, "--json", help="Print coverage and the year's trading days as JSON."),
) -> None:
    """Show the A-share trading calendar: sources, coverage, a year's holidays."""
    cal = calendar_for(data_dir)
    y = year or now().year
    spans = cal.coverage()
    console = Console(soft_wrap=False)
    try:
        days = cal.trading_days(date(y, 1, 1), date(y, 12, 31))
    except CalendarCoverageError as exc:
        Console(stderr=True).print(str(exc), style="bold red", markup=False, highlight=False)
        raise typer.Exit(EXIT_CALL_FAILED)
    open_days = set(days)
    closed = [date(y, 1, 1) + timedelta(days=i) for i in range((date(y, 12, 31) - date(y, 1, 1)).days + 1)]
    closed = [d for d in closed if d.weekday() < 5 and d not in open_days]
    warning = cal.coverage_warning()
    if as_json:
        console.print_json(json.dumps({
            "coverage": [{"source": s.source, "first": s.first and s.first.isoformat(),
                          "last": s.last and s.last.isoformat(), "note": s.note} for s in spans],
            "year": y, "trading_days": [d.isoformat() for d in days],
            "closed_weekdays": [d.isoformat() for d in closed], "warning": warning}))
        return
    t = Table(title="Trading calendar sources (asked in this order; Asia/Shanghai)")
    t.add_column("source")
    t.add_column("covers")
    for s in spans:
        t.add_row(s.source, s.describe())
    console.print(t)
    t2 = Table(title=f"{y}: {len(days)} trading days; weekdays closed")
    t2.add_column("date")
    t2.add_column("weekday")
    t2.add_column("source")
    for d in closed:
        t2.add_row(d.isoformat(), d.strftime("%a"), cal.source_of(d))
    console.print(t2)
    if warning:
        console.print(f"warning: {warning}", style="bold yellow", markup=False, highlight=False)
