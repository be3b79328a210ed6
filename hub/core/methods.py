"""One function per protocol method. Each gets (hub, call, validated params).

A handler returns the result (sent as an `ok` reply), raises HubError (sent as an
`error` reply), or returns DEFERRED when the reply will be sent later (orders and
cancels wait for the broker's async response). Role checks and parameter validation
happen before a handler runs (server._dispatch), from the tables in rpc_client.protocol.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from rpc_client.protocol import (ACCOUNT_STREAM, CLIENT_DEAD_AFTER, MAX_MESSAGE_SIZE,
                                 PROTOCOL_VERSION, ErrorCode, HubError, Role, Topic, pack, preview,
                                 streams_for)

from rpc_client.xt import is_market

from hub.broker.adapter import clock_of
from hub.core.quotes import QUOTE, WHOLE

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.server import Call, HubServer

log = logging.getLogger("hub.methods")

DEFERRED = object()
HANDLERS: dict[str, Callable[["HubServer", "Call", dict[str, Any]], Any]] = {}
MAX_REPLAY = 5000


def handler(name: str):
    def register(fn):
        HANDLERS[name] = fn
        return fn
    return register


def _visible_heads(hub: "HubServer", role: str, name: str) -> dict[str, int]:
    streams = streams_for(role, name)
    heads = hub.journal.heads
    if streams is None:
        return dict(heads)
    return {s: heads.get(s, 0) for s in streams}


# ---- session --------------------------------------------------------------------------

@handler("hello")
def hello(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    if p["protocol"] != PROTOCOL_VERSION:
        raise HubError(ErrorCode.BAD_VERSION, f"this hub speaks protocol {PROTOCOL_VERSION}, the client "
                                              f"{p['protocol']}; upgrade the older side")
    session, replaced = hub.sessions.hello(call.identity, p)
    if getattr(call, "envelope", ()):
        # a REQ socket (or a proxy) in front: it cannot take unsolicited messages, so push it no events
        session.events = False
    for old in replaced:
        if old.name == session.name and old.identity != call.identity:
            hub.quotes.transfer(old.key, session.key)
            hub.drop_session(old, "taken_over", "the same client reconnected")
        else:
            hub.drop_session(old, "disconnected", "a new hello on the same connection")
    call.session = session
    hub.publisher.publish(Topic.CLIENT, {"strategy": session.name, "role": session.role, "event": "connected",
                                         "reason": "", "cancelled": [], "session": session.key,
                                         "client": session.client})
    return {"hub_id": hub.hub_id, "session": session.key, "account_id": hub.account_id, "role": session.role,
            "strategy": session.name, "last_seq": hub.journal.last_seq,
            "heads": _visible_heads(hub, session.role, session.name), "broker": dict(hub.broker_state),
            "heartbeat_interval": hub.config.heartbeat_interval,
            "client_dead_after": hub.config.client_dead_after or CLIENT_DEAD_AFTER,
            "max_message_size": MAX_MESSAGE_SIZE, "server_time": time.time()}


@handler("bye")
def bye(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    hub.drop_session(call.session, "disconnected", "bye")
    return {}


@handler("ping")
def ping(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    """Keeps the session alive. `session` says whether the caller has one (ping answers without), and
    `heads`/`last_seq` are the positions of the caller's streams already sent on its socket before this
    reply: a head beyond what the client delivered is an event lost on the wire (replay it)."""
    session = call.session
    if session is not None and p.get("stats"):
        session.merge_stats(p["stats"])
    heads = hub.publisher.heads_for(streams_for(session.role, session.name)) if session is not None else {}
    return {"server_time": time.time(), "hub_id": hub.hub_id, "session": session is not None,
            "last_seq": hub.publisher.sent_seq if session is not None else hub.journal.last_seq, "heads": heads}


# ---- trading ----------------------------------------------------------------------------

def _broker_up(hub: "HubServer") -> None:
    if hub.broker is None or hub.broker_state["state"] != "up" or not hub.broker.connected:
        state = hub.broker_state
        raise HubError(ErrorCode.BROKER_DOWN, f"the broker connection is {state['state']} ({state['reason']}); "
                                              "nothing was sent", {"broker": dict(state)})


@handler("order_stock")
def order_stock(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    name = call.session.name
    if hub.desk.repeat(call, name, p):  # a known id: its first result, whatever the broker's state
        return DEFERRED
    _broker_up(hub)
    reason = hub.halt_reason(name)
    if reason is not None:
        raise HubError(ErrorCode.HALTED, f"new orders are halted for {name}: {reason}", {"reason": reason})
    hub.desk.place(call, name, p, hub.broker)
    return DEFERRED


def _own_order(hub: "HubServer", call: "Call", order_id: int) -> dict[str, Any] | None:
    owner = hub.book.owner_of(order_id)
    if owner is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"no order {order_id} in today's book", {"order_id": order_id})
    if not call.session.reads_all and owner != call.session.name:
        raise HubError(ErrorCode.NOT_OWNER, f"order {order_id} belongs to another strategy",
                       {"order_id": order_id})
    return hub.book.orders.get(order_id)


@handler("cancel_order_stock")
def cancel_order_stock(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    order_id = p["order_id"]
    _own_order(hub, call, order_id)
    _broker_up(hub)
    hub.desk.cancel(call, order_id, hub.broker.cancel_async(order_id))
    return DEFERRED


@handler("cancel_order_stock_sysid")
def cancel_order_stock_sysid(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    order = hub.book.find_sysid(p["order_sysid"])
    if order is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"no order with order_sysid {p['order_sysid']!r} in today's book")
    if order["owner"] != call.session.name:
        raise HubError(ErrorCode.NOT_OWNER, f"order {p['order_sysid']!r} belongs to another strategy")
    _broker_up(hub)
    hub.desk.cancel(call, order.get("order_id"), hub.broker.cancel_sysid_async(p["market"], p["order_sysid"]))
    return DEFERRED


# ---- queries (from the book) --------------------------------------------------------------

def _owner_filter(call: "Call", strategy: str | None) -> str | None:
    session = call.session
    if session.reads_all:
        return strategy
    if strategy not in (None, session.name):
        raise HubError(ErrorCode.FORBIDDEN, "a strategy may query only its own orders and trades")
    return session.name


@handler("query_stock_asset")
def query_stock_asset(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.book.asset


@handler("query_stock_order")
def query_stock_order(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    order = _own_order(hub, call, p["order_id"])
    if order is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"order {p['order_id']} has no broker report yet",
                       {"order_id": p["order_id"]})
    return order


@handler("query_stock_orders")
def query_stock_orders(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.book.orders_of(_owner_filter(call, p["strategy"]), p["cancelable_only"])


@handler("query_stock_trades")
def query_stock_trades(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.book.trades_of(_owner_filter(call, p["strategy"]))


@handler("query_stock_positions")
def query_stock_positions(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return [hub.book.positions[c] for c in sorted(hub.book.positions)]


@handler("query_stock_position")
def query_stock_position(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.book.positions.get(p["stock_code"])


@handler("query_account_status")
def query_account_status(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return list(hub.book.account_status.values())


@handler("query_account_infos")
def query_account_infos(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return list(hub.book.account_infos)


# ---- quotes --------------------------------------------------------------------------------

@handler("subscribe_quote")
def subscribe_quote(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    codes = [c for c in p["codes"] if not is_market(c)]
    if not codes:
        raise HubError(ErrorCode.INVALID_PARAMS, "subscribe_quote takes codes; use subscribe_whole_quote for markets")
    return {"codes": hub.quotes.subscribe(call.session.key, codes, QUOTE)}


@handler("subscribe_whole_quote")
def subscribe_whole_quote(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return {"codes": hub.quotes.subscribe(call.session.key, p["codes"], WHOLE)}


@handler("unsubscribe_quote")
def unsubscribe_quote(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return {"codes": hub.quotes.unsubscribe(call.session.key, p["codes"])}


@handler("get_full_tick")
def get_full_tick(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.quotes.full_tick(p["codes"])


# ---- event stream --------------------------------------------------------------------------

@handler("replay")
def replay(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    session = call.session
    visible = streams_for(session.role, session.name)
    stream = p["stream"]
    if stream is not None and visible is not None and stream not in visible:
        raise HubError(ErrorCode.FORBIDDEN, f"a strategy may replay only its own stream ({session.name!r}) and "
                                            f"{ACCOUNT_STREAM!r}, not {stream!r}")
    events, head, more = hub.journal.replay(stream, p["after"], min(p["limit"], MAX_REPLAY),
                                            None if stream is not None else visible)
    return {"events": encodable(hub, events), "head": head, "more": more}


def _encodes(events: list[dict[str, Any]]) -> bool:
    """Whether `events` encode at the depth they have in a replay reply (reply -> result -> events)."""
    try:
        pack([[events]])
        return True
    except Exception:  # noqa: BLE001 - ValueError (depth), TypeError (type), OverflowError ...
        return False


def encodable(hub: "HubServer", events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that can still be encoded inside a reply; each one that cannot (journaled by an
    older hub before the bounds existed, or undecodable) is skipped, counted and logged, so no
    stored event can stop the hub or a client. One encode of the lot in the common case."""
    if not any("_undecodable" in ev for ev in events) and _encodes(events):
        return events
    out = []
    for ev in events:
        problem = ev.get("_undecodable")
        if problem is None and not _encodes([ev]):
            problem = "it cannot be encoded (nested too deep or of a type msgpack cannot carry)"
        if problem is None:
            out.append(ev)
            continue
        hub.counters["replay_skipped"] = hub.counters.get("replay_skipped", 0) + 1
        log.error("replay: skipped journaled event seq %s (%s) that cannot be sent: %s",
                  ev.get("seq"), preview(ev.get("topic")), problem)
    return out


# ---- hub state -----------------------------------------------------------------------------

@handler("status")
def status(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return {**hub.status(), "clock": clock_of(hub.broker)}


@handler("clients")
def clients(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    now = time.monotonic()
    out = []
    for s in sorted(hub.sessions.all(), key=lambda s: s.name):
        row = {"strategy": s.name, "role": s.role, "session": s.key, "connected_at": s.connected_at,
               "last_heard_age": round(now - s.last_heard, 3), "cancel_on_disconnect": s.cancel_on_disconnect,
               "halted": hub.halt_reason(s.name) is not None, "subscriptions": hub.quotes.items_of(s.key),
               "missed_ticks": s.stats.get("missed_ticks", 0), "pid": s.client.get("pid"),
               "host": s.client.get("host"), "requests": s.requests, "dropped": s.dropped,
               "events_dropped": s.events_dropped}
        row.update(hub.book.counts(s.name) if s.role == Role.STRATEGY else
                   {"open_orders": 0, "orders_today": 0, "fills_today": 0, "rejects_today": 0})
        out.append(row)
    return out


# ---- operator actions ------------------------------------------------------------------------

def _halted_view(hub: "HubServer") -> dict[str, Any]:
    return {"all": hub.halted["all"], "reason": hub.halted["reason"], "strategies": dict(hub.halted["strategies"])}


@handler("halt")
def halt(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    hub.set_halt(p["strategy"], True, p["reason"])
    cancelled = hub.cancel_open(p["strategy"]) if p["cancel_open"] else []
    return {"halted": _halted_view(hub), "cancelled": cancelled}


@handler("halt_self")
def halt_self(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    # a strategy may stop its own new orders (the runner after N failures in a row); only an operator resumes
    hub.set_halt(call.session.name, True, p["reason"])
    return {"halted": _halted_view(hub)}


@handler("resume")
def resume(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    hub.set_halt(p["strategy"], False, "resumed by operator")
    return {"halted": _halted_view(hub)}


@handler("cancel_all")
def cancel_all(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    _broker_up(hub)
    return {"cancelled": hub.cancel_open(p["strategy"])}
