"""A-share order rules: which requests the exchange accepts, and why not.

Pure functions over plain values so each rule can be read and tested on its
own; the exchange calls `check_order` under its lock and turns a `Reject` into
an ORDER_JUNK order plus `on_order_error`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hub.sim import errors as E
from hub.sim.errors import Reject, reject
from hub.sim.universe import Instrument
from rpc_client.ashare import LIMIT_TYPES, MARKET_TYPES, PRICE_TYPE_NAMES  # noqa: F401 (the rules' one home)


def is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def whole_volume(volume: object, code: str) -> int:
    """The volume as an int, or a BAD_ARGUMENT rejection (negative, zero, fractional, not a number)."""
    if not is_number(volume) or not math.isfinite(volume) or int(volume) != volume:
        raise reject(E.BAD_ARGUMENT, code, "委托数量错误", f"order_volume must be a whole number, got {volume!r}")
    if volume <= 0:
        raise reject(E.BAD_ARGUMENT, code, "委托数量错误", f"order_volume must be > 0, got {volume!r}")
    return int(volume)


def check_price_type(inst: Instrument, price_type: object) -> int:
    if not is_number(price_type) or int(price_type) != price_type:
        raise reject(E.BAD_ARGUMENT, inst.code, "报价类型错误", f"price_type must be an int, got {price_type!r}")
    pt = int(price_type)
    if pt in LIMIT_TYPES or pt in MARKET_TYPES[inst.market]:
        return pt
    name = PRICE_TYPE_NAMES.get(pt, str(pt))
    valid_on = [m for m, types in MARKET_TYPES.items() if pt in types]
    where = f"valid only on {'/'.join(valid_on)}" if valid_on else "not a stock price type"
    raise reject(E.BAD_PRICE_TYPE, inst.code, "报价类型不支持",
                 f"price type {name} is not valid on {inst.market} ({where})")


def check_limit_price(inst: Instrument, price: object, limit_down: float, limit_up: float) -> float:
    """A FIX_PRICE price: a finite positive number on the instrument's tick (0.01; ETFs and
    bonds 0.001) inside the daily limits."""
    if not is_number(price) or not math.isfinite(price) or price <= 0:
        raise reject(E.BAD_ARGUMENT, inst.code, "委托价格错误", f"price must be a finite number > 0, got {price!r}")
    scale = 10 ** inst.decimals
    steps = round(price * scale)
    if abs(price * scale - steps) > 1e-6 * scale / 100:
        raise reject(E.BAD_PRICE_TICK, inst.code, "委托价格不符合最小价格变动单位",
                     f"price {price!r} is not a multiple of the {inst.tick:g} tick")
    p = round(steps / scale, inst.decimals)
    d = inst.decimals
    if p < limit_down - 1e-9 or p > limit_up + 1e-9:
        raise reject(E.PRICE_OUT_OF_LIMITS, inst.code, "委托价格超出涨跌停范围",
                     f"price {p:.{d}f} outside today's limits [{limit_down:.{d}f}, {limit_up:.{d}f}]")
    return p


def check_buy_volume(inst: Instrument, volume: int) -> None:
    if volume > inst.max_order_volume:
        raise reject(E.BAD_VOLUME, inst.code, "委托数量超过上限",
                     f"{volume} shares exceeds the {inst.max_order_volume}-share maximum per order")
    if volume < inst.buy_min or (volume - inst.buy_min) % inst.buy_step:
        rule = (f"at least {inst.buy_min} shares, then steps of {inst.buy_step}" if inst.buy_step == 1
                else f"a multiple of {inst.buy_step} shares")
        raise reject(E.BAD_VOLUME, inst.code, "委托数量不符合交易单位", f"buy volume {volume} must be {rule}")


def check_sell_volume(inst: Instrument, volume: int, can_use: int) -> None:
    """Sellable volume (T+1) first, then lot rules: odd lots only as the whole odd remainder."""
    if volume > can_use:
        raise reject(E.NO_VOLUME, inst.code, "可用股份不足",
                     f"sell {volume} but only {can_use} shares sellable (shares bought today settle T+1)")
    if volume > inst.max_order_volume:
        raise reject(E.BAD_VOLUME, inst.code, "委托数量超过上限",
                     f"{volume} shares exceeds the {inst.max_order_volume}-share maximum per order")
    if inst.lot == 10:  # convertible bonds: multiples of 10, an odd remainder only as a whole
        if volume % 10 and volume % 10 != can_use % 10:
            raise reject(E.BAD_VOLUME, inst.code, "委托数量不符合交易单位",
                         f"sell volume {volume} must be a multiple of 10, or include the whole odd remainder "
                         f"of {can_use % 10}")
        return
    if inst.buy_step == 1:  # STAR / BSE: minimum then steps of 1; below the minimum only to close
        if volume < inst.buy_min and volume != can_use:
            raise reject(E.BAD_VOLUME, inst.code, "委托数量不符合交易单位",
                         f"sell volume {volume} below {inst.buy_min} allowed only to sell all {can_use} sellable")
        return
    if volume % 100 and volume % 100 != can_use % 100:
        raise reject(E.BAD_VOLUME, inst.code, "零股须一次性卖出",
                     f"sell volume {volume} must be a multiple of 100, or include the whole odd lot "
                     f"of {can_use % 100} shares")


@dataclass(frozen=True)
class Checked:
    """An order request that passed the argument checks."""

    volume: int
    price_type: int
    price: float
