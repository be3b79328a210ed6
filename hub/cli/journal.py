"""`hub journal export`: a day's journaled events as CSV or JSON lines.

Reads through the journal's own read-only API (`hub.core.journal.events_of_day`), so it works
while the hub runs and when no hub runs at all.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import fail
from hub.config import HubConfig
from hub.core.journal import EVENT_COLUMNS, events_of_day
from rpc_client.endpoints import DEFAULT_DATA_DIR

journal_app = typer.Typer(help="Read the hub's journal (events and order requests).", no_args_is_help=True)
app.add_typer(journal_app, name="journal")


def _day(value: str) -> str | None:
    """YYYY-MM-DD or YYYYMMDD -> YYYYMMDD (the journal's form), None if neither."""
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", value.strip())
    return "".join(m.groups()) if m else None


@journal_app.command("export")
def export(
    day: str = typer.Option(..., "--day", help="trading day, YYYY-MM-DD"),
    fmt: str = typer.Option("jsonl", "--format", help="csv or jsonl"),
    out: Optional[Path] = typer.Option(None, "--out", help="file to write [stdout]"),
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help=f"the hub's data folder [{DEFAULT_DATA_DIR}]"),
) -> None:
    """Write one trading day's journaled events (seq, stream, sseq, topic, ts, day, hub_id, data)."""
    key = _day(day)
    if key is None:
        fail(EXIT_USAGE, f"--day must be YYYY-MM-DD, got {day!r}")
    if fmt not in ("csv", "jsonl"):
        fail(EXIT_USAGE, f"--format must be csv or jsonl, got {fmt!r}")
    db_path = HubConfig(data_dir=data_dir).journal_path
    if not db_path.exists():
        fail(EXIT_CALL_FAILED, f"no journal at {db_path} (is --data-dir the hub's data folder?)")
    fh = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    n = 0
    try:
        writer = csv.writer(fh) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(EVENT_COLUMNS)
        for rec in events_of_day(db_path, key):
            data = json.dumps(rec["data"], ensure_ascii=False, default=str, sort_keys=True)
            if writer is not None:
                writer.writerow([rec[c] if c != "data" else data for c in EVENT_COLUMNS])
            else:
                fh.write(json.dumps({**rec, "data": rec["data"]}, ensure_ascii=False, default=str) + "\n")
            n += 1
    except sqlite3.Error as exc:
        fail(EXIT_CALL_FAILED, f"reading {db_path} failed: {exc}")
    finally:
        if out:
            fh.close()
    if out:
        typer.echo(f"{n} events of {key[:4]}-{key[4:6]}-{key[6:]} written to {out}", err=True)
    raise typer.Exit(EXIT_OK)
