"""Configuration of one simulated MiniQMT terminal.

Every number a strategy could notice (cash, fees, price behaviour, fill speed)
is here, so a test or a user's `[sim]` TOML table can pin it down.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class SimConfig:
    """Knobs of the simulated broker and market.

    Money is in CNY, rates are fractions (0.00025 == 0.025 %), times in seconds.
    """

    # accounts
    default_cash: float = 1_000_000.0
    #: starting positions for every new account: {"600000.SH": 1000, ...}
    #: (they count as held since yesterday, so they are sellable at once)
    starting_positions: dict[str, int] = field(default_factory=dict)

    # fees
    commission_rate: float = 0.00025
    commission_min: float = 5.0
    stamp_duty_rate: float = 0.0005  # sells only
    transfer_fee_rate: float = 0.00001  # both sides

    # trading hours (09:30-11:30, 13:00-15:00 on weekdays) are off by default
    enforce_trading_hours: bool = False
    #: virtual clock start, "YYYY-MM-DD HH:MM:SS" Shanghai time; None = now
    start_time: str | None = None
    #: virtual seconds per real second for the clock and the market thread
    speed: float = 1.0

    # market
    #: virtual seconds between two market snapshots (real MiniQMT: ~3 s)
    tick_interval: float = 3.0
    #: run the market thread; False = the market moves only on `advance()`
    auto_tick: bool = True
    seed: int = 42
    #: standard deviation of the per-snapshot return of the random walk
    volatility: float = 0.002
    #: {"600000.SH": {"name": "浦发银行", "price": 10.2, "st": False}, ...}
    universe: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: replay ticks from this CSV file instead of the random walk
    replay_csv: str | None = None
    #: folder of real history (CSV or Parquet) served instead of the generated one for the
    #: codes it holds; layout in docs/simulator.md ("History")
    history_dir: str | None = None

    # fill model
    #: shares shown at each of the five book levels, drawn per snapshot
    depth_min: int = 1_000
    depth_max: int = 20_000
    #: fraction of each level's shares a simulated order may take per snapshot
    fill_ratio: float = 1.0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "SimConfig":
        """Build from a plain mapping (e.g. the hub's `[sim]` TOML table).

        Unknown keys raise ValueError naming them, so a typo in a config file
        is an error instead of a silently ignored setting.
        """
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown [sim] setting(s): {', '.join(unknown)}")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> None:
        """Raise ValueError for values that cannot work."""
        if self.default_cash < 0:
            raise ValueError("default_cash must be >= 0")
        for name in ("commission_rate", "commission_min", "stamp_duty_rate", "transfer_fee_rate"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.speed <= 0:
            raise ValueError("speed must be > 0")
        if self.tick_interval <= 0:
            raise ValueError("tick_interval must be > 0")
        if not 0 < self.depth_min <= self.depth_max:
            raise ValueError("need 0 < depth_min <= depth_max")
        if not 0 < self.fill_ratio <= 1:
            raise ValueError("fill_ratio must be in (0, 1]")
        if self.volatility < 0:
            raise ValueError("volatility must be >= 0")
        for code, vol in self.starting_positions.items():
            if int(vol) != vol or vol < 0:
                raise ValueError(f"starting position for {code} must be a whole number >= 0")
