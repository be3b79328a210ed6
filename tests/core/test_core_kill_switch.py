"""The kill switch (halt --cancel-open, cancel-all, cancel-on-disconnect) misses no order.

An order just placed may be numbered by the broker before its first push reaches the book,
or still be waiting for its number: both must be cancelled.
"""

from __future__ import annotations

import time
from pathlib import Path

from hub.core.book import Book
from hub.core.journal import Journal
from hub.core.orders import OrderDesk

PARAMS = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5,
          "order_remark": "", "client_order_id": None}


class FakeBroker:
    """Numbers async requests; answers only when the test says so."""

    def __init__(self) -> None:
        self.seq = 0

    def order_async(self, *args) -> int:
        self.seq += 1
        return self.seq


def make_desk(tmp_path: Path):
    replies, cancelled = [], []
    journal = Journal(tmp_path / "journal.sqlite")
    desk = OrderDesk(journal, Book(), 10.0, lambda call, result: replies.append((call, result)),
                     lambda call, err: replies.append((call, err.code)), cancel_on_arrival=cancelled.append)
    return desk, journal, replies, cancelled


def test_numbered_order_without_a_push_is_still_open_to_the_kill_switch(tmp_path):
    desk, journal, replies, cancelled = make_desk(tmp_path)
    broker = FakeBroker()
    desk.place("call-1", "alpha", dict(PARAMS), broker)
    desk.on_response({"seq": 1, "order_id": 77})  # numbered; no order push has reached the book
    assert replies == [("call-1", {"order_id": 77, "client_order_id": replies[0][1]["client_order_id"],
                                   "duplicate": False})]
    assert desk.in_flight("alpha") == ([77], 0)
    assert desk.in_flight("beta") == ([], 0)  # another strategy's kill switch leaves it alone
    assert cancelled == []  # numbered orders are cancelled by the caller of in_flight, not on arrival
    journal.close()


def test_order_waiting_for_its_number_is_cancelled_when_the_number_arrives(tmp_path):
    desk, journal, replies, cancelled = make_desk(tmp_path)
    broker = FakeBroker()
    desk.place("call-1", "alpha", dict(PARAMS), broker)
    desk.place("call-2", "beta", dict(PARAMS), broker)
    assert desk.in_flight("alpha") == ([], 1)  # the kill switch for alpha runs now
    desk.on_response({"seq": 2, "order_id": 81})  # beta's order: not flagged
    desk.on_response({"seq": 1, "order_id": 80})  # alpha's: cancelled the moment it is numbered
    assert cancelled == [80]
    assert [r[1]["order_id"] for r in replies] == [81, 80]  # the placers still get their ids
    journal.close()


def test_halt_cancel_open_catches_an_order_the_book_has_not_heard_of(make_hub, connect):
    """Through the hub: the halt's cancel list holds the order even before its push."""
    from core_helpers import exchange_of

    server = make_hub()
    admin = connect(server)
    admin.hello("ops", role="admin", token=server.token)
    alpha = connect(server, subscribe=False)
    alpha.hello("alpha")
    order_id = alpha.call("order_stock", {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100,
                                          "price_type": 11, "price": 9.5})["order_id"]
    server.book.orders.pop(order_id, None)  # as if its first push were still on the way
    r = admin.call("halt", {"strategy": "alpha", "cancel_open": True})
    assert r["cancelled"] == [order_id]
    exchange = exchange_of(server)
    deadline = time.monotonic() + 5
    while exchange.order(server.account_id, order_id)["order_status"] != 54 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exchange.order(server.account_id, order_id)["order_status"] == 54  # ORDER_CANCELED at the broker
