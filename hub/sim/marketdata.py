"""The simulator's market and reference data, in the plain shapes the hub's market-data
service asks every source for (hub/marketdata/upstream.py documents the interface).

* Bars: today's from the exchange's own tick feed (1-minute bars built as ticks arrive,
  longer periods aggregated from them); past trading days from `[sim] history_dir` when it
  holds the code's file, else from `GeneratedHistory` (the same bars for the same code and
  day in every run, ending at the close today's session starts from).
* Ticks (period 'tick'): today's last 1200 ticks of each code subscribed one by one
  (`subscribe_quote`; whole-market subscriptions keep none, to bound memory).
* Instrument details, instrument types, sectors, a trading calendar with the exchange
  holidays, dividend factors and financial tables (empty with the right shape unless the
  history folder holds them).

All methods take and return plain values (lists, dicts, numbers, strings).
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict, deque
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from rpc_client.bars import (BAR_FIELDS, CHINA_TZ, DAY_MS, INTRADAY, OFFSET_MS, TickBars, aggregate, bar_time,
                             columns, day_ms, from_ms, parse_time, select)

from hub.sim.history import HISTORY_START, MINUTE_DAYS, FolderHistory, GeneratedHistory
from hub.sim.history import _parse_time as _file_time
from hub.sim.universe import BOND, ETF, INDEX, STOCK_BOARDS, Instrument, Universe, kind_of

log = logging.getLogger(__name__)

#: generated daily series and days of 1-minute bars kept for repeated requests
DAILY_CACHE = 256
MINUTE_CACHE = 250
#: ticks kept per code for period 'tick' (codes subscribed one by one only: an hour at 3 s)
TICKS_KEPT = 1200

#: the simulator's sectors: name -> (markets, boards); 'SH'/'SZ'/'BJ' are whole markets
SECTORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "沪深A股": (("SH", "SZ"), STOCK_BOARDS),
    "上证A股": (("SH",), STOCK_BOARDS),
    "深证A股": (("SZ",), STOCK_BOARDS),
    "创业板": (("SZ",), ("chinext",)),
    "科创板": (("SH",), ("star",)),
    "京市A股": (("BJ",), ("bse",)),
    "沪深ETF": (("SH", "SZ"), (ETF,)),
    "沪深指数": (("SH", "SZ"), (INDEX,)),
    "沪深转债": (("SH", "SZ"), (BOND,)),
    "沪深基金": (("SH", "SZ"), (ETF,)),
    "沪深债券": (("SH", "SZ"), (BOND,)),
    "SH": (("SH",), STOCK_BOARDS + (ETF, INDEX, BOND)),
    "SZ": (("SZ",), STOCK_BOARDS + (ETF, INDEX, BOND)),
    "BJ": (("BJ",), STOCK_BOARDS),
}

#: xtdata.get_financial_data's tables
FINANCIAL_TABLES = ("Balance", "Income", "CashFlow", "Capital", "HolderNum", "Top10Holder", "Top10FlowHolder",
                    "PershareIndex")
#: columns of an empty financial table (the report and announcement dates every table has)
FINANCIAL_COLUMNS = ("m_timetag", "m_anntime")
#: xtdata.get_divid_factors' columns
DIVID_COLUMNS = ("time", "interest", "stockBonus", "stockGift", "allotNum", "allotPrice", "gugai", "dr")

#: xtdata.get_instrument_type's types and which boards have them
TYPE_OF_BOARD = {
    "stock": ("stock", "a"), "etf": ("fund", "etf"), "index": ("index",), "bond": ("bond", "cb"),
}
ALL_TYPES = ("index", "stock", "fund", "etf", "bond", "cb", "a")


# --------------------------------------------------------------------------- calendar

class _Calendar:
    """Trading days for the simulator: rpc_client.calendar's (the exchange holidays) where it
    has them, listed once per process (the calendar's own lookups are slow per call), and
    Monday-Friday beyond its coverage (a simulator must run past the last published year)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: list[date] | None = None
        self._until: date | None = None

    def _load(self) -> None:
        try:
            from rpc_client import calendar as cal

            until = cal.default_calendar().covered_until()
            days = list(cal.trading_days(HISTORY_START - timedelta(days=40), until)) if until else []
        except Exception:  # noqa: BLE001 - no calendar package or file: weekdays everywhere
            log.warning("no exchange calendar available; the simulator uses Monday-Friday", exc_info=True)
            until, days = None, []
        self._days, self._until = days, until

    def trading_days(self, first: date, last: date) -> list[date]:
        with self._lock:
            if self._days is None:
                self._load()
        days, until = self._days or [], self._until
        lo = bisect.bisect_left(days, first)
        out = []
        for d in days[lo:]:
            if d > last:
                break
            out.append(d)
        d = max(first, until + timedelta(days=1)) if until else first
        while d <= last:
            if d.weekday() < 5:
                out.append(d)
            d += timedelta(days=1)
        return out

    def is_trading_day(self, day: date) -> bool:
        return bool(self.trading_days(day, day))


_CALENDAR = _Calendar()


def calendar() -> _Calendar:
    """The simulator's trading calendar (see `_Calendar`)."""
    return _CALENDAR


def _day(ms: int | None) -> date | None:
    return None if ms is None else from_ms(ms).date()


def _split_frame(rows: list[dict[str, Any]], cols: Iterable[str], index_key: str | None = None) -> dict[str, Any]:
    cols = list(cols)
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    index = [str(r.get(index_key, i)) for i, r in enumerate(rows)] if index_key else list(range(len(rows)))
    return {"index": index, "columns": cols, "data": [[r.get(c) for c in cols] for r in rows]}


class SimMarketData:
    """Market data of one simulated exchange (`hub.sim.exchange.SimExchange`)."""

    def __init__(self, exchange: Any):
        self._ex = exchange
        cfg = exchange.config
        self.generated = GeneratedHistory(cfg.seed)
        folder = getattr(cfg, "history_dir", None)
        self.folder = FolderHistory(folder) if folder else None
        self._lock = threading.Lock()
        self._day: date | None = None
        self._bars: dict[str, TickBars] = {}
        self._ticks: dict[str, deque] = {}
        # generated bars of repeated requests (strategies poll the same history)
        self._daily_cache: OrderedDict[tuple, list[dict[str, Any]]] = OrderedDict()
        self._minute_cache: OrderedDict[tuple, list[dict[str, Any]]] = OrderedDict()
        exchange.add_tick_listener(self._on_ticks)

    def close(self) -> None:
        self._ex.remove_tick_listener(self._on_ticks)

    # ------------------------------------------------------------------ today's feed
    def _on_ticks(self, ticks: dict[str, dict]) -> None:
        """Called by the exchange under its lock for every snapshot: record, nothing else."""
        day = self._ex.trading_day
        start = day_ms(day)
        subscribed = self._ex._quote_subs  # codes subscribed one by one keep their ticks (memory)
        with self._lock:
            if day != self._day:
                self._day, self._bars, self._ticks = day, {}, {}
            for code, t in ticks.items():
                if not t.get("lastPrice"):
                    continue
                ms = t["time"]
                if not start <= ms < start + DAY_MS:  # a clock past midnight still belongs to the trading day
                    t = dict(t, time=start + (ms + OFFSET_MS) % DAY_MS)
                bars = self._bars.get(code)
                if bars is None:
                    bars = self._bars[code] = TickBars("1m", day, keep=300)
                bars.update(t)
                if code not in subscribed:
                    continue
                q = self._ticks.get(code)
                if q is None:
                    q = self._ticks[code] = deque(maxlen=TICKS_KEPT)
                if q and q[-1]["time"] == t["time"]:
                    q[-1] = t
                else:
                    q.append(t)

    def today_bars(self, code: str) -> list[dict[str, Any]]:
        with self._lock:
            tb = self._bars.get(code) if self._day == self._ex.trading_day else None
            return [dict(b) for b in tb.bars] if tb else []

    # ------------------------------------------------------------------ helpers
    def _inst(self, code: str) -> Instrument | None:
        return self._ex.universe.get(code)

    def _anchor(self, code: str, inst: Instrument) -> float:
        """The close today's session starts from (the generated history ends there)."""
        q = self._ex.quotes.get(code)
        if q is not None:
            return q.last_close
        saved = getattr(self._ex, "_saved_quotes", {}).get(code)
        return saved[0] if saved else inst.ref_price

    def _base_volume(self, code: str, inst: Instrument) -> int:
        h = int.from_bytes(code.encode(), "big") % 1000
        scale = {INDEX: 2_000_000, BOND: 50_000, ETF: 3_000_000}.get(inst.board, 200_000)
        return max(100, int(scale * (0.2 + h / 600)))

    def _past_days(self, first: date, last: date) -> list[date]:
        today = self._ex.trading_day
        last = min(last, today - timedelta(days=1))
        if first > last:
            return []
        return list(calendar().trading_days(first, last))

    def _generated_daily(self, code: str, inst: Instrument, first: date, last: date) -> list[dict[str, Any]]:
        """Generated daily bars for trading days in [first, last] before today."""
        today = self._ex.trading_day
        # the walk is anchored at the day before today and runs back from there, so a day's bar
        # does not depend on how far back the request reaches
        anchor = self._anchor(code, inst)
        key = (code, anchor, today, max(first, HISTORY_START))
        bars = self._daily_cache.get(key)
        if bars is None:
            days = self._past_days(max(first, HISTORY_START), today - timedelta(days=1))
            if not days:
                return []
            bars = self.generated.daily(code, days, anchor, inst.tick, inst.limit_pct(today),
                                        self._base_volume(code, inst))
            self._daily_cache[key] = bars
            while len(self._daily_cache) > DAILY_CACHE:
                self._daily_cache.popitem(last=False)
        else:
            self._daily_cache.move_to_end(key)
        last_ms = day_ms(last)
        return [b for b in bars if b["time"] <= last_ms]

    def _daily(self, code: str, inst: Instrument, first: date, last: date) -> list[dict[str, Any]]:
        """Past daily bars (files or generated) in [first, last], then today's if in range."""
        past = None
        if self.folder is not None:
            past = self.folder.bars(code, "1d")
            if past is None and self.folder.has_bars(code, "1m"):
                past = aggregate(self.folder.bars(code, "1m") or [], "1d")
        if past is None:
            past = self._generated_daily(code, inst, first, last)
        today = self._ex.trading_day
        lo, hi = day_ms(first), min(day_ms(last), day_ms(today) - 1)
        out = [b for b in past if lo <= b["time"] <= hi]
        if first <= today <= last:
            out += aggregate(self.today_bars(code), "1d")
        return out

    def _minutes(self, code: str, inst: Instrument, first: date, last: date) -> list[dict[str, Any]]:
        """1-minute bars of the trading days in [first, last] (generated ones: the last MINUTE_DAYS)."""
        today = self._ex.trading_day
        out: list[dict[str, Any]] = []
        filed = self.folder.bars(code, "1m") if self.folder is not None else None
        if filed is not None:
            lo, hi = day_ms(first), min(day_ms(last) + DAY_MS, day_ms(today)) - 1
            out = [b for b in filed if lo <= b["time"] <= hi]
        else:
            recent = self._past_days(today - timedelta(days=MINUTE_DAYS * 7 // 5 + 10), today - timedelta(days=1))
            recent = recent[-MINUTE_DAYS:]
            days = [d for d in recent if first <= d <= last]
            if days:
                daily = {_day(b["time"]): b for b in self._daily(code, inst, days[0], days[-1])}
                for d in days:
                    bar = daily.get(d)
                    if bar is not None:
                        out += self._day_minutes(code, d, bar, inst.tick)
        if first <= today <= last:
            out += self.today_bars(code)
        return out

    def _day_minutes(self, code: str, day: date, bar: dict[str, Any], tick: float) -> list[dict[str, Any]]:
        key = (code, day, bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"])
        rows = self._minute_cache.get(key)
        if rows is None:
            rows = self._minute_cache[key] = self.generated.minutes(code, day, bar, tick)
            while len(self._minute_cache) > MINUTE_CACHE:
                self._minute_cache.popitem(last=False)
        else:
            self._minute_cache.move_to_end(key)
        return rows

    # ------------------------------------------------------------------ the interface
    def bars(self, codes: list[str], period: str = "1d", start_time: str = "", end_time: str = "",
             count: int = -1, dividend_type: str = "none", fill_data: bool = True) -> dict[str, dict[str, list]]:
        """{code: {field: [values]}} for every code (empty columns for an unknown one)."""
        period = "1h" if period == "60m" else period
        start, end = parse_time(start_time), parse_time(end_time, end=True)
        today = self._ex.trading_day
        out: dict[str, dict[str, list]] = {}
        for code in codes:
            inst = self._inst(code)
            if inst is None:
                out[code] = columns([], BAR_FIELDS if period != "tick" else ("time",))
                continue
            if period == "tick":
                with self._lock:
                    ticks = list(self._ticks.get(code, ())) if self._day == today else []
                out[code] = _tick_columns(select(ticks, start, end, count))
                continue
            last = _day(end) or today
            if start is not None:
                first = _day(start)
            elif count > 0:  # enough trading days back for `count` bars
                per_day = {"1d": 1, "1w": 0.2, "1mon": 1 / 23}.get(period)
                need = (int(count / per_day) + 1 if per_day else count // (240 // INTRADAY[period]) + 2) + 1
                days = calendar().trading_days(max(HISTORY_START, last - timedelta(days=need * 2 + 30)), last)
                first = days[-need] if len(days) >= need else (days[0] if days else HISTORY_START)
            else:
                first = HISTORY_START
            if period in INTRADAY:
                filed = self.folder.bars(code, period) if self.folder is not None and period != "1m" else None
                if filed is not None:
                    lo, hi = day_ms(first), min(day_ms(last) + DAY_MS, day_ms(today)) - 1
                    rows = [b for b in filed if lo <= b["time"] <= hi]
                    rows += aggregate(self.today_bars(code), period) if first <= today <= last else []
                else:
                    rows = self._minutes(code, inst, first, last)
                    if period != "1m":
                        rows = aggregate(rows, period)
            else:
                filed = self.folder.bars(code, period) if self.folder is not None and period != "1d" else None
                if filed is not None:
                    rows = [b for b in filed if day_ms(first) <= b["time"] < day_ms(last) + DAY_MS]
                else:
                    if period == "1w":
                        first -= timedelta(days=first.weekday())
                    elif period == "1mon":
                        first = first.replace(day=1)
                    rows = self._daily(code, inst, first, last)
                    if period != "1d":
                        rows = aggregate(rows, period)
            out[code] = columns(select(rows, start, end, count))
        return out

    def instrument_detail(self, codes: list[str], iscomplete: bool = False) -> dict[str, dict | None]:
        return {code: self._detail(code, iscomplete) for code in codes}

    def _detail(self, code: str, iscomplete: bool) -> dict[str, Any] | None:
        inst = self._inst(code)
        if inst is None:
            return None
        today = self._ex.trading_day
        pre = self._anchor(code, inst)
        down, up = inst.limits(pre, today) if inst.tradable else (0.0, 0.0)
        h = int.from_bytes(code.encode(), "big")
        total = float((h % 9000 + 1000) * 1_000_000) if inst.board not in (INDEX,) else 0.0
        listed = date(1995, 1, 3) + timedelta(days=h % 9000)
        detail: dict[str, Any] = {
            "ExchangeID": inst.market, "InstrumentID": code[:6], "InstrumentName": inst.name,
            "ProductID": "", "ProductName": "", "ProductType": _product_type(inst),
            "ExchangeCode": code[:6], "UniCode": code[:6], "CreateDate": "0",
            "OpenDate": min(listed, today - timedelta(days=400)).strftime("%Y%m%d"),
            "ExpireDate": "99999999" if inst.board != BOND else (today + timedelta(days=1500)).strftime("%Y%m%d"),
            "TradingDay": today.strftime("%Y%m%d"),
            "PreClose": pre, "SettlementPrice": 0.0, "UpStopPrice": up, "DownStopPrice": down,
            "FloatVolume": total * 0.8, "TotalVolume": total,
            "LongMarginRatio": None, "ShortMarginRatio": None, "PriceTick": inst.tick, "VolumeMultiple": 1,
            "MainContract": 0, "LastVolume": 0, "InstrumentStatus": 0, "IsTrading": inst.tradable,
            "IsRecent": False, "ProductTradeQuota": None, "ContractTradeQuota": None,
            "ProductOpenInterestQuota": None, "ContractOpenInterestQuota": None,
        }
        if iscomplete:
            detail.update({"Abbreviation": "", "UnderlyingCode": "", "ExtendName": "", "RzrkCode": code[:6],
                           "MaxMarketOrderVolume": inst.max_order_volume, "MinMarketOrderVolume": inst.buy_min,
                           "MaxLimitOrderVolume": inst.max_order_volume, "MinLimitOrderVolume": inst.buy_min,
                           "IsContinuous": False, "secuCategory": 0, "secuAttri": 0, "HSGTFlag": 0,
                           "BondParValue": 100.0 if inst.board == BOND else 0.0, "OptionType": -1})
        return detail

    def instrument_type(self, stock_code: str, variety_list: list[str] | None = None) -> dict[str, bool]:
        board = kind_of(stock_code)
        if board is None:
            return {}
        kind = "stock" if board in STOCK_BOARDS else board
        flags = {t: t in TYPE_OF_BOARD[kind] for t in ALL_TYPES}
        if not variety_list:
            return {t: v for t, v in flags.items() if v}
        return {t: flags[t] for t in variety_list if t in flags}

    def sector_list(self) -> list[str]:
        return list(SECTORS)

    def stock_list_in_sector(self, sector: str, real_timetag: int = -1) -> list[str]:
        spec = SECTORS.get(sector)
        if spec is None:
            return []
        markets, boards = spec
        universe: Universe = self._ex.universe
        out: list[str] = []
        for m in markets:
            out += universe.codes(m, boards)
        return out

    def trading_dates(self, market: str, start_time: str = "", end_time: str = "", count: int = -1) -> list[int]:
        first = _day(parse_time(start_time)) or HISTORY_START
        last = _day(parse_time(end_time, end=True)) or self._ex.trading_day
        days = [{"time": day_ms(d)} for d in calendar().trading_days(first, last)]
        return [r["time"] for r in select(days, None, None, count)]

    def trading_calendar(self, market: str, start_time: str = "", end_time: str = "") -> list[str]:
        first = _day(parse_time(start_time)) or HISTORY_START
        last = _day(parse_time(end_time, end=True)) or date(self._ex.trading_day.year, 12, 31)
        return [d.strftime("%Y%m%d") for d in calendar().trading_days(first, last)]

    def divid_factors(self, stock_code: str, start_time: str = "", end_time: str = "") -> dict[str, Any]:
        rows = self.folder.divid(stock_code) if self.folder is not None else []
        start, end = parse_time(start_time), parse_time(end_time, end=True)
        picked = []
        for r in rows:
            t = r.get("time") or r.get("date")
            ms = _file_time(t)
            if (start is None or ms >= start) and (end is None or ms <= end):
                picked.append(dict({c: r.get(c, 0.0) for c in DIVID_COLUMNS}, time=ms))
        frame = _split_frame(picked, DIVID_COLUMNS)
        frame["index"] = [from_ms(r["time"]).strftime("%Y%m%d") for r in picked]
        return frame

    def financial_data(self, codes: list[str], tables: list[str] | None = None, start_time: str = "",
                       end_time: str = "", report_type: str = "report_time") -> dict[str, dict[str, Any]]:
        tables = list(tables or FINANCIAL_TABLES)
        start, end = _day(parse_time(start_time)), _day(parse_time(end_time, end=True))
        key = "m_anntime" if report_type == "announce_time" else "m_timetag"
        out: dict[str, dict[str, Any]] = {}
        for code in codes:
            out[code] = {}
            for table in tables:
                rows = self.folder.financial(table, code) if self.folder is not None else []
                picked = []
                for r in rows:
                    d = str(r.get(key, r.get("m_timetag", "")))
                    day = datetime.strptime(d[:8], "%Y%m%d").date() if d[:8].isdigit() else None
                    if day is None or ((start is None or day >= start) and (end is None or day <= end)):
                        picked.append(dict(r))
                out[code][table] = _split_frame(picked, FINANCIAL_COLUMNS)
        return out

    def download_history(self, codes: list[str], period: str, start_time: str = "", end_time: str = "",
                         incrementally: bool | None = None) -> dict[str, dict]:
        """Nothing to fetch: the simulator has (or makes) every bar it serves."""
        return {code: {} for code in codes}

    def download_financial(self, codes: list[str], tables: list[str] | None = None, start_time: str = "",
                           end_time: str = "") -> dict:
        return {}

    def download_sector(self) -> dict:
        return {}


def _product_type(inst: Instrument) -> int:
    # xtdata's ProductType codes are not documented per kind; distinct stable values per kind
    return {"stock": 1, "etf": 2, "index": 3, "bond": 4}[inst.kind]


TICK_SCALARS = ("time", "lastPrice", "open", "high", "low", "lastClose", "amount", "volume", "pvolume",
                "stockStatus", "openInt", "transactionNum", "lastSettlementPrice", "settlementPrice")
TICK_LISTS = ("askPrice", "bidPrice", "askVol", "bidVol")


def _tick_columns(ticks: list[dict[str, Any]]) -> dict[str, list]:
    cols: dict[str, list] = {f: [t.get(f, 0) for t in ticks] for f in TICK_SCALARS}
    for f in TICK_LISTS:
        cols[f] = [list(t.get(f, [0] * 5)) for t in ticks]
    return cols


#: `CHINA_TZ` and `bar_time` re-exported for tests that check labels
__all__ = ["SimMarketData", "SECTORS", "FINANCIAL_TABLES", "DIVID_COLUMNS", "calendar", "CHINA_TZ", "bar_time"]
