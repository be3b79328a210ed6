"""Account events reach only the sessions entitled to them (issue 9 item 8).

Journaled events are pushed over the ROUTER to each entitled session; the PUB carries only
ticks and the public heartbeat. So a peer that never said hello gets no account event on any
socket, a strategy never gets another strategy's orders, trades, errors or the monitor-only
`hub.client`, and monitors still see everything. Drops at the ROUTER are counted and the
`ping` heads let the client find them.
"""

from __future__ import annotations

import time

import pytest
import zmq

from hub.core.journal import Journal
from hub.core.publisher import Publisher
from hub.core.sessions import Sessions
from rpc_client.protocol import (ACCOUNT_STREAM, ALL_TOPICS, OWNED_TOPICS, Topic, event_of, owned_topic, unpack,
                                 visible_to)

BUY, FIX = 23, 11
ACCOUNT_KINDS = ("order.", "trade.", "error.", "position", "asset", "account", "hub.broker", "hub.halt",
                 "hub.client")


def order(price=10.5, **extra):
    return {"stock_code": "600000.SH", "order_type": BUY, "order_volume": 100, "price_type": FIX, "price": price,
            **extra}


def _is_account(topic: str) -> bool:
    return topic.startswith(ACCOUNT_KINDS)


def _trade_a_little(hub, connect, name: str) -> int:
    """`name` places one order that fills and one that is rejected (an error event); returns the filled id."""
    c = connect(hub, subscribe=False)
    c.hello(name)
    filled = c.call("order_stock", order())["order_id"]
    c.call("order_stock", {**order(), "order_volume": 150})  # not a multiple of 100: rejected by the broker
    c.wait_event(lambda t, p: t == owned_topic(Topic.ERROR, name), timeout=5)
    c.wait_event(lambda t, p: t == owned_topic(Topic.TRADE, name), timeout=5)
    return filled


def test_a_subscriber_that_never_said_hello_gets_no_account_event(hub, connect):
    spy = connect(hub, topics=("",))  # a SUB on everything, and a DEALER that never says hello
    monitor = connect(hub, subscribe=False)
    monitor.hello("watch", role="monitor")
    _trade_a_little(hub, connect, "alpha")
    monitor.wait_event(lambda t, p: t == "trade.alpha")
    time.sleep(0.5)  # several heartbeats later
    spy.poll_events(0.2)
    topics = {e["_topic"] for e in spy.events}
    assert topics == {"hub.heartbeat"}, topics  # the public heartbeat, nothing else
    assert spy.pushed == []  # nothing on the DEALER either
    beat = next(e for e in spy.events if e["_topic"] == "hub.heartbeat")
    assert "heads" not in beat["data"]  # it would name every strategy and its activity
    assert beat["data"]["broker"] == "up" and isinstance(beat["data"]["last_seq"], int)


def test_a_strategy_gets_no_other_strategys_events_on_any_socket(hub, connect):
    alpha = connect(hub, topics=("",))  # subscribes to everything the PUB has, just in case
    alpha.hello("alpha")
    monitor = connect(hub, subscribe=False)
    monitor.hello("watch", role="monitor")
    _trade_a_little(hub, connect, "beta")
    mine = alpha.call("order_stock", order())["order_id"]
    alpha.wait_event(lambda t, p: t == "trade.alpha")
    monitor.wait_event(lambda t, p: t == "trade.alpha")
    time.sleep(0.3)
    alpha.poll_events(0.2)
    got = [e for e in alpha.events if _is_account(e["_topic"])]
    assert got and all(e["_socket"] == "dealer" for e in got)  # account events only on the call socket
    assert {e["_topic"] for e in got} <= {"order.alpha", "trade.alpha", "error.alpha", "position", "asset",
                                          "account", "hub.broker", "hub.halt"}
    assert not any("beta" in e["_topic"] or e.get("stream") not in ("alpha", ACCOUNT_STREAM) for e in got)
    assert {e["data"]["order_id"] for e in got if e["_topic"] == "order.alpha"} == {mine}
    # the account-wide stream is shared: beta's fill moved the position alpha sees
    assert any(e["_topic"] == "position" for e in got)


def test_a_monitor_sees_every_strategys_events_and_the_hub_bookkeeping(hub, connect):
    monitor = connect(hub, subscribe=False)
    monitor.hello("watch", role="monitor")
    beta = _trade_a_little(hub, connect, "beta")
    _trade_a_little(hub, connect, "gamma")
    for topic in ("order.beta", "trade.beta", "error.beta", "order.gamma", "trade.gamma", "error.gamma",
                  "position", "asset"):
        monitor.wait_event(lambda t, p, topic=topic: t == topic)
    ev = monitor.wait_event(lambda t, p: t == "hub.client" and p["data"]["strategy"] == "gamma")
    assert ev["stream"] == "@hub"
    assert any(e["data"].get("order_id") == beta for e in monitor.events if e["_topic"] == "order.beta")
    # the monitor follows the global seq: what it got is contiguous
    seqs = [e["seq"] for e in monitor.journaled()]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_a_data_only_session_is_pushed_no_events(hub, connect):
    data_only = connect(hub, subscribe=False)
    data_only.hello("quotes", role="monitor", events=False)
    monitor = connect(hub, subscribe=False)
    monitor.hello("watch", role="monitor")
    _trade_a_little(hub, connect, "alpha")
    monitor.wait_event(lambda t, p: t == "trade.alpha")
    data_only.poll_events(0.3)
    assert data_only.pushed == []
    # replay still works for it
    assert data_only.call("replay", {"after": 0})["events"]


def test_ping_reports_session_and_the_heads_of_the_callers_streams(hub, connect):
    c = connect(hub, subscribe=False)
    pong = c.call("ping")
    assert pong["session"] is False and pong["heads"] == {}
    c.hello("alpha")
    c.call("order_stock", order())
    c.wait_event(lambda t, p: t == "trade.alpha")
    pong = c.call("ping")
    assert pong["session"] is True and set(pong["heads"]) == {"alpha", ACCOUNT_STREAM}
    got = {}
    for e in c.journaled():
        got[e["stream"]] = max(got.get(e["stream"], 0), e["sseq"])
    # every event counted in the heads had been sent before the reply: nothing more than what arrived
    assert pong["heads"]["alpha"] == got["alpha"] == hub.journal.heads["alpha"]
    mon = connect(hub, subscribe=False)
    mon.hello("watch", role="monitor")
    heads = mon.call("ping")["heads"]
    assert set(heads) >= {"alpha", ACCOUNT_STREAM, "@hub"}


# ---- the publisher and the sessions on their own (no sockets) ------------------------------------

class FakeRouter:
    """Records [identity, frame] sends; refuses (EAGAIN) those to `full` identities."""

    def __init__(self, full: tuple[bytes, ...] = ()) -> None:
        self.full = set(full)
        self.sent: list[tuple[bytes, dict]] = []

        self._part: bytes | None = None

    def send(self, data, flags=0) -> None:
        if flags & zmq.SNDMORE:  # the identity frame: where the ROUTER decides
            if data in self.full:
                raise zmq.Again()
            self._part = data
            return
        ident, self._part = self._part, None
        self.sent.append((ident, unpack(data)))

    def send_multipart(self, frames, flags=0) -> None:
        self.send(frames[0], flags | zmq.SNDMORE)
        self.send(frames[1], flags)


def _sessions() -> Sessions:
    s = Sessions("token")
    for ident, name, role in ((b"a", "alpha", "strategy"), (b"b", "beta", "strategy"), (b"m", "mon", "monitor"),
                              (b"d", "adm", "admin")):
        s.hello(ident, {"strategy": name, "role": role, "instance": "", "token": "token",
                        "cancel_on_disconnect": False, "client": {}})
    return s


@pytest.mark.parametrize("topic", ["order.alpha", "trade.beta", "error.alpha", "order._external", "order.alpha2",
                                   "position", "asset", "account", "hub.broker", "hub.halt", "hub.client",
                                   "risk.alpha", "something.new"])
def test_entitled_sessions_are_exactly_those_visible_to_allows(topic):
    sessions = _sessions()
    expected = {s.identity for s in sessions.all() if visible_to(topic, s.role, s.name)}
    assert {s.identity for s in sessions.entitled(topic)} == expected


def test_every_journaled_topic_kind_has_a_delivery_rule():
    sessions = _sessions()
    for kind in ALL_TOPICS:
        if kind in (Topic.TICK, Topic.HEARTBEAT):
            continue
        topic = owned_topic(kind, "alpha") if kind in OWNED_TOPICS else kind
        assert {s.name for s in sessions.entitled(topic)} >= {"mon", "adm"}, topic


def test_router_drops_are_counted_and_the_ping_heads_still_move(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.use_group_commit(True)
    router = FakeRouter(full=(b"a",))
    sessions = _sessions()
    pub = Publisher(FakeRouter(), j, "h1", router=router, sessions=sessions)
    pub.publish("order.alpha", {"n": 1})
    pub.publish("asset", {"n": 2})
    assert pub.heads_for(["alpha", ACCOUNT_STREAM]) == {"alpha": 0, ACCOUNT_STREAM: 0}  # not sent yet
    assert router.sent == []
    pub.flush()
    # alpha's pipe was full: both its events dropped and counted; the others got theirs
    assert sessions.get(b"a").events_dropped == 2 and pub.session_dropped == 2
    assert sorted(i for i, _ in router.sent) == [b"b", b"d", b"d", b"m", b"m"]
    assert all(event_of(m)["hub_id"] == "h1" for _, m in router.sent)
    # the heads moved all the same: alpha's next pong shows what it is missing, so it replays
    assert pub.heads_for(["alpha", ACCOUNT_STREAM]) == {"alpha": 1, ACCOUNT_STREAM: 1}
    assert pub.sent_seq == 2
    j.close()
