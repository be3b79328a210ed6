"""Group commit: nothing is published before its commit, a failed commit publishes nothing, the
order request is committed on its own before the broker call, the owner-tag counter survives a
restart without a meta write per order; the mailbox never loses a wake-up."""

from __future__ import annotations

import sqlite3
import threading
import time

import zmq

from hub.core.journal import Journal, base36
from hub.core.mailbox import Mailbox
from hub.core.publisher import Publisher
from hub.core.sessions import Session
from rpc_client.protocol import event_of, unpack

PARAMS = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5}


class FakePub:
    """Stands for both sockets: PUB frames [topic, payload] and ROUTER frames [identity, {v, event}]
    (an account event pushed to a session) are recorded alike as (topic, payload), in send order."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict]] = []
        self._first: bytes | None = None

    def send_multipart(self, frames, flags=0) -> None:
        msg = unpack(frames[1])
        ev = event_of(msg)
        self.sent.append((ev["topic"].encode(), ev) if ev is not None else (frames[0], msg))

    def send(self, data, flags=0) -> None:  # the ROUTER's way: [identity, more] then the payload
        if flags & zmq.SNDMORE:
            self._first = data
        else:
            self.send_multipart([self._first, data])


class OneMonitor:
    """Sessions with one monitor: every journaled event is pushed to it."""

    def entitled(self, topic):
        return [Session(identity=b"m", name="mon", role="monitor")]


def publisher(sock: FakePub, j: Journal) -> Publisher:
    return Publisher(sock, j, "h1", router=sock, sessions=OneMonitor())


def count_events(path) -> int:
    db = sqlite3.connect(str(path))
    try:
        return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        db.close()


def test_events_go_out_only_after_the_group_commit_and_in_order(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.use_group_commit(True)
    sock = FakePub()
    pub = publisher(sock, j)
    pub.publish("order.alpha", {"n": 1})
    pub.publish_unjournaled("heartbeat", {"last_seq": j.last_seq})  # waits behind the event
    pub.publish("asset", {"n": 2})
    assert sock.sent == [] and count_events(path) == 0  # not committed: not sent, not visible
    assert pub.flush()
    assert [t for t, _ in sock.sent] == [b"order.alpha", b"heartbeat", b"asset"]
    assert [p["seq"] for _, p in sock.sent] == [1, None, 2]
    assert count_events(path) == 2
    pub.publish_unjournaled("heartbeat", {})  # nothing waiting: straight out
    assert len(sock.sent) == 4
    j.close()


class FailingCommit:
    """Wraps the journal's connection; COMMIT fails (disk full, I/O error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql, *args):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_a_failed_commit_publishes_nothing_and_restores_the_sequence(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.use_group_commit(True)
    sock = FakePub()
    pub = publisher(sock, j)
    pub.publish("asset", {"n": 1})
    assert pub.flush() and j.last_seq == 1
    real = j._db
    j._db = FailingCommit(real)
    pub.publish("order.alpha", {"n": 2})
    pub.publish("asset", {"n": 3})
    assert not pub.flush()
    assert len(sock.sent) == 1 and pub.uncommitted == 2
    assert j.last_seq == 1 and j.heads == {"@account": 1}
    j._db = real
    pub.publish("asset", {"n": 4})  # numbering continues where the committed journal is
    assert pub.flush()
    assert [p["seq"] for _, p in sock.sent] == [1, 2] and sock.sent[1][1]["data"] == {"n": 4}
    assert count_events(path) == 2
    j.close()


def test_the_order_request_is_committed_before_the_broker_call_with_whatever_waits(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.use_group_commit(True)
    pub = Publisher(FakePub(), j, "h1")
    pub.publish("asset", {"n": 1})  # opens the group transaction
    tag = j.reserve_order("20250101", "alpha", "c1", PARAMS, "", time.time())
    assert not j.in_tx
    db = sqlite3.connect(str(path))
    assert db.execute("SELECT tag, state FROM orders").fetchall() == [(tag, "sent")]
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    db.close()
    pub.flush()
    j.close()


def test_commit_times_are_counted_per_path(tmp_path):
    """The loop's group commit and an order request's own commit are timed apart (`status` histograms)."""
    j = Journal(tmp_path / "journal.sqlite")
    j.use_group_commit(True)
    pub = Publisher(FakePub(), j, "h1")
    group, order = j.commit_times["group"], j.commit_times["order"]
    pub.publish("asset", {"n": 1})
    j.reserve_order("20250101", "alpha", "c1", PARAMS, "", time.time())  # commits the open group with it
    assert (group.count, order.count) == (0, 1)
    j.reserve_order("20250101", "alpha", "c2", PARAMS, "", time.time())  # no open transaction: autocommit
    assert (group.count, order.count) == (0, 2)
    pub.publish("asset", {"n": 2})
    assert pub.flush() and (group.count, order.count) == (1, 2)
    assert pub.flush() and group.count == 1  # nothing open: nothing committed, nothing counted
    assert 0 < group.total < 60 and 0 < order.total < 60
    j.close()


def test_the_tag_counter_continues_after_a_restart_and_a_prune(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    tags = [j.reserve_order("20250101", "alpha", f"c{i}", PARAMS, "", time.time()) for i in range(40)]
    assert tags[0] == "qh1" and tags[-1] == "qh" + base36(40) and len(set(tags)) == 40
    assert j.get_meta("tag_counter") is None  # no meta write per order
    j.close()
    j = Journal(path)
    assert j.reserve_order("20000101", "alpha", "next", PARAMS, "", time.time()) == "qh" + base36(41)
    db = sqlite3.connect(str(path))
    db.execute("UPDATE orders SET day = '20000101'")  # every order request is of an old day
    db.commit()
    db.close()
    j.append("asset", {}, time.time(), "h1")  # today has events only
    assert j.prune(1) == 0  # no old events; the old day's order requests go
    assert j.orders() == []
    j.close()
    j = Journal(path)  # no tag left in the orders table: pruning remembered the counter
    assert j.reserve_order("20250102", "alpha", "after", PARAMS, "", time.time()) == "qh" + base36(42)
    j.close()


def test_a_prune_at_the_day_roll_joins_the_group_transaction(tmp_path):
    """The loop prunes at the day roll with group commit on and, often, no transaction open yet:
    the prune must open the group's transaction (not BEGIN one of its own and then a second),
    and the journal must go on committing afterwards."""
    j = Journal(tmp_path / "journal.sqlite")
    j.append("order.alpha", {"n": 1}, time.time() - 5 * 86400, "h1")
    j.append("order.alpha", {"n": 2}, time.time(), "h1")
    j.use_group_commit(True)
    assert not j.in_tx
    assert j.prune(1) == 1
    assert j.in_tx  # the group's: the loop commits it with the rest of the iteration
    assert j.commit() and not j.in_tx
    j.append("order.alpha", {"n": 3}, time.time(), "h1")
    assert j.commit()
    assert [e["data"]["n"] for e in j.replay("alpha", 1, 10)[0]] == [2, 3]
    j.close()


def test_an_old_journal_counter_in_meta_is_respected(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.set_meta("tag_counter", "100")  # written by an older hub, whose orders were pruned
    j.close()
    j = Journal(path)
    assert j.reserve_order("20250101", "alpha", "c1", PARAMS, "", time.time()) == "qh" + base36(101)
    j.close()


def test_the_mailbox_loses_no_item_and_no_wake_up():
    ctx = zmq.Context()
    box = Mailbox(ctx, "t")
    poller = zmq.Poller()
    poller.register(box.pull, zmq.POLLIN)
    n_threads, per = 4, 2000

    def produce(k: int) -> None:
        for i in range(per):
            box.put("x", (k, i))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    got: list = []
    deadline = time.monotonic() + 10
    while len(got) < n_threads * per and time.monotonic() < deadline:
        if box.pending() or poller.poll(1000):  # as the loop does: it sleeps only with nothing pending
            got.extend(p for _, p in box.drain(limit=500))
    for t in threads:
        t.join()
    assert len(got) == n_threads * per
    for k in range(n_threads):
        assert [i for kk, i in got if kk == k] == list(range(per))  # each producer's order kept
    assert not box.pending()
    box.close()
    ctx.term()
