"""The hub's journal: an SQLite file (WAL) holding every journaled event and every order request.

One job: durable, ordered storage. It knows nothing of sockets or the broker.

* ``events``: every journaled event with its global ``seq`` (strictly increasing, never
  reused, continues across restarts) and its per-stream ``sseq`` (1, 2, 3... per stream).
  The hub appends here BEFORE it publishes, so whatever a client saw can be replayed.
* ``orders``: every accepted order request (strategy, client_order_id, owner tag, params,
  trading day, user remark), written BEFORE the broker is called, and later its outcome.
  This is what makes client_order_id idempotent across hub restarts and what attributes
  broker pushes to their owner.
* ``meta``: small durable values (the owner-tag counter as of the last prune, halts).

Durability: ``journal_mode=WAL`` and ``synchronous=NORMAL``: a commit survives a crash of
the process; a power cut may lose the last commits but never corrupts the file.

Group commit: with ``group = True`` (the hub's loop sets it) writes open one transaction that
stays open until ``commit()``; the loop commits once per iteration and only then publishes
what it journaled (see the publisher). ``reserve_order`` always commits at once: an order
request is durable before the broker is called. Without ``group`` every write commits by
itself.

Commit times: every commit the hub waits for is timed with `time.perf_counter()` into a
fixed-bucket histogram (`commit_times`): ``group`` (the loop's once-per-iteration commit) and
``order`` (the order request's own commit in `reserve_order`, which an order waits for before
the broker is called). They are what a slow disk costs every reply; `status` reports them.

Only one thread uses a Journal at a time (the hub's loop thread).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from rpc_client.protocol import REMARK_TAG_PREFIX, ErrorCode, HubError, pack, stream_of, unpack

from hub.core.histogram import Histogram

log = logging.getLogger("hub.journal")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq    INTEGER PRIMARY KEY,
    stream TEXT    NOT NULL,
    sseq   INTEGER NOT NULL,
    topic  TEXT    NOT NULL,
    ts     REAL    NOT NULL,
    day    TEXT    NOT NULL,
    hub_id TEXT    NOT NULL,
    data   BLOB    NOT NULL,
    UNIQUE (stream, sseq)
);
CREATE INDEX IF NOT EXISTS events_day_topic ON events (day, topic);
CREATE TABLE IF NOT EXISTS orders (
    day             TEXT    NOT NULL,
    strategy        TEXT    NOT NULL,
    client_order_id TEXT    NOT NULL,
    tag             TEXT    NOT NULL UNIQUE,
    params          BLOB    NOT NULL,
    order_remark    TEXT    NOT NULL DEFAULT '',
    created         REAL    NOT NULL,
    state           TEXT    NOT NULL,   -- sent | done | failed | unknown
    order_id        INTEGER,
    result          BLOB,               -- msgpack: the reply result or the error
    updated         REAL,
    rec_id          INTEGER,            -- a record journaled with the request (the risk ledger's
    rec             BLOB,               --   reservation): its number in that log, and its msgpack
    PRIMARY KEY (day, strategy, client_order_id)
);
CREATE INDEX IF NOT EXISTS orders_order_id ON orders (day, order_id);
"""


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def trading_day(ts: float | None = None) -> str:
    """The trading day a timestamp belongs to (local calendar day, YYYYMMDD)."""
    return time.strftime("%Y%m%d", time.localtime(ts))


class ReplayUnavailable(HubError):
    """The events asked for were pruned: the journal (or the stream) now starts at `first`.

    The journal's own error, with its facts as fields (`first`, `head`, `stream`); the `replay`
    handler maps it to the wire's REPLAY_UNAVAILABLE. It is a HubError with that code because
    callers of `Journal.replay` (and their tests) have always caught it as one.
    """

    def __init__(self, message: str, first: int | None, head: int, stream: str | None = None):
        data: dict[str, Any] = {"stream": stream} if stream is not None else {}
        data.update({"first": first, "head": head})
        super().__init__(ErrorCode.REPLAY_UNAVAILABLE, message, data)
        self.first, self.head, self.stream = first, head, stream


@dataclass(frozen=True)
class Appended:
    seq: int
    stream: str
    sseq: int


@dataclass
class OrderRecord:
    day: str
    strategy: str
    client_order_id: str
    tag: str
    params: dict[str, Any]
    order_remark: str
    created: float
    state: str
    order_id: int | None
    result: Any


class Journal:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._add_missing_columns()
        #: `prune` hands the records of the order rows it deletes here first ((rec_id, rec) pairs), so
        #: the log they belong to keeps them (hub.risk.store); None: they go with their rows
        self.keep_records: Callable[[list[tuple[int, bytes]]], None] | None = None
        self._checkpointer: _Checkpointer | None = None
        self._day_sec, self._day = -1, ""
        # heads and last seq survive pruning: what was pruned is remembered in meta
        pruned = self.get_json("pruned_heads", {}) or {}
        self.heads: dict[str, int] = {str(k): int(v) for k, v in pruned.get("heads", {}).items()}
        self.heads.update(dict(self._db.execute("SELECT stream, MAX(sseq) FROM events GROUP BY stream")))
        self.last_seq: int = max(int(pruned.get("last_seq", 0)),
                                 self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
        self.tag_counter = self._recover_tag_counter()
        self.closed = False
        self.group = False  # group commit: writes wait for commit() (the hub's loop)
        self.in_tx = False
        self.tx = 0  # number of the transaction open or last opened
        self.rolled_back: set[int] = set()  # transactions that failed to commit (their events must not go out)
        self._mark: tuple[int, dict[str, int]] = (self.last_seq, dict(self.heads))
        #: seconds per commit: "group" (commit()), "order" (reserve_order's own commit)
        self.commit_times: dict[str, Histogram] = {"group": Histogram(), "order": Histogram()}

    def _add_missing_columns(self) -> None:
        """A journal written before the orders table had `rec_id` / `rec` gets them (NULL for old rows)."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(orders)")}
        for name, kind in (("rec_id", "INTEGER"), ("rec", "BLOB")):
            if name not in have:
                self._db.execute(f"ALTER TABLE orders ADD COLUMN {name} {kind}")

    def _recover_tag_counter(self) -> int:
        """The owner-tag counter: the highest tag in the orders table, or what pruning remembered."""
        counter = int(self.get_meta("tag_counter", "0") or 0)
        row = self._db.execute("SELECT tag FROM orders WHERE tag LIKE ? ORDER BY length(tag) DESC, tag DESC "
                               "LIMIT 1", (REMARK_TAG_PREFIX + "%",)).fetchone()
        if row is not None:
            try:
                counter = max(counter, int(row[0][len(REMARK_TAG_PREFIX):], 36))
            except ValueError:
                pass
        return counter

    # ---- transactions --------------------------------------------------------------
    def use_group_commit(self, on: bool = True) -> None:
        """The hub's loop: group commit, and WAL checkpoints on a helper thread, not in a commit.

        A checkpoint copies the WAL into the database file and syncs it (milliseconds); SQLite
        runs one inside whichever commit crosses 1000 WAL pages. The helper thread runs them
        instead (its own connection, PASSIVE: never blocks a commit), so no order waits for one.
        Durability is unchanged: a commit is in the WAL either way.
        """
        self.group = on
        if on and self._checkpointer is None:
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = _Checkpointer(self.path)
        elif not on:
            self.commit()

    def _write(self) -> None:
        """Before a write: in group mode, open the group transaction if none is open."""
        if self.group and not self.in_tx:
            self.begin()

    def begin(self) -> None:
        if self.in_tx:
            return
        self._db.execute("BEGIN")
        self.in_tx = True
        self.tx += 1
        self._mark = (self.last_seq, dict(self.heads))

    def commit(self) -> bool:
        """Commit the open transaction; False (and rolled back) if that failed."""
        return self._commit(self.commit_times["group"])

    def _commit(self, times: Histogram) -> bool:
        """commit(), its duration observed in `times` (a failed commit is not a commit time)."""
        if not self.in_tx:
            return True
        t0 = time.perf_counter()
        try:
            self._db.execute("COMMIT")
        except Exception:  # noqa: BLE001 - disk full, I/O error: nothing of it may be published
            log.exception("journal commit failed; the transaction is rolled back")
            self.rollback()
            return False
        times.observe(time.perf_counter() - t0)
        self.in_tx = False
        return True

    def rollback(self) -> None:
        if not self.in_tx:
            return
        self.in_tx = False
        self.rolled_back.add(self.tx)
        self.last_seq, self.heads = self._mark[0], dict(self._mark[1])
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite may already have rolled it back

    # ---- events ------------------------------------------------------------------
    def append(self, topic: str, data: Any, ts: float, hub_id: str) -> Appended:
        """Write one event and commit; returns its seq and stream position."""
        if self.group and not self.in_tx:
            self.begin()
        stream = stream_of(topic)
        seq = self.last_seq + 1
        sseq = self.heads.get(stream, 0) + 1
        self._db.execute("INSERT INTO events (seq, stream, sseq, topic, ts, day, hub_id, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, stream, sseq, topic, ts, self._day_of(ts), hub_id, pack(data)))
        self.last_seq = seq
        self.heads[stream] = sseq
        return Appended(seq, stream, sseq)

    def _day_of(self, ts: float) -> str:
        """trading_day(ts), computed once per second of `ts`."""
        sec = int(ts)
        if sec != self._day_sec:
            self._day_sec, self._day = sec, trading_day(ts)
        return self._day

    @staticmethod
    def _event(row: tuple) -> dict[str, Any]:
        seq, stream, sseq, topic, ts, hub_id, data = row
        return {"seq": seq, "stream": stream, "sseq": sseq, "ts": ts, "hub_id": hub_id, "topic": topic,
                "data": unpack(data)}

    def replay(self, stream: str | None, after: int, limit: int,
               streams: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], int, bool]:
        """Events after a point: (events, head, more).

        With `stream`: events of that stream with sseq > after; head = the stream's last sseq.
        Without: events with seq > after, restricted to `streams` (None = all); head = last seq.
        """
        cols = "seq, stream, sseq, topic, ts, hub_id, data"
        if stream is not None:
            first = self._db.execute("SELECT MIN(sseq) FROM events WHERE stream = ?", (stream,)).fetchone()[0]
            head = self.heads.get(stream, 0)
            if (first is not None and after + 1 < first) or (first is None and after < head):
                raise ReplayUnavailable(f"stream {stream!r} starts at sseq {first if first is not None else head + 1} "
                                        f"in the journal (older events were pruned); asked for after {after}",
                                        first, head, stream)
            rows = self._db.execute(f"SELECT {cols} FROM events WHERE stream = ? AND sseq > ? ORDER BY sseq "
                                    f"LIMIT ?", (stream, after, limit + 1)).fetchall()
            head = self.heads.get(stream, 0)
        else:
            first = self._db.execute("SELECT MIN(seq) FROM events").fetchone()[0]
            if (first is not None and after + 1 < first) or (first is None and after < self.last_seq):
                starts = first if first is not None else self.last_seq + 1
                raise ReplayUnavailable(f"the journal starts at seq {starts} (older events were pruned); "
                                        f"asked for after {after}", first, self.last_seq)
            if streams is None:
                rows = self._db.execute(f"SELECT {cols} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                                        (after, limit + 1)).fetchall()
            else:
                names = list(streams)
                marks = ",".join("?" * len(names))
                rows = self._db.execute(f"SELECT {cols} FROM events WHERE seq > ? AND stream IN ({marks}) "
                                        f"ORDER BY seq LIMIT ?", (after, *names, limit + 1)).fetchall()
            head = self.last_seq
        more = len(rows) > limit
        return [self._replayed(r) for r in rows[:limit]], head, more

    @classmethod
    def _replayed(cls, row: tuple) -> dict[str, Any]:
        """An event for replay; one whose stored data no longer decodes is marked, not raised,
        so the replay handler can skip it (counted, logged) instead of failing the whole call."""
        try:
            return cls._event(row)
        except ValueError as exc:
            seq, stream, sseq, topic, ts, hub_id, _ = row
            return {"seq": seq, "stream": stream, "sseq": sseq, "ts": ts, "hub_id": hub_id, "topic": topic,
                    "data": None, "_undecodable": str(exc)[:120]}

    def latest_by_topic_prefix(self, day: str, prefix: str) -> list[dict[str, Any]]:
        """Every event of a day whose topic starts with prefix, oldest first (for book recovery)."""
        rows = self._db.execute("SELECT seq, stream, sseq, topic, ts, hub_id, data FROM events "
                                "WHERE day = ? AND topic >= ? AND topic < ? ORDER BY seq",
                                (day, prefix, prefix + "\uffff")).fetchall()
        return [self._event(r) for r in rows]

    def days(self) -> list[str]:
        """The trading days that have events or order requests, oldest first."""
        rows = self._db.execute("SELECT day FROM events UNION SELECT day FROM orders ORDER BY day").fetchall()
        return [r[0] for r in rows]

    def prune(self, keep_days: int) -> int:
        """Delete events and order requests of all but the newest `keep_days` trading days (0 = keep all).

        Sequence numbers are never reused: the heads and last seq are remembered in meta, so the
        stream positions continue and a replay of pruned events gets REPLAY_UNAVAILABLE.
        Returns the number of events deleted.
        """
        if keep_days <= 0:
            return 0
        days = self.days()
        if len(days) <= keep_days:
            return 0
        cutoff = days[-keep_days]  # the oldest day kept
        with self._tx():
            self._set_meta("pruned_heads", json.dumps({"heads": self.heads, "last_seq": self.last_seq}))
            self._set_meta("tag_counter", str(self.tag_counter))  # the pruned tags are never given again
            n = self._db.execute("DELETE FROM events WHERE day < ?", (cutoff,)).rowcount
            if self.keep_records is not None:
                kept = self._db.execute("SELECT rec_id, rec FROM orders WHERE day < ? AND rec_id IS NOT NULL",
                                        (cutoff,)).fetchall()
                if kept:
                    self.keep_records(kept)
            self._db.execute("DELETE FROM orders WHERE day < ?", (cutoff,))
        return n

    # ---- orders ------------------------------------------------------------------
    def reserve_order(self, day: str, strategy: str, client_order_id: str, params: dict[str, Any],
                      order_remark: str, ts: float, with_tag: Any = None) -> str:
        """Journal an accepted order request with a fresh owner tag, and commit (before the broker call).

        One INSERT, its own transaction (an open group transaction is committed with it); the tag
        counter lives in memory (recovered from the orders table at start, guarded by the UNIQUE
        tag column). `with_tag(tag)` runs before the INSERT and returns None or `(rec_id, rec)`: a
        record that rides in the request's own row (the risk engine's reservation), so the two are
        durable together and cost one row, not a second table's row and page in the same commit.
        If the INSERT or its commit fails the exception propagates and nothing of it is durable.
        """
        counter = self.tag_counter + 1
        tag = REMARK_TAG_PREFIX + base36(counter)
        rec = with_tag(tag) if with_tag is not None else None
        rec_id, rec_blob = rec if rec is not None else (None, None)
        autocommit = not self.in_tx  # the INSERT below is its own transaction: its time is the commit's
        t0 = time.perf_counter()
        self._db.execute("INSERT INTO orders (day, strategy, client_order_id, tag, params, order_remark, "
                         "created, state, rec_id, rec) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)",
                         (day, strategy, client_order_id, tag, pack(params), order_remark, ts, rec_id, rec_blob))
        if autocommit:
            self.commit_times["order"].observe(time.perf_counter() - t0)
        elif not self._commit(self.commit_times["order"]):
            raise sqlite3.OperationalError("the journal could not commit the order request")
        self.tag_counter = counter
        return tag

    def records_after(self, rec_id: int) -> list[tuple[int, bytes]]:
        """The records journaled with order requests (`reserve_order`'s `with_tag`) numbered above `rec_id`."""
        return self._db.execute("SELECT rec_id, rec FROM orders WHERE rec_id > ? ORDER BY rec_id",
                                (rec_id,)).fetchall()

    def finish_order(self, tag: str, state: str, order_id: int | None, result: Any) -> None:
        self._write()
        self._db.execute("UPDATE orders SET state = ?, order_id = ?, result = ?, updated = ? WHERE tag = ?",
                         (state, order_id, pack(result), time.time(), tag))

    def orders(self, day: str | None = None) -> list[OrderRecord]:
        sql = ("SELECT day, strategy, client_order_id, tag, params, order_remark, created, state, order_id, result "
               "FROM orders")
        rows = self._db.execute(sql + (" WHERE day = ? ORDER BY created" if day else " ORDER BY created"),
                                (day,) if day else ()).fetchall()
        return [OrderRecord(r[0], r[1], r[2], r[3], unpack(r[4]), r[5], r[6], r[7], r[8],
                            unpack(r[9]) if r[9] is not None else None) for r in rows]

    # ---- meta --------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: str) -> None:
        self._write()
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def set_meta(self, key: str, value: str) -> None:
        self._set_meta(key, value)

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.get_meta(key)
        return default if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        self._set_meta(key, json.dumps(value))

    # ---- side tables (hub.risk's ledger log) --------------------------------------
    def side_schema(self, sql: str) -> None:
        """Create a table another part of the hub keeps in this file (e.g. `risk_log`)."""
        self._db.executescript(sql)

    def side_write(self, sql: str, params: tuple = ()) -> None:
        """A write that joins the open group transaction (committed with the events around it)."""
        self._write()
        self._db.execute(sql, params)

    def side_read(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    # ---- lifecycle ---------------------------------------------------------------
    def _tx(self):
        """One atomic block: its own transaction, or part of the open group transaction."""
        journal = self

        class _Tx:
            def __enter__(self_inner):
                if journal.group:  # the loop's group transaction holds it (and commits it)
                    journal._write()
                self_inner.own = not journal.in_tx
                if self_inner.own:
                    journal._db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                if exc_type and journal.in_tx:
                    journal.rollback()  # the group is incomplete now: none of it may go out
                elif self_inner.own:
                    journal._db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False
        return _Tx()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.commit()
        except Exception:  # noqa: BLE001
            log.exception("journal: final commit failed")
        if self._checkpointer is not None:
            self._checkpointer.stop()
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()


#: Columns of one exported event, in order (`hub journal export`).
EVENT_COLUMNS = ("seq", "stream", "sseq", "topic", "ts", "day", "hub_id", "data")


def events_of_day(path: str | Path, day: str) -> Iterable[dict[str, Any]]:
    """One trading day's events, oldest first, `data` decoded: read-only, so it works while a hub
    writes (WAL lets readers and the one writer go on together) and when no hub runs.

    Raises FileNotFoundError when there is no journal at `path`, sqlite3.Error when it cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(str(path))
    db = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        rows = db.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE day = ? ORDER BY seq", (day,))
        for row in rows:
            rec = dict(zip(EVENT_COLUMNS, row))
            rec["data"] = unpack(rec["data"])
            yield rec
    finally:
        db.close()


class _Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every `every` seconds on its own thread and connection."""

    def __init__(self, path: Path, every: float = 1.0):
        self._path, self._every = path, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-journal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(str(self._path), isolation_level=None, check_same_thread=False, timeout=0.5)
        except sqlite3.Error:
            log.exception("journal checkpointer could not open the journal")
            return
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            while not self._stop.wait(self._every):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy now: the next round does it
                    log.debug("journal checkpoint skipped: %s", exc)
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
