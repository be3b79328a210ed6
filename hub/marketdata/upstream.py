"""Where market data comes from: one adapter per kind of source, one thread for every call.

The service asks a source for plain values (lists, dicts, numbers, strings) only:

=========================  ==================================================================
kind                       result
=========================  ==================================================================
bars(codes, period, ...)   ``{code: {field: [values]}}`` (bar fields, or tick fields for 'tick')
instrument_detail(codes)   ``{code: detail dict | None}``
instrument_type(code, vl)  ``{type: bool}``
sector_list()              ``[name]``
stock_list_in_sector(...)  ``[code]``
trading_dates(...)         ``[ms]``
trading_calendar(...)      ``['YYYYMMDD']``
divid_factors(code, ...)   ``{index, columns, data}`` (a frame in split form)
financial_data(codes, ...) ``{code: {table: {index, columns, data}}}``
download_history(...)      ``{code: {}}``
download_financial(...)    ``{}``
download_sector()          ``{}``
=========================  ==================================================================

`SimUpstream` forwards to the simulator's `market_data(kind, **params)` (in process or over
`hub sim`'s connection); `XtDataUpstream` calls the real `xtquant.xtdata` and turns its
DataFrames into those shapes. `UpstreamThread` is the one thread that makes every call
(xtdata must never be called from two threads at once); the service gives each call a
deadline and answers the caller with an error when the thread does not finish in time.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable

from hub.broker.convert import plain

log = logging.getLogger("hub.marketdata")

KINDS = ("bars", "instrument_detail", "instrument_type", "sector_list", "stock_list_in_sector", "trading_dates",
         "trading_calendar", "divid_factors", "financial_data", "download_history", "download_financial",
         "download_sector")


class NotServed(Exception):
    """The source has no such data (a simulator without market data, an unknown kind)."""


class SimUpstream:
    """The simulator (`hub.sim.SimXtData` or its remote twin): it speaks the plain shapes already."""

    def __init__(self, source: Any):
        self._source = source

    def call(self, kind: str, **params: Any) -> Any:
        fn = getattr(self._source, "market_data", None)
        if fn is None:
            raise NotServed("this simulator serves no market data (it predates it)")
        return fn(kind, **params)


def _frame_split(frame: Any) -> dict[str, Any]:
    """A pandas DataFrame as {index, columns, data} of plain values."""
    if frame is None:
        return {"index": [], "columns": [], "data": []}
    return {"index": [plain(i) for i in frame.index.tolist()], "columns": [str(c) for c in frame.columns],
            "data": plain(frame.values.tolist())}


class XtDataUpstream:
    """The real `xtquant.xtdata` (live MiniQMT), called only from the `UpstreamThread`."""

    def __init__(self, xtdata: Any):
        self._xt = xtdata

    def call(self, kind: str, **params: Any) -> Any:
        if kind not in KINDS:
            raise NotServed(f"no market data {kind!r}")
        return getattr(self, "_" + kind)(**params)

    def _bars(self, codes: list[str], period: str, start_time: str = "", end_time: str = "", count: int = -1,
              dividend_type: str = "none", fill_data: bool = True) -> dict[str, dict[str, list]]:
        frames = self._xt.get_market_data_ex([], codes, period, start_time, end_time, count, dividend_type,
                                             fill_data) or {}
        out = {}
        for code in codes:
            frame = frames.get(code)
            if frame is None:
                out[code] = {}
                continue
            out[code] = {str(c): plain(frame[c].tolist()) for c in frame.columns}
        return out

    def _instrument_detail(self, codes: list[str], iscomplete: bool = False) -> dict[str, Any]:
        return {c: plain(self._xt.get_instrument_detail(c, iscomplete)) for c in codes}

    def _instrument_type(self, stock_code: str, variety_list: list[str] | None = None) -> dict[str, bool]:
        return plain(self._xt.get_instrument_type(stock_code, variety_list) or {})

    def _sector_list(self) -> list[str]:
        return plain(self._xt.get_sector_list() or [])

    def _stock_list_in_sector(self, sector: str, real_timetag: int = -1) -> list[str]:
        return plain(self._xt.get_stock_list_in_sector(sector, real_timetag) or [])

    def _trading_dates(self, market: str, start_time: str = "", end_time: str = "", count: int = -1) -> list[int]:
        return plain(self._xt.get_trading_dates(market, start_time, end_time, count) or [])

    def _trading_calendar(self, market: str, start_time: str = "", end_time: str = "") -> list[str]:
        return plain(self._xt.get_trading_calendar(market, start_time, end_time) or [])

    def _divid_factors(self, stock_code: str, start_time: str = "", end_time: str = "") -> dict[str, Any]:
        return _frame_split(self._xt.get_divid_factors(stock_code, start_time, end_time))

    def _financial_data(self, codes: list[str], tables: list[str] | None = None, start_time: str = "",
                        end_time: str = "", report_type: str = "report_time") -> dict[str, Any]:
        data = self._xt.get_financial_data(codes, tables or [], start_time, end_time, report_type) or {}
        return {code: {t: _frame_split(f) for t, f in (tables_ or {}).items()} for code, tables_ in data.items()}

    def _download_history(self, codes: list[str], period: str, start_time: str = "", end_time: str = "",
                          incrementally: bool | None = None) -> dict[str, dict]:
        for code in codes:  # one code per call: the thread is free between codes
            self._xt.download_history_data(code, period, start_time, end_time, incrementally)
        return {code: {} for code in codes}

    def _download_financial(self, codes: list[str], tables: list[str] | None = None, start_time: str = "",
                            end_time: str = "") -> dict:
        self._xt.download_financial_data(codes, tables or [], start_time, end_time)
        return {}

    def _download_sector(self) -> dict:
        self._xt.download_sector_data()
        return {}


def make_upstream(source: Any) -> Any:
    """The adapter for a quote source: the simulator's or the real xtdata module."""
    if source is None:
        return None
    if hasattr(source, "market_data") or type(source).__name__ in ("SimXtData", "RemoteSimXtData"):
        return SimUpstream(source)
    return XtDataUpstream(source)


class UpstreamThread:
    """The one thread that calls the source.

    `submit(fn, done)` queues a job (the market-data service's requests, in order); `done(result,
    error)` runs on this thread afterwards and must only hand over (into the hub's mailbox).
    `call(fn, timeout)` runs `fn` here ahead of the queued jobs and waits for it (the live quote
    subscriptions: quick calls the loop needs answered at once); after `timeout` it raises
    TimeoutError, and a call that has not started by then never runs.
    """

    def __init__(self, name: str = "hub-marketdata", max_queue: int = 1000):
        self._cv = threading.Condition()
        self._urgent: deque = deque()
        self._jobs: deque = deque()
        self._max = max_queue
        self._closed = False
        self.busy_since: float | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> bool:
        """Queue a job; False when the queue is full (the source is stuck or flooded) or closed."""
        with self._cv:
            if self._closed or len(self._jobs) >= self._max:
                return False
            self._jobs.append((fn, done, None))
            self._cv.notify()
        return True

    def call(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Run `fn` on this thread before any queued job and return its result (or raise its error)."""
        if threading.current_thread() is self._thread:
            return fn()
        finished = threading.Event()
        box: dict[str, Any] = {}
        cancelled = threading.Event()

        def done(result: Any, err: BaseException | None) -> None:
            box["result"], box["error"] = result, err
            finished.set()

        with self._cv:
            if self._closed:
                raise RuntimeError("the market-data thread is closed")
            self._urgent.append((fn, done, cancelled))
            self._cv.notify()
        if not finished.wait(timeout):
            cancelled.set()
            if not finished.is_set():
                raise TimeoutError(f"xtdata did not answer within {timeout:g}s (busy with an earlier request)")
        if box.get("error") is not None:
            raise box["error"]
        return box.get("result")

    def pending(self) -> int:
        with self._cv:
            return len(self._jobs) + len(self._urgent)

    def close(self, timeout: float = 2.0) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        import time

        while True:
            with self._cv:
                while not self._urgent and not self._jobs and not self._closed:
                    self._cv.wait()
                if self._urgent:
                    fn, done, cancelled = self._urgent.popleft()
                elif self._jobs:
                    fn, done, cancelled = self._jobs.popleft()
                else:
                    return  # closed and nothing left
            if cancelled is not None and cancelled.is_set():
                continue
            self.busy_since = time.monotonic()
            try:
                result, err = fn(), None
            except BaseException as exc:  # noqa: BLE001 - reported to the caller
                result, err = None, exc
            self.busy_since = None
            try:
                done(result, err)
            except Exception:  # noqa: BLE001
                log.exception("handing over a market-data result failed")
