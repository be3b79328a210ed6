"""The day roll as methods of the book and the desk, and handlers run against a fake context."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from rpc_client.protocol import ErrorCode, HubError

from hub.core import methods
from hub.core.book import Book
from hub.core.call import Call
from hub.core.halts import Halts
from hub.core.journal import Journal
from hub.core.orders import OrderDesk

PARAMS = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5,
          "order_remark": ""}


class Broker:
    def __init__(self) -> None:
        self.seq = 0

    def order_async(self, *args: Any) -> int:
        self.seq += 1
        return self.seq


def test_new_day_empties_todays_orders_and_drops_settled_keys_of_older_days(tmp_path):
    journal, book = Journal(tmp_path / "j.sqlite"), Book()
    replies: list = []
    desk = OrderDesk(journal, book, 10.0, lambda c, r: replies.append(r), lambda c, e: replies.append(e.code))
    broker = Broker()
    desk.place("c1", "alpha", dict(PARAMS, client_order_id="done"), broker)
    desk.on_response({"seq": 1, "order_id": 11})
    desk.place("c2", "alpha", dict(PARAMS, client_order_id="pending"), broker)  # still waiting for the broker
    book.apply_order({"order_id": 11, "order_remark": desk.by_key[next(iter(desk.by_key))].tag,
                      "order_status": 56, "traded_volume": 100})
    book.positions["600000.SH"] = {"stock_code": "600000.SH", "volume": 100}
    assert len(desk.by_key) == 2 and book.orders and book.tag_of_order
    book.new_day()
    desk.new_day("29991231")
    assert book.orders == {} and book.trades == {} and book.tag_of_order == {}
    assert book.positions  # positions and asset carry over to the next day
    # the settled key of the old day is gone (its id may be used again); the pending one stays
    assert [k[2] for k in desk.by_key] == ["pending"] and set(p.client_order_id for p in desk.by_tag.values()) == \
        {"pending"}
    desk.on_response({"seq": 2, "order_id": 12})  # its late answer still reaches its caller
    assert replies[-1] == {"order_id": 12, "client_order_id": "pending", "duplicate": False}
    journal.close()


class Pub:
    def __init__(self) -> None:
        self.published: list = []

    def publish(self, topic: str, data: Any) -> None:
        self.published.append((topic, data))


def handler_ctx(tmp_path, up: bool = True) -> Any:
    journal = Journal(tmp_path / "j.sqlite")
    pub = Pub()
    halts = Halts(journal, pub)
    asked: list = []
    broker = SimpleNamespace(cancel_async=lambda oid: asked.append(oid) or 5)
    state = {"state": "up" if up else "down", "since": 0.0, "reason": "test"}

    def require_up() -> None:
        if not up:
            raise HubError(ErrorCode.BROKER_DOWN, "down", {"broker": dict(state)})

    link = SimpleNamespace(is_up=up, broker=broker, state=state, require_up=require_up)
    book = Book()
    book.orders[1] = {"order_id": 1, "owner": "alpha", "order_status": 50}
    desk = SimpleNamespace(in_flight=lambda s: ([], 0), cancel=lambda call, oid, seq: None)
    return SimpleNamespace(journal=journal, halts=halts, link=link, book=book, desk=desk, publisher=pub,
                           asked=asked)


def admin_call(method: str) -> Call:
    return Call(b"ops", 1, SimpleNamespace(name="ops", role="admin", reads_all=True), method)


def test_halt_and_resume_handlers_against_a_fake_context(tmp_path):
    ctx = handler_ctx(tmp_path)
    r = methods.HANDLERS["halt"](ctx, admin_call("halt"), {"strategy": "alpha", "reason": "r", "cancel_open": True})
    assert r == {"halted": {"all": False, "reason": "", "strategies": {"alpha": "r"}}, "cancelled": [1]}
    assert ctx.asked == [1] and ctx.publisher.published[0][0] == "hub.halt"
    r = methods.HANDLERS["resume"](ctx, admin_call("resume"), {"strategy": "alpha"})
    assert r == {"halted": {"all": False, "reason": "", "strategies": {}}}
    ctx.journal.close()


def test_cancel_all_needs_the_broker_up(tmp_path):
    ctx = handler_ctx(tmp_path, up=False)
    with pytest.raises(HubError) as info:
        methods.HANDLERS["cancel_all"](ctx, admin_call("cancel_all"), {"strategy": None})
    assert info.value.code == ErrorCode.BROKER_DOWN and ctx.asked == []
    ctx.journal.close()


def test_replay_handler_maps_the_journals_error_to_the_wire_code(tmp_path):
    ctx = handler_ctx(tmp_path)
    ctx.journal.append("order.alpha", {"n": 1}, time.time() - 5 * 86400, "h")
    ctx.journal.append("order.alpha", {"n": 2}, time.time(), "h")
    ctx.journal.prune(1)
    call = Call(b"a", 1, SimpleNamespace(name="alpha", role="strategy", reads_all=False), "replay")
    with pytest.raises(HubError) as info:
        methods.HANDLERS["replay"](ctx, call, {"stream": "alpha", "after": 0, "limit": 100})
    assert info.value.code == ErrorCode.REPLAY_UNAVAILABLE
    assert info.value.data == {"stream": "alpha", "first": 2, "head": 2}
    ok = methods.HANDLERS["replay"](ctx, call, {"stream": "alpha", "after": 1, "limit": 100})
    assert [e["data"] for e in ok["events"]] == [{"n": 2}] and ok["head"] == 2 and ok["more"] is False
    ctx.journal.close()
