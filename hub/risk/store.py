"""The ledger's durable form: numbered records in the hub's journal, plus a snapshot.

Why in the journal: a record is written in the same transaction as the event or order request
that caused it (the journal's group commit), so after a kill -9 the ledger and the book agree.
Records live in the `risk_log` table, except an order's reservation, which rides in the order
request's own row (`orders.rec_id` / `orders.rec`, see `Journal.reserve_order`): one row and one
page per order instead of two, in the commit made before the broker call. Both share one
numbering (`last_id`), so the log reads back in the order the ledger applied it.
Restore = the last snapshot (journal meta `risk.snapshot`) + the records numbered after it, from
both places, merged by number.
A snapshot is taken every `SNAPSHOT_EVERY` records (or, for a bigger ledger, every as many
records as it holds reservations and fills: see `due`) and at a clean stop; the records it covers
are deleted with it (same transaction). Read at start only, never per order.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any


from rpc_client.protocol import packer, unpack

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.journal import Journal
    from hub.risk.ledger import Ledger

SCHEMA = "CREATE TABLE IF NOT EXISTS risk_log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"
SNAPSHOT_KEY = "risk.snapshot"
SNAPSHOT_EVERY = 500


class RiskStore:
    def __init__(self, journal: "Journal") -> None:
        self.journal = journal
        journal.side_schema(SCHEMA)
        row = journal.side_read("SELECT COALESCE(MAX(id), 0) FROM risk_log")
        self.last_id = int(row[0][0]) if row else 0
        snap = journal.get_json(SNAPSHOT_KEY)
        if isinstance(snap, dict):
            self.last_id = max(self.last_id, int(snap.get("id", 0)))
        row = journal.side_read("SELECT COALESCE(MAX(rec_id), 0) FROM orders")  # reservations in order rows
        self.last_id = max(self.last_id, int(row[0][0]) if row else 0)
        self.since_snapshot = 0
        self.snapshot_id = int(snap.get("id", 0)) if isinstance(snap, dict) else 0
        self._pack = packer()  # the protocol's encoding, one Packer kept (loop thread): every order writes a record
        journal.keep_records = self._keep  # pruned order rows hand their reservations back to risk_log

    def write(self, rec: dict[str, Any]) -> None:
        """Journal one record (joins the loop's open transaction; committed with it)."""
        self.journal.side_write("INSERT INTO risk_log (id, data) VALUES (?, ?)", self.numbered(rec))

    def numbered(self, rec: dict[str, Any]) -> tuple[int, bytes]:
        """Number and encode a record that the caller journals itself (an order's reservation, in the
        order request's row): `(rec_id, rec)` for `Journal.reserve_order`."""
        self.last_id += 1
        self.since_snapshot += 1
        return self.last_id, self._pack(rec)

    def _keep(self, rows: list[tuple[int, bytes]]) -> None:
        """Order rows about to be pruned: their records not yet covered by a snapshot move to risk_log."""
        for rec_id, blob in rows:
            if rec_id > self.snapshot_id:
                self.journal.side_write("INSERT OR IGNORE INTO risk_log (id, data) VALUES (?, ?)", (rec_id, blob))

    def due(self, size: int = 0) -> bool:
        """A snapshot is due after SNAPSHOT_EVERY records, or after `size` records when the ledger is
        bigger (size: its open reservations and today's fills, what a snapshot writes): a snapshot
        costs about as much as its size, so this keeps its cost per record bounded (a ledger with
        thousands of resting orders is not written out in full every 500 orders), and a restore
        replays at most that many records after it."""
        return self.since_snapshot >= max(SNAPSHOT_EVERY, size)

    def snapshot(self, ledger: "Ledger") -> None:
        """Write the whole ledger and drop the records it covers (same transaction)."""
        self.journal.set_json(SNAPSHOT_KEY, {"id": self.last_id, "ledger": ledger.to_dict()})
        self.journal.side_write("DELETE FROM risk_log WHERE id <= ?", (self.last_id,))
        self.since_snapshot = 0
        self.snapshot_id = self.last_id

    def load(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(snapshot ledger dict or None, records after it, oldest first)."""
        snap = self.journal.get_json(SNAPSHOT_KEY)
        after = int(snap.get("id", 0)) if isinstance(snap, dict) else 0
        rows = self.journal.side_read("SELECT id, data FROM risk_log WHERE id > ? ORDER BY id", (after,))
        rows += self.journal.records_after(after)
        rows.sort(key=lambda r: r[0])
        ledger = snap.get("ledger") if isinstance(snap, dict) else None
        return ledger, [unpack(r[1]) for r in rows]


def dumps(ledger: "Ledger") -> str:
    return json.dumps(ledger.to_dict(), sort_keys=True)
