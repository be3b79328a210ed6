"""The A-share exchange rules, stated once: boards, lots, ticks, price limits, price types per market.

A leaf (the standard library and `rpc_client.xt`'s constants only), so the hub's pre-trade checks, the
simulator and a strategy runner can all import it: the rules are the exchanges' published
ones, not any one component's. Codes are xtquant's ('600000.SH').

- Boards: SH main (600/601/603/605) and STAR (688/689); SZ main (000-003) and ChiNext
  (300-302); BJ (43/83/87, 920). Besides stocks: ETFs (51/56/58xxxx.SH, 159xxx.SZ), convertible
  bonds (110/111/113/118xxx.SH, 123/127/128xxx.SZ) and indexes (000xxx.SH, 399xxx.SZ; quotes only).
- Lots: buys in 100s (STAR: at least 200, then steps of 1; BJ: at least 100, steps of 1;
  bonds: 10s); a sell's odd lot only as the whole odd remainder.
- Ticks: 0.01 (ETFs and bonds 0.001). Limits: ±10 % (ST ±5 %, ±10 % from 2026-07-06), STAR and
  ChiNext ±20 %, BJ ±30 %, bonds ±20 %, ETFs as their index's board; half-up to the tick.
- Price types: FIX_PRICE and LATEST_PRICE everywhere; the market types valid per market below.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rpc_client import xt as C  # xtquant's constants, spelled once (no xtquant import)

MAIN, STAR, CHINEXT, BSE = "main", "star", "chinext", "bse"
ETF, INDEX, BOND = "etf", "index", "bond"
STOCK_BOARDS = (MAIN, STAR, CHINEXT, BSE)

#: ST main-board limit widens from 5 % to 10 % on this date (exchange rule change)
ST_WIDE_FROM = date(2026, 7, 6)
#: an ETF that tracks a STAR or ChiNext index has their ±20 % band
WIDE_ETFS = ("588", "159915", "159952", "159948")

LIMIT_TYPES = frozenset({C.FIX_PRICE, C.LATEST_PRICE})
#: exchange market-order price types valid per market (SH rules also apply to BJ)
MARKET_TYPES: dict[str, frozenset[int]] = {
    "SH": frozenset({C.MARKET_SH_CONVERT_5_CANCEL, C.MARKET_SH_CONVERT_5_LIMIT,
                     C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST}),
    "BJ": frozenset({C.MARKET_SH_CONVERT_5_CANCEL, C.MARKET_SH_CONVERT_5_LIMIT,
                     C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST}),
    "SZ": frozenset({C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST, C.MARKET_SZ_INSTBUSI_RESTCANCEL,
                     C.MARKET_SZ_CONVERT_5_CANCEL, C.MARKET_SZ_FULL_OR_CANCEL}),
}
PRICE_TYPE_NAMES = {
    C.LATEST_PRICE: "LATEST_PRICE", C.FIX_PRICE: "FIX_PRICE",
    C.MARKET_SH_CONVERT_5_CANCEL: "MARKET_SH_CONVERT_5_CANCEL",
    C.MARKET_SH_CONVERT_5_LIMIT: "MARKET_SH_CONVERT_5_LIMIT",
    C.MARKET_PEER_PRICE_FIRST: "MARKET_PEER_PRICE_FIRST", C.MARKET_MINE_PRICE_FIRST: "MARKET_MINE_PRICE_FIRST",
    C.MARKET_SZ_INSTBUSI_RESTCANCEL: "MARKET_SZ_INSTBUSI_RESTCANCEL",
    C.MARKET_SZ_CONVERT_5_CANCEL: "MARKET_SZ_CONVERT_5_CANCEL",
    C.MARKET_SZ_FULL_OR_CANCEL: "MARKET_SZ_FULL_OR_CANCEL",
}


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


def kind_of(code: str) -> str | None:
    """The board of any listed instrument: a stock board (`board_of`), or ETF, INDEX or BOND; None
    if the code is none of them."""
    board = board_of(code)
    if board is not None:
        return board
    if not isinstance(code, str) or len(code) != 9 or code[6] != "." or not code[:6].isdigit():
        return None
    num, mkt = code[:6], code[7:]
    if mkt == "SH":
        if num[:2] in ("51", "56", "58"):
            return ETF
        if num[:3] in ("110", "111", "113", "118"):
            return BOND
        if num[:3] == "000":
            return INDEX
    elif mkt == "SZ":
        if num[:3] == "159":
            return ETF
        if num[:3] in ("123", "127", "128"):
            return BOND
        if num[:3] == "399":
            return INDEX
    return None


def tick_of(board: str | None) -> float:
    """Smallest price step."""
    return 0.001 if board in (ETF, BOND) else 0.01


def decimals_of(board: str | None) -> int:
    return 3 if board in (ETF, BOND) else 2


def lot_of(board: str | None) -> int:
    """Shares (bonds: 张) per 手, the unit of tick volumes."""
    return 10 if board == BOND else 100


def buy_min(board: str | None) -> int:
    """Smallest buy order (shares)."""
    return {STAR: 200, BOND: 10}.get(board or "", 100)


def buy_step(board: str | None) -> int:
    """Buy volumes above the minimum move in steps of this many shares."""
    return {STAR: 1, BSE: 1, BOND: 10}.get(board or "", 100)


def max_order_volume(board: str | None) -> int:
    """Largest limit order the exchange accepts (shares)."""
    return {STAR: 100_000, CHINEXT: 300_000, BSE: 1_000_000, BOND: 100_000}.get(board or "", 1_000_000)


def limit_pct(board: str | None, code: str = "", st: bool = False, day: date | None = None) -> float:
    """The daily price band of an instrument (`day` decides the ST rate; None: today's rule)."""
    if board == BSE:
        return 0.30
    if board in (STAR, CHINEXT, BOND):
        return 0.20
    if board == ETF:
        return 0.20 if code.startswith(WIDE_ETFS) else 0.10
    if board == INDEX:
        return 0.20  # no band: the simulator's walk bound only
    if st:
        return 0.10 if (day or date.today()) >= ST_WIDE_FROM else 0.05
    return 0.10


def limits(last_close: float, pct: float, tick: float = 0.01) -> tuple[float, float]:
    """(limit_down, limit_up) from yesterday's close and the band, half-up to the tick (at least one tick)."""
    step = Decimal("0.001") if tick < 0.01 else Decimal("0.01")
    p = Decimal(str(pct))
    base = Decimal(str(last_close))
    up = (base * (1 + p)).quantize(step, ROUND_HALF_UP)
    down = (base * (1 - p)).quantize(step, ROUND_HALF_UP)
    return float(max(down, step)), float(up)


def price_type_ok(code: str, price_type: int) -> bool:
    """Whether the price type may be used on the code's market."""
    return price_type in LIMIT_TYPES or price_type in MARKET_TYPES.get(code[-2:], frozenset())
