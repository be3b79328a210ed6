"""Self-trade prevention: the account's resting orders by code, and which of them an order would cross.

Why pre-trade and account-wide: an A-share hub cannot cancel inside the exchange's book, and
trading between two strategies of one account (or one strategy with itself, or with an order
typed into the terminal) is self-trading (自成交) all the same. So the hub keeps every open
order of the account here — its own (from the reservation on) and `_external` ones (from the
book's pushes) — and looks for a crossing one before it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rpc_client import xt

BUY, SELL = xt.STOCK_BUY, xt.STOCK_SELL


@dataclass(slots=True)
class Resting:
    key: str  # the hub's owner tag, or "x<order_id>" for an external order
    owner: str
    code: str
    side: int
    price: float  # 0 with market = True
    market: bool
    order_id: int | None = None

    def view(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "strategy": self.owner, "side": "buy" if self.side == BUY else "sell",
                "price": self.price, "market": self.market, "tag": self.key if not self.key.startswith("x") else ""}


class RestingBook:
    def __init__(self) -> None:
        self.by_side: dict[tuple[str, int], dict[str, Resting]] = {}  # (code, side) -> key -> order
        self.by_key: dict[str, Resting] = {}

    def add(self, r: Resting) -> None:
        side = (r.code, r.side)
        bucket = self.by_side.get(side)
        if bucket is None:
            bucket = self.by_side[side] = {}
        bucket[r.key] = r
        self.by_key[r.key] = r

    def remove(self, key: str) -> Resting | None:
        r = self.by_key.pop(key, None)
        if r is not None:
            bucket = self.by_side.get((r.code, r.side))
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self.by_side[(r.code, r.side)]
        return r

    def bind(self, key: str, order_id: int) -> None:
        r = self.by_key.get(key)
        if r is not None:
            r.order_id = order_id

    def crossing(self, code: str, side: int, price: float, market: bool) -> list[Resting]:
        """Resting opposite orders of `code` an incoming order would trade with (scans the opposite side only)."""
        bucket = self.by_side.get((code, SELL if side == BUY else BUY))
        if not bucket:
            return []
        out = []
        for r in bucket.values():
            if market or r.market:
                out.append(r)
            elif side == BUY and price >= r.price - 1e-9:
                out.append(r)
            elif side == SELL and price <= r.price + 1e-9:
                out.append(r)
        return out

    def __len__(self) -> int:
        return len(self.by_key)
