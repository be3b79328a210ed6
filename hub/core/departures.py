"""A client leaves (bye, silence, a new hello on its connection, a takeover by its own restart).

One job: free what the session held and say so. Its quote items are released, a strategy that
asked for cancel-on-disconnect has its open orders cancelled (the kill switch, unless the same
strategy is connected again or it was a takeover), and `hub.client` is published so the
monitor and the operator see who left and why.

Loop thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpc_client.protocol import Topic

from hub.core.halts import cancel_open

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.context import HubContext
    from hub.core.sessions import Session


def drop_session(ctx: "HubContext", session: "Session", event: str, reason: str = "") -> None:
    ctx.sessions.remove(session)
    ctx.quotes.drop(session.key)
    if ctx.marketdata is not None:
        ctx.marketdata.drop_session(session.key)
    cancelled: list[int] = []
    if session.cancel_on_disconnect and event != "taken_over" and session.role == "strategy" \
            and ctx.sessions.named(session.name) is None:
        cancelled = cancel_open(ctx, session.name)
    ctx.publisher.publish(Topic.CLIENT, {"strategy": session.name, "role": session.role, "event": event,
                                         "reason": reason, "cancelled": cancelled, "session": session.key})
