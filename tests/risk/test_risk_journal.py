"""The reservation's record is committed with the order request: one transaction, one commit, before the broker call."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

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
    assert kinds == ["BEGIN", "INSERT orders", "INSERT risk_log", "COMMIT"]  # one transaction, one commit
    assert not j.in_tx  # durable before the broker is called
    other = sqlite3.connect(str(tmp_path / "journal.db"))  # what a restart after kill -9 would read
    try:
        assert other.execute("SELECT state FROM orders WHERE tag = ?", (tag,)).fetchall() == [("sent",)]
        recs = [unpack(r[0]) for r in other.execute("SELECT data FROM risk_log ORDER BY id")]
    finally:
        other.close()
    reserve = [r for r in recs if r["k"] == "reserve"]
    assert len(reserve) == 1 and reserve[0]["tag"] == tag and reserve[0]["s"] == "alpha"
    assert reserve[0]["cash"] == engine.ledger.reservations[tag].cash == 95_000 + 500 + 1
    j.close()
