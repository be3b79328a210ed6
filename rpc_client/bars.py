"""Bar periods, bar times and bar building, as xtdata has them (no pandas, no hub imports).

One module for the client (bars of `subscribe_quote(period='1m')` built from the hub's
ticks) and the simulator (today's bars from its own tick feed, history aggregated from
1-minute and daily bars), so both label and cut bars the same way.

xtdata's conventions, kept here:

* A bar is labelled with its **end** (the 09:31 bar covers 09:30-09:31). The 1m series has
  an extra 09:30 bar for the opening auction (241 bars a day); longer intraday periods fold
  the auction into their first bar (5m: 09:35 ... 11:30, 13:05 ... 15:00, 48 bars).
* ``time`` is epoch milliseconds; a daily bar's ``time`` is 00:00 Beijing time of its day;
  a week's and a month's bar carry their last trading day.
* Times are Beijing time (UTC+8) whatever the machine's time zone: the exchange's clock.
* Volumes are in lots (手) as in the tick dict; ``amount`` in CNY.
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

#: Beijing time, the exchange's clock (no DST: a fixed offset is exact)
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

#: minutes per intraday period
INTRADAY = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "60m": 60}
#: every bar period served; '60m' is xtdata's other name of '1h'
BAR_PERIODS = ("1m", "5m", "15m", "30m", "1h", "60m", "1d", "1w", "1mon")
PERIODS = BAR_PERIODS + ("tick",)

#: bar fields in xtdata's order with their dtypes in get_market_data_ex's frames
BAR_DTYPES: dict[str, str] = {
    "time": "int64", "open": "float64", "high": "float64", "low": "float64", "close": "float64",
    "volume": "int64", "amount": "float64", "settelementPrice": "float64", "openInterest": "int32",
    "preClose": "float64", "suspendFlag": "int32",
}
BAR_FIELDS = tuple(BAR_DTYPES)

MORNING_OPEN, MORNING_CLOSE = 9 * 60 + 30, 11 * 60 + 30
AFTERNOON_OPEN, AFTERNOON_CLOSE = 13 * 60, 15 * 60


def check_period(period: str) -> str:
    """The period itself, or ValueError naming the periods served."""
    if period not in PERIODS:
        raise ValueError(f"period {period!r} is not served; use one of {', '.join(PERIODS)}")
    return "1h" if period == "60m" else period


# --------------------------------------------------------------------------- time helpers

def to_ms(moment: datetime) -> int:
    """Epoch ms of a datetime; a naive one is read as Beijing wall time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return int(round(moment.timestamp() * 1000))


def from_ms(ms: int | float) -> datetime:
    """Beijing wall time (naive) of epoch ms."""
    return datetime.fromtimestamp(ms / 1000, CHINA_TZ).replace(tzinfo=None)


#: Beijing's offset from UTC in ms, and a day in ms
OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 86_400_000


@functools.lru_cache(maxsize=4096)
def day_ms(day: date) -> int:
    """A daily bar's ``time``: 00:00 Beijing of `day`."""
    return to_ms(datetime(day.year, day.month, day.day))


def timetag_to_datetime(timetag: int | float, fmt: str) -> str:
    """xtdata.timetag_to_datetime: epoch ms formatted in Beijing time."""
    return from_ms(timetag).strftime(fmt)


def index_format(period: str) -> str:
    """How get_market_data_ex writes a bar's index: '%Y%m%d' for days and longer, else seconds."""
    return "%Y%m%d" if period in ("1d", "1w", "1mon") else "%Y%m%d%H%M%S"


def parse_time(value: Any, end: bool = False) -> int | None:
    """xtdata's start_time / end_time ('', 'YYYYMMDD', 'YYYYMMDDhhmmss', datetime, epoch ms) as
    epoch ms, or None for ''. A bare end date means the end of that day (inclusive)."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, datetime):
        return to_ms(value)
    if isinstance(value, date):
        value = value.strftime("%Y%m%d")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value > 10**11:  # already ms
            return int(value)
        value = str(int(value))
    text = str(value).strip()
    for fmt in ("%Y%m%d%H%M%S", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if end and fmt in ("%Y%m%d", "%Y-%m-%d"):
            moment = moment + timedelta(days=1) - timedelta(milliseconds=1)
        return to_ms(moment)
    raise ValueError(f"time {value!r} is not 'YYYYMMDD' or 'YYYYMMDDhhmmss'")


# --------------------------------------------------------------------------- bar labels

def intraday_labels(period: str) -> list[int]:
    """The day's bar labels of an intraday period, in minutes after midnight."""
    n = INTRADAY[period]
    out = [MORNING_OPEN] if n == 1 else []
    out += list(range(MORNING_OPEN + n, MORNING_CLOSE + 1, n))
    out += list(range(AFTERNOON_OPEN + n, AFTERNOON_CLOSE + 1, n))
    return out


def label_minute(minute: float, period: str) -> int:
    """The label (minutes after midnight) of the intraday bar a moment belongs to.

    Before the open: the first bar (the 1m series' 09:30 auction bar); the lunch break goes
    to 11:30, after the close to 15:00 (late prints belong to the last bar before them).
    """
    n = INTRADAY[period]
    first = MORNING_OPEN if n == 1 else MORNING_OPEN + n
    if minute <= MORNING_OPEN:
        return first
    if minute <= MORNING_CLOSE:
        return min(MORNING_CLOSE, MORNING_OPEN + math.ceil((minute - MORNING_OPEN) / n - 1e-9) * n)
    if minute <= AFTERNOON_OPEN:
        return MORNING_CLOSE
    if minute <= AFTERNOON_CLOSE:
        return max(AFTERNOON_OPEN + n, min(AFTERNOON_CLOSE,
                                           AFTERNOON_OPEN + math.ceil((minute - AFTERNOON_OPEN) / n - 1e-9) * n))
    return AFTERNOON_CLOSE


def bar_time(ms: int, period: str, day: date | None = None) -> int:
    """The ``time`` of the `period` bar that the moment `ms` falls in (day bars: that day's 00:00).

    `day` overrides the calendar day (the simulator's trading day). Plain arithmetic on the
    ms (Beijing has no daylight saving): this runs for every tick."""
    local = int(ms) + OFFSET_MS
    start = day_ms(day) if day is not None else local - local % DAY_MS - OFFSET_MS
    if period in ("1d", "1w", "1mon"):
        return start
    minute = (local % DAY_MS) / 60000
    return start + label_minute(minute, "1h" if period == "60m" else period) * 60000


# --------------------------------------------------------------------------- bar building

def new_bar(t: int, price: float, pre_close: float) -> dict[str, Any]:
    return {"time": t, "open": price, "high": price, "low": price, "close": price, "volume": 0, "amount": 0.0,
            "settelementPrice": 0.0, "openInterest": 0, "preClose": pre_close, "suspendFlag": 0}


class TickBars:
    """Bars of one code and one period built from its ticks (cumulative volume / amount).

    `update(tick)` returns the bar the tick changed (a copy), or None (no price yet). The
    daily bar takes open/high/low/volume/amount straight from the tick (they are the day's);
    intraday bars take volume and amount as the change of the tick's day totals.
    """

    def __init__(self, period: str, day: date | None = None, keep: int = 300, from_start: bool = True,
                 seed: Mapping[str, Any] | None = None):
        """`from_start`: the ticks start at the open (the simulator's own feed); False for a
        subscriber joining mid-day, whose first bar counts volume from its first tick on, or
        from `seed` (the hub's current bar of this period) when that bar is still open."""
        self.period = check_period(period)
        self.day = day
        self.keep = keep
        self.bars: list[dict[str, Any]] = []
        self._base_volume = 0  # day volume / amount at the end of the previous bar
        self._base_amount = 0.0
        self._last_volume: int | None = 0 if from_start else None
        self._last_amount = 0.0
        self._seed = dict(seed) if seed else None

    def update(self, tick: Mapping[str, Any]) -> dict[str, Any] | None:
        price = float(tick.get("lastPrice") or 0.0)
        if price <= 0:
            return None
        ms = int(tick.get("time") or 0)
        volume = int(tick.get("volume") or 0)
        amount = float(tick.get("amount") or 0.0)
        pre_close = float(tick.get("lastClose") or 0.0)
        if self.period in ("1d", "1w", "1mon"):
            t = bar_time(ms, "1d", self.day)
            bar = self.bars[-1] if self.bars and self.bars[-1]["time"] == t else None
            if bar is None:
                bar = new_bar(t, price, pre_close)
                self._push(bar)
            bar["open"] = float(tick.get("open") or bar["open"])
            bar["high"] = max(float(tick.get("high") or price), price)
            bar["low"] = min(float(tick.get("low") or price), price)
            bar["close"] = price
            bar["volume"] = volume
            bar["amount"] = amount
            return dict(bar)
        t = bar_time(ms, self.period, self.day)
        bar = self.bars[-1] if self.bars else None
        if bar is None and self._last_volume is None:  # joining mid-day
            seed, self._seed = self._seed, None
            if seed is not None and seed.get("time") == t:
                bar = {f: seed.get(f, 0) for f in BAR_FIELDS}
                self._base_volume = volume - int(seed.get("volume") or 0)
                self._base_amount = amount - float(seed.get("amount") or 0.0)
            else:
                bar = new_bar(t, price, float(seed["close"]) if seed else pre_close)
                self._base_volume, self._base_amount = volume, amount
            self._push(bar)
        elif bar is None or t > bar["time"]:
            if bar is not None:
                self._base_volume, self._base_amount = self._last_volume or 0, self._last_amount
            else:
                self._base_volume, self._base_amount = 0, 0.0
            bar = new_bar(t, price, bar["close"] if bar is not None else pre_close)
            self._push(bar)
        elif t < bar["time"]:
            return None  # a late tick of a bar already closed
        bar["high"] = max(bar["high"], price)
        bar["low"] = min(bar["low"], price)
        bar["close"] = price
        bar["volume"] = max(0, volume - self._base_volume)
        bar["amount"] = round(max(0.0, amount - self._base_amount), 2)
        self._last_volume, self._last_amount = volume, amount
        return dict(bar)

    def _push(self, bar: dict[str, Any]) -> None:
        self.bars.append(bar)
        if len(self.bars) > self.keep:
            del self.bars[: len(self.bars) - self.keep]


def aggregate(bars: Iterable[Mapping[str, Any]], period: str) -> list[dict[str, Any]]:
    """Longer bars from shorter ones: 1m -> 5m/15m/30m/1h/1d, 1d -> 1w/1mon.

    Open of the first, high/low over all, close of the last, volume and amount summed, preClose
    of the first; a week or month is labelled with its last day's ``time``.
    """
    period = "1h" if period == "60m" else period
    out: list[dict[str, Any]] = []
    key_of_last = None
    for b in bars:
        moment = from_ms(b["time"])
        if period in INTRADAY:
            key = bar_time(b["time"], period)
        elif period == "1d":
            key = day_ms(moment.date())
        elif period == "1w":
            iso = moment.date().isocalendar()
            key = (iso[0], iso[1])
        elif period == "1mon":
            key = (moment.year, moment.month)
        else:
            raise ValueError(f"cannot aggregate to {period!r}")
        if out and key == key_of_last:
            cur = out[-1]
            cur["high"] = max(cur["high"], b["high"])
            cur["low"] = min(cur["low"], b["low"])
            cur["close"] = b["close"]
            cur["volume"] += int(b["volume"])
            cur["amount"] = round(cur["amount"] + float(b["amount"]), 2)
            cur["suspendFlag"] = b.get("suspendFlag", 0)
            cur["openInterest"] = b.get("openInterest", 0)
            if period in ("1w", "1mon"):
                cur["time"] = b["time"]
        else:
            cur = {f: b.get(f, 0) for f in BAR_FIELDS}
            cur["volume"] = int(b["volume"])
            cur["amount"] = float(b["amount"])
            cur["time"] = key if isinstance(key, int) else b["time"]
            out.append(cur)
            key_of_last = key
    return out


def select(bars: list[dict[str, Any]], start: int | None, end: int | None, count: int) -> list[dict[str, Any]]:
    """xtdata's range rule: bars with start <= time <= end, then the last `count` (-1: all, 0: none)."""
    picked = [b for b in bars if (start is None or b["time"] >= start) and (end is None or b["time"] <= end)]
    if count == 0:
        return []
    if count > 0:
        return picked[-count:]
    return picked


def columns(bars: list[Mapping[str, Any]], fields: Iterable[str] = BAR_FIELDS) -> dict[str, list]:
    """Row dicts -> {field: [values]} (the wire's columnar form)."""
    return {f: [b.get(f, 0) for b in bars] for f in fields}


def rows(cols: Mapping[str, list]) -> list[dict[str, Any]]:
    """{field: [values]} -> row dicts."""
    keys = list(cols)
    n = len(cols[keys[0]]) if keys else 0
    return [{k: cols[k][i] for k in keys} for i in range(n)]


__all__ = [
    "CHINA_TZ", "INTRADAY", "BAR_PERIODS", "PERIODS", "BAR_DTYPES", "BAR_FIELDS", "check_period", "to_ms",
    "from_ms", "day_ms", "timetag_to_datetime", "index_format", "parse_time", "intraday_labels",
    "label_minute", "bar_time", "new_bar", "TickBars", "aggregate", "select", "columns", "rows",
]
