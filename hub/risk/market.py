"""A-share static rules the hub checks before the broker does: board, lot, tick, limits, price types.

Why here and not imported from the simulator: `hub.sim` is a broker, the hub must not import
it (the live path has no simulator). These are the exchange's published rules, small enough to
state twice; `tests/risk/test_market.py` keeps them in step with the simulator's.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from rpc_client import xt as C  # the one vocabulary module (importing xtquant prints and costs ~1 s)

BUY, SELL = C.STOCK_BUY, C.STOCK_SELL
MAIN, STAR, CHINEXT, BSE = "main", "star", "chinext", "bse"

LIMIT_TYPES = frozenset({C.FIX_PRICE, C.LATEST_PRICE})
MARKET_TYPES: dict[str, frozenset[int]] = {
    "SH": frozenset({C.MARKET_SH_CONVERT_5_CANCEL, C.MARKET_SH_CONVERT_5_LIMIT,
                     C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST}),
    "BJ": frozenset({C.MARKET_SH_CONVERT_5_CANCEL, C.MARKET_SH_CONVERT_5_LIMIT,
                     C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST}),
    "SZ": frozenset({C.MARKET_PEER_PRICE_FIRST, C.MARKET_MINE_PRICE_FIRST, C.MARKET_SZ_INSTBUSI_RESTCANCEL,
                     C.MARKET_SZ_CONVERT_5_CANCEL, C.MARKET_SZ_FULL_OR_CANCEL}),
}


_BOARDS: dict[str, str | None] = {}


def board_of(code: str) -> str | None:
    """The board of an A-share stock code like '600000.SH', or None (not a stock code we know)."""
    try:
        return _BOARDS[code]
    except KeyError:
        if len(_BOARDS) > 50000:
            _BOARDS.clear()
        b = _BOARDS[code] = _board_of(code)
        return b


def _board_of(code: str) -> str | None:
    if len(code) != 9 or code[6] != ".":
        return None
    num, mkt = code[:6], code[7:]
    if not num.isdigit():
        return None
    head3 = num[:3]
    if mkt == "SH":
        return MAIN if head3 in ("600", "601", "603", "605") else STAR if head3 in ("688", "689") else None
    if mkt == "SZ":
        return MAIN if head3 in ("000", "001", "002", "003") else CHINEXT if head3 in ("300", "301", "302") \
            else None
    if mkt == "BJ":
        return BSE if num[:2] in ("43", "83", "87") or head3 == "920" else None
    return None


def is_bond(code: str) -> bool:
    """Convertible bonds (110/111/113/118xxx.SH, 123/127/128xxx.SZ): T+0, lots of 10, 0.001 tick."""
    return len(code) == 9 and ((code.endswith(".SH") and code[:3] in ("110", "111", "113", "118"))
                               or (code.endswith(".SZ") and code[:3] in ("123", "127", "128")))


def t_plus_zero(code: str) -> bool:
    """Bought today, sellable today."""
    return is_bond(code)


def limit_pct(board: str | None) -> float:
    """The daily price limit of a board (ST stocks are not known here: the wider main-board rate)."""
    return {BSE: 0.30, STAR: 0.20, CHINEXT: 0.20}.get(board or "", 0.10)


_LIMITS: dict[tuple[float, str | None], tuple[float, float]] = {}


def limits(last_close: float, board: str | None) -> tuple[float, float]:
    """(limit_down, limit_up) from yesterday's close, half-up to the 0.01 tick (cached: closes repeat all day)."""
    key = (last_close, board)
    got = _LIMITS.get(key)
    if got is None:
        if len(_LIMITS) > 20000:
            _LIMITS.clear()
        got = _LIMITS[key] = _limits(last_close, board)
    return got


def _limits(last_close: float, board: str | None) -> tuple[float, float]:
    pct = Decimal(str(limit_pct(board)))
    base = Decimal(str(last_close))
    up = (base * (1 + pct)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    down = (base * (1 - pct)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(max(down, Decimal("0.01"))), float(up)


def buy_lot(board: str | None) -> tuple[int, int]:
    """(minimum, step) of a buy volume."""
    if board == STAR:
        return 200, 1
    if board == BSE:
        return 100, 1
    return 100, 100


def is_market(price_type: int) -> bool:
    """Priced by the market, not by the order: market types and LATEST_PRICE (最新价, the price of the
    moment it executes). Reserved at the day's limit-up; crosses any resting opposite order."""
    return price_type not in C.PRICED_TYPES


def price_type_ok(code: str, price_type: int) -> bool:
    return price_type in LIMIT_TYPES or price_type in MARKET_TYPES.get(code[-2:], frozenset())


def on_tick(price: float) -> bool:
    return abs(price * 100 - round(price * 100)) <= 1e-6
