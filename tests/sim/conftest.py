"""Fixtures for the simulator tests: a frozen, hand-driven market and a recording callback."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from xtquant.xttype import StockAccount

from hub.sim import SimConfig, XtQuantTrader, XtQuantTraderCallback, get_exchange, shutdown_exchange

ACCOUNT = "8880001"


def wait_for(pred: Callable[[], Any], timeout: float = 3.0) -> Any:
    """Poll until `pred()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.005)
    raise AssertionError("condition not met within %.1fs" % timeout)


class Recorder(XtQuantTraderCallback):
    """Keeps every push as (kind, object, thread name)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, str]] = []
        self._lock = threading.Lock()

    def _add(self, kind: str, obj: Any = None) -> None:
        with self._lock:
            self.events.append((kind, obj, threading.current_thread().name))

    def on_connected(self): self._add("connected")
    def on_disconnected(self): self._add("disconnected")
    def on_account_status(self, s): self._add("account_status", s)
    def on_stock_asset(self, a): self._add("asset", a)
    def on_stock_order(self, o): self._add("order", o)
    def on_stock_trade(self, t): self._add("trade", t)
    def on_stock_position(self, p): self._add("position", p)
    def on_order_error(self, e): self._add("order_error", e)
    def on_cancel_error(self, e): self._add("cancel_error", e)
    def on_order_stock_async_response(self, r): self._add("order_response", r)
    def on_cancel_order_stock_async_response(self, r): self._add("cancel_response", r)

    def of(self, kind: str) -> list[Any]:
        with self._lock:
            return [o for k, o, _ in self.events if k == kind]

    def kinds(self) -> list[str]:
        with self._lock:
            return [k for k, _, _ in self.events]

    def wait(self, kind: str, pred: Callable[[Any], bool] = lambda o: True, timeout: float = 3.0) -> Any:
        found = wait_for(lambda: next(([o] for o in self.of(kind) if pred(o)), None), timeout)
        return found[0]


def frozen_config(**kw: Any) -> SimConfig:
    """A market that moves only on `advance()`, never by itself, with 500 shares per level."""
    base = dict(auto_tick=False, volatility=0.0, depth_min=500, depth_max=500, seed=7)
    base.update(kw)
    return SimConfig(**base)


@pytest.fixture
def sim_path(tmp_path: Path) -> Iterator[Path]:
    p = tmp_path / "terminal"
    yield p
    shutdown_exchange(p)


@pytest.fixture
def ex(sim_path: Path):
    return get_exchange(sim_path, frozen_config())


@pytest.fixture
def acc() -> StockAccount:
    return StockAccount(ACCOUNT)


class Session:
    def __init__(self, trader: XtQuantTrader, cb: Recorder) -> None:
        self.trader, self.cb = trader, cb


@pytest.fixture
def make_session(sim_path: Path, acc: StockAccount):
    made: list[XtQuantTrader] = []

    def make(session_id: int = 1, subscribe: bool = True) -> Session:
        cb = Recorder()
        t = XtQuantTrader(str(sim_path), session_id, cb)
        t.start()
        assert t.connect() == 0
        if subscribe:
            assert t.subscribe(acc) == 0
        made.append(t)
        return Session(t, cb)

    yield make
    for t in made:
        t.stop()


@pytest.fixture
def s(ex, make_session) -> Session:
    return make_session()
