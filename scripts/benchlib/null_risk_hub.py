"""`python -m benchlib.null_risk_hub start ...`: the hub with its risk stage installed but doing nothing.

Why: case 11's control. This hub builds, restores and wires the risk stage exactly as a hub
with `[risk]` on does (the stage in the order path, its hooks in the desk and the broker
events, its timer, its status source), but the stage's per-order work is gone: `check` lets
every order through, `reserved` reserves nothing and writes no record, the broker pushes
and the timer do nothing. Its order→ack against the risk-off hub's is what the bench
measures when the stage itself costs nothing: if that stays near 0 while the real stage's
figure does not, the figure is the stage's own work, not a difference between two hub
processes. For the bench only: never a way to run a hub.
"""

from __future__ import annotations

from typing import Any

from hub.risk.stage import RiskStage


def _null_stage() -> None:
    def check(self: RiskStage, ctx: Any, ticket: Any) -> None:
        return None

    def reserved(self: RiskStage, tag: str, strategy: str, params: dict[str, Any]) -> None:
        return None

    def nothing(self: RiskStage, *args: Any) -> None:
        return None

    RiskStage.check = check  # type: ignore[method-assign]
    RiskStage.reserved = reserved  # type: ignore[method-assign]
    RiskStage.on_order = nothing  # type: ignore[method-assign]
    RiskStage.on_trade = nothing  # type: ignore[method-assign]
    RiskStage.timer = nothing  # type: ignore[method-assign]


if __name__ == "__main__":
    _null_stage()
    from hub.cli import main

    main()
