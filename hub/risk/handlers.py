"""The protocol methods of the risk engine: check_order, sleeves, allot, transfer, set_limits, reconcile.

Registered in `hub.core.methods.HANDLERS` like every other method (roles and parameters are
checked from `rpc_client.protocol` before a handler runs). Each gets the hub's context (`x`:
it has `.risk`, the `RiskStage`, and `.book`), the call and the validated params.
"""

from __future__ import annotations

from typing import Any

from rpc_client.protocol import ErrorCode, HubError, Role

from hub.core.methods import handler


def _stage(x: Any) -> Any:
    stage = getattr(x, "risk", None)
    if stage is None:
        raise HubError(ErrorCode.UNKNOWN_METHOD, "this hub runs without the risk engine")
    return stage


@handler("check_order")
def check_order(x: Any, call: Any, p: dict[str, Any]) -> Any:
    stage = _stage(x)
    halts = getattr(x, "halts", None)
    reason = halts.reason(call.session.name) if halts is not None else x.halt_reason(call.session.name)
    if reason is not None:
        return {"ok": False, "code": ErrorCode.HALTED, "check": "halt", "limit": None, "value": None,
                "strategy": call.session.name, "message": f"new orders are halted for {call.session.name}: {reason}"}
    return stage.dry(call.session.name, p)


@handler("sleeves")
def sleeves(x: Any, call: Any, p: dict[str, Any]) -> Any:
    stage = _stage(x)
    session = call.session
    rows = stage.engine.sleeves_view()
    if session.role == Role.STRATEGY:
        if p["strategy"] not in (None, session.name):
            raise HubError(ErrorCode.FORBIDDEN, "a strategy may see only its own sleeve")
        return stage.engine.sleeves_view([session.name])
    if p["strategy"] is not None:
        return stage.engine.sleeves_view([p["strategy"]])
    return rows


@handler("allot")
def allot(x: Any, call: Any, p: dict[str, Any]) -> Any:
    if p["cash"] is None and (p["stock_code"] is None or not p["volume"]):
        raise HubError(ErrorCode.INVALID_PARAMS, "allot needs cash, or stock_code with volume")
    if p["stock_code"] is None and p["volume"]:
        raise HubError(ErrorCode.INVALID_PARAMS, "volume needs stock_code")
    return {"record": _stage(x).admin("allot", **p)}


@handler("transfer")
def transfer(x: Any, call: Any, p: dict[str, Any]) -> Any:
    if p["cash"] is None and (p["stock_code"] is None or not p["volume"]):
        raise HubError(ErrorCode.INVALID_PARAMS, "transfer needs cash, or stock_code with volume")
    return {"record": _stage(x).admin("transfer", **p)}


@handler("set_limits")
def set_limits(x: Any, call: Any, p: dict[str, Any]) -> Any:
    stage = _stage(x)
    stage.admin("limits", strategy=p["strategy"], limits=p["limits"])
    return {"limits": stage.engine.limits_of(p["strategy"]).to_dict()}


@handler("reconcile")
def reconcile(x: Any, call: Any, p: dict[str, Any]) -> Any:
    return _stage(x).reconcile_call(call)  # DEFERRED: answered once the fresh snapshot is applied
