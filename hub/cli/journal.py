"""`hub journal export`: a day's journaled events as CSV or JSON lines.

Reads the journal's SQLite file directly (read-only), so it works while the hub runs
(WAL lets readers and the one writer proceed together) and when no hub runs at all.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app

journal_app = typer.Typer(help="Read the hub's journal (events and order requests).", no_args_is_help=True)
app.add_typer(journal_app, name="journal")

COLUMNS = ("seq", "stream", "sseq", "topic", "ts", "day", "hub_id", "data")


def _err(msg: str) -> None:
    typer.echo(f"hub: {msg}", err=True)


def _day(value: str) -> str | None:
    """YYYY-MM-DD or YYYYMMDD -> YYYYMMDD (the journal's form), None if neither."""
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", value.strip())
    return "".join(m.groups()) if m else None


def iter_events(db_path: Path, day: str) -> Iterator[dict[str, Any]]:
    """The day's events, oldest first, with `data` decoded."""
    from rpc_client.protocol import unpack

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT seq, stream, sseq, topic, ts, day, hub_id, data FROM events WHERE day = ? "
                          "ORDER BY seq", (day,))
        for row in rows:
            rec = dict(zip(COLUMNS, row))
            rec["data"] = unpack(rec["data"])
            yield rec
    finally:
        db.close()


@journal_app.command("export")
def export(
    day: str = typer.Option(..., "--day", help="trading day, YYYY-MM-DD"),
    fmt: str = typer.Option("jsonl", "--format", help="csv or jsonl"),
    out: Optional[Path] = typer.Option(None, "--out", help="file to write [stdout]"),
    data_dir: Path = typer.Option(Path("~/.qmt-hub"), "--data-dir", help="the hub's data folder [~/.qmt-hub]"),
) -> None:
    """Write one trading day's journaled events (seq, stream, sseq, topic, ts, day, hub_id, data)."""
    key = _day(day)
    if key is None:
        _err(f"--day must be YYYY-MM-DD, got {day!r}")
        raise typer.Exit(EXIT_USAGE)
    if fmt not in ("csv", "jsonl"):
        _err(f"--format must be csv or jsonl, got {fmt!r}")
        raise typer.Exit(EXIT_USAGE)
    db_path = data_dir.expanduser() / "journal.sqlite"
    if not db_path.exists():
        _err(f"no journal at {db_path} (is --data-dir the hub's data folder?)")
        raise typer.Exit(EXIT_CALL_FAILED)
    fh = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    n = 0
    try:
        writer = csv.writer(fh) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(COLUMNS)
        for rec in iter_events(db_path, key):
            data = json.dumps(rec["data"], ensure_ascii=False, default=str, sort_keys=True)
            if writer is not None:
                writer.writerow([rec[c] if c != "data" else data for c in COLUMNS])
            else:
                fh.write(json.dumps({**rec, "data": rec["data"]}, ensure_ascii=False, default=str) + "\n")
            n += 1
    except sqlite3.Error as exc:
        _err(f"reading {db_path} failed: {exc}")
        raise typer.Exit(EXIT_CALL_FAILED)
    finally:
        if out:
            fh.close()
    if out:
        typer.echo(f"{n} events of {key[:4]}-{key[4:6]}-{key[6:]} written to {out}", err=True)
    raise typer.Exit(EXIT_OK)
