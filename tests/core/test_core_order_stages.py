"""The order path's stages against a fake context: order, short-circuits, the risk slot."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from rpc_client.protocol import ErrorCode, HubError

from hub.core import methods
from hub.core.call import DEFERRED, Call
from hub.core.order_path import BROKER_IS_UP, NOT_HALTED, OrderPath, build_stages

PARAMS = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 9.5,
          "client_order_id": "c-1"}


class Desk:
    def __init__(self, repeats: bool = False):
        self.repeats, self.log = repeats, []

    def repeat(self, call: Any, strategy: str, params: dict) -> bool:
        self.log.append("repeat")
        return self.repeats

    def place(self, call: Any, strategy: str, params: dict, broker: Any) -> bool:
        self.log.append(("place", strategy, broker))
        return True


class Stage:
    def __init__(self, name: str, log: list, verdict: Any = None):
        self.name, self.log, self.verdict = name, log, verdict

    def check(self, ctx: Any, order: Any) -> Any:
        self.log.append((self.name, order.strategy, order.params["stock_code"]))
        return self.verdict


def ctx_of(up: bool = True, halted: str | None = None, repeats: bool = False, risk: Any = None) -> Any:
    state = {"state": "up" if up else "down", "since": 0.0, "reason": "test"}

    def down_error() -> HubError | None:
        return None if up else HubError(ErrorCode.BROKER_DOWN, "down", {"broker": dict(state)})

    link = SimpleNamespace(down_error=down_error, broker="the-broker", state=state)
    halts = SimpleNamespace(reason=lambda strategy: halted)
    return SimpleNamespace(link=link, halts=halts, desk=Desk(repeats), risk=risk)


def call() -> Call:
    return Call(b"id", 1, SimpleNamespace(name="alpha"), "order_stock")


def test_the_stages_in_order_and_the_risk_slot_between_halt_and_reserve():
    ctx = ctx_of()
    assert build_stages(ctx) == (BROKER_IS_UP, NOT_HALTED)
    assert OrderPath(ctx, build_stages(ctx)).names == ["repeat", "broker", "halt", "reserve", "send"]
    log: list = []
    ctx.risk = Stage("risk", log)
    path = OrderPath(ctx, build_stages(ctx))
    assert path.names == ["repeat", "broker", "halt", "risk", "reserve", "send"]
    path.submit(call(), "alpha", PARAMS)
    assert log == [("risk", "alpha", "600000.SH")]
    assert ctx.desk.log == ["repeat", ("place", "alpha", "the-broker")]


@pytest.mark.parametrize("up, halted, code", [(False, None, ErrorCode.BROKER_DOWN), (False, "x", ErrorCode.BROKER_DOWN),
                                              (True, "enough", ErrorCode.HALTED)])
def test_the_first_refusal_answers_and_nothing_after_it_runs(up, halted, code):
    log: list = []
    ctx = ctx_of(up=up, halted=halted, risk=Stage("risk", log))
    with pytest.raises(HubError) as info:
        OrderPath(ctx, build_stages(ctx)).submit(call(), "alpha", PARAMS)
    assert info.value.code == code and log == [] and ctx.desk.log == ["repeat"]
    if code == ErrorCode.HALTED:
        assert info.value.data == {"reason": "enough"} and "alpha" in info.value.message


def test_a_repeat_is_answered_before_every_stage():
    log: list = []
    ctx = ctx_of(up=False, halted="x", repeats=True, risk=Stage("risk", log))
    OrderPath(ctx, build_stages(ctx)).submit(call(), "alpha", PARAMS)  # no BROKER_DOWN, no HALTED
    assert ctx.desk.log == ["repeat"] and log == []


def test_a_stage_refusal_or_takeover_stops_the_order_before_the_desk():
    log: list = []
    ctx = ctx_of(risk=Stage("risk", log, HubError("RISK_REJECTED", "too big")))
    with pytest.raises(HubError, match="too big"):
        OrderPath(ctx, build_stages(ctx)).submit(call(), "alpha", PARAMS)
    ctx = ctx_of(risk=Stage("risk", log, object()))  # the stage holds the order and answers it itself
    OrderPath(ctx, build_stages(ctx)).submit(call(), "alpha", PARAMS)
    assert ctx.desk.log == ["repeat"]


def test_the_order_stock_handler_runs_the_path_and_defers_the_reply():
    ctx = ctx_of()
    ctx.orders = OrderPath(ctx, build_stages(ctx))
    assert methods.HANDLERS["order_stock"](ctx, call(), PARAMS) is DEFERRED
    assert ctx.desk.log == ["repeat", ("place", "alpha", "the-broker")]
