"""A-share static rules as the risk checks use them: the rules of `rpc_client/ashare.py` (stated
once, shared with the simulator), with the per-order look-ups cached, since they run on every order.

Stocks only: funds' and bonds' lots and ticks are left to the broker (`checks.py`).
"""

from __future__ import annotations

from rpc_client import ashare
from rpc_client import xt as C

BUY, SELL = C.STOCK_BUY, C.STOCK_SELL
MAIN, STAR, CHINEXT, BSE = ashare.MAIN, ashare.STAR, ashare.CHINEXT, ashare.BSE
LIMIT_TYPES = ashare.LIMIT_TYPES
MARKET_TYPES = ashare.MARKET_TYPES
price_type_ok = ashare.price_type_ok
_board_of = ashare.board_of


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


def is_bond(code: str) -> bool:
    """Convertible bonds: T+0, lots of 10, 0.001 tick."""
    return ashare.kind_of(code) == ashare.BOND


def t_plus_zero(code: str) -> bool:
    """Bought today, sellable today."""
    return is_bond(code)


def limit_pct(board: str | None) -> float:
    """The daily price limit of a stock board (ST stocks are not known here: the wider main-board rate)."""
    return ashare.limit_pct(board)


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
    return ashare.limits(last_close, ashare.limit_pct(board))


_LOTS = {b: (ashare.buy_min(b), ashare.buy_step(b)) for b in (None, *ashare.STOCK_BOARDS)}


def buy_lot(board: str | None) -> tuple[int, int]:
    """(minimum, step) of a buy volume (per board, worked out once)."""
    got = _LOTS.get(board)
    return got if got is not None else (ashare.buy_min(board), ashare.buy_step(board))


_FACTS: dict[tuple[str, int], tuple[str | None, bool, bool, int, int]] = {}


def facts(code: str, price_type: int) -> tuple[str | None, bool, bool, int, int]:
    """(board, priced by the market, price type valid on the code's market, buy lot minimum, step) of a
    code and price type: what the static check asks of every order, worked out once per pair."""
    got = _FACTS.get((code, price_type))
    if got is None:
        if len(_FACTS) > 50000:
            _FACTS.clear()
        board = board_of(code)
        lo, step = buy_lot(board)
        got = _FACTS[(code, price_type)] = (board, is_market(price_type), price_type_ok(code, price_type), lo, step)
    return got


def is_market(price_type: int) -> bool:
    """Priced by the market, not by the order: market types and LATEST_PRICE (最新价, the price of the
    moment it executes). Reserved at the day's limit-up; crosses any resting opposite order."""
    return price_type not in C.PRICED_TYPES


def on_tick(price: float) -> bool:
    return abs(price * 100 - round(price * 100)) <= 1e-6
