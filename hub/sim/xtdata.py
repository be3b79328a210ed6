"""`SimXtData`: an xtdata-shaped quote source bound to a simulated terminal.

The hub's market-data path calls `subscribe_quote`, `subscribe_whole_quote`,
`unsubscribe_quote` and `get_full_tick` as on real xtdata; callbacks arrive on
this object's own thread, one call per market snapshot.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
from typing import Any, Callable

from hub.sim.registry import get_exchange
from hub.sim.remote import RemoteSimXtData
from rpc_client.xt import MARKETS

log = logging.getLogger(__name__)

_STOP = object()


def open_xtdata(path: Any = "", exchange: Any = None) -> "SimXtData | RemoteSimXtData":
    """The xtdata-shaped quote source of `path`: the one place the quotes backend is chosen.

    A ``tcp://`` endpoint gives a `hub.sim.remote.RemoteSimXtData` (the same calls against a
    simulator process started with ``hub sim``); a folder (or `exchange`) gives a `SimXtData`
    on the in-process terminal. `hub.sim.SimXtData` is this function, under its old name.
    """
    if exchange is None and isinstance(path, str) and path.startswith("tcp://"):
        return RemoteSimXtData(path)
    return SimXtData(path, exchange=exchange)


class SimXtData:
    """Quote subscriptions on the in-process simulated exchange of `path` (see `open_xtdata`)."""

    def __init__(self, path: str | os.PathLike, exchange: Any = None) -> None:
        self._ex = exchange or get_exchange(path)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        # seq -> (kind, keys, callback); kind "one": {code: [tick]}, "whole": {code: tick}
        self._subs: dict[int, tuple[str, tuple[str, ...], Callable[[dict], None] | None]] = {}
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sim-xtdata", daemon=True)
        self._thread.start()
        self._ex.add_tick_listener(self._on_ticks)
        self._ex.market_data()  # today's bars are recorded from the feed from now on

    # ------------------------------------------------------------ xtdata API
    def subscribe_quote(self, stock_code: str, period: str = "tick", start_time: str = "", end_time: str = "",
                        count: int = 0, callback: Callable[[dict], None] | None = None) -> int:
        """Subscribe one code's ticks: returns seq > 0, or -1 (unknown code or a period other than 'tick')."""
        if period != "tick" or self._ex.instrument(stock_code) is None:
            return -1
        self._ex.quote(stock_code)
        return self._add("one", (stock_code,), callback)

    def subscribe_whole_quote(self, code_list: list[str], callback: Callable[[dict], None] | None = None) -> int:
        """Subscribe many codes, or whole markets ('SH', 'SZ', 'BJ'): callback gets {code: tick, ...}."""
        keys = []
        for c in code_list:
            if c in MARKETS:
                for code in self._ex.universe.codes(c):
                    self._ex.quote(code)
                keys.append(c)
            elif self._ex.instrument(c) is not None:
                self._ex.quote(c)
                keys.append(c)
        if not keys:
            return -1
        return self._add("whole", tuple(keys), callback)

    def unsubscribe_quote(self, seq: int) -> None:
        with self._lock:
            sub = self._subs.pop(seq, None)
        if sub is not None:
            for k in sub[1]:
                self._ex.count_quote_sub(k, -1)

    def get_full_tick(self, code_list: list[str]) -> dict[str, dict]:
        """{code: tick dict} for the known codes in `code_list` ('SH' etc. expand to the listed codes)."""
        codes: list[str] = []
        for c in code_list:
            codes.extend(self._ex.universe.codes(c) if c in MARKETS else [c])
        return self._ex.full_ticks(codes)

    def market_data(self, kind: str, **params: Any) -> Any:
        """One market-data request in the plain shapes of hub/marketdata/upstream.py
        (`kind` is a method of `hub.sim.marketdata.SimMarketData`: bars, instrument_detail, ...)."""
        fn = getattr(self._ex.market_data(), kind, None) if not kind.startswith("_") else None
        if fn is None or kind in ("close", "today_bars"):
            raise ValueError(f"the simulator has no market data {kind!r}")
        return fn(**params)

    def active_subscriptions(self) -> dict[str, int]:
        """Upstream subscriptions per code/market across every SimXtData on this exchange."""
        return self._ex.active_subscriptions()

    def close(self) -> None:
        """Drop every subscription and end the callback thread."""
        self._ex.remove_tick_listener(self._on_ticks)
        with self._lock:
            seqs = list(self._subs)
        for s in seqs:
            self.unsubscribe_quote(s)
        self._queue.put(_STOP)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    # ------------------------------------------------------------ internals
    def _add(self, kind: str, keys: tuple[str, ...], callback: Callable[[dict], None] | None) -> int:
        seq = next(self._seq)
        with self._lock:
            self._subs[seq] = (kind, keys, callback)
        for k in keys:
            self._ex.count_quote_sub(k, 1)
        return seq

    def _on_ticks(self, ticks: dict[str, dict]) -> None:
        """Called by the exchange under its lock: only enqueue."""
        self._queue.put(ticks)

    def _run(self) -> None:
        while True:
            ticks = self._queue.get()
            if ticks is _STOP:
                return
            with self._lock:
                subs = list(self._subs.values())
            for kind, keys, cb in subs:
                if cb is None:
                    continue
                try:
                    if kind == "one":
                        t = ticks.get(keys[0])
                        if t is not None:
                            cb({keys[0]: [t]})
                    else:
                        out = {c: t for c, t in ticks.items()
                               if c in keys or c[-2:] in keys}
                        if out:
                            cb(out)
                except Exception:
                    log.exception("exception in sim quote callback")
