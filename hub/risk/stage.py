"""The risk engine as a stage of the hub's order path, and its hooks into the rest of the hub.

Why an adapter: `hub.risk.engine` is pure (no sockets, no journal, no book); this module is the
one place that knows the hub's shapes. The order path calls `check` (a refusal becomes the
`HubError` the order is answered with); the desk calls `reserved` once the order's owner tag is
journaled and before the broker call (the ledger's record is committed with it), `released`
when the placement failed, `cancelled` for every cancel sent; the broker-event path calls
`on_order` / `on_trade` with the book's public maps; the hub calls `reconcile`, `roll`, `tick`.

Loop thread only. `Port` is what the stage needs from the hub (a few callables), so it can be
driven in tests without a hub.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from rpc_client.protocol import ErrorCode, HubError, Role

from hub.risk.checks import Order, Refusal
from hub.risk.engine import RiskEngine
from hub.risk.ledger import POOL, LedgerError
from hub.risk.store import RiskStore

log = logging.getLogger("hub.risk")

TOPIC = "hub.risk"  # refusals, allotments, limits, reconciliation: journaled, seen by monitors
HELD = object()  # check(): the stage holds the order (cancel_resting) and resubmits it itself


@dataclass
class Port:
    """The hub, as the stage sees it."""

    publish: Callable[[str, dict[str, Any]], None]  # journal + publish an event
    cancel: Callable[[int], bool]  # a hub-initiated cancel of one order id; True if the broker took it
    resubmit: Callable[[Any, str, dict[str, Any]], None]  # run a held order through the path again
    reply_error: Callable[[Any, HubError], None]
    commit: Callable[[], None]  # commit the open journal transaction now
    account_id: Callable[[], str]
    order_timeout: float = 10.0
    #: ask the broker-connect thread for a snapshot (applied later from the mailbox, then `reconcile`
    #: runs); False if none was asked for (the broker is down, or a snapshot is running already)
    snapshot: Callable[[], bool] | None = None
    reply: Callable[[Any, Any], None] | None = None  # answer a deferred call
    is_up: Callable[[], bool] = lambda: True
    reconcile_timeout: float = 30.0  # `hub reconcile`: seconds for its snapshot (and a confirming one) to come back


@dataclass
class Held:
    call: Any
    strategy: str
    params: dict[str, Any]
    waiting: set[int]
    deadline: float
    resting: list[dict[str, Any]] = field(default_factory=list)


class RiskStage:
    name = "risk"

    def __init__(self, engine: RiskEngine, store: RiskStore | None, port: Port | None = None) -> None:
        self.engine = engine
        self.store = store
        self.port = port
        self._passed: Order | None = None
        self._resubmitting: Any = None
        self.held: list[Held] = []
        self.confirming = False  # a second broker snapshot is being taken to confirm a difference
        #: a difference seen by a snapshot taken while the broker was not up yet (a reconnect's: the link
        #: is up only once it is applied): its confirming snapshot is asked for once the broker is up
        self.confirm_when_up = False
        #: `hub reconcile` calls waiting for the snapshot asked for them: (call, deadline)
        self.reconciles: list[tuple[Any, float]] = []
        #: None, "asked" (their snapshot is on its way) or "queued" (one that started before them runs:
        #: theirs is asked for when it is back)
        self.reconcile_phase: str | None = None
        if store is not None:
            engine.sink = store.write  # every ledger record joins the loop's open journal transaction

    # ---- persistence --------------------------------------------------------------
    def restore(self) -> int:
        if self.store is None:
            return 0
        snap, records = self.store.load()
        n = self.engine.restore(snap, records)
        log.info("risk: ledger restored (%s snapshot, %d records after it): %d sleeves, %d open reservations",
                 "a" if snap else "no", n, len(self.engine.ledger.sleeves) - 1, len(self.engine.ledger.reservations))
        return n

    def timer(self) -> None:
        """Every 0.5 s: held orders past their deadline, `hub reconcile` calls whose snapshot did not come
        back, and a ledger snapshot when one is due."""
        if self.held:
            self.tick()
        if self.reconciles:
            self._expire_reconciles()
        if self.confirm_when_up:
            self.ask_confirmation()
        self.maybe_snapshot()

    def ask_confirmation(self) -> None:
        """Ask for the snapshot that confirms (books) or clears a pending difference, now if the broker
        is up, else from the timer once it is (kept until a snapshot could be asked for)."""
        port = self.port
        asked = port is not None and port.snapshot is not None and port.is_up() and bool(port.snapshot())
        self.confirm_when_up = not asked

    def maybe_snapshot(self, force: bool = False) -> None:
        if self.store is not None:
            led = self.engine.ledger
            if force or self.store.due(len(led.reservations) + len(led.fills_seen) + len(led.externals)):
                self.store.snapshot(led)

    # ---- the order stage ------------------------------------------------------------
    def check(self, ctx: Any, ticket: Any) -> HubError | None | object:
        """Run the checks; None lets the order through to the desk (which then calls `reserved`)."""
        self._passed = None
        strategy, params = ticket.strategy, ticket.params
        try:
            o = self.engine.evaluate(strategy, params)
            if o.crossing and self._resubmitting is ticket.call:
                # held once already and a crossing order is still (or again) resting: no second round
                raise Refusal("self_trade", self.engine.settings.self_trade, o.crossing[0].order_id,
                              f"the resting order {o.crossing[0].order_id} still crosses this order after the cancel "
                              f"round", extra={"resting": [c.view() for c in o.crossing]})
        except Refusal as r:
            return self.refuse(strategy, r)
        if self.engine.settings.trading == "dry_run":
            return HubError(ErrorCode.RISK_REJECTED, "dry run ([risk] trading = \"dry_run\"): every check passed and "
                                                     "nothing was sent",
                            {"check": "dry_run", "limit": "dry_run", "value": "passed", "strategy": strategy})
        if o.crossing:
            return self._hold(ticket, o)
        self._passed = o
        return None

    def refuse(self, strategy: str, r: Refusal) -> HubError:
        data = self.engine.refusal_data(r, strategy)
        if self.port is not None:
            self.port.publish(TOPIC, {"event": "refused", "code": r.code, "message": r.message, **data})
        return HubError(r.code, r.message, data)

    def reserved(self, tag: str, strategy: str, params: dict[str, Any]) -> tuple[int, bytes] | None:
        """The desk is journaling the order under `tag`, then calls the broker: reserve now.

        Returns the reservation's record, numbered and encoded, for the order request's own
        journal row (`Journal.reserve_order`): durable with the request, in its one commit.
        None when this stage did not pass the order (no reservation) or keeps no journal.
        """
        o, self._passed = self._passed, None
        if o is None or o.strategy != strategy or o.code != params.get("stock_code"):
            return None  # not an order this stage passed (no reservation)
        if self.store is None:
            self.engine.reserve(tag, o)
            return None
        return self.store.numbered(self.engine.reserve(tag, o, emit=False))

    def unjournaled(self, tag: str) -> None:
        """The order request's journal write failed after `reserved`: nothing of it is durable, undo it."""
        self.engine.unreserve(tag)

    def released(self, tag: str) -> None:
        """The placement failed (the broker refused it, or it never left the hub)."""
        self.engine.placement_failed(tag)

    def cancelled(self, strategy: str) -> None:
        self.engine.on_cancel(strategy)

    def dry(self, strategy: str, params: dict[str, Any]) -> dict[str, Any]:
        """`check_order`: what the checks say now; nothing is counted, reserved or sent."""
        saved = dict(self.engine.refusals), dict(self.engine.refusals_by_strategy)
        try:
            o = self.engine.evaluate(strategy, params)
        except Refusal as r:
            return {"ok": False, "code": r.code, "message": r.message, **self.engine.refusal_data(r, strategy)}
        finally:
            self.engine.refusals, self.engine.refusals_by_strategy = saved
        out = {"ok": True, "code": None, "message": "every check passed", "check": None, "limit": None,
               "value": None, "strategy": strategy, "reserve_cash": o.cash / 100.0, "notional": o.notional / 100.0}
        if o.crossing:
            out["message"] = "every check passed; the crossing resting order(s) would be cancelled first"
            out["resting"] = [c.view() for c in o.crossing]
        return out

    # ---- cancel_resting: hold, cancel, resubmit --------------------------------------
    def _hold(self, ticket: Any, o: Order) -> object | HubError:
        port = self.port
        ids = [c.order_id for c in o.crossing]
        sent = [i for i in ids if port is not None and port.cancel(i)]
        if port is None or len(sent) != len(ids):
            return self.refuse(o.strategy, Refusal(
                "self_trade", "cancel_resting", ids[0], f"the crossing resting order(s) {ids} could not be cancelled "
                                                        f"(broker down?); the order was not sent",
                extra={"resting": [c.view() for c in o.crossing]}))
        self.held.append(Held(ticket.call, o.strategy, dict(ticket.params), set(ids),
                              time.monotonic() + port.order_timeout, [c.view() for c in o.crossing]))
        self.engine.held[o.strategy] = self.engine.held.get(o.strategy, 0) + 1
        log.info("self-trade: holding an order of %s until resting order(s) %s are cancelled", o.strategy, ids)
        return HELD

    def _release_held(self, h: Held) -> None:
        self.held.remove(h)
        n = self.engine.held.get(h.strategy, 1) - 1
        if n > 0:
            self.engine.held[h.strategy] = n
        else:
            self.engine.held.pop(h.strategy, None)

    def _final(self, order_id: int) -> None:
        for h in list(self.held):
            h.waiting.discard(order_id)
            if not h.waiting:
                self._release_held(h)
                self._resubmitting = h.call
                try:
                    self.port.resubmit(h.call, h.strategy, h.params)
                except HubError as err:
                    self.port.reply_error(h.call, err)
                finally:
                    self._resubmitting = None

    def tick(self) -> None:
        """Timer: a held order whose resting orders did not end within order_timeout is refused."""
        now = time.monotonic()
        for h in list(self.held):
            if now >= h.deadline:
                self._release_held(h)
                err = self.refuse(h.strategy, Refusal(
                    "self_trade", "cancel_resting", sorted(h.waiting)[0],
                    f"the resting order(s) {sorted(h.waiting)} were not cancelled within {self.port.order_timeout:g}s; "
                    f"the order was not sent", extra={"resting": h.resting}))
                self.port.reply_error(h.call, err)

    # ---- broker pushes (the book's public maps) ------------------------------------------
    def on_order(self, data: dict[str, Any]) -> None:
        self.engine.on_order(data)
        if self.held and data.get("order_status") in (53, 54, 56, 57):
            self._final(data.get("order_id"))

    def on_trade(self, data: dict[str, Any]) -> None:
        self.engine.on_trade(data)

    # ---- day, reconcile --------------------------------------------------------------
    def roll(self, day: str) -> None:
        self.engine.roll(day)

    def reconcile(self, asset: dict[str, Any] | None, positions: list[dict[str, Any]], book_now: bool = False) \
            -> dict[str, Any]:
        report = self.engine.reconcile(asset, positions, book_now)
        if report["booked"] and self.port is not None:
            first = all(b.get("why") == "initial sync" for b in report["booked"])
            self.port.publish(TOPIC, {"event": "synced" if first else "reconciled", "booked": report["booked"],
                                      "strategy": POOL})
        if not report["ok"] and any(b.get("why") == "initial sync" for b in report["booked"]):
            log.info("risk: first sync: the pool takes the account (cash %s, positions %s)", report["cash"]["broker"],
                     {r["code"]: r["broker"] for r in report["positions"]})
        elif not report["ok"]:
            log.warning("risk: reconciliation differences (%s): cash %s, positions %s",
                        "pending confirmation" if report["pending"] else "booked to the pool",
                        report["cash"], report["positions"])
        return report

    # ---- `hub reconcile`: a fresh snapshot, answered when it is back ---------------------
    def reconcile_call(self, call: Any) -> Any:
        """Ask for a broker snapshot on the broker-connect thread (the loop never waits for the broker's
        queries) and answer `call` with the comparison against that snapshot once it is applied; a
        difference seen in it is confirmed by one more snapshot first, as at every reconcile."""
        from hub.core.call import DEFERRED

        port = self.port
        if port is None or port.snapshot is None or port.reply is None:
            raise HubError(ErrorCode.BROKER_DOWN, "the hub cannot reconcile now")
        if not port.is_up():
            raise HubError(ErrorCode.BROKER_DOWN, "the broker is not connected: no snapshot to reconcile with")
        self.reconciles.append((call, time.monotonic() + port.reconcile_timeout))
        if self.reconcile_phase is None:
            self.reconcile_phase = "asked" if port.snapshot() else "queued"
        return DEFERRED

    def after_snapshot(self, report: dict[str, Any]) -> None:
        """A broker snapshot was applied and compared (`report`): answer the waiting `hub reconcile` calls
        if it was theirs and needs no confirmation; if an older one came back, ask for theirs now."""
        if not self.reconciles or self.reconcile_phase is None:
            return
        if self.reconcile_phase == "queued":
            if self.port.snapshot():
                self.reconcile_phase = "asked"
            return
        if report.get("pending"):
            return  # the confirming snapshot was asked for with the report; answered when it is back
        calls, self.reconciles, self.reconcile_phase = self.reconciles, [], None
        for call, _ in calls:
            self.port.reply(call, report)

    def _expire_reconciles(self) -> None:
        now, port = time.monotonic(), self.port
        if self.reconcile_phase == "queued" and port.snapshot():
            self.reconcile_phase = "asked"  # the running snapshot failed or was dropped: ask again
        down = not port.is_up()
        keep = []
        for call, deadline in self.reconciles:
            if down:
                port.reply_error(call, HubError(ErrorCode.BROKER_DOWN, "the broker disconnected before its snapshot "
                                                                       "came back: nothing was reconciled"))
            elif now >= deadline:
                port.reply_error(call, HubError(ErrorCode.BROKER_ERROR, "the broker's snapshot did not come back in "
                                                                        f"{port.reconcile_timeout:g}s"))
            else:
                keep.append((call, deadline))
        self.reconciles = keep
        if not keep:
            self.reconcile_phase = None

    # ---- admin --------------------------------------------------------------------
    def admin(self, what: str, **kw: Any) -> dict[str, Any]:
        """allot / transfer / limits: LedgerError becomes RISK_REJECTED with the figures."""
        e = self.engine
        try:
            if what == "allot":
                rec = e.allot(kw["strategy"], kw.get("cash"), kw.get("stock_code"), kw.get("volume") or 0)
            elif what == "transfer":
                rec = e.transfer(kw["src"], kw["dst"], kw.get("cash"), kw.get("stock_code"), kw.get("volume") or 0)
            else:
                e.set_limits(kw["strategy"], kw["limits"])
                rec = {"k": "limits", "s": kw["strategy"], "set": kw["limits"]}
        except (LedgerError, ValueError) as exc:
            raise HubError(ErrorCode.RISK_REJECTED, str(exc), {"check": what, "limit": None, "value": None,
                                                               "strategy": kw.get("strategy") or kw.get("src")})
        if self.port is not None:
            self.port.publish(TOPIC, {"event": what, "record": rec, "strategy": kw.get("strategy") or kw.get("dst")})
        return rec

    # ---- views -------------------------------------------------------------------
    def asset_for(self, role: str, strategy: str, account: dict[str, Any] | None) -> dict[str, Any] | None:
        if role != Role.STRATEGY:
            return account
        acc = self.port.account_id() if self.port is not None else ""
        return self.engine.strategy_asset(strategy, acc, (account or {}).get("account_type", 2))

    def positions_for(self, role: str, strategy: str, account: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if role != Role.STRATEGY:
            return account
        acc = self.port.account_id() if self.port is not None else ""
        return self.engine.strategy_positions(strategy, acc)

    def position_for(self, role: str, strategy: str, code: str, account: dict[str, Any] | None) \
            -> dict[str, Any] | None:
        if role != Role.STRATEGY:
            return account
        acc = self.port.account_id() if self.port is not None else ""
        return self.engine.strategy_position(strategy, code, acc)


def reference_from(quotes_latest: dict[str, dict[str, Any]], positions: dict[str, dict[str, Any]]) \
        -> Callable[[str], "tuple[float, float] | None"]:
    """code -> (last price, yesterday's close) from the hub's memory: published ticks, else the book."""
    def ref(code: str) -> "tuple[float, float] | None":
        t = quotes_latest.get(code)
        if t is not None:
            return float(t.get("lastPrice") or 0.0), float(t.get("lastClose") or 0.0)
        p = positions.get(code)
        if p is not None:
            return float(p.get("last_price") or 0.0), 0.0
        return None
    return ref
