"""Plug the risk engine into a starting hub: one call from `HubServer._setup`, before the first reconcile.

Why one function: every hook the risk stage needs (the desk's reservation and release, the
broker events' fills and order states, the link's reconciles, the day roll, timers, the status
map, the order path's stage) is set here, in one place, so the hub core only holds `None`-able
attributes and one call each.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import hub.risk.handlers  # noqa: F401 - registers check_order, sleeves, allot, transfer, set_limits, reconcile
from hub.risk.config import parse
from hub.risk.engine import RiskEngine
from hub.risk.stage import Port, RiskStage, reference_from
from hub.risk.store import RiskStore

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.server import HubServer

log = logging.getLogger("hub.risk")


def install(server: "HubServer", events: Any, link: Any) -> RiskStage | None:
    """Build the stage, restore the ledger from the journal, hook it into the desk, events and link.

    Called after the book, desk and journal exist and before `link.reconcile()` at start.
    `attach(server)` finishes the job once the context exists.
    """
    cfg = server.config
    config = parse(cfg.risk, cfg.strategies)
    if not config.settings.enabled:
        log.warning("risk: [risk] enabled = false: no sleeves, no pre-trade checks, no rate guard")
        return None
    engine = RiskEngine(config,
                        reference=reference_from(server.quotes.latest, server.book.positions))
    stage = RiskStage(engine, RiskStore(server.journal))
    stage.restore()
    stage.roll(server.day)  # T+1: what was bought before today is sellable now
    server.desk.risk = stage
    events.risk = stage
    link.after_reconcile = lambda: _after_reconcile(stage, server, link)
    return stage


def attach(server: "HubServer", stage: RiskStage | None) -> None:
    """The context exists: give the stage its port, apply config allotments, start its timer."""
    if stage is None:
        return
    ctx = server.ctx
    from hub.core.halts import cancel_one

    def resubmit(call: Any, strategy: str, params: dict[str, Any]) -> None:
        ctx.orders.submit(call, strategy, params)

    stage.port = Port(publish=server.publisher.publish, cancel=lambda order_id: cancel_one(ctx, order_id),
                      resubmit=resubmit, reply_error=server.reply_error, commit=_committer(server),
                      account_id=lambda: ctx.link.account_id, order_timeout=server.config.order_timeout,
                      snapshot=ctx.link.reconcile_if_up, reply=server.reply, is_up=lambda: ctx.link.is_up)
    desk = server.desk

    def order_id_of(tag: str) -> int | None:
        p = desk.by_tag.get(tag)
        return p.order_id if p is not None and p.order_id else None

    stage.engine.order_id_of = order_id_of
    quotes = server.quotes

    def fetch_reference(code: str) -> "tuple[float, float] | None":
        tick = (quotes.full_tick([code]) or {}).get(code)
        if not isinstance(tick, dict):
            return None
        return float(tick.get("lastPrice") or 0.0), float(tick.get("lastClose") or 0.0)

    stage.engine.fetch_reference = fetch_reference
    stage.engine.on_warning = lambda w: server.publisher.publish("hub.risk", {"event": "warning", "message": w,
                                                                             "strategy": None})
    # the book's orders as restored and reconciled: binds order ids to restored reservations, settles
    # those whose order ended while the hub was down, and knows the open external orders (self-trade)
    for data in list(server.book.orders.values()):
        stage.engine.on_order(data)
    if stage.engine.pending_diff:  # a difference at start: confirm it with a second snapshot now
        stage.confirming = True
        try:
            ctx.link.reconcile()
            stage.reconcile(server.book.asset, list(server.book.positions.values()))
        finally:
            stage.confirming = False
    problems = stage.engine.apply_config()
    for p in problems:
        log.error("risk: %s", p)
    ctx.risk = stage
    server.stats.status_sources["risk"] = stage.engine.status  # the `risk` map of `status`
    server._every(0.5, stage.timer)


def _after_reconcile(stage: RiskStage, server: "HubServer", link: Any) -> None:
    """Every broker snapshot applied (start, reconnect, interval): compare the ledger with it.

    A difference seen once is confirmed by the next snapshot: asked for at once, on the
    broker-connect thread (never blocking the loop), or, when this snapshot is a reconnect's (the
    link is up only once it is applied), by the stage's timer once the broker is up; at start
    (before the loop) `attach` takes it.
    """
    if getattr(stage, "confirming", False):
        return
    report = stage.reconcile(server.book.asset, list(server.book.positions.values()))
    if report["pending"]:  # a reconnect's snapshot is applied before the link is up: then the timer asks
        stage.ask_confirmation()
    else:
        stage.confirm_when_up = False
    stage.after_snapshot(report)  # `hub reconcile` calls waiting for this snapshot


def _committer(server: "HubServer") -> Any:
    journal = server.journal

    def commit() -> None:
        if journal.in_tx:
            journal.commit()
    return commit
