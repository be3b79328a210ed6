"""`asset` events conflated per account: one per loop iteration with the latest asset, journaled
before it is sent, so replay gives exactly what was sent (docs/decisions.md, "Asset events once per
loop iteration"). No timing is asserted."""

from __future__ import annotations

import time
from typing import Any

from hub.core.book import Book
from hub.core.broker_events import BrokerEvents
from rpc_client.protocol import ACCOUNT_STREAM, Topic

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5}


class _Publisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    def publish(self, topic: str, data: Any) -> dict:
        self.published.append((topic, dict(data)))
        return {}


def _asset(cash: float, account: str = "A1") -> dict[str, Any]:
    return {"account_type": 2, "account_id": account, "cash": cash, "frozen_cash": 0.0, "market_value": 0.0,
            "total_asset": cash, "fetch_balance": cash}


def test_several_asset_pushes_in_one_iteration_become_one_event_with_the_latest():
    book, pub = Book(), _Publisher()
    events = BrokerEvents(book, desk=None, publisher=pub)  # asset pushes never reach the desk
    for cash in (100.0, 90.0, 80.0):
        events.asset(_asset(cash))
    assert pub.published == []  # nothing before the iteration's flush
    assert book.asset["cash"] == 80.0  # but the book (and so every query) has the latest at once
    events.flush()
    assert pub.published == [(Topic.ASSET, _asset(80.0))]
    events.flush()  # nothing new: nothing published
    events.asset(_asset(80.0))  # the same asset again is no change
    events.flush()
    assert len(pub.published) == 1
    events.asset(_asset(70.0))
    events.asset(_asset(5.0, account="A2"))  # per account
    events.flush()
    assert pub.published[1:] == [(Topic.ASSET, _asset(70.0)), (Topic.ASSET, _asset(5.0, account="A2"))]


def test_pipelined_orders_give_at_most_one_asset_event_each_and_replay_ends_at_the_account_asset(hub, connect):
    """Orders sent back to back (several answered in one loop iteration): the @account stream holds
    at most one asset event per order, the last one is the account's asset, and a replay of the
    stream gives each journaled event once, in order."""
    watcher = connect(hub, topics=("hub.heartbeat",))
    watcher.hello("watch", role="monitor")
    trader = connect(hub, subscribe=False)
    head0 = trader.hello("alpha")["heads"].get(ACCOUNT_STREAM, 0)
    n = 30
    from rpc_client.protocol import pack, request

    for i in range(n):  # pipelined: no wait between requests
        trader.dealer.send(pack(request(f"o{i}", "order_stock", dict(ORDER, client_order_id=f"c{i}"))))
    answered = 0
    deadline = time.monotonic() + 20
    while answered < n and time.monotonic() < deadline:
        reply = trader.recv_reply(10)
        if isinstance(reply.get("id"), str) and reply["id"].startswith("o"):
            assert reply["ok"], reply
            answered += 1
    assert answered == n
    time.sleep(0.5)  # the broker's pushes after the acks
    account = watcher.call("query_stock_asset")
    got = watcher.call("replay", {"stream": ACCOUNT_STREAM, "after": head0, "limit": 1000})
    events = got["events"]
    assert [e["sseq"] for e in events] == list(range(head0 + 1, head0 + 1 + len(events)))  # once each, in order
    assets = [e for e in events if e["topic"] == Topic.ASSET]
    assert 1 <= len(assets) <= n, len(assets)
    print(f"asset events: {len(assets)} for {n} orders")
    assert assets[-1]["data"]["cash"] == account["cash"]
    assert assets[-1]["data"]["frozen_cash"] == account["frozen_cash"]
    # the events pushed to the trader's session are the journaled ones, each once
    trader.poll_events(0.3)
    pushed = [e["sseq"] for e in trader.events if e.get("stream") == ACCOUNT_STREAM]
    assert sorted(pushed) == sorted(set(pushed))
    assert set(pushed) <= {e["sseq"] for e in events}
