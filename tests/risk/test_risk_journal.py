"""The reservation's record is committed with the order request: in its own row, one INSERT, before the broker call.

Also: a restart reads it back in the ledger's order (merged by number with `risk_log`), a prune keeps the
records no snapshot covers, a journal from before the columns opens, a failed write leaves no reservation."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_helpers import CODE, order  # noqa: E402

from hub.core.journal import Journal  # noqa: E402
from hub.core.order_path import OrderTicket  # noqa: E402
from hub.risk.config import parse  # noqa: E402
from hub.risk.engine import RiskEngine  # noqa: E402
from hub.risk.stage import RiskStage  # noqa: E402
from hub.risk.store import RiskStore  # noqa: E402
from rpc_client.protocol import unpack  # noqa: E402


def test_the_reservation_rides_the_order_requests_commit(tmp_path):
    j = Journal(tmp_path / "journal.db")
    j.use_group_commit(True)  # as the hub's loop runs it
    engine = RiskEngine(parse({}, {}), reference={CODE: (10.0, 10.0)}.get)
    stage = RiskStage(engine, RiskStore(j))
    engine.roll("20261202")
    engine.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])
    assert j.commit()
    statements: list[str] = []
    j._db.set_trace_callback(statements.append)
    params = order(price=9.5)
    try:
        assert stage.check(None, OrderTicket(None, "alpha", params)) is None  # passed: nothing written yet
        assert statements == []
        tag = j.reserve_order("20261202", "alpha", "c1", params, "", 1.0,
                              lambda t: stage.reserved(t, "alpha", params))
    finally:
        j._db.set_trace_callback(None)
    kinds = [s.split()[0] + (" " + s.split()[2] if s.startswith("INSERT") else "") for s in statements]
    assert kinds == ["INSERT orders"]  # one row, its own transaction: no second table, no BEGIN/COMMIT pair
    assert not j.in_tx  # durable before the broker is called
    other = sqlite3.connect(str(tmp_path / "journal.db"))  # what a restart after kill -9 would read
    try:
        assert other.execute("SELECT state FROM orders WHERE tag = ?", (tag,)).fetchall() == [("sent",)]
        rows = other.execute("SELECT rec_id, rec FROM orders WHERE tag = ?", (tag,)).fetchall()
        logged = [unpack(r[0])["k"] for r in other.execute("SELECT data FROM risk_log ORDER BY id")]
    finally:
        other.close()
    assert len(rows) == 1 and rows[0][0] == stage.store.last_id
    assert "reserve" not in logged  # risk_log has the sync's records, not the reservation
    reserve = unpack(rows[0][1])
    assert reserve["k"] == "reserve" and reserve["tag"] == tag and reserve["s"] == "alpha"
    assert reserve["cash"] == engine.ledger.reservations[tag].cash == 95_000 + 500 + 1
    j.close()


def _stage(j: Journal) -> tuple[RiskEngine, RiskStage]:
    engine = RiskEngine(parse({}, {}), reference={CODE: (10.0, 10.0)}.get)
    stage = RiskStage(engine, RiskStore(j))
    stage.restore()
    engine.roll("20261202")
    return engine, stage


def _place(j: Journal, stage: RiskStage, coid: str, day: str = "20261202", **kw) -> str:
    params = order(**kw)
    assert stage.check(None, OrderTicket(None, "alpha", params)) is None
    return j.reserve_order(day, "alpha", coid, params, "", 1.0, lambda t: stage.reserved(t, "alpha", params))


def test_a_restart_replays_reservations_and_log_records_in_the_ledgers_order(tmp_path):
    j = Journal(tmp_path / "journal.db")
    j.use_group_commit(True)
    engine, stage = _stage(j)
    engine.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])  # risk_log: the initial sync
    t1 = _place(j, stage, "c1", price=9.5)  # orders row
    engine.on_order({"owner_tag": t1, "order_status": 54, "order_id": 7, "traded_volume": 0})  # risk_log: close
    t2 = _place(j, stage, "c2", price=9.0)  # orders row, numbered after the close
    assert j.commit()
    want = engine.ledger.to_dict()
    free = engine.ledger.pool.cash - engine.ledger.pool.reserved_cash
    j.close()  # no snapshot: a restart must replay every record, from both places, in number order

    j2 = Journal(tmp_path / "journal.db")
    engine2, stage2 = _stage(j2)
    assert engine2.ledger.to_dict() == want
    assert t1 not in engine2.ledger.reservations or engine2.ledger.reservations[t1].final_traded == 0
    assert engine2.ledger.reservations[t2].cash == 90_000 + 500 + 1
    assert engine2.ledger.pool.cash - engine2.ledger.pool.reserved_cash == free
    assert stage2.store.last_id == stage.store.last_id  # numbering goes on after the highest record
    j2.close()


def test_a_prune_moves_records_no_snapshot_covers_into_the_log(tmp_path):
    j = Journal(tmp_path / "journal.db")
    j.use_group_commit(True)
    engine, stage = _stage(j)
    engine.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])
    old = _place(j, stage, "old", day="20261201", price=9.5)
    _place(j, stage, "new", day="20261202", price=9.0)
    assert j.commit()
    want = engine.ledger.to_dict()
    j.prune(1)  # deletes the 20261201 order row: its reservation must survive in risk_log
    assert j.commit()
    assert j.side_read("SELECT COUNT(*) FROM orders WHERE tag = ?", (old,)) == [(0,)]
    j.close()
    j2 = Journal(tmp_path / "journal.db")
    engine2, _ = _stage(j2)
    assert old in engine2.ledger.reservations and engine2.ledger.to_dict() == want
    j2.close()


def test_a_journal_from_before_the_record_columns_opens_and_gains_them(tmp_path):
    path = tmp_path / "journal.db"
    db = sqlite3.connect(str(path))
    db.executescript("""CREATE TABLE orders (day TEXT NOT NULL, strategy TEXT NOT NULL, client_order_id TEXT NOT NULL,
        tag TEXT NOT NULL UNIQUE, params BLOB NOT NULL, order_remark TEXT NOT NULL DEFAULT '', created REAL NOT NULL,
        state TEXT NOT NULL, order_id INTEGER, result BLOB, updated REAL, PRIMARY KEY (day, strategy, client_order_id));
        INSERT INTO orders VALUES ('20261201', 'alpha', 'c0', 'qh1', x'80', '', 1.0, 'done', 5, NULL, NULL);""")
    db.close()
    j = Journal(path)
    cols = {r[1] for r in j.side_read("PRAGMA table_info(orders)")}
    assert {"rec_id", "rec"} <= cols
    engine, stage = _stage(j)
    engine.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])
    tag = _place(j, stage, "c1", price=9.5)
    assert tag == "qh2" and j.side_read("SELECT rec_id IS NOT NULL FROM orders WHERE tag = ?", (tag,)) == [(1,)]
    j.close()


class _FailingOrdersInsert:
    """The journal's connection, except that writing an order row fails (a full disk, say)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, params: tuple = ()):
        if sql.startswith("INSERT INTO orders"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, params)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def test_a_failed_order_write_leaves_no_reservation(tmp_path):
    from hub.core.book import Book
    from hub.core.orders import OrderDesk

    j = Journal(tmp_path / "journal.db")
    j.use_group_commit(True)
    engine, stage = _stage(j)
    engine.reconcile({"cash": 1_000_000.0, "frozen_cash": 0.0}, [])
    assert j.commit()
    desk = OrderDesk(j, Book(), 10.0, lambda call, r: None, lambda call, e: None)
    desk.risk = stage
    free = engine.ledger.pool.cash - engine.ledger.pool.reserved_cash
    params = dict(order(price=9.5), client_order_id="c1")
    assert stage.check(None, OrderTicket(None, "alpha", params)) is None
    real, j._db = j._db, _FailingOrdersInsert(j._db)
    try:
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            desk.place(object(), "alpha", params, broker=None)
    finally:
        j._db = real
    assert engine.ledger.pool.cash - engine.ledger.pool.reserved_cash == free  # nothing held
    assert not [r for r in engine.ledger.reservations.values() if r.final_traded is None]
    assert len(engine.resting) == 0
    j.close()
