"""Which codes exist, what board they trade on, and their reference prices.

A code outside the built-in list is still tradable when it falls in an A-share
stock, ETF or convertible-bond code range; its reference price is derived from
the code so every run and every process agrees on it. Indexes have quotes only.

Each kind has its own rules (`Instrument`): stocks trade in lots of 100 on a
0.01 tick and settle T+1; ETFs (51/56/58xxxx.SH, 159xxx.SZ) on a 0.001 tick, T+1;
convertible bonds (110/111/113/118xxx.SH, 123/127/128xxx.SZ) in lots of 10 on a
0.001 tick, T+0, with a ±20 % band; indexes (000xxx.SH, 399xxx.SZ) cannot be
ordered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from rpc_client import ashare
# the exchange's rules live in one leaf (rpc_client/ashare.py); these names stay importable from here
from rpc_client.ashare import (  # noqa: F401
    BOND, BSE, CHINEXT, ETF, INDEX, MAIN, STAR, ST_WIDE_FROM, STOCK_BOARDS, WIDE_ETFS, board_of, kind_of,
)


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
    # ETFs
    "510300.SH": ("沪深300ETF", 3.900), "510050.SH": ("上证50ETF", 2.700), "510500.SH": ("中证500ETF", 6.000),
    "512880.SH": ("证券ETF", 1.000), "588000.SH": ("科创50ETF", 1.000), "159915.SZ": ("创业板ETF", 2.000),
    "159919.SZ": ("沪深300ETF", 3.900),
    # indexes (quotes only)
    "000001.SH": ("上证指数", 3300.00), "000300.SH": ("沪深300", 3900.00), "000016.SH": ("上证50", 2700.00),
    "000905.SH": ("中证500", 6000.00), "000688.SH": ("科创50", 1000.00), "399001.SZ": ("深证成指", 10500.00),
    "399006.SZ": ("创业板指", 2100.00),
    # convertible bonds
    "113050.SH": ("南银转债", 120.000), "113052.SH": ("兴业转债", 110.000), "110059.SH": ("浦发转债", 105.000),
    "118000.SH": ("嘉元转债", 115.000), "127045.SZ": ("牧原转债", 120.000), "123107.SZ": ("温氏转债", 125.000),
}


@dataclass(frozen=True)
class Instrument:
    """Static facts about one instrument for the day."""

    code: str
    name: str
    board: str
    ref_price: float
    st: bool = False

    @property
    def market(self) -> str:
        return self.code.rsplit(".", 1)[1]

    @property
    def kind(self) -> str:
        """'stock', 'etf', 'index' or 'bond'."""
        return self.board if self.board in (ETF, INDEX, BOND) else "stock"

    @property
    def tradable(self) -> bool:
        return self.board != INDEX

    @property
    def tick(self) -> float:
        """Smallest price step."""
        return ashare.tick_of(self.board)

    @property
    def decimals(self) -> int:
        return ashare.decimals_of(self.board)

    @property
    def lot(self) -> int:
        """Shares (bonds: 张) per 手, the unit of tick volumes."""
        return ashare.lot_of(self.board)

    @property
    def t_plus_zero(self) -> bool:
        """Bought today, sellable today (convertible bonds)."""
        return self.board == BOND

    @property
    def buy_min(self) -> int:
        """Smallest buy order (shares)."""
        return ashare.buy_min(self.board)

    @property
    def buy_step(self) -> int:
        """Buy volumes above the minimum move in steps of this many shares."""
        return ashare.buy_step(self.board)

    @property
    def max_order_volume(self) -> int:
        """Largest limit order the exchange accepts (shares)."""
        return ashare.max_order_volume(self.board)

    def limit_pct(self, day: date) -> float:
        return ashare.limit_pct(self.board, self.code, self.st, day)

    def limits(self, last_close: float, day: date) -> tuple[float, float]:
        """(limit_down, limit_up) rounded half-up to the tick."""
        return ashare.limits(last_close, self.limit_pct(day), self.tick)


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
        board = kind_of(code)
        if board is None:
            return None
        name, price, st = self._table.get(code, (code[:6], self._derived(code, board), False))
        return Instrument(code=code, name=name, board=board, ref_price=price, st=st)

    @staticmethod
    def _derived(code: str, board: str) -> float:
        p = derived_price(code)
        if board == ETF:
            return round(p / 20, 3)  # ETFs trade around 0.15-4 CNY
        if board == BOND:
            return round(100 + p / 2, 3)  # bonds around par
        if board == INDEX:
            return round(p * 100, 2)
        return p

    def codes(self, market: str | None = None, kinds: tuple[str, ...] | None = None) -> list[str]:
        """The listed codes (built-in and configured), optionally of one market and of some boards."""
        return sorted(c for c in self._table if kind_of(c) and (market is None or c.endswith("." + market))
                      and (kinds is None or kind_of(c) in kinds))
