"""Order placement and cancels: idempotency, owner tags, pending async broker responses.

Placement of one `order_stock`:
1. the request is keyed by (trading day, strategy, client_order_id); a repeat of a key
   with the same parameters returns the first result with `duplicate: true` (or waits for
   it if still pending) and never reaches the broker again; a repeat with other parameters
   is refused (INVALID_PARAMS naming the fields): the id's fingerprint is the journaled
   request (`FINGERPRINT` fields), so this holds across hub restarts;
2. a broker the hub knows is disconnected gets nothing: BROKER_DOWN, nothing journaled;
3. a fresh owner tag is reserved and the request journaled, and tag -> owner registered
   in the book, all BEFORE the broker is called, so any push is attributed;
4. `order_stock_async` is called; its seq maps to the placement until
   `on_order_stock_async_response` gives the order id (reply), -1 (BROKER_ERROR), or
   `order_timeout` passes or the connection drops (UNKNOWN_OUTCOME; a late response, or the
   order found at the broker by its tag, is still recorded). Once the broker was called the
   outcome is never BROKER_DOWN: the request stays journaled and its id is never sent again.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from rpc_client.protocol import EXTERNAL_OWNER, ErrorCode, HubError

from hub.core.book import Book
from hub.core.journal import Journal, trading_day

log = logging.getLogger("hub.orders")

PENDING, DONE, FAILED, UNKNOWN = "sent", "done", "failed", "unknown"

#: the order parameters a client_order_id stands for (its fingerprint): a repeat must match them.
#: Not `order_remark`: a label the hub keeps for the caller, it changes nothing the broker does
#: (a repeat that leaves it out still names the same order).
FINGERPRINT = ("stock_code", "order_type", "order_volume", "price_type", "price")


def _caller_name(params: Any) -> str | None:
    """The caller's own `strategy_name` journaled with an order (None when it gave none)."""
    name = params.get("strategy_name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


def fingerprint(params: dict[str, Any]) -> dict[str, Any]:
    """The `FINGERPRINT` fields of an order request."""
    return {k: params.get(k) for k in FINGERPRINT}


@dataclass
class Placement:
    key: tuple[str, str, str]
    tag: str
    params: dict[str, Any]
    state: str = PENDING
    order_id: int | None = None
    error: dict[str, Any] | None = None  # {code, message, data} when failed/unknown
    waiters: list[tuple[Any, bool]] = field(default_factory=list)  # (call, duplicate)
    seq: int | None = None
    deadline: float = 0.0
    cancel_on_arrival: bool = False  # a kill switch ran while the broker had not yet given an id

    def differing(self, params: dict[str, Any]) -> list[str]:
        """The fingerprint fields in which `params` differ from this placement's request."""
        first = fingerprint(self.params)
        now = fingerprint(params)
        return [k for k in FINGERPRINT if first[k] != now[k]]

    @property
    def strategy(self) -> str:
        return self.key[1]

    @property
    def client_order_id(self) -> str:
        return self.key[2]

    def result(self, duplicate: bool) -> dict[str, Any]:
        return {"order_id": self.order_id, "client_order_id": self.client_order_id, "duplicate": duplicate}


@dataclass
class CancelRequest:
    call: Any  # None for hub-initiated cancels (cancel_all, cancel-on-disconnect)
    order_id: int | None
    deadline: float


Reply = Callable[[Any, Any], None]
ReplyError = Callable[[Any, HubError], None]


class OrderDesk:
    def __init__(self, journal: Journal, book: Book, order_timeout: float, reply: Reply, reply_error: ReplyError,
                 cancel_on_arrival: Callable[[int], None] | None = None):
        self.journal = journal
        self._cancel_on_arrival = cancel_on_arrival
        self.book = book
        self.order_timeout = order_timeout
        self._reply = reply
        self._reply_error = reply_error
        self.by_key: dict[tuple[str, str, str], Placement] = {}
        self.by_seq: dict[int, Placement] = {}
        self.by_tag: dict[str, Placement] = {}
        self.cancels: dict[int, CancelRequest] = {}
        # earliest deadline that may still be pending (None: nothing to expire); the loop runs
        # expire() when it passes instead of on a fixed tick
        self.next_due: float | None = None
        self.counters = {"orders": 0, "duplicates": 0, "cancels": 0, "unknown_outcomes": 0, "late_responses": 0,
                         "resolved_by_broker": 0}
        #: the risk stage (hub.risk.stage.RiskStage) or None: reserves with the order request,
        #: releases a refused placement, counts cancels
        self.risk: Any = None

    # ---- recovery ------------------------------------------------------------------
    def recover(self, day: str) -> None:
        """Rebuild today's idempotency table and ownership from the journal."""
        for rec in self.journal.orders(day):
            self.book.register_tag(rec.tag, rec.strategy, rec.client_order_id, rec.order_remark,
                                   _caller_name(rec.params))
            p = Placement((rec.day, rec.strategy, rec.client_order_id), rec.tag, rec.params, rec.state,
                          rec.order_id)
            if rec.order_id:
                self.book.bind_order(rec.order_id, rec.tag)
            if rec.state == PENDING:
                # sent before the hub stopped and no answer recorded: we cannot tell
                p.state = UNKNOWN
            if p.state in (FAILED, UNKNOWN):
                p.error = rec.result if isinstance(rec.result, dict) and "code" in rec.result else {
                    "code": ErrorCode.UNKNOWN_OUTCOME,
                    "message": "the hub stopped before the broker answered this order; query your orders",
                    "data": None}
            if rec.state == PENDING:
                # recorded as such; the reconcile that follows turns it into `done` if the broker has it
                self.journal.finish_order(rec.tag, UNKNOWN, None, p.error)
            self.by_key[p.key] = p
            self.by_tag[p.tag] = p
        # older days' tags still attribute pushes of orders that live on (e.g. queried history)
        for rec in self.journal.orders():
            if rec.tag not in self.book.by_tag:
                self.book.register_tag(rec.tag, rec.strategy, rec.client_order_id, rec.order_remark,
                                   _caller_name(rec.params))

    # ---- placement -----------------------------------------------------------------
    def repeat(self, call: Any, strategy: str, params: dict[str, Any]) -> bool:
        """Answer a repeat of a known client_order_id (True), or False for an id not seen today.

        A repeat never reaches the broker: it gets the first result (`duplicate: true`), or
        waits for it while pending, whatever the broker's state. A repeat whose parameters
        differ from the first request's raises INVALID_PARAMS naming the id and the fields.
        """
        coid = params.get("client_order_id")
        if not coid:
            return False
        existing = self.by_key.get((trading_day(), strategy, coid))
        if existing is None:
            return False
        differ = existing.differing(params)
        if differ:
            first = fingerprint(existing.params)
            now = fingerprint(params)
            what = ", ".join(f"{k} {first[k]!r:.40} (now {now[k]!r:.40})" for k in differ)
            raise HubError(ErrorCode.INVALID_PARAMS,
                           f"client_order_id {coid!r:.80} was already used today for a different order: {what}; "
                           f"use a new client_order_id for a new order",
                           {"client_order_id": coid, "params": differ, "first": {k: first[k] for k in differ},
                            "order_id": existing.order_id})
        self.counters["duplicates"] += 1
        if existing.state == PENDING:
            existing.waiters.append((call, True))
        else:
            self._answer(call, existing, duplicate=True)
        return True

    def place(self, call: Any, strategy: str, params: dict[str, Any], broker: Any) -> bool:
        """Start placing an order; returns True when the reply will come later.

        Raises HubError: INVALID_PARAMS for a known id with other parameters, BROKER_DOWN when
        the trader already knows its connection is gone (then nothing is journaled or sent).
        """
        if self.repeat(call, strategy, params):
            return True
        coid = params.get("client_order_id") or f"auto-{uuid.uuid4().hex[:20]}"
        key = (trading_day(), strategy, coid)
        says = getattr(broker, "trader_says_connected", None)
        if callable(says) and not says():
            # the connection dropped and the disconnect is still on its way to the loop: send nothing
            raise HubError(ErrorCode.BROKER_DOWN, "the broker connection is down (the trader reports it "
                                                  "disconnected); nothing was sent", {"client_order_id": coid})
        user_remark = params.get("order_remark") or ""
        wire = {k: params[k] for k in ("stock_code", "order_type", "order_volume", "price_type", "price")}
        if params.get("strategy_name") is not None:
            wire["strategy_name"] = params["strategy_name"]  # the caller's, journaled with the order
        risk = self.risk
        reserved: list[str] = []

        def reserve(t: str) -> Any:  # the risk stage's reservation, journaled in the request's own row
            reserved.append(t)
            return risk.reserved(t, strategy, wire)
        try:
            tag = self.journal.reserve_order(key[0], strategy, coid, wire, user_remark, time.time(),
                                             None if risk is None else reserve)
        except Exception:
            if reserved:  # the request is not durable: neither is its reservation
                risk.unjournaled(reserved[0])
            raise
        self.book.register_tag(tag, strategy, coid, user_remark, _caller_name(wire))
        p = Placement(key, tag, wire, waiters=[(call, False)])
        self.by_key[key] = p
        self.by_tag[tag] = p
        self.counters["orders"] += 1
        try:
            seq = broker.order_async(wire["stock_code"], wire["order_type"], wire["order_volume"],
                                     wire["price_type"], wire["price"], strategy, tag)
        except Exception as exc:  # noqa: BLE001 - the broker's own failure, maybe after sending
            log.exception("order_stock_async raised")
            self._unknown(p, f"the broker call failed ({type(exc).__name__}: {exc!s:.200})")
            return True
        if not isinstance(seq, int) or seq < 0:
            if callable(says) and not says():
                # the connection dropped during the call: the request may have left (a broker that
                # commits and dies before answering); never BROKER_DOWN, and the id is never resent
                self._unknown(p, "the broker connection dropped during the call")
                return True
            self._fail(p, HubError(ErrorCode.BROKER_ERROR, f"the broker refused the order (order_stock_async "
                                                           f"returned {seq})"))
            return True
        p.seq = seq
        p.deadline = time.monotonic() + self.order_timeout
        self.by_seq[seq] = p
        self._due(p.deadline)
        return True

    def _due(self, deadline: float) -> None:
        if self.next_due is None or deadline < self.next_due:
            self.next_due = deadline

    def on_response(self, resp: dict[str, Any]) -> None:
        """on_order_stock_async_response, in the loop thread."""
        seq = resp.get("seq")
        p = self.by_seq.get(seq)
        tag = resp.get("order_remark")
        if isinstance(tag, str) and tag and (p is None or p.tag != tag) and tag in self.by_tag:
            # seqs count per trader: a late response from a replaced trader may carry the seq of a
            # newer placement; the owner tag it echoes says whose it is
            p = self.by_tag[tag]
            if p.seq is not None and self.by_seq.get(p.seq) is p:
                del self.by_seq[p.seq]
        elif p is not None:
            del self.by_seq[seq]
        else:
            log.warning("order response for unknown seq %s: %s", seq, resp)
            return
        order_id = resp.get("order_id")
        late = p.state == UNKNOWN
        if late:
            self.counters["late_responses"] += 1
        if p.state == DONE:
            return  # already known from the broker's own push of the order
        if isinstance(order_id, int) and order_id > 0:
            self._done(p, order_id)
        else:
            msg = resp.get("error_msg") or "no order id"
            self._fail(p, HubError(ErrorCode.BROKER_ERROR, f"the broker refused the order: {msg}",
                                   {"order_id": order_id}))

    def seen_at_broker(self, tag: Any, order_id: Any) -> None:
        """A broker push or query shows an order stamped with `tag`: the broker has it.

        A placement still waiting (its async response not in yet) or of unknown outcome (the
        response was lost: timeout, broker disconnect, hub restart while in flight) is now
        known: it becomes `done` with that order id, so a repeat of its client_order_id
        returns this order and never a second one.
        """
        if not isinstance(tag, str) or not isinstance(order_id, int) or order_id <= 0:
            return
        p = self.by_tag.get(tag)
        if p is None or p.state not in (PENDING, UNKNOWN):
            return
        if p.state == UNKNOWN:
            self.counters["resolved_by_broker"] += 1
            log.info("order %s (%s) of unknown outcome found at the broker as order %s", p.client_order_id, tag,
                     order_id)
        self._done(p, order_id)

    def _done(self, p: Placement, order_id: int) -> None:
        """The broker has the order under `order_id`: record it, answer waiters, honour a pending kill switch."""
        p.state, p.order_id, p.error = DONE, order_id, None
        self.book.bind_order(order_id, p.tag)
        self.journal.finish_order(p.tag, DONE, order_id, p.result(False))
        self._flush(p)
        if p.cancel_on_arrival and self._cancel_on_arrival is not None:
            p.cancel_on_arrival = False
            log.info("order %s of %s got its id after a cancel-open; cancelling it now", order_id, p.strategy)
            self._cancel_on_arrival(order_id)

    def in_flight(self, strategy: str | None) -> tuple[list[int], int]:
        """Orders a kill switch must not miss though the book has no push of them yet.

        Returns (ids of orders the broker numbered whose first push has not arrived, count of
        placements still waiting for an id — each flagged to be cancelled as soon as it gets one).
        """
        numbered, waiting = [], 0
        for p in self.by_tag.values():
            if strategy is not None and p.strategy != strategy:
                continue
            if p.state == DONE and p.order_id and p.order_id not in self.book.orders:
                numbered.append(p.order_id)
            elif p.state in (PENDING, UNKNOWN) and p.key[0] == trading_day():
                p.cancel_on_arrival = True
                waiting += 1
        return numbered, waiting

    def _fail(self, p: Placement, err: HubError, state: str = FAILED) -> None:
        if state == FAILED and self.risk is not None:  # refused: nothing at the broker holds the reservation
            self.risk.released(p.tag)
        p.state = state
        p.error = err.to_wire()
        self.journal.finish_order(p.tag, state, p.order_id, p.error)
        self._flush(p)

    def _flush(self, p: Placement) -> None:
        waiters, p.waiters = p.waiters, []
        for call, duplicate in waiters:
            self._answer(call, p, duplicate)

    def _answer(self, call: Any, p: Placement, duplicate: bool) -> None:
        if p.state == DONE:
            self._reply(call, p.result(duplicate))
        else:
            err = p.error or {"code": ErrorCode.UNKNOWN_OUTCOME, "message": "outcome unknown", "data": None}
            data = dict(err.get("data") or {})
            data.update({"client_order_id": p.client_order_id, "duplicate": duplicate})
            self._reply_error(call, HubError(err["code"], err["message"], data))

    # ---- cancels -------------------------------------------------------------------
    def cancel(self, call: Any, order_id: int | None, seq: Any) -> None:
        if not isinstance(seq, int) or seq < 0:
            if call is not None:
                self._reply_error(call, HubError(ErrorCode.BROKER_ERROR,
                                                 f"the broker refused the cancel (returned {seq})",
                                                 {"order_id": order_id}))
            return
        self.counters["cancels"] += 1
        if self.risk is not None:  # counted (rate windows, daily cancels), never refused
            self.risk.cancelled(self.book.owner_of(order_id) or EXTERNAL_OWNER if order_id else EXTERNAL_OWNER)
        req = self.cancels[seq] = CancelRequest(call, order_id, time.monotonic() + self.order_timeout)
        self._due(req.deadline)

    def on_cancel_response(self, resp: dict[str, Any]) -> None:
        seq, order_id = resp.get("seq"), resp.get("order_id")
        req = self.cancels.get(seq)
        if req is None:
            return
        if isinstance(order_id, int) and order_id > 0 and isinstance(req.order_id, int) and order_id != req.order_id:
            # a late response from a replaced trader whose seq a newer cancel reuses: not this one's
            log.warning("cancel response for order %s does not match the cancel of %s under seq %s", order_id,
                        req.order_id, seq)
            return
        del self.cancels[seq]
        if req.call is None:
            return
        self._reply(req.call, {"cancel_result": resp.get("cancel_result"), "order_id": resp.get("order_id"),
                               "error_msg": resp.get("error_msg", "")})

    # ---- time and broker loss ------------------------------------------------------
    def expire(self) -> None:
        """Answer UNKNOWN_OUTCOME for what passed its deadline; set `next_due` to the next deadline."""
        now = time.monotonic()
        due = None
        for p in list(self.by_seq.values()):
            if p.state == PENDING:
                if now >= p.deadline:
                    self._unknown(p, f"the broker did not answer within {self.order_timeout:g}s")
                elif due is None or p.deadline < due:
                    due = p.deadline
        for seq, req in list(self.cancels.items()):
            if now >= req.deadline:
                del self.cancels[seq]
                if req.call is not None:
                    self._reply_error(req.call, HubError(
                        ErrorCode.UNKNOWN_OUTCOME,
                        f"the broker did not answer the cancel within {self.order_timeout:g}s; query the order",
                        {"order_id": req.order_id}))
            elif due is None or req.deadline < due:
                due = req.deadline
        self.next_due = due

    def broker_lost(self, reason: str) -> None:
        for p in list(self.by_seq.values()):
            if p.state == PENDING:
                self._unknown(p, f"the broker connection dropped before it answered ({reason})")
        for seq, req in list(self.cancels.items()):
            del self.cancels[seq]
            if req.call is not None:
                self._reply_error(req.call, HubError(ErrorCode.UNKNOWN_OUTCOME,
                                                     f"the broker connection dropped ({reason}); query the order",
                                                     {"order_id": req.order_id}))

    def _unknown(self, p: Placement, why: str) -> None:
        # keep p in by_seq: a late response is still recorded
        self.counters["unknown_outcomes"] += 1
        self._fail(p, HubError(ErrorCode.UNKNOWN_OUTCOME,
                               f"{why}; the order may or may not have reached the broker: query your orders "
                               f"before placing it again with a new client_order_id",
                               {"tag": p.tag}), state=UNKNOWN)

    def pending_count(self) -> int:
        return sum(1 for p in self.by_seq.values() if p.state == PENDING)

    def status_counters(self) -> dict[str, int]:
        c = self.counters
        return {"orders": c["orders"], "cancels": c["cancels"], "duplicates": c["duplicates"],
                "unknown_outcomes": c["unknown_outcomes"], "resolved_by_broker": c["resolved_by_broker"],
                "pending_orders": self.pending_count()}

    # ---- day roll ------------------------------------------------------------------
    def new_day(self, day: str) -> None:
        """A new trading day: idempotency keys are per day, so older days' settled placements go.

        A placement still waiting for its broker response keeps its key until it is answered.
        """
        for key in [k for k, p in self.by_key.items() if k[0] != day and p.seq not in self.by_seq]:
            p = self.by_key.pop(key)
            self.by_tag.pop(p.tag, None)
