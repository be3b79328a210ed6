"""The pre-trade checks, one function each, run in the documented order (docs/risk.md).

Why functions over plain values: each check reads the order, the strategy's limits and the
in-memory state it needs (ledger, resting orders, rate windows, last prices) and either
passes or raises `Refusal(check, limit, value, message)`; no broker query, no SQL. The order
is the list `ORDER`; `RiskEngine.evaluate` runs it and the tests trip each entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.risk import market as M
from hub.risk.ledger import BUY, SELL, yuan

if TYPE_CHECKING:  # pragma: no cover
    from hub.risk.engine import RiskEngine
    from hub.risk.config import RiskSettings, StrategyLimits
    from hub.risk.selftrade import Resting


class Refusal(Exception):
    """A check said no: RISK_REJECTED (or RATE_LIMITED) with data {check, limit, value, strategy}."""

    def __init__(self, check: str, limit: Any, value: Any, message: str, rate: bool = False,
                 extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.check, self.limit, self.value, self.message, self.rate = check, limit, value, message, rate
        self.extra = extra or {}

    @property
    def code(self) -> str:
        """The wire error code: RATE_LIMITED for the rate checks, else RISK_REJECTED."""
        return "RATE_LIMITED" if self.rate else "RISK_REJECTED"


class Order:
    """One order request as the checks see it (a slotted class: one is made per order)."""

    __slots__ = ("strategy", "code", "side", "volume", "price_type", "price", "board", "market", "ref_price",
                 "cash", "notional", "pool_shares", "crossing")

    def __init__(self, strategy: str, code: str, side: int, volume: int, price_type: int, price: float) -> None:
        self.strategy, self.code, self.side, self.volume = strategy, code, side, volume
        self.price_type, self.price = price_type, price
        # filled in by the checks
        self.board: str | None = None
        self.market = False
        self.ref_price = 0.0  # price used for reservations and notional (limit-up for a market buy)
        self.cash = 0  # cents to reserve (buys)
        self.notional = 0  # cents
        self.pool_shares = False
        self.crossing: "list[Resting] | tuple[()]" = ()  # set by the self-trade check (cancel_resting)


def _money(c: int) -> str:
    return f"{yuan(c):,.2f}"


# ---- 2: the trading switch ------------------------------------------------------------------
def check_trading(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if e.settings.trading == "off":
        raise Refusal("trading", "off", "order", "trading is off ([risk] trading = \"off\"): every new order is "
                                                 "refused")


# ---- 3: static validity -----------------------------------------------------------------------
def check_static(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if o.side != BUY and o.side != SELL:  # always, whatever static_checks says: nothing below knows a third side
        raise Refusal("order_type", [BUY, SELL], o.side, f"order_type must be STOCK_BUY ({BUY}) or "
                                                         f"STOCK_SELL ({SELL}), got {o.side}")
    board, market, type_ok, lo, step = M.facts(o.code, o.price_type)  # one look-up per order
    o.board, o.market = board, market
    ref = e.reference(o.code)
    last, last_close = ref if ref is not None else (0.0, 0.0)
    if e.settings.static_checks:
        if not type_ok:
            raise Refusal("price_type", sorted(M.LIMIT_TYPES | M.MARKET_TYPES.get(o.code[-2:], frozenset())),
                          o.price_type, f"price type {o.price_type} is not valid on {o.code[-2:]}")
        if o.side == BUY and board is not None:
            if o.volume < lo or (o.volume - lo) % step:
                rule = f"a multiple of {step}" if step > 1 else f"at least {lo}, then steps of {step}"
                raise Refusal("lot", lo if step == 1 else step, o.volume,
                              f"buy volume {o.volume} of {o.code} must be {rule} shares")
        if not market and board is not None:  # stocks: 0.01 tick (funds and bonds: 0.001, the broker's)
            cents = o.price * 100
            if abs(cents - round(cents)) > 1e-6 or o.price <= 0:  # M.on_tick, inline
                raise Refusal("tick", 0.01, o.price, f"price {o.price!r} is not a positive multiple of the 0.01 tick")
            if last_close > 0:
                down, up = M.limits(last_close, board)
                if o.price < down - 1e-9 or o.price > up + 1e-9:
                    raise Refusal("limit_price", [down, up], o.price,
                                  f"price {o.price:.2f} outside today's limits [{down:.2f}, {up:.2f}] of {o.code}")
    if market:
        if last_close <= 0 and last <= 0 and o.side == BUY:
            ref = e.reference_once(o.code)  # no tick in memory: one look-up per code and day
            last, last_close = ref if ref is not None else (0.0, 0.0)
        if last_close > 0:
            o.ref_price = M.limits(last_close, o.board)[1 if o.side == BUY else 0]
        elif last > 0:
            o.ref_price = round(last * (1 + M.limit_pct(o.board)), 2) if o.side == BUY else last
        else:
            o.ref_price = o.price
        if o.side == BUY and o.ref_price <= 0:
            raise Refusal("market_price", "a limit-up or last price", 0,
                          f"a market buy of {o.code} needs the day's limit-up or last price to reserve cash, and the "
                          f"hub has no quote of it: subscribe the code or send a limit order")
    else:
        o.ref_price = o.price
    o.notional = int(round(o.ref_price * o.volume * 100))


# ---- 4: price band against the last price ------------------------------------------------------
def check_price_band(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    pct = e.settings.price_band_pct
    if pct <= 0 or o.market or o.price_type != M.C.FIX_PRICE:
        return
    ref = e.reference(o.code)
    if ref is None or ref[0] <= 0:
        return
    off = abs(o.price - ref[0]) / ref[0] * 100
    if off > pct + 1e-9:
        raise Refusal("price_band", pct, round(off, 4),
                      f"price {o.price:.2f} is {off:.2f}% from the last price {ref[0]:.2f}; the band is {pct:g}%")


# ---- 5: the sleeve ------------------------------------------------------------------------------
def check_sleeve(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    led = e.ledger
    sleeve = led.sleeve(o.strategy)
    if o.side == BUY:
        if e.settings.require_allotment and not sleeve.has_cash:
            raise Refusal("sleeve_cash", 0, yuan(e.fees.buy_cash(o.notional)),
                          f"{o.strategy} has no cash allotment and require_allotment is on")
        o.cash = e.fees.buy_cash(o.notional)
        src = sleeve if sleeve.has_cash else led.pool  # Ledger.cash_source, inline
        free = src.cash - src.reserved_cash
        if o.cash > free:
            where = "its cash" if sleeve.has_cash else "the unallotted pool"
            raise Refusal("sleeve_cash", yuan(free), yuan(o.cash),
                          f"buy {o.volume} {o.code} needs {_money(o.cash)} (price x volume + fees) but {where} has "
                          f"{_money(free)} free for {o.strategy}")
    else:
        o.pool_shares = not e.settings.require_allotment
        own, pool = led.free_shares(o.strategy, o.code, o.pool_shares)
        if o.volume > own + pool:
            whose = f"{o.strategy} owns {own} sellable" + (f" and the pool has {pool}" if pool else "")
            raise Refusal("sleeve_position", own + pool, o.volume,
                          f"sell {o.volume} {o.code}: {whose} (shares bought today settle T+1; open sells count)")


# ---- 6: per-order limits ------------------------------------------------------------------------
def check_per_order(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if lim.max_order_volume and o.volume > lim.max_order_volume:
        raise Refusal("max_order_volume", lim.max_order_volume, o.volume,
                      f"order volume {o.volume} exceeds max_order_volume {lim.max_order_volume}")
    if lim.max_order_notional and o.notional > lim.max_order_notional * 100 + 1e-6:
        raise Refusal("max_order_notional", lim.max_order_notional, yuan(o.notional),
                      f"order notional {_money(o.notional)} exceeds max_order_notional {lim.max_order_notional:,.2f}")


# ---- 7: daily limits ----------------------------------------------------------------------------
def check_daily(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    s = e.ledger.sleeve(o.strategy)
    if lim.max_daily_orders and s.orders_today + 1 > lim.max_daily_orders:
        raise Refusal("max_daily_orders", lim.max_daily_orders, s.orders_today + 1,
                      f"this would be order {s.orders_today + 1} today; max_daily_orders is {lim.max_daily_orders}")
    if lim.max_daily_volume and s.volume_today + o.volume > lim.max_daily_volume:
        raise Refusal("max_daily_volume", lim.max_daily_volume, s.volume_today + o.volume,
                      f"volume today would be {s.volume_today + o.volume}; max_daily_volume is {lim.max_daily_volume}")
    if lim.max_daily_notional and s.notional_today + o.notional > lim.max_daily_notional * 100 + 1e-6:
        total = s.notional_today + o.notional
        raise Refusal("max_daily_notional", lim.max_daily_notional, yuan(total),
                      f"notional today would be {_money(total)}; max_daily_notional is {lim.max_daily_notional:,.2f}")
    if lim.max_daily_cancels and s.cancels_today >= lim.max_daily_cancels:
        raise Refusal("max_daily_cancels", lim.max_daily_cancels, s.cancels_today,
                      f"{s.cancels_today} cancels today reached max_daily_cancels {lim.max_daily_cancels}: no new "
                      f"orders (cancels still pass)")


# ---- 8: symbols and price types -----------------------------------------------------------------
def check_lists(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if lim.symbols_allow and o.code not in lim.symbols_allow:
        raise Refusal("symbols_allow", list(lim.symbols_allow), o.code, f"{o.code} is not in symbols_allow")
    if lim.symbols_block and o.code in lim.symbols_block:
        raise Refusal("symbols_block", list(lim.symbols_block), o.code, f"{o.code} is in symbols_block")
    if lim.price_types and o.price_type not in lim.price_types:
        raise Refusal("price_types", list(lim.price_types), o.price_type,
                      f"price type {o.price_type} is not in this strategy's price_types {lim.price_types}")


# ---- 9: open orders -----------------------------------------------------------------------------
def check_open_orders(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if lim.max_open_orders:
        n = e.ledger.open_orders(o.strategy) + e.held_count(o.strategy)
        if n + 1 > lim.max_open_orders:
            raise Refusal("max_open_orders", lim.max_open_orders, n + 1,
                          f"{n} open orders; max_open_orders is {lim.max_open_orders}")


# ---- 10: self-trade prevention ------------------------------------------------------------------
def check_self_trade(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    if not e.resting.by_side.get((o.code, SELL if o.side == BUY else BUY)):
        return  # no resting opposite order of the code (the usual case): nothing to scan
    crossing = e.resting.crossing(o.code, o.side, o.ref_price, o.market)
    if not crossing:
        return
    for c in crossing:  # the broker may have numbered it before its first push arrived
        if c.order_id is None:
            c.order_id = e.order_id_of(c.key)
    r = crossing[0]
    named = f"order {r.order_id}" if r.order_id else "order (still waiting for its id)"
    resting = [c.view() for c in crossing]
    if e.settings.self_trade == "cancel_resting" and all(c.order_id for c in crossing):
        o.crossing = crossing
        return
    side = "buy" if o.side == BUY else "sell"
    price = "at market" if o.market else f"at {o.price:.2f}"
    raise Refusal("self_trade", e.settings.self_trade, r.order_id,
                  f"{side} {o.code} {price} would trade with the account's own resting {named} of {r.owner} "
                  f"({r.view()['side']} {'at market' if r.market else f'at {r.price:.2f}'})",
                  extra={"resting": resting})


# ---- 11: rate ------------------------------------------------------------------------------------
def check_rate(e: "RiskEngine", o: Order, lim: "StrategyLimits") -> None:
    hit = e.rate.order_refusal(o.strategy, lim.max_actions_per_second, e.now)
    if hit is not None:
        check, limit, value = hit
        what = "this strategy's" if check == "max_actions_per_second" else "the account's"
        unit = "per day" if check.endswith("day") else "per second"
        raise Refusal(check, limit, value, f"{what} {check} {limit} {unit} reached ({value} with this order; "
                                           f"orders and cancels count, cancels keep the headroom)", rate=True)


#: The documented order (docs/risk.md); identity, idempotency and halts run before risk.
ORDER = (check_trading, check_static, check_price_band, check_sleeve, check_per_order, check_daily, check_lists,
         check_open_orders, check_self_trade, check_rate)


def active(settings: "RiskSettings", lim: "StrategyLimits") -> tuple:
    """The checks of `ORDER` that can refuse an order under these settings and limits, in the same order.

    A check whose limit is off (0, empty) could only pass, so it is left out: a strategy's checks
    cost what its limits ask for. The engine keeps this tuple per strategy and builds it again when
    the strategy's limits change (`hub limits set`, a restore); the `[risk]` settings are fixed
    while the hub runs. `check_static` (it prices the order), `check_sleeve`, `check_self_trade`
    and `check_rate` (the account's guard) always run.
    """
    can_refuse = {
        check_trading: settings.trading == "off",
        check_price_band: settings.price_band_pct > 0,
        check_per_order: bool(lim.max_order_volume or lim.max_order_notional),
        check_daily: bool(lim.max_daily_orders or lim.max_daily_volume or lim.max_daily_notional
                          or lim.max_daily_cancels),
        check_lists: bool(lim.symbols_allow or lim.symbols_block or lim.price_types),
        check_open_orders: bool(lim.max_open_orders),
    }
    return tuple(c for c in ORDER if can_refuse.get(c, True))
