"""Sharing one account safely: per-strategy sleeves, pre-trade checks, self-trade prevention, the rate guard.

Pure modules (no sockets, no broker, no SQL per order); the hub runs `RiskEngine` as one stage
of its order path. See docs/risk.md.
"""

from hub.risk.checks import Order, Refusal
from hub.risk.config import RiskConfig, RiskConfigError, RiskSettings, StrategyLimits, parse
from hub.risk.engine import RiskEngine
from hub.risk.ledger import POOL, Ledger, LedgerError

__all__ = ["RiskEngine", "Refusal", "Order", "RiskConfig", "RiskConfigError", "RiskSettings", "StrategyLimits",
           "parse", "Ledger", "LedgerError", "POOL"]
