"""The order path: what one `order_stock` goes through, as an explicit, ordered list of stages.

    stage     module / object                              on failure
    --------  -------------------------------------------  ---------------------------------------
    validate  rpc_client.protocol METHODS (by the loop)    INVALID_PARAMS, before the handler runs
    repeat    OrderDesk.repeat (hub.core.orders)           INVALID_PARAMS if the id was used for other
                                                           params; else the first result, and nothing
                                                           below runs
    broker    BrokerIsUp (here; BrokerLink.down_error)     BROKER_DOWN, nothing sent
    halt      NotHalted (here; hub.core.halts.Halts)       HALTED
    [risk]    HubContext.risk (hub.risk, issue 11)         the stage's own code (RISK_REJECTED ...)
    reserve   OrderDesk.place: owner tag reserved, the request journaled and committed
    send      OrderDesk.place: Broker.order_async          BROKER_DOWN (the trader knows it is down:
                                                           nothing sent) / BROKER_ERROR / UNKNOWN_OUTCOME
    --- later, on the loop as the broker answers (hub.core.broker_events) ---
    book      OrderDesk.on_response / seen_at_broker; Book.apply_order
    publish   Publisher.publish (journal first, then the PUB)

The pre-trade stages (broker, halt, risk) are `OrderStage`s: `check(ctx, order)` returns None
to let the order through, the `HubError` to answer it with, or any other value when the stage
took the order over (the risk engine holds an order while it cancels a crossing one, then
resubmits it through `OrderPath.submit`). `build_stages` lists them in
order; `OrderPath.submit` runs them and then hands the order to the desk. A repeat is
answered before the checks, so a retry of an order already placed never gets "BROKER_DOWN,
nothing was sent" or "halted" for an order that did reach the broker, and is never counted
twice by a risk check.

Plugging in a stage (the risk engine, issue 11): give the stage a `name` and a
`check(ctx, order) -> HubError | None`, set `ctx.risk` to it when the hub starts (in
`HubServer._setup`, before `build_stages` runs); `build_stages` puts it after the halt check
and before the reservation. A stage runs on the loop thread for every order: no I/O, no
waiting, no allocation on the pass path; build the error only when rejecting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rpc_client.protocol import ErrorCode, HubError

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.call import Call
    from hub.core.context import HubContext


class OrderTicket:
    """One order on its way through the stages: who asked, which strategy, the validated params.

    `params` are the `order_stock` parameters as validated by `rpc_client.protocol` (stock_code,
    order_type, order_volume, price_type, price, order_remark, client_order_id, ...).
    """

    __slots__ = ("call", "strategy", "params")

    def __init__(self, call: "Call", strategy: str, params: dict[str, Any]):
        self.call = call
        self.strategy = strategy
        self.params = params


class OrderStage(Protocol):
    """A pre-trade check. `name` appears in docs and logs; `check` must not block."""

    name: str

    def check(self, ctx: "HubContext", order: OrderTicket) -> HubError | None | object:
        """None: the order goes on; a HubError: the order is answered with it and goes no further;
        any other value: the stage took the order over (it holds it and will answer or resubmit it)."""


class BrokerIsUp:
    """The broker can take an order now (BROKER_DOWN otherwise: nothing was sent)."""

    name = "broker"

    def check(self, ctx: "HubContext", order: OrderTicket) -> HubError | None:
        return ctx.link.down_error()


class NotHalted:
    """The operator has not halted new orders for this strategy (or for all)."""

    name = "halt"

    def check(self, ctx: "HubContext", order: OrderTicket) -> HubError | None:
        reason = ctx.halts.reason(order.strategy)
        if reason is None:
            return None
        return HubError(ErrorCode.HALTED, f"new orders are halted for {order.strategy}: {reason}",
                        {"reason": reason})


BROKER_IS_UP = BrokerIsUp()
NOT_HALTED = NotHalted()


def build_stages(ctx: "HubContext") -> tuple[OrderStage, ...]:
    """This hub's pre-trade stages, in the order they run. Add a stage here, and only here."""
    stages: list[OrderStage] = [BROKER_IS_UP, NOT_HALTED]
    if ctx.risk is not None:  # issue 11: the risk engine (hub.risk) decides after the halt check
        stages.append(ctx.risk)
    return tuple(stages)


class OrderPath:
    """Runs one order through the stages, then hands it to the desk (reserve, journal, send)."""

    def __init__(self, ctx: "HubContext", stages: tuple[OrderStage, ...] | list[OrderStage]):
        self.ctx = ctx
        self.stages = tuple(stages)

    @property
    def names(self) -> list[str]:
        """The stage names in order, with the desk's steps: what `docs/architecture.md` lists."""
        return ["repeat", *(s.name for s in self.stages), "reserve", "send"]

    def submit(self, call: "Call", strategy: str, params: dict[str, Any]) -> None:
        """Place one order; the reply comes later (from the desk) or now as a raised HubError."""
        ctx = self.ctx
        desk = ctx.desk
        if desk.repeat(call, strategy, params):  # a known client_order_id: its first result, nothing below
            return
        order = OrderTicket(call, strategy, params)
        for stage in self.stages:
            verdict = stage.check(ctx, order)
            if verdict is not None:
                if isinstance(verdict, HubError):
                    raise verdict
                return  # the stage took the order over (e.g. holds it) and answers it itself
        desk.place(call, strategy, params, ctx.link.broker)
