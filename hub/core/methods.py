"""One function per protocol method. Each gets (ctx, call, validated params).

`ctx` is the `HubContext` (hub.core.context): the hub's state owners (book, desk, journal,
sessions, quotes, halts, broker link, publisher, stats, order path), not the loop, so a
handler can be tested against fakes. A handler returns the result (sent as an `ok` reply),
raises HubError (sent as an `error` reply), or returns DEFERRED when the reply will be sent
later (orders and cancels wait for the broker's async response). Role checks and parameter
validation happen before a handler runs (server._dispatch), from the tables in
rpc_client.protocol.
"""

from __future__ import annotations

import functools

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from rpc_client.protocol import (ACCOUNT_STREAM, CLIENT_DEAD_AFTER, MAX_MESSAGE_SIZE, PROTOCOL_VERSION, ErrorCode,
                                 HubError, Role, Topic, pack, preview, streams_for)

from rpc_client.xt import is_market

from hub.broker.adapter import clock_of
from hub.core.call import DEFERRED, Call
from hub.core.departures import drop_session
from hub.core.halts import cancel_open
from hub.core.journal import ReplayUnavailable
from hub.core.quotes import QUOTE, WHOLE

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.context import HubContext

__all__ = ["DEFERRED", "HANDLERS", "handler"]

log = logging.getLogger("ctx.methods")

HANDLERS: dict[str, Callable[["HubContext", Call, dict[str, Any]], Any]] = {}
MAX_REPLAY = 5000


def handler(name: str):
    def register(fn):
        HANDLERS[name] = fn
        return fn
    return register


def account_query(name: str):
    """A query answered from the book's copy of the account: BROKER_DOWN while the hub has not reached
    the broker since it started (an empty book would say "no cash, no positions"; `require_known`)."""
    def register(fn):
        @functools.wraps(fn)
        def answer(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
            ctx.link.require_known()
            return fn(ctx, call, p)
        HANDLERS[name] = answer
        return answer
    return register


def _visible_heads(ctx: "HubContext", role: str, name: str) -> dict[str, int]:
    streams = streams_for(role, name)
    heads = ctx.journal.heads
    if streams is None:
        return dict(heads)
    return {s: heads.get(s, 0) for s in streams}


# ---- session --------------------------------------------------------------------------

@handler("hello")
def hello(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    if p["protocol"] != PROTOCOL_VERSION:
        raise HubError(ErrorCode.BAD_VERSION, f"this hub speaks protocol {PROTOCOL_VERSION}, the client "
                                              f"{p['protocol']}; upgrade the older side")
    session, replaced = ctx.sessions.hello(call.identity, p)
    if getattr(call, "envelope", ()):
        # a REQ socket (or a proxy) in front: it cannot take unsolicited messages, so push it no events
        session.events = False
    for old in replaced:
        if old.name == session.name and old.identity != call.identity:
            ctx.quotes.transfer(old.key, session.key)
            drop_session(ctx, old, "taken_over", "the same client reconnected")
        else:
            drop_session(ctx, old, "disconnected", "a new hello on the same connection")
    call.session = session
    ctx.publisher.publish(Topic.CLIENT, {"strategy": session.name, "role": session.role, "event": "connected",
                                         "reason": "", "cancelled": [], "session": session.key,
                                         "client": session.client})
    return {"hub_id": ctx.hub_id, "session": session.key, "account_id": ctx.link.account_id, "role": session.role,
            "strategy": session.name, "last_seq": ctx.journal.last_seq,
            "heads": _visible_heads(ctx, session.role, session.name), "broker": dict(ctx.link.state),
            "heartbeat_interval": ctx.config.heartbeat_interval,
            "client_dead_after": ctx.config.client_dead_after or CLIENT_DEAD_AFTER,
            "max_message_size": MAX_MESSAGE_SIZE, "server_time": time.time()}


@handler("bye")
def bye(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    drop_session(ctx, call.session, "disconnected", "bye")
    return {}


@handler("ping")
def ping(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    """Keeps the session alive. `session` says whether the caller has one (ping answers without), and
    `heads`/`last_seq` are the positions of the caller's streams already sent on its socket before this
    reply: a head beyond what the client delivered is an event lost on the wire (replay it)."""
    session = call.session
    if session is not None and p.get("stats"):
        session.merge_stats(p["stats"])
    heads = ctx.publisher.heads_for(streams_for(session.role, session.name)) if session is not None else {}
    return {"server_time": time.time(), "hub_id": ctx.hub_id, "session": session is not None,
            "last_seq": ctx.publisher.sent_seq if session is not None else ctx.journal.last_seq, "heads": heads}


# ---- trading ----------------------------------------------------------------------------

@handler("order_stock")
def order_stock(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    # the stages (repeat -> broker -> halt -> [risk] -> reserve -> send) live in hub.core.order_path
    ctx.orders.submit(call, call.session.name, p)
    return DEFERRED


def _own_order(ctx: "HubContext", call: Call, order_id: int) -> dict[str, Any] | None:
    owner = ctx.book.owner_of(order_id)
    if owner is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"no order {order_id} in today's book", {"order_id": order_id})
    if not call.session.reads_all and owner != call.session.name:
        raise HubError(ErrorCode.NOT_OWNER, f"order {order_id} belongs to another strategy",
                       {"order_id": order_id})
    return ctx.book.orders.get(order_id)


@handler("cancel_order_stock")
def cancel_order_stock(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    order_id = p["order_id"]
    _own_order(ctx, call, order_id)
    ctx.link.require_up()
    ctx.desk.cancel(call, order_id, ctx.link.broker.cancel_async(order_id))
    return DEFERRED


@handler("cancel_order_stock_sysid")
def cancel_order_stock_sysid(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    order = ctx.book.find_sysid(p["order_sysid"])
    if order is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"no order with order_sysid {p['order_sysid']!r} in today's book")
    if order["owner"] != call.session.name:
        raise HubError(ErrorCode.NOT_OWNER, f"order {p['order_sysid']!r} belongs to another strategy")
    ctx.link.require_up()
    ctx.desk.cancel(call, order.get("order_id"), ctx.link.broker.cancel_sysid_async(p["market"], p["order_sysid"]))
    return DEFERRED


# ---- queries (from the book) --------------------------------------------------------------

def _owner_filter(call: Call, strategy: str | None) -> str | None:
    session = call.session
    if session.reads_all:
        return strategy
    if strategy not in (None, session.name):
        raise HubError(ErrorCode.FORBIDDEN, "a strategy may query only its own orders and trades")
    return session.name


@account_query("query_stock_asset")
def query_stock_asset(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    if ctx.risk is not None:  # a strategy sees its sleeve (hub.risk); monitors and admins the account
        return ctx.risk.asset_for(call.session.role, call.session.name, ctx.book.asset)
    return ctx.book.asset


@account_query("query_stock_order")
def query_stock_order(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    order = _own_order(ctx, call, p["order_id"])
    if order is None:
        raise HubError(ErrorCode.UNKNOWN_ORDER, f"order {p['order_id']} has no broker report yet",
                       {"order_id": p["order_id"]})
    return order


@account_query("query_stock_orders")
def query_stock_orders(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return ctx.book.orders_of(_owner_filter(call, p["strategy"]), p["cancelable_only"])


@account_query("query_stock_trades")
def query_stock_trades(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return ctx.book.trades_of(_owner_filter(call, p["strategy"]))


@account_query("query_stock_positions")
def query_stock_positions(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    account = [ctx.book.positions[c] for c in sorted(ctx.book.positions)]
    if ctx.risk is not None:
        return ctx.risk.positions_for(call.session.role, call.session.name, account)
    return account


@account_query("query_stock_position")
def query_stock_position(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    account = ctx.book.positions.get(p["stock_code"])
    if ctx.risk is not None:
        return ctx.risk.position_for(call.session.role, call.session.name, p["stock_code"], account)
    return account


@account_query("query_account_status")
def query_account_status(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return list(ctx.book.account_status.values())


@account_query("query_account_infos")
def query_account_infos(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return list(ctx.book.account_infos)


# ---- quotes --------------------------------------------------------------------------------

@handler("subscribe_quote")
def subscribe_quote(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    codes = [c for c in p["codes"] if not is_market(c)]
    if not codes:
        raise HubError(ErrorCode.INVALID_PARAMS, "subscribe_quote takes codes; use subscribe_whole_quote for markets")
    return {"codes": ctx.quotes.subscribe(call.session.key, codes, QUOTE)}


@handler("subscribe_whole_quote")
def subscribe_whole_quote(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return {"codes": ctx.quotes.subscribe(call.session.key, p["codes"], WHOLE)}


@handler("unsubscribe_quote")
def unsubscribe_quote(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return {"codes": ctx.quotes.unsubscribe(call.session.key, p["codes"])}


@handler("get_full_tick")
def get_full_tick(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return ctx.quotes.full_tick(p["codes"])


# ---- event stream --------------------------------------------------------------------------

@handler("replay")
def replay(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    session = call.session
    visible = streams_for(session.role, session.name)
    stream = p["stream"]
    if stream is not None and visible is not None and stream not in visible:
        raise HubError(ErrorCode.FORBIDDEN, f"a strategy may replay only its own stream ({session.name!r}) and "
                                            f"{ACCOUNT_STREAM!r}, not {stream!r}")
    try:
        events, head, more = ctx.journal.replay(stream, p["after"], min(p["limit"], MAX_REPLAY),
                                                None if stream is not None else visible)
    except ReplayUnavailable as exc:  # the journal's own error, as the wire's
        raise HubError(ErrorCode.REPLAY_UNAVAILABLE, exc.message, exc.data) from None
    return {"events": encodable(ctx, events), "head": head, "more": more}


def _encodes(events: list[dict[str, Any]]) -> bool:
    """Whether `events` encode at the depth they have in a replay reply (reply -> result -> events)."""
    try:
        pack([[events]])
        return True
    except Exception:  # noqa: BLE001 - ValueError (depth), TypeError (type), OverflowError ...
        return False


def encodable(ctx: "HubContext", events: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        counters = ctx.stats.counters
        counters["replay_skipped"] = counters.get("replay_skipped", 0) + 1
        log.error("replay: skipped journaled event seq %s (%s) that cannot be sent: %s",
                  ev.get("seq"), preview(ev.get("topic")), problem)
    return out


# ---- hub state -----------------------------------------------------------------------------

@handler("status")
def status(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    return {**ctx.stats.status(), "clock": clock_of(ctx.link.broker)}


@handler("clients")
def clients(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    now = time.monotonic()
    out = []
    for s in sorted(ctx.sessions.all(), key=lambda s: s.name):
        row = {"strategy": s.name, "role": s.role, "session": s.key, "connected_at": s.connected_at,
               "last_heard_age": round(now - s.last_heard, 3), "cancel_on_disconnect": s.cancel_on_disconnect,
               "halted": ctx.halts.reason(s.name) is not None, "subscriptions": ctx.quotes.items_of(s.key),
               "missed_ticks": s.stats.get("missed_ticks", 0), "pid": s.client.get("pid"),
               "host": s.client.get("host"), "requests": s.requests, "dropped": s.dropped,
               "events_dropped": s.events_dropped}
        row.update(ctx.book.counts(s.name) if s.role == Role.STRATEGY else
                   {"open_orders": 0, "orders_today": 0, "fills_today": 0, "rejects_today": 0})
        out.append(row)
    return out


# ---- operator actions ------------------------------------------------------------------------

@handler("halt")
def halt(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    ctx.halts.set(p["strategy"], True, p["reason"])
    cancelled = cancel_open(ctx, p["strategy"]) if p["cancel_open"] else []
    return {"halted": ctx.halts.view(), "cancelled": cancelled}


@handler("halt_self")
def halt_self(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    # a strategy may stop its own new orders (the runner after N failures in a row); only an operator resumes
    ctx.halts.set(call.session.name, True, p["reason"])
    return {"halted": ctx.halts.view()}


@handler("resume")
def resume(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    ctx.halts.set(p["strategy"], False, "resumed by operator")
    return {"halted": ctx.halts.view()}


@handler("cancel_all")
def cancel_all(ctx: "HubContext", call: Call, p: dict[str, Any]) -> Any:
    ctx.link.require_up()
    return {"cancelled": cancel_open(ctx, p["strategy"])}
