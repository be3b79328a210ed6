"""Simulated level-1 quotes: a five-level book per code that moves each snapshot.

Prices follow a seeded random walk inside the daily limits (or replay a CSV);
each snapshot draws fresh depth. The matching engine takes liquidity from this
book, so simulated orders move `volume`/`amount` like real trades would.

Volumes in the tick dict follow xtdata for stocks: `volume`, `askVol`, `bidVol`
are in lots (手, 100 shares), `pvolume` in shares.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable

from hub.sim.universe import Instrument

TICK = 0.01
LEVELS = 5


def to_tick(price: float, tick: float = TICK) -> float:
    """`price` on the `tick` grid (0.01 stocks and indexes, 0.001 ETFs and bonds)."""
    return round(round(price / tick) * tick, 3 if tick < 0.01 else 2)


@dataclass
class Quote:
    """Live market state of one code for the trading day."""

    inst: Instrument
    last_close: float
    limit_down: float
    limit_up: float
    last: float
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    volume: int = 0  # shares
    amount: float = 0.0
    transactions: int = 0
    time_ms: int = 0
    #: the market's own price (the random walk); the book is built around it, so
    #: our fills move `last` but do not drag the market
    fair: float = 0.0
    ask: list[list[float]] = field(default_factory=list)  # [[price, shares], ...] best first
    bid: list[list[float]] = field(default_factory=list)

    def record_trade(self, price: float, shares: int) -> None:
        """A trade printed at `price`: moves last/high/low/volume/amount."""
        self.last = price
        if not self.open:
            self.open = price
        self.high = max(self.high or price, price)
        self.low = min(self.low or price, price)
        self.volume += shares
        self.amount = round(self.amount + price * shares, 2)
        self.transactions += 1

    def rebuild_book(self, rng: random.Random, depth_min: int, depth_max: int) -> None:
        """Fresh five levels around `fair`: bid1 = fair, ask1 = fair + 0.01, clipped to limits."""
        lo, hi = max(1, depth_min // 100), max(1, depth_max // 100)
        mid = self.fair or self.last
        tick = self.inst.tick
        self.ask = []
        self.bid = []
        for k in range(LEVELS):
            pa = to_tick(mid + (k + 1) * tick, tick)
            if pa <= self.limit_up + 1e-9:
                self.ask.append([pa, rng.randint(lo, hi) * 100])
            pb = to_tick(mid - k * tick, tick)
            if pb >= self.limit_down - 1e-9:
                self.bid.append([pb, rng.randint(lo, hi) * 100])

    def tick_dict(self) -> dict:
        """The snapshot as xtdata's tick dict."""
        def prices(levels: list[list[float]]) -> list[float]:
            return [float(p) for p, _ in levels[:LEVELS]] + [0.0] * (LEVELS - len(levels[:LEVELS]))

        lot = self.inst.lot

        def lots(levels: list[list[float]]) -> list[int]:
            return [int(v) // lot for _, v in levels[:LEVELS]] + [0] * (LEVELS - len(levels[:LEVELS]))

        return {
            "time": self.time_ms,
            "lastPrice": self.last,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "lastClose": self.last_close,
            "amount": self.amount,
            "volume": self.volume // lot,
            "pvolume": self.volume,
            "stockStatus": 0,
            "openInt": 13,
            "lastSettlementPrice": 0.0,
            "askPrice": prices(self.ask),
            "bidPrice": prices(self.bid),
            "askVol": lots(self.ask),
            "bidVol": lots(self.bid),
            "transactionNum": self.transactions,
        }


class RandomWalk:
    """Moves one quote per snapshot: a log-normal step, snapped to the tick and the limits."""

    def __init__(self, seed: int, day: date, volatility: float, depth: tuple[int, int]) -> None:
        self._seed, self._day, self._vol, self._depth = seed, day, volatility, depth
        self._rngs: dict[str, random.Random] = {}

    def rng(self, code: str) -> random.Random:
        r = self._rngs.get(code)
        if r is None:
            # str seeds hash with sha512: the same in every process and run
            r = self._rngs[code] = random.Random(f"{self._seed}:{code}:{self._day.isoformat()}")
        return r

    def step(self, q: Quote) -> None:
        rng = self.rng(q.inst.code)
        if self._vol > 0:
            price = to_tick((q.fair or q.last) * math.exp(rng.gauss(0.0, self._vol)), q.inst.tick)
            q.fair = min(max(price, q.limit_down), q.limit_up)
            q.record_trade(q.fair, rng.randint(1, 50) * 100)
        q.rebuild_book(rng, *self._depth)


class CsvReplay:
    """Replays rows of a CSV file, one row per code per snapshot.

    Columns: `code`, `lastPrice` (required); optional `open`, `high`, `low`,
    `volume` (lots), `amount`, `askPrice1..5`, `askVol1..5`, `bidPrice1..5`,
    `bidVol1..5` (lots). A code whose rows are used up stays where it is; codes
    absent from the file do not move.
    """

    def __init__(self, path: str | Path, fallback: RandomWalk) -> None:
        self._rows: dict[str, list[dict[str, str]]] = {}
        self._pos: dict[str, int] = {}
        self._fallback = fallback
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                self._rows.setdefault(row["code"].strip(), []).append(row)

    def codes(self) -> Iterable[str]:
        return self._rows.keys()

    def step(self, q: Quote) -> None:
        rows = self._rows.get(q.inst.code)
        i = self._pos.get(q.inst.code, 0)
        if not rows or i >= len(rows):
            if not q.ask and not q.bid:
                q.rebuild_book(self._fallback.rng(q.inst.code), *self._fallback._depth)
            return
        self._pos[q.inst.code] = i + 1
        row = rows[i]

        def num(key: str, default: float = 0.0) -> float:
            v = (row.get(key) or "").strip()
            return float(v) if v else default

        price = min(max(to_tick(num("lastPrice"), q.inst.tick), q.limit_down), q.limit_up)
        q.fair = price
        vol_lots = num("volume", -1)
        shares = int(vol_lots * 100) - q.volume if vol_lots >= 0 else 100
        q.record_trade(price, max(shares, 0))
        if vol_lots >= 0:
            q.volume = int(vol_lots * 100)
        if num("amount", -1) >= 0:
            q.amount = num("amount")
        for key in ("open", "high", "low"):
            if num(key):
                setattr(q, key, num(key))
        if num("askPrice1") or num("bidPrice1"):
            q.ask = [[num(f"askPrice{k}"), int(num(f"askVol{k}") * 100)] for k in range(1, 6) if num(f"askPrice{k}")]
            q.bid = [[num(f"bidPrice{k}"), int(num(f"bidVol{k}") * 100)] for k in range(1, 6) if num(f"bidPrice{k}")]
        else:
            q.rebuild_book(self._fallback.rng(q.inst.code), *self._fallback._depth)
