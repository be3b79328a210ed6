"""The hub's journal: an SQLite file (WAL) holding every journaled event and every order request.

One job: durable, ordered storage. It knows nothing of sockets or the broker.

* ``events``: every journaled event with its global ``seq`` (strictly increasing, never
  reused, continues across restarts) and its per-stream ``sseq`` (1, 2, 3... per stream).
  The hub appends here BEFORE it publishes, so whatever a client saw can be replayed.
* ``orders``: every accepted order request (strategy, client_order_id, owner tag, params,
  trading day, user remark), written BEFORE the broker is called, and later its outcome.
  This is what makes client_order_id idempotent across hub restarts and what attributes
  broker pushes to their owner.
* ``meta``: small durable values (the owner-tag counter, halts).

Durability: ``journal_mode=WAL`` and ``synchronous=NORMAL``: a commit survives a crash of
the process; a power cut may lose the last commits but never corrupts the file.

Only one thread uses a Journal at a time (the hub's loop thread).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rpc_client.protocol import HubError, ErrorCode, REMARK_TAG_PREFIX, pack, stream_of, unpack

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
        # heads and last seq survive pruning: what was pruned is remembered in meta
        pruned = self.get_json("pruned_heads", {}) or {}
        self.heads: dict[str, int] = {str(k): int(v) for k, v in pruned.get("heads", {}).items()}
        self.heads.update(dict(self._db.execute("SELECT stream, MAX(sseq) FROM events GROUP BY stream")))
        self.last_seq: int = max(int(pruned.get("last_seq", 0)),
                                 self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
        self.closed = False

    # ---- events ------------------------------------------------------------------
    def append(self, topic: str, data: Any, ts: float, hub_id: str) -> Appended:
        """Write one event and commit; returns its seq and stream position."""
        stream = stream_of(topic)
        seq = self.last_seq + 1
        sseq = self.heads.get(stream, 0) + 1
        self._db.execute("INSERT INTO events (seq, stream, sseq, topic, ts, day, hub_id, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, stream, sseq, topic, ts, trading_day(ts), hub_id, pack(data)))
        self.last_seq = seq
        self.heads[stream] = sseq
        return Appended(seq, stream, sseq)

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
                raise HubError(ErrorCode.REPLAY_UNAVAILABLE,
                               f"stream {stream!r} starts at sseq {first if first is not None else head + 1} in the "
                               f"journal (older events were pruned); asked for after {after}",
                               {"stream": stream, "first": first, "head": head})
            rows = self._db.execute(f"SELECT {cols} FROM events WHERE stream = ? AND sseq > ? ORDER BY sseq "
                                    f"LIMIT ?", (stream, after, limit + 1)).fetchall()
            head = self.heads.get(stream, 0)
        else:
            first = self._db.execute("SELECT MIN(seq) FROM events").fetchone()[0]
            if (first is not None and after + 1 < first) or (first is None and after < self.last_seq):
                raise HubError(ErrorCode.REPLAY_UNAVAILABLE,
                               f"the journal starts at seq {first if first is not None else self.last_seq + 1} "
                               f"(older events were pruned); asked for after {after}",
                               {"first": first, "head": self.last_seq})
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
        return [self._event(r) for r in rows[:limit]], head, more

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
            n = self._db.execute("DELETE FROM events WHERE day < ?", (cutoff,)).rowcount
            self._db.execute("DELETE FROM orders WHERE day < ?", (cutoff,))
        return n

    # ---- orders ------------------------------------------------------------------
    def reserve_order(self, day: str, strategy: str, client_order_id: str, params: dict[str, Any],
                      order_remark: str, ts: float) -> str:
        """Journal an accepted order request and give it a fresh owner tag (one transaction)."""
        with self._tx():
            counter = int(self.get_meta("tag_counter", "0")) + 1
            self._set_meta("tag_counter", str(counter))
            tag = REMARK_TAG_PREFIX + base36(counter)
            self._db.execute("INSERT INTO orders (day, strategy, client_order_id, tag, params, order_remark, "
                             "created, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent')",
                             (day, strategy, client_order_id, tag, pack(params), order_remark, ts))
        return tag

    def finish_order(self, tag: str, state: str, order_id: int | None, result: Any) -> None:
        self._db.execute("UPDATE orders SET state = ?, order_id = ?, result = ?, updated = ? WHERE tag = ?",
                         (state, order_id, pack(result), time.time(), tag))

    def forget_order(self, tag: str) -> None:
        """Delete an order request that never reached the broker (its key may be used again)."""
        self._db.execute("DELETE FROM orders WHERE tag = ? AND state = 'sent'", (tag,))

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
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def set_meta(self, key: str, value: str) -> None:
        self._set_meta(key, value)

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.get_meta(key)
        return default if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        self._set_meta(key, json.dumps(value))

    # ---- lifecycle ---------------------------------------------------------------
    def _tx(self):
        db = self._db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False
        return _Tx()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
