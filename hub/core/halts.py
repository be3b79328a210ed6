"""Halts and the kill switch: who may not place new orders, and cancelling what is open.

`Halts` owns the halt state (all strategies, or some by name, each with a reason). It is
persisted in the journal's meta table, so a restarted hub stays halted, and every change is
published as `hub.halt`. The order path asks `reason(strategy)` for every order.

The kill switch (`cancel_open`, `cancel_one`) asks the broker to cancel open orders. It must
not miss an order just placed: besides the book's open orders it cancels orders the broker
numbered whose first push has not arrived yet, and flags placements still waiting for their
id so they are cancelled the moment it comes (`OrderDesk.in_flight`).

Loop thread only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rpc_client.protocol import Topic

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.context import HubContext
    from hub.core.journal import Journal
    from hub.core.publisher import Publisher

log = logging.getLogger("hub.halts")

_META_KEY = "halted"  # journal meta key of the persisted state


class Halts:
    """The halt state: {"all": bool, "reason": str, "strategies": {name: reason}}."""

    def __init__(self, journal: "Journal", publisher: "Publisher"):
        self._journal = journal
        self._publisher = publisher
        self.state: dict[str, Any] = {"all": False, "reason": "", "strategies": {}}

    def load(self) -> None:
        """Take the state a previous run persisted (at start, before any order)."""
        saved = self._journal.get_json(_META_KEY)
        if isinstance(saved, dict):
            self.state.update(saved)

    @property
    def all(self) -> bool:
        """Every strategy is halted."""
        return bool(self.state["all"])

    def reason(self, strategy: str) -> str | None:
        """Why `strategy` may not place new orders, or None when it may."""
        state = self.state
        if state["all"]:
            return state["reason"] or "halted"
        return state["strategies"].get(strategy)

    def set(self, strategy: str | None, halted: bool, reason: str) -> None:
        """Halt or resume one strategy (None: all; resuming all also clears the per-strategy halts)."""
        state = self.state
        if strategy is None:
            state["all"] = halted
            state["reason"] = reason if halted else ""
            if not halted:
                state["strategies"] = {}
        elif halted:
            state["strategies"][strategy] = reason
        else:
            state["strategies"].pop(strategy, None)
        self._journal.set_json(_META_KEY, state)
        self._publisher.publish(Topic.HALT, {"strategy": strategy, "halted": halted, "reason": reason})

    def view(self) -> dict[str, Any]:
        """A copy for replies and the status map."""
        state = self.state
        return {"all": state["all"], "reason": state["reason"], "strategies": dict(state["strategies"])}


# ---- the kill switch ------------------------------------------------------------------------

def cancel_open(ctx: "HubContext", strategy: str | None) -> list[int]:
    """Ask the broker to cancel every open order (of one owner, or all). Returns the order ids."""
    if not ctx.link.is_up:
        return []
    numbered, _waiting = ctx.desk.in_flight(strategy)
    ids = [o.get("order_id") for o in ctx.book.open_orders(strategy)]
    ids += [i for i in numbered if i not in ids]
    return [order_id for order_id in ids if cancel_one(ctx, order_id)]


def cancel_one(ctx: "HubContext", order_id: int) -> bool:
    """A hub-initiated cancel (no caller waits for it); True when the broker took the request."""
    link = ctx.link
    if not link.is_up:
        return False
    try:
        seq = link.broker.cancel_async(order_id)
    except Exception:  # noqa: BLE001
        log.exception("cancel of %s failed", order_id)
        return False
    ctx.desk.cancel(None, order_id, seq)
    return isinstance(seq, int) and seq >= 0
