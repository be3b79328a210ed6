"""The `[risk]` and `[strategies.NAME]` tables of hub.toml, parsed and checked.

Why its own module: the engine, the CLI (`hub limits set`) and the config loader must agree on
every key, its type and its bounds; an unknown key is an error that names it (a misspelt limit
in a trading system must never be silently ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

TRADING_MODES = ("on", "off", "dry_run")
SELF_TRADE_MODES = ("reject_incoming", "cancel_resting")
_CODE_RE = re.compile(r"^[0-9A-Za-z]{1,12}\.[A-Z]{2,4}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")


class RiskConfigError(ValueError):
    """A bad risk setting; the message says which key and why."""


@dataclass
class RiskSettings:
    """Account-wide settings (`[risk]`)."""

    enabled: bool = True  # false: no risk stage at all (no sleeves, no checks, no rate guard)
    trading: str = "on"
    require_allotment: bool = False
    self_trade: str = "reject_incoming"
    price_band_pct: float = 0.0  # 0 = off
    account_max_actions_per_second: int = 200
    account_max_actions_per_day: int = 18000
    static_checks: bool = True  # lot, tick, price type and limit prices checked in the hub
    commission_rate: float = 0.00025  # fee estimate for buy reservations
    commission_min: float = 5.0
    transfer_fee_rate: float = 0.00001
    stamp_duty_rate: float = 0.0005


@dataclass
class StrategyLimits:
    """One strategy's allotment and limits (`[strategies.NAME]`); 0 / empty = no limit."""

    cash: float | None = None  # None: no cash allotment (draws on the pool)
    positions: dict[str, int] = field(default_factory=dict)
    max_order_volume: int = 0
    max_order_notional: float = 0.0
    max_daily_notional: float = 0.0
    max_daily_volume: int = 0
    max_daily_orders: int = 0
    max_daily_cancels: int = 0
    max_open_orders: int = 0
    max_actions_per_second: int = 0
    symbols_allow: list[str] = field(default_factory=list)
    symbols_block: list[str] = field(default_factory=list)
    price_types: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


#: Keys `hub limits set` may change at run time (allotments move with `hub allot`).
LIMIT_KEYS = tuple(f.name for f in fields(StrategyLimits) if f.name not in ("cash", "positions"))


def _plain(v: Any) -> Any:
    return dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v


def _number(where: str, key: str, v: Any, integer: bool) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise RiskConfigError(f"{where}: {key} must be a number, got {v!r}")
    if integer and int(v) != v:
        raise RiskConfigError(f"{where}: {key} must be a whole number, got {v!r}")
    if v < 0:
        raise RiskConfigError(f"{where}: {key} must be >= 0, got {v!r}")
    return int(v) if integer else float(v)


def _codes(where: str, key: str, v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(c, str) and _CODE_RE.match(c) for c in v):
        raise RiskConfigError(f"{where}: {key} must be a list of codes like '600000.SH', got {v!r}")
    return list(v)


def parse_settings(values: Mapping[str, Any] | None, where: str = "[risk]") -> RiskSettings:
    values = dict(values or {})
    known = {f.name: f for f in fields(RiskSettings)}
    unknown = sorted(k for k in values if k not in known)
    if unknown:
        raise RiskConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known keys: {', '.join(known)})")
    out = RiskSettings()
    for key, v in values.items():
        default = getattr(out, key)
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise RiskConfigError(f"{where}: {key} must be true or false, got {v!r}")
        elif isinstance(default, str):
            choices = TRADING_MODES if key == "trading" else SELF_TRADE_MODES
            if v not in choices:
                raise RiskConfigError(f"{where}: {key} must be one of {', '.join(choices)}, got {v!r}")
        else:
            v = _number(where, key, v, isinstance(default, int))
        setattr(out, key, v)
    if out.account_max_actions_per_second < 1 or out.account_max_actions_per_day < 1:
        raise RiskConfigError(f"{where}: account_max_actions_per_second and account_max_actions_per_day must be >= 1")
    return out


def parse_limits(values: Mapping[str, Any] | None, where: str, base: StrategyLimits | None = None) -> StrategyLimits:
    """A strategy table (or the KEY=VALUE changes of `hub limits set`) on top of `base`."""
    values = dict(values or {})
    known = {f.name for f in fields(StrategyLimits)}
    unknown = sorted(k for k in values if k not in known)
    if unknown:
        raise RiskConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known keys: {', '.join(sorted(known))})")
    out = replace(base) if base is not None else StrategyLimits()
    for key, v in values.items():
        if key == "cash":
            v = None if v is None else _number(where, key, v, False)
        elif key == "positions":
            if not isinstance(v, dict):
                raise RiskConfigError(f"{where}: positions must be a table of code = volume, got {v!r}")
            pos = {}
            for code, vol in v.items():
                if not isinstance(code, str) or not _CODE_RE.match(code):
                    raise RiskConfigError(f"{where}: positions: {code!r} is not a code like '600000.SH'")
                pos[code] = int(_number(where, f"positions.{code}", vol, True))
            v = pos
        elif key in ("symbols_allow", "symbols_block"):
            v = _codes(where, key, v)
        elif key == "price_types":
            if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                raise RiskConfigError(f"{where}: price_types must be a list of xtconstant price types, got {v!r}")
            v = list(v)
        else:
            v = _number(where, key, v, isinstance(getattr(StrategyLimits(), key), int))
        setattr(out, key, v)
    return out


@dataclass
class RiskConfig:
    settings: RiskSettings = field(default_factory=RiskSettings)
    strategies: dict[str, StrategyLimits] = field(default_factory=dict)


def parse(risk: Mapping[str, Any] | None, strategies: Mapping[str, Any] | None) -> RiskConfig:
    """Both tables; raises RiskConfigError naming the key."""
    settings = parse_settings(risk)
    out: dict[str, StrategyLimits] = {}
    for name, table in dict(strategies or {}).items():
        where = f"[strategies.{name}]"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise RiskConfigError(f"{where}: a strategy name is 1-32 letters, digits, '_' or '-'")
        if not isinstance(table, Mapping):
            raise RiskConfigError(f"{where}: must be a table")
        out[name] = parse_limits(table, where)
    return RiskConfig(settings, out)


def parse_assignment(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` of `hub limits set` -> (key, value): numbers, true/false, comma lists."""
    if "=" not in text:
        raise RiskConfigError(f"expected KEY=VALUE, got {text!r}")
    key, raw = (s.strip() for s in text.split("=", 1))
    if key not in LIMIT_KEYS:
        raise RiskConfigError(f"unknown limit {key!r} (known: {', '.join(LIMIT_KEYS)})")
    if key in ("symbols_allow", "symbols_block"):
        return key, [c.strip() for c in raw.split(",") if c.strip()]
    if key == "price_types":
        try:
            return key, [int(c) for c in raw.split(",") if c.strip()]
        except ValueError:
            raise RiskConfigError(f"price_types must be comma-separated integers, got {raw!r}") from None
    try:
        num = float(raw)
    except ValueError:
        raise RiskConfigError(f"{key} must be a number, got {raw!r}") from None
    return key, int(num) if num == int(num) and isinstance(getattr(StrategyLimits(), key), int) else num
