"""Which codes exist, what board they trade on, and their reference prices.

A code outside the built-in list is still tradable when it falls in an A-share
stock code range; its reference price is derived from the code so every run
and every process agrees on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

MAIN, STAR, CHINEXT, BSE = "main", "star", "chinext", "bse"

#: ST main-board limit widens from 5 % to 10 % on this date (exchange rule change)
ST_WIDE_FROM = date(2026, 7, 6)

# code -> (name, reference price in CNY); prices are rough recent levels
BUILTIN: dict[str, tuple[str, float]] = {
    "600000.SH": ("浦发银行", 10.20), "600036.SH": ("招商银行", 35.00),
    "600519.SH": ("贵州茅台", 1500.00), "601318.SH": ("中国平安", 45.00),
    "600276.SH": ("恒瑞医药", 45.00), "600030.SH": ("中信证券", 22.00),
    "600887.SH": ("伊利股份", 28.00), "601166.SH": ("兴业银行", 18.00),
    "601398.SH": ("工商银行", 5.50), "601288.SH": ("农业银行", 4.50),
    "601988.SH": ("中国银行", 4.60), "601939.SH": ("建设银行", 7.00),
    "601857.SH": ("中国石油", 8.00), "600028.SH": ("中国石化", 6.00),
    "600900.SH": ("长江电力", 28.00), "601012.SH": ("隆基绿能", 18.00),
    "600309.SH": ("万华化学", 80.00), "601888.SH": ("中国中免", 70.00),
    "600585.SH": ("海螺水泥", 23.00), "600104.SH": ("上汽集团", 15.00),
    "601628.SH": ("中国人寿", 35.00), "600050.SH": ("中国联通", 5.00),
    "601668.SH": ("中国建筑", 5.50), "600048.SH": ("保利发展", 9.00),
    "601899.SH": ("紫金矿业", 15.00), "600031.SH": ("三一重工", 16.00),
    "601088.SH": ("中国神华", 38.00), "600809.SH": ("山西汾酒", 200.00),
    "603259.SH": ("药明康德", 50.00), "601601.SH": ("中国太保", 28.00),
    "603288.SH": ("海天味业", 40.00), "600690.SH": ("海尔智家", 26.00),
    "688981.SH": ("中芯国际", 50.00), "688111.SH": ("金山办公", 250.00),
    "688012.SH": ("中微公司", 150.00), "688599.SH": ("天合光能", 20.00),
    "688036.SH": ("传音控股", 90.00),
    "000001.SZ": ("平安银行", 11.00), "000002.SZ": ("万科A", 8.00),
    "000333.SZ": ("美的集团", 65.00), "000651.SZ": ("格力电器", 40.00),
    "000858.SZ": ("五粮液", 140.00), "002594.SZ": ("比亚迪", 250.00),
    "002415.SZ": ("海康威视", 30.00), "000725.SZ": ("京东方A", 4.20),
    "002475.SZ": ("立讯精密", 35.00), "000568.SZ": ("泸州老窖", 150.00),
    "002714.SZ": ("牧原股份", 40.00), "000063.SZ": ("中兴通讯", 28.00),
    "002304.SZ": ("洋河股份", 90.00), "000100.SZ": ("TCL科技", 4.50),
    "002352.SZ": ("顺丰控股", 40.00), "000895.SZ": ("双汇发展", 27.00),
    "300750.SZ": ("宁德时代", 200.00), "300059.SZ": ("东方财富", 15.00),
    "300760.SZ": ("迈瑞医疗", 280.00), "300124.SZ": ("汇川技术", 55.00),
    "300015.SZ": ("爱尔眼科", 13.00), "300274.SZ": ("阳光电源", 70.00),
    "300498.SZ": ("温氏股份", 18.00),
    "430047.BJ": ("诺思兰德", 12.00), "832000.BJ": ("安徽凤凰", 9.00),
    "830809.BJ": ("安达科技", 8.00),
}


@dataclass(frozen=True)
class Instrument:
    """Static facts about one stock for the day."""

    code: str
    name: str
    board: str
    ref_price: float
    st: bool = False

    @property
    def market(self) -> str:
        return self.code.rsplit(".", 1)[1]

    @property
    def buy_min(self) -> int:
        """Smallest buy order (shares)."""
        return 200 if self.board == STAR else 100

    @property
    def buy_step(self) -> int:
        """Buy volumes above the minimum move in steps of this many shares."""
        return 1 if self.board in (STAR, BSE) else 100

    @property
    def max_order_volume(self) -> int:
        """Largest limit order the exchange accepts (shares)."""
        return {STAR: 100_000, CHINEXT: 300_000, BSE: 1_000_000}.get(self.board, 1_000_000)

    def limit_pct(self, day: date) -> float:
        if self.board == BSE:
            return 0.30
        if self.board in (STAR, CHINEXT):
            return 0.20
        if self.st:
            return 0.10 if day >= ST_WIDE_FROM else 0.05
        return 0.10

    def limits(self, last_close: float, day: date) -> tuple[float, float]:
        """(limit_down, limit_up) rounded half-up to the 0.01 tick."""
        pct = Decimal(str(self.limit_pct(day)))
        base = Decimal(str(last_close))
        up = (base * (1 + pct)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        down = (base * (1 - pct)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return float(max(down, Decimal("0.01"))), float(up)


def board_of(code: str) -> str | None:
    """The board of an A-share stock code like '600000.SH', or None if not a stock code."""
    if not isinstance(code, str) or len(code) != 9 or code[6] != ".":
        return None
    num, mkt = code[:6], code[7:]
    if not num.isdigit():
        return None
    if mkt == "SH":
        if num[:3] in ("600", "601", "603", "605"):
            return MAIN
        if num[:3] in ("688", "689"):
            return STAR
    elif mkt == "SZ":
        if num[:3] in ("000", "001", "002", "003"):
            return MAIN
        if num[:3] in ("300", "301", "302"):
            return CHINEXT
    elif mkt == "BJ":
        if num[:2] in ("43", "83", "87") or num[:3] == "920":
            return BSE
    return None


def derived_price(code: str) -> float:
    """A stable reference price in [3, 80) CNY for a code not in the universe."""
    h = int.from_bytes(hashlib.sha256(code.encode()).digest()[:4], "big")
    return round(3.0 + (h % 7700) / 100.0, 2)


class Universe:
    """Lookup of instruments: built-ins, config overrides, then code ranges."""

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._table: dict[str, tuple[str, float, bool]] = {
            c: (n, p, n.upper().startswith(("ST", "*ST"))) for c, (n, p) in BUILTIN.items()
        }
        for code, o in (overrides or {}).items():
            name, price, st = self._table.get(code, (code[:6], derived_price(code), False))
            name = str(o.get("name", name))
            self._table[code] = (
                name,
                float(o.get("price", price)),
                bool(o.get("st", name.upper().startswith(("ST", "*ST")))),
            )

    def get(self, code: str) -> Instrument | None:
        board = board_of(code)
        if board is None:
            return None
        name, price, st = self._table.get(code, (code[:6], derived_price(code), False))
        return Instrument(code=code, name=name, board=board, ref_price=price, st=st)

    def codes(self, market: str | None = None) -> list[str]:
        """The listed codes (built-in and configured), optionally of one market."""
        return sorted(c for c in self._table if board_of(c) and (market is None or c.endswith("." + market)))
