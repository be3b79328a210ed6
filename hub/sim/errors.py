"""The fixed table of rejection reasons the simulator reports.

An order that breaks a rule is not an exception: it gets an order id, ends
ORDER_JUNK with `status_msg`, and `on_order_error` carries `error_id` and
`error_msg` from here. Messages start with a Chinese phrase as MiniQMT's do,
followed by the specifics in English, e.g.
`[600000.SH] 资金不足 insufficient cash: need 10505.10, available 500.00`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reject(Exception):
    """A rule violation: `code` from the table below and a human message."""

    code: int
    msg: str

    def __str__(self) -> str:  # pragma: no cover - convenience
        return f"{self.code}: {self.msg}"


# order rejections
BAD_ARGUMENT = 1000        # wrong type or value of an argument
WRONG_ACCOUNT = 1001       # account not a logged-in stock account
UNKNOWN_CODE = 1002        # not an A-share stock code the simulator knows
BAD_VOLUME = 1003          # lot size / minimum / maximum
BAD_PRICE_TICK = 1004      # price not a multiple of 0.01
PRICE_OUT_OF_LIMITS = 1005  # outside the daily limit-down / limit-up band
NO_CASH = 1006             # insufficient available cash
NO_VOLUME = 1007           # insufficient sellable (T+1) volume
BAD_PRICE_TYPE = 1008      # price type not valid on that exchange
CLOSED = 1009              # outside trading hours
NO_MARKET = 1010           # market order finds no counterparty

# cancel rejections
CANCEL_UNKNOWN = 2001      # no such order
CANCEL_FINAL = 2002        # already filled, cancelled or junk
CANCEL_PENDING = 2003      # a cancel is already under way


def reject(code: int, stock_code: str, zh: str, detail: str) -> Reject:
    prefix = f"[{stock_code}] " if stock_code else ""
    return Reject(code, f"{prefix}{zh} {detail}".strip())
