"""The simulator's past: a deterministic history per code, or the user's own files.

`GeneratedHistory` makes daily and 1-minute bars for past trading days from nothing but the
seed, the code and the day, so the same code and day give the same bars in every run and
every process. The daily closes form a random walk that ends, on the last trading day before
today, exactly at the close today's session starts from (the code's reference price on a
fresh terminal), so history and the live quote meet. A day's minute bars are a bridge from
its open to its close that touches the day's high and low; their volumes add up to the
day's volume, so aggregating them gives back the daily bar's open, high, low, close and
volume.

`FolderHistory` reads real history from `[sim] history_dir` (layout in docs/simulator.md):
``<dir>/<period>/<code>.csv`` (or ``.parquet``) with a ``time`` (epoch ms) or ``date``
column and xtdata's bar fields; ``<dir>/divid/<code>.csv`` for dividend factors and
``<dir>/financial/<table>/<code>.csv`` for financial tables. Values are served as written.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections import OrderedDict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from rpc_client.bars import BAR_FIELDS, day_ms, intraday_labels, to_ms

#: first day of generated daily history
HISTORY_START = date(2015, 1, 5)
#: generated 1-minute history covers this many trading days before today
MINUTE_DAYS = 250
#: daily standard deviation of the generated walk
DAILY_VOL = 0.02


def _round(x: float, tick: float) -> float:
    n = round(x / tick)
    return round(n * tick, 3 if tick < 0.01 else 2)


def _code_seed(seed: int, code: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{code}".encode()).digest()[:8], "big")


class GeneratedHistory:
    """Deterministic bars for past days: a function of (seed, code, day) and today's anchor."""

    def __init__(self, seed: int, cache_codes: int = 256):
        self.seed = seed
        self._steps: OrderedDict[str, list[tuple[float, float, float, float, float]]] = OrderedDict()
        self._cache_codes = cache_codes

    # per calendar day since HISTORY_START: (log return, open gap, high ext, low ext, volume factor)
    def _day_draws(self, code: str, upto: date) -> list[tuple[float, float, float, float, float]]:
        n = (upto - HISTORY_START).days + 1
        draws = self._steps.get(code)
        if draws is None or len(draws) < n:
            rng = random.Random(_code_seed(self.seed, code))
            draws = []
            for _ in range(max(n, 0)):
                draws.append((rng.gauss(0.0, DAILY_VOL), rng.gauss(0.0, 0.006), abs(rng.gauss(0.0, 0.008)),
                              abs(rng.gauss(0.0, 0.008)), math.exp(rng.gauss(0.0, 0.35))))
            self._steps[code] = draws
            while len(self._steps) > self._cache_codes:
                self._steps.popitem(last=False)
        else:
            self._steps.move_to_end(code)
        return draws

    def daily(self, code: str, days: list[date], anchor: float, tick: float, limit_pct: float,
              base_volume: int) -> list[dict[str, Any]]:
        """Daily bars for `days` (ascending trading days before today; the last one is the day
        before today, whose close is `anchor`)."""
        if not days:
            return []
        draws = self._day_draws(code, days[-1])
        cap = max(0.001, limit_pct * 0.9)
        closes = [0.0] * len(days)
        closes[-1] = anchor
        for i in range(len(days) - 1, 0, -1):
            r = min(cap, max(-cap, draws[(days[i] - HISTORY_START).days][0]))
            closes[i - 1] = max(tick, closes[i] / math.exp(r))
        first_r = min(cap, max(-cap, draws[(days[0] - HISTORY_START).days][0]))
        pre = max(tick, closes[0] / math.exp(first_r))
        out = []
        for i, d in enumerate(days):
            _, gap, hx, lx, vf = draws[(d - HISTORY_START).days]
            pre_close = _round(pre, tick)
            close = _round(closes[i], tick) if i < len(days) - 1 else anchor
            lo_lim, hi_lim = pre_close * (1 - limit_pct), pre_close * (1 + limit_pct)
            open_ = _round(min(hi_lim, max(lo_lim, pre * math.exp(gap))), tick)
            high = _round(min(hi_lim, max(open_, close) * (1 + hx)), tick)
            low = _round(max(lo_lim, min(open_, close) * (1 - lx)), tick)
            high, low = max(high, open_, close), min(low, open_, close)
            volume = max(1, int(base_volume * vf))
            amount = round(volume * 100 * (high + low + close) / 3, 2)
            out.append({"time": day_ms(d), "open": open_, "high": high, "low": low, "close": close,
                        "volume": volume, "amount": amount, "settelementPrice": 0.0, "openInterest": 0,
                        "preClose": pre_close, "suspendFlag": 0})
            pre = closes[i]
        return out

    def minutes(self, code: str, day: date, bar: dict[str, Any], tick: float) -> list[dict[str, Any]]:
        """The 241 1-minute bars of one past day, consistent with its daily `bar`."""
        labels = intraday_labels("1m")
        n = len(labels)
        rng = random.Random(f"{self.seed}:{code}:{day.isoformat()}:1m")
        o, h, lo, c = bar["open"], bar["high"], bar["low"], bar["close"]
        # a Brownian bridge from open to close, then pinned to touch the high and the low
        walk = [0.0]
        for _ in range(n - 1):
            walk.append(walk[-1] + rng.gauss(0.0, 1.0))
        path = [o + (c - o) * i / (n - 1) + (walk[i] - walk[-1] * i / (n - 1)) * (h - lo) / (3 * math.sqrt(n))
                for i in range(n)]
        path[0], path[-1] = o, c
        inner = range(1, n - 1)
        hi_i = max(inner, key=lambda i: path[i])
        lo_i = min((i for i in inner if i != hi_i), key=lambda i: path[i])
        path = [min(h, max(lo, p)) for p in path]
        path[hi_i], path[lo_i] = h, lo
        weights = [rng.random() + (1.5 if i < 30 or i > n - 30 else 0.5) for i in range(n)]
        total_w = sum(weights)
        vols = [int(bar["volume"] * w / total_w) for w in weights]
        vols[-1] += bar["volume"] - sum(vols)
        out = []
        prev = bar["preClose"]
        amounts = []
        for i, label in enumerate(labels):
            p_open = prev if i else o
            p_close = _round(path[i], tick)
            if i == 0:
                p_open = o
            hi = max(p_open, p_close)
            low = min(p_open, p_close)
            amounts.append(vols[i] * 100 * (p_open + p_close) / 2)
            out.append({"time": to_ms(datetime(day.year, day.month, day.day, label // 60, label % 60)),
                        "open": p_open, "high": hi, "low": low, "close": p_close, "volume": vols[i],
                        "amount": 0.0, "settelementPrice": 0.0, "openInterest": 0, "preClose": prev,
                        "suspendFlag": 0})
            prev = p_close
        out[hi_i]["high"] = h
        out[lo_i]["low"] = lo
        total_a = sum(amounts) or 1.0
        scale = bar["amount"] / total_a
        running = 0.0
        for i, b in enumerate(out):
            b["amount"] = round(amounts[i] * scale, 2) if i < n - 1 else round(bar["amount"] - running, 2)
            running += b["amount"]
        return out


# --------------------------------------------------------------------------- files

def _parse_time(value: Any) -> int:
    """A file's time: epoch ms, 'YYYYMMDD', 'YYYYMMDDhhmmss' or 'YYYY-MM-DD[ HH:MM[:SS]]' (Beijing)."""
    v = str(value).strip()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    if v.isdigit() and len(v) == 14:
        return to_ms(datetime.strptime(v, "%Y%m%d%H%M%S"))
    if v.isdigit() and len(v) >= 12:
        return int(v)
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S"):
        try:
            return to_ms(datetime.strptime(v, fmt))
        except ValueError:
            continue
    raise ValueError(f"cannot read time {value!r} (use epoch ms, YYYYMMDD or YYYY-MM-DD[ HH:MM[:SS]])")


def _number(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    s = str(v).strip()
    if s == "":
        return 0
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def read_table(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (utf-8) or Parquet file as dicts, numbers parsed, nothing else changed."""
    if path.suffix == ".parquet":
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a dependency
            raise RuntimeError(f"reading {path} needs pandas (and pyarrow)") from None
        frame = pd.read_parquet(path)
        return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")]
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [{k.strip(): _number(v) for k, v in row.items() if k is not None} for row in csv.DictReader(f)]


class FolderHistory:
    """Bars, dividend factors and financial tables from a folder of files (`[sim] history_dir`)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser()
        self._cache: dict[Path, tuple[float, Any]] = {}

    def _file(self, *parts: str) -> Path | None:
        for suffix in (".csv", ".parquet"):
            p = self.folder.joinpath(*parts[:-1], parts[-1] + suffix)
            if p.is_file():
                return p
        return None

    def _cached(self, path: Path, load: Callable[[Path], Any]) -> Any:
        mtime = path.stat().st_mtime
        hit = self._cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        value = load(path)
        self._cache[path] = (mtime, value)
        return value

    def has_bars(self, code: str, period: str) -> bool:
        return self._file(period, code) is not None

    def bars(self, code: str, period: str) -> list[dict[str, Any]] | None:
        """The file's bars, ascending by time, or None if there is no file for (period, code)."""
        path = self._file(period, code)
        if path is None:
            return None

        def load(p: Path) -> list[dict[str, Any]]:
            out = []
            for row in read_table(p):
                t = row.get("time")
                if t in (None, "", 0):
                    t = row.get("date", row.get("datetime"))
                ms = _parse_time(str(t))
                bar = {f: row.get(f, 0) for f in BAR_FIELDS}
                bar["time"] = ms
                out.append(bar)
            out.sort(key=lambda b: b["time"])
            return out
        return self._cached(path, load)

    def divid(self, code: str) -> list[dict[str, Any]]:
        path = self._file("divid", code)
        return [] if path is None else self._cached(path, read_table)

    def financial(self, table: str, code: str) -> list[dict[str, Any]]:
        path = self._file("financial", table, code)
        return [] if path is None else self._cached(path, read_table)

    def codes(self, period: str) -> Iterable[str]:
        d = self.folder / period
        if not d.is_dir():
            return []
        return sorted({p.stem for p in d.iterdir() if p.suffix in (".csv", ".parquet")})
