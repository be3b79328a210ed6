"""Drop-in for ``xtquant.xtdata``, served by the hub: xtdata's own signatures, defaults and
return shapes::

    # from xtquant import xtdata
    from rpc_client import xtdata

    xtdata.download_history_data("600000.SH", "1d", "20240101")
    bars = xtdata.get_market_data_ex([], ["600000.SH"], period="1d", count=20)   # {code: DataFrame}
    detail = xtdata.get_instrument_detail("600000.SH")
    codes = xtdata.get_stock_list_in_sector("沪深A股")

    def on_bar(datas):                       # {code: [bar dict]}
        print(datas)
    xtdata.subscribe_quote("600000.SH", period="1m", callback=on_bar)   # default period '1d'
    xtdata.run()

The module keeps one gateway, connected on first use to ``QMT_HUB`` (default
``tcp://127.0.0.1:5555``; events at ``QMT_HUB_PUB`` or rpc port + 1) with the **monitor**
role (read-only: it cannot place orders) under the name ``xtdata-<pid>``, and it does
not follow account events. Callbacks run on the client's callback thread, one at a time.

Bars of `subscribe_quote` for bar periods are built here from the hub's ticks
(`rpc_client.bars.TickBars`), seeded with the hub's current bar, so every bar period works
on any source. History, reference data and calendars come from the hub's market-data
service (docs/protocol.md, "Market data"). Every xtdata function is listed in
docs/client.md as served or not; calling one the hub does not serve raises `NotServedError`
naming it. Times are Beijing time whatever the machine's zone.

pandas is imported only by the functions that return DataFrames.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from datetime import date, datetime
from typing import Any, Callable

from rpc_client import bars as B
from rpc_client.endpoints import resolve
from rpc_client.gateway import RpcGateway, wait_result as _wait
from rpc_client.protocol import MD_MAX_CODES, ErrorCode, HubError, Role, market_of
from rpc_client.xttrader import NotServedError as _TraderNotServed

log = logging.getLogger("rpc_client")

_lock = threading.RLock()
_gw: RpcGateway | None = None
_seqs = itertools.count(1)
#: seq -> (kind 'quote' | 'whole' | 'bar', codes, callback, bar builder or None)
_subs: dict[int, tuple[str, list[str], Callable[[dict], Any] | None, Any]] = {}

#: seconds a download may take at the source (the hub's own limit is longer still)
DOWNLOAD_TIMEOUT = 600.0
#: seconds a history request may take (the hub answers BROKER_ERROR after its own 30 s)
HISTORY_TIMEOUT = 45.0
#: xtdata's module attributes some programs set or read
enable_hello = True
data_dir = ""


class NotServedError(_TraderNotServed):
    """An xtdata function qmt-hub does not serve (docs/client.md lists what it serves).

    The same family as `rpc_client.xttrader.NotServedError` (one ``except`` catches both);
    raised when the function is called, so a program that only imports it still starts."""

    def __init__(self, name: str):
        super().__init__(f"xtdata.{name} is not served by qmt-hub: the hub serves history, ticks, instrument "
                         f"details, sectors and calendars (see docs/client.md for the list); "
                         f"{name} needs MiniQMT's own xtquant")
        self.name = name


# --------------------------------------------------------------------------- connection

def _markets_match(code: str, codes: list[str]) -> bool:
    return code in codes or code.rsplit(".", 1)[-1] in codes


def _on_tick(code: str, tick: Any) -> None:
    with _lock:
        subs = list(_subs.values())
    market = market_of(code)
    for kind, codes, cb, builder in subs:
        if cb is None or not _markets_match(code, codes):
            continue
        if kind == "whole" and market in codes:
            continue  # a followed market's codes come in its batches (_on_ticks)
        try:
            if kind == "bar":
                bar = builder.update(tick)
                if bar is not None:
                    cb({code: [bar]})
            else:
                cb({code: [tick]} if kind == "quote" else {code: tick})
        except Exception:
            log.exception("rpc_client.xtdata: subscribe callback %s raised", cb)


def _on_ticks(ticks: dict[str, Any]) -> None:
    """A whole-market batch (one `ticks.<market>` frame): each whole-market subscription of that
    market gets it as one call, {code: tick, ...}, as xtdata's subscribe_whole_quote callback."""
    if not ticks:
        return
    market = market_of(next(iter(ticks)))
    with _lock:
        subs = list(_subs.values())
    for kind, codes, cb, _ in subs:
        if cb is None or kind != "whole" or market not in codes:
            continue
        try:
            cb(ticks)
        except Exception:
            log.exception("rpc_client.xtdata: subscribe_whole_quote callback %s raised", cb)


def _gateway() -> RpcGateway:
    """The module's gateway, connected on first use."""
    global _gw
    with _lock:
        if _gw is None:
            rpc, pub = resolve(None)
            gw = RpcGateway(rpc, pub, follow_events=False)
            gw.on_tick = _on_tick
            gw.on_ticks = _on_ticks
            gw.connect(strategy=f"xtdata-{os.getpid()}", role=Role.MONITOR)
            _gw = gw
        return _gw


def _call(method: str, timeout: float | None = None, **params: Any) -> Any:
    gw = _gateway()
    return _wait(gw.call_async(method, _timeout=timeout, **params))


class _Client:
    """What xtdata.connect() returns: the connection to the data service (here: the hub)."""

    def is_connected(self) -> bool:
        gw = _gw
        return gw is not None and gw.is_open

    def get_data_dir(self) -> str:
        return data_dir


def connect(ip: str = "", port: Any = None, remember_if_success: bool = True) -> _Client:
    """Connect to the data service: the hub at ``QMT_HUB`` (ip/port name MiniQMT's data port,
    which a program behind the hub has no use for; they are ignored)."""
    if ip or port:
        log.debug("rpc_client.xtdata.connect: ip/port %r:%r ignored; the hub is at QMT_HUB", ip, port)
    _gateway()
    return _Client()


def reconnect(ip: str = "", port: Any = None, remember_if_success: bool = True) -> _Client:
    close()
    return connect(ip, port, remember_if_success)


def disconnect() -> None:
    close()


def get_client() -> _Client:
    return connect()


# --------------------------------------------------------------------------- helpers

def _codes(code_list: Any) -> list[str]:
    return [code_list] if isinstance(code_list, str) else list(code_list or [])


def _time(value: Any) -> str:
    """xtdata's start_time / end_time as the wire's '' / 'YYYYMMDD' / 'YYYYMMDDhhmmss'."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(B.CHINA_TZ).replace(tzinfo=None)
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value > 10**11:  # epoch ms
            return B.from_ms(value).strftime("%Y%m%d%H%M%S")
        value = str(int(value))
    text = str(value).strip().replace("-", "").replace(":", "").replace(" ", "")
    return text


def _period(period: Any, name: str) -> str:
    if period not in B.PERIODS:
        raise NotServedError(f"{name}(period={period!r})")
    return period


def _bars(stock_list: list[str], period: str, start_time: Any, end_time: Any, count: int,
          dividend_type: str, fill_data: bool) -> dict[str, dict[str, list]]:
    """{code: {field: [values]}} from the hub, every code present, pages and chunks joined."""
    codes = list(dict.fromkeys(_codes(stock_list)))
    out: dict[str, dict[str, list]] = {}
    params = {"period": period, "start_time": _time(start_time), "end_time": _time(end_time), "count": int(count),
              "dividend_type": dividend_type or "none", "fill_data": bool(fill_data)}
    chunks = [codes[i:i + MD_MAX_CODES] for i in range(0, len(codes), MD_MAX_CODES)]
    while chunks:
        chunk = chunks.pop(0)
        try:
            reply = _call("get_bars", timeout=HISTORY_TIMEOUT, codes=chunk, **params)
        except HubError as exc:
            # more rows than one request may give: ask for the codes in two halves
            if exc.code == ErrorCode.INVALID_PARAMS and "rows" in exc.data and len(chunk) > 1:
                half = len(chunk) // 2
                chunks[:0] = [chunk[:half], chunk[half:]]
                continue
            raise
        while True:
            for code, cols in (reply.get("data") or {}).items():
                have = out.get(code)
                if have is None:
                    out[code] = {f: list(v) for f, v in cols.items()}
                else:
                    for f, v in cols.items():
                        have.setdefault(f, []).extend(v)
            if not reply.get("more"):
                break
            reply = _call("next_page", timeout=HISTORY_TIMEOUT, cursor=reply["cursor"])
    for code in codes:
        out.setdefault(code, {})
    return {code: out[code] for code in codes}


# --------------------------------------------------------------------------- history

def get_market_data_ex(field_list: list[str] = [], stock_list: list[str] = [], period: str = "1d",  # noqa: B006
                       start_time: Any = "", end_time: Any = "", count: int = -1, dividend_type: str = "none",
                       fill_data: bool = True) -> dict[str, Any]:
    """{code: DataFrame}: index the bar time ('%Y%m%d' days and longer, else '%Y%m%d%H%M%S'),
    columns `field_list` or every bar field (time open high low close volume amount
    settelementPrice openInterest preClose suspendFlag) with xtdata's dtypes; 'tick': tick
    fields. Every requested code is a key (an empty frame when there is no data)."""
    from rpc_client import frames

    period = _period(period, "get_market_data_ex")
    data = _bars(stock_list, period, start_time, end_time, count, dividend_type, fill_data)
    fields = list(field_list or [])
    if period == "tick":
        return {code: frames.tick_frame(cols, fields) for code, cols in data.items()}
    return {code: frames.bar_frame(cols, fields, period) for code, cols in data.items()}


def get_local_data(field_list: list[str] = [], stock_list: list[str] = [], period: str = "1d",  # noqa: B006
                   start_time: Any = "", end_time: Any = "", count: int = -1, dividend_type: str = "none",
                   fill_data: bool = True, data_dir: str | None = None) -> dict[str, Any]:
    """As get_market_data_ex: the hub's data is the local data (`data_dir` is not used)."""
    return get_market_data_ex(field_list, stock_list, period, start_time, end_time, count, dividend_type,
                              fill_data)


def get_market_data(field_list: list[str] = [], stock_list: list[str] = [], period: str = "1d",  # noqa: B006
                    start_time: Any = "", end_time: Any = "", count: int = -1, dividend_type: str = "none",
                    fill_data: bool = True) -> dict[str, Any]:
    """Bar periods: {field: DataFrame(index=stock_list, columns=bar time strings)};
    'tick': {code: numpy structured array ordered by time}."""
    from rpc_client import frames

    period = _period(period, "get_market_data")
    codes = list(dict.fromkeys(_codes(stock_list)))
    data = _bars(codes, period, start_time, end_time, count, dividend_type, fill_data)
    if period == "tick":
        return frames.tick_arrays(data, codes, list(field_list or []))
    return frames.field_panels(data, codes, list(field_list or []), period)


def get_full_kline(field_list: list[str] = [], stock_list: list[str] = [], period: str = "1m",  # noqa: B006
                   start_time: Any = "", end_time: Any = "", count: int = 1, dividend_type: str = "none",
                   fill_data: bool = True) -> dict[str, Any]:
    """The latest trading day's bars: {field: DataFrame(index=stock_list, columns=bar times)}."""
    from rpc_client import frames

    period = _period(period, "get_full_kline")
    if period == "tick":
        raise NotServedError("get_full_kline(period='tick')")
    if not start_time:
        days = get_trading_dates("SH", count=1)
        start_time = B.from_ms(days[-1]).strftime("%Y%m%d") if days else ""
    codes = list(dict.fromkeys(_codes(stock_list)))
    data = _bars(codes, period, start_time, end_time, count, dividend_type, fill_data)
    return frames.field_panels(data, codes, list(field_list or []), period)


def download_history_data(stock_code: str, period: str, start_time: Any = "", end_time: Any = "",
                          incrementally: bool | None = None) -> None:
    """Have the hub's source fetch one code's history (the simulator has it already)."""
    download_history_data2([stock_code], period, start_time, end_time, None, incrementally)


def download_history_data2(stock_list: list[str], period: str, start_time: Any = "", end_time: Any = "",
                           callback: Callable[[dict], Any] | None = None, incrementally: bool | None = None) -> dict:
    """Fetch many codes' history; `callback` gets {total, finished, stockcode, message} per code."""
    codes = _codes(stock_list)
    period = _period(period, "download_history_data2")
    total = len(codes)
    for i, code in enumerate(codes, 1):
        _call("download_history_data", timeout=DOWNLOAD_TIMEOUT, codes=[code], period=period,
              start_time=_time(start_time), end_time=_time(end_time), incrementally=incrementally)
        if callback is not None:
            try:
                callback({"total": total, "finished": i, "stockcode": code, "message": ""})
            except Exception:  # noqa: BLE001 - as xtdata: a failing progress callback is ignored
                log.debug("download progress callback raised", exc_info=True)
    return {}


supply_history_data = download_history_data


# --------------------------------------------------------------------------- subscriptions

def subscribe_quote(stock_code: str, period: str = "1d", start_time: Any = "", end_time: Any = "",
                    count: int = 0, callback: Callable[[dict], Any] | None = None) -> int:
    """Subscribe one code: 'tick' gives {code: [tick]}, a bar period (1m 5m 15m 30m 1h 1d 1w
    1mon) {code: [bar]} with the bar the latest tick changed. Returns a seq (-1 on failure)."""
    return subscribe_quote2(stock_code, period, start_time, end_time, count, None, callback)


def subscribe_quote2(stock_code: str, period: str = "1d", start_time: Any = "", end_time: Any = "",
                     count: int = 0, dividend_type: Any = None, callback: Callable[[dict], Any] | None = None) -> int:
    """subscribe_quote with xtdata's extra `dividend_type` (bars built from ticks are unadjusted)."""
    if period not in B.PERIODS:
        log.warning("rpc_client.xtdata: period %r is not served through the hub (served: %s)", period,
                    ", ".join(B.PERIODS))
        return -1
    builder = None
    try:
        if period != "tick":
            builder = _bar_builder(stock_code, period)
        _gateway().subscribe_quote([stock_code])
    except HubError as exc:
        log.warning("rpc_client.xtdata: subscribe_quote %s failed: %s", stock_code, exc)
        return -1
    with _lock:
        seq = next(_seqs)
        _subs[seq] = ("quote" if builder is None else "bar", [stock_code], callback, builder)
    return seq


class _PeriodBars:
    """Week and month bars: the period's earlier days from the hub plus today's from ticks."""

    def __init__(self, period: str, earlier: list[dict[str, Any]]):
        self.period = period
        self.earlier = earlier
        self.today = B.TickBars("1d", from_start=True)

    def update(self, tick: dict[str, Any]) -> dict[str, Any] | None:
        bar = self.today.update(tick)
        if bar is None:
            return None
        return B.aggregate([b for b in self.earlier if b["time"] < bar["time"]] + [bar], self.period)[-1]


def _bar_builder(code: str, period: str) -> Any:
    if period in ("1w", "1mon"):
        today = datetime.now(B.CHINA_TZ).date()
        first = today.replace(day=1) if period == "1mon" else date.fromordinal(today.toordinal() - today.weekday())
        cols = _bars([code], "1d", first.strftime("%Y%m%d"), "", -1, "none", True).get(code) or {}
        return _PeriodBars(period, B.rows(cols) if cols else [])
    if period == "1d":
        return B.TickBars("1d")
    cols = _bars([code], period, "", "", 1, "none", True).get(code) or {}
    seed = B.rows(cols)[-1] if cols and cols.get("time") else None
    return B.TickBars(period, from_start=False, seed=seed)


def subscribe_whole_quote(code_list: list[str], callback: Callable[[dict], Any] | None = None) -> int:
    """Markets (``['SH', 'SZ']``) or codes; callback gets ``{code: tick, ...}``: for a market one call per
    batch the hub sends (at most 20 codes of that market, the latest tick of each), for a code
    one call per tick. Returns a seq (-1 on failure)."""
    codes = _codes(code_list)
    try:
        _gateway().subscribe_whole_quote(codes)
    except HubError as exc:
        log.warning("rpc_client.xtdata: subscribe_whole_quote %s failed: %s", codes, exc)
        return -1
    with _lock:
        seq = next(_seqs)
        _subs[seq] = ("whole", codes, callback, None)
    return seq


def _codes_in_use(exclude: int) -> set[str]:
    return {c for s, (_, codes, _, _) in _subs.items() if s != exclude for c in codes}


def unsubscribe_quote(seq: int) -> None:
    """Drop one subscription; the hub stops sending a code once no subscription uses it."""
    with _lock:
        sub = _subs.pop(seq, None)
        if sub is None or _gw is None:
            return
        unused = [c for c in sub[1] if c not in _codes_in_use(seq)]
    if unused:
        try:
            _gw.unsubscribe_quote(unused)
        except HubError as exc:
            log.warning("rpc_client.xtdata: unsubscribe_quote %s failed: %s", unused, exc)


def get_full_tick(code_list: list[str]) -> dict:
    """``{code: tick}`` for the latest tick of each code (markets or codes)."""
    return _gateway().get_full_tick(_codes(code_list))


def run() -> None:
    """Block and keep receiving callbacks (Ctrl+C to leave); raises if the client was closed."""
    gw = _gateway()
    while True:
        time.sleep(0.5)
        if not gw.is_open:
            raise Exception("行情服务连接断开 (the connection to the hub was closed)")


# --------------------------------------------------------------------------- reference data

def get_instrument_detail(stock_code: str, iscomplete: bool = False) -> dict | None:
    """xtdata's instrument dict (ExchangeID, InstrumentID, InstrumentName, PreClose, UpStopPrice,
    DownStopPrice, PriceTick, VolumeMultiple, OpenDate, ExpireDate, ...), None for an unknown code."""
    return _call("get_instrument_detail", codes=[stock_code], iscomplete=bool(iscomplete)).get(stock_code)


def get_instrument_detail_list(stock_list: list[str], iscomplete: bool = False) -> dict[str, dict | None]:
    """{code: instrument dict or None}, in chunks the hub accepts."""
    codes = list(dict.fromkeys(_codes(stock_list)))
    out: dict[str, dict | None] = {}
    for i in range(0, len(codes), MD_MAX_CODES):
        out.update(_call("get_instrument_detail", codes=codes[i:i + MD_MAX_CODES], iscomplete=bool(iscomplete)))
    return {c: out.get(c) for c in codes}


def get_instrument_type(stock_code: str, variety_list: list[str] | None = None) -> dict[str, bool]:
    """{type: True} for the code's types (index, stock, fund, etf, bond, ...); with `variety_list`
    {type: bool} for those types."""
    varieties = list(variety_list) if variety_list else None
    return _call("get_instrument_type", stock_code=stock_code, variety_list=varieties)


get_stock_type = get_instrument_type


def get_sector_list() -> list[str]:
    return _call("get_sector_list")


def get_stock_list_in_sector(sector_name: str, real_timetag: Any = -1) -> list[str]:
    """Codes of a sector ('沪深A股', '沪深ETF', ... or a market 'SH'); `real_timetag` ms or 'YYYYMMDD'."""
    for illegal in ['\\', '/', ':', '*', '?', '"', '<', '>', '|']:
        sector_name = sector_name.replace(illegal, "")
    if isinstance(real_timetag, str):
        real_timetag = B.parse_time(real_timetag) if real_timetag else -1
    return _call("get_stock_list_in_sector", sector=sector_name, real_timetag=int(real_timetag))


def download_sector_data() -> None:
    _call("download_sector_data", timeout=DOWNLOAD_TIMEOUT)


def get_trading_dates(market: str, start_time: Any = "", end_time: Any = "", count: int = -1) -> list[int]:
    """Trading days of a market as epoch ms (00:00 Beijing), ascending."""
    return _call("get_trading_dates", market=market, start_time=_time(start_time)[:8], end_time=_time(end_time)[:8],
                 count=int(count))


def get_trading_calendar(market: str, start_time: Any = "", end_time: Any = "") -> list[str]:
    """Trading days as 'YYYYMMDD', future ones included (SH and SZ only, as in xtdata)."""
    if market not in ("SH", "SZ"):
        raise Exception("暂不支持除SH,SZ以外市场的交易日历")
    return _call("get_trading_calendar", market=market, start_time=_time(start_time)[:8],
                 end_time=_time(end_time)[:8])


def get_divid_factors(stock_code: str, start_time: Any = "", end_time: Any = "") -> Any:
    """DataFrame of dividend factors (index 'YYYYMMDD'; columns time interest stockBonus stockGift
    allotNum allotPrice gugai dr); empty with those columns when the source has none."""
    from rpc_client import frames

    return frames.split_frame(_call("get_divid_factors", stock_code=stock_code, start_time=_time(start_time)[:8],
                                    end_time=_time(end_time)[:8]))


def download_financial_data(stock_list: list[str], table_list: list[str] = [], start_time: Any = "",  # noqa: B006
                            end_time: Any = "", incrementally: bool | None = None) -> None:
    codes = list(dict.fromkeys(_codes(stock_list)))
    for i in range(0, len(codes), MD_MAX_CODES):
        _call("download_financial_data", timeout=DOWNLOAD_TIMEOUT, codes=codes[i:i + MD_MAX_CODES],
              tables=list(table_list or []), start_time=_time(start_time)[:8], end_time=_time(end_time)[:8])


def download_financial_data2(stock_list: list[str], table_list: list[str] = [], start_time: Any = "",  # noqa: B006
                             end_time: Any = "", callback: Callable[[dict], Any] | None = None) -> None:
    codes = _codes(stock_list)
    for i, code in enumerate(codes, 1):
        download_financial_data([code], table_list, start_time, end_time)
        if callback is not None:
            try:
                callback({"total": len(codes), "finished": i, "stockcode": code, "message": ""})
            except Exception:  # noqa: BLE001
                log.debug("download progress callback raised", exc_info=True)


def get_financial_data(stock_list: list[str], table_list: list[str] = [], start_time: Any = "",  # noqa: B006
                       end_time: Any = "", report_type: str = "report_time") -> dict[str, dict[str, Any]]:
    """{code: {table: DataFrame}} for the tables asked (all eight when `table_list` is empty);
    a table the source has no rows for is an empty frame (columns m_timetag, m_anntime)."""
    from rpc_client import frames

    codes = list(dict.fromkeys(_codes(stock_list)))
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(codes), MD_MAX_CODES):
        reply = _call("get_financial_data", codes=codes[i:i + MD_MAX_CODES], tables=list(table_list or []),
                      start_time=_time(start_time)[:8], end_time=_time(end_time)[:8], report_type=report_type)
        for code, tables in reply.items():
            out[code] = {t: frames.split_frame(f) for t, f in tables.items()}
    return out


# --------------------------------------------------------------------------- time

def timetag_to_datetime(timetag: int | float, format: str) -> str:  # noqa: A002 - xtdata's name
    """Epoch ms formatted in Beijing time (xtdata uses the machine's zone, which is Beijing there)."""
    return B.timetag_to_datetime(timetag, format)


timetagToDateTime = timetag_to_datetime


def datetime_to_timetag(datetime_str: str, format: str = "%Y%m%d%H%M%S") -> float:  # noqa: A002
    """'YYYYMMDD[hhmmss]' (Beijing time) as epoch ms (a float, as xtdata returns)."""
    if len(datetime_str) == 8:
        format = "%Y%m%d"
    return float(B.to_ms(datetime.strptime(datetime_str, format)))


# xtdata's short names
gmd = get_market_data
gmd2 = get_market_data_ex
gld = get_local_data
t2d = timetag_to_datetime
gsl = get_stock_list_in_sector


# --------------------------------------------------------------------------- the rest

def close() -> None:
    """Close the module's gateway (not in xtquant; for tests and clean exits)."""
    global _gw
    with _lock:
        gw, _gw = _gw, None
        _subs.clear()
    if gw is not None:
        gw.close()


#: every public function of xtquant.xtdata (xtquant 250516); those not defined above raise
#: NotServedError when called
XTDATA_FUNCTIONS = (
    "connect", "reconnect", "disconnect", "get_client", "hello", "get_data_dir", "get_field_list",
    "get_stock_list_in_sector", "get_index_weight", "get_financial_data", "get_financial_data_ori",
    "get_market_data_ori", "get_market_data", "get_market_data_ex_ori", "get_market_data_ex", "get_market_data3",
    "get_local_data", "get_l2_quote", "get_l2_order", "get_l2_transaction", "get_divid_factors", "getDividFactors",
    "get_main_contract", "get_sec_main_contract", "datetime_to_timetag", "timetag_to_datetime",
    "timetagToDateTime", "get_trading_dates", "get_full_tick", "subscribe_quote", "subscribe_quote2",
    "subscribe_l2thousand", "subscribe_l2thousand_queue", "get_l2thousand_queue", "get_transactioncount",
    "get_fullspeed_orderbook", "subscribe_whole_quote", "unsubscribe_quote", "run", "create_sector_folder",
    "create_sector", "get_sector_list", "get_sector_info", "add_sector", "remove_stock_from_sector",
    "remove_sector", "reset_sector", "get_instrument_detail", "get_instrument_detail_list",
    "download_index_weight", "download_history_contracts", "download_history_data", "supply_history_data",
    "download_history_data2", "download_financial_data", "download_financial_data2", "get_instrument_type",
    "get_stock_type", "download_sector_data", "download_holiday_data", "get_holidays",
    "get_market_last_trade_date", "get_trading_calendar", "is_stock_type", "download_cb_data", "get_cb_info",
    "get_option_detail_data", "get_option_undl_data", "get_option_list", "get_his_option_list",
    "get_his_option_list_batch", "get_ipo_info", "get_markets", "get_wp_market_list", "get_his_st_data",
    "subscribe_formula", "get_formula_result", "bind_formula", "unsubscribe_formula", "call_formula",
    "call_formula_batch", "reset_market_trading_day_list", "reset_market_stock_list", "push_custom_data",
    "get_period_list", "gen_factor_index", "create_formula", "import_formula", "del_formula", "get_formulas",
    "read_feather", "write_feather", "get_quote_server_config", "get_quote_server_status",
    "show_quote_server_status", "watch_quote_server_status", "fetch_quote_server_from_config", "get_etf_info",
    "download_etf_info", "download_his_st_data", "get_hk_broker_dict", "get_broker_queue_data",
    "watch_xtquant_status", "get_full_kline", "generate_index_data", "download_tabular_data",
    "get_trading_contract_list", "get_trading_period", "get_kline_trading_period", "get_all_trading_periods",
    "get_all_kline_trading_periods", "get_authorized_market_list", "compute_coming_trading_calendar",
    "get_tabular_formula", "get_tabular_data", "bnd_get_conversion_price", "bnd_get_call_info",
    "bnd_get_put_info", "bnd_get_amount_change", "get_order_rank", "get_current_connect_sub_info",
    "get_all_sub_info", "gmd", "gmd2", "gmd3", "gld", "t2d", "gsl",
)

SERVED = (
    "connect", "reconnect", "disconnect", "get_client", "get_market_data_ex", "get_market_data", "get_local_data",
    "get_full_kline", "download_history_data", "supply_history_data", "download_history_data2",
    "subscribe_quote", "subscribe_quote2", "subscribe_whole_quote", "unsubscribe_quote", "get_full_tick", "run",
    "get_instrument_detail", "get_instrument_detail_list", "get_instrument_type", "get_stock_type",
    "get_sector_list", "get_stock_list_in_sector", "download_sector_data", "get_trading_dates",
    "get_trading_calendar", "get_divid_factors", "download_financial_data", "download_financial_data2",
    "get_financial_data", "timetag_to_datetime", "timetagToDateTime", "datetime_to_timetag", "gmd", "gmd2", "gld",
    "t2d", "gsl",
)


def __getattr__(name: str) -> Any:
    """xtdata's other functions: a stand-in that raises NotServedError naming the function when
    called (so `from xtquant.xtdata import get_l2_quote` still imports)."""
    if name in XTDATA_FUNCTIONS:
        def not_served(*args: Any, **kwargs: Any) -> Any:
            raise NotServedError(name)
        not_served.__name__ = name
        not_served.__doc__ = f"xtdata.{name}: not served by qmt-hub (raises NotServedError)."
        return not_served
    raise AttributeError(f"module 'xtdata' (served by qmt-hub) has no attribute {name!r}; xtquant's xtdata has "
                         "no such function either")


__all__ = list(SERVED) + ["close", "NotServedError", "XTDATA_FUNCTIONS", "SERVED"]
