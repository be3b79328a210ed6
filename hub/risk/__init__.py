"""Sharing one account safely: per-strategy sleeves, pre-trade checks, self-trade prevention, the rate guard.

Pure modules (no sockets, no broker, no SQL per order); the hub runs `RiskEngine` as one stage
of its order path. See docs/risk.md. Names are imported lazily so that `hub.config` (which
checks the `[risk]` table with `hub.risk.config`) stays light for the CLI.
"""

from __future__ import annotations

from typing import Any

_NAMES = {
    "Order": "hub.risk.checks", "Refusal": "hub.risk.checks",
    "RiskConfig": "hub.risk.config", "RiskConfigError": "hub.risk.config", "RiskSettings": "hub.risk.config",
    "StrategyLimits": "hub.risk.config", "parse": "hub.risk.config",
    "RiskEngine": "hub.risk.engine",
    "POOL": "hub.risk.ledger", "Ledger": "hub.risk.ledger", "LedgerError": "hub.risk.ledger",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hub.risk' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
