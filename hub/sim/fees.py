"""Trading costs, to the cent.

Commission has a per-order minimum, so the fee of one fill is the order's
cumulative commission after the fill minus what earlier fills already paid:
a 1,000-share order filled in ten pieces costs the same as in one piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hub.sim.config import SimConfig

_CENT = Decimal("0.01")


def cents(x: float | Decimal) -> float:
    """Round half-up to 0.01 (how brokers round fees)."""
    return float(Decimal(str(x)).quantize(_CENT, ROUND_HALF_UP))


@dataclass(frozen=True)
class Fees:
    commission: float
    stamp_duty: float
    transfer_fee: float

    @property
    def total(self) -> float:
        return cents(Decimal(str(self.commission)) + Decimal(str(self.stamp_duty)) + Decimal(str(self.transfer_fee)))


def order_commission(cfg: SimConfig, cumulative_amount: float) -> float:
    """Commission of a whole order whose fills so far sum to `cumulative_amount`."""
    if cumulative_amount <= 0:
        return 0.0
    return max(cents(Decimal(str(cumulative_amount)) * Decimal(str(cfg.commission_rate))), cfg.commission_min)


def fill_fees(cfg: SimConfig, is_sell: bool, amount: float, prior_amount: float, stamp_duty: bool = True) -> Fees:
    """Fees of one fill of `amount` CNY on an order that already filled `prior_amount`.

    Stamp duty is charged on stock sells only (`stamp_duty=False` for ETFs and bonds)."""
    commission = cents(order_commission(cfg, prior_amount + amount) - order_commission(cfg, prior_amount))
    stamp = cents(Decimal(str(amount)) * Decimal(str(cfg.stamp_duty_rate))) if is_sell and stamp_duty else 0.0
    transfer = cents(Decimal(str(amount)) * Decimal(str(cfg.transfer_fee_rate)))
    return Fees(commission, stamp, transfer)


def buy_freeze(cfg: SimConfig, amount: float) -> float:
    """Cash to freeze for a buy worth `amount`: the amount plus its worst-case fees."""
    f = fill_fees(cfg, False, amount, 0.0)
    return cents(Decimal(str(amount)) + Decimal(str(f.total)))
