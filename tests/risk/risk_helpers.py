"""Helpers for the pure risk tests: an engine with a synced pool, orders and broker pushes as maps."""

from __future__ import annotations

from typing import Any

from hub.risk import RiskEngine
from hub.risk.config import parse

BUY, SELL, FIX, LATEST, MKT_SH = 23, 24, 11, 5, 42
CODE = "600000.SH"


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def engine(risk: dict | None = None, strategies: dict | None = None, cash: float = 1_000_000.0,
           positions: dict[str, int] | None = None, prices: dict[str, tuple[float, float]] | None = None,
           clock: Clock | None = None) -> tuple[RiskEngine, list[dict[str, Any]]]:
    """An engine whose pool holds `cash` and `positions` (sellable), with config allotments applied."""
    records: list[dict[str, Any]] = []
    prices = {CODE: (10.0, 10.0)} if prices is None else prices
    e = RiskEngine(parse(risk or {}, strategies or {}), sink=records.append, reference=prices.get,
                   clock=clock or Clock())
    pos = [{"stock_code": c, "volume": v, "can_use_volume": v, "avg_price": 9.0}
           for c, v in (positions if positions is not None else {CODE: 10000}).items()]
    e.roll("20261202")
    e.reconcile({"cash": cash, "frozen_cash": 0.0}, pos)
    assert e.apply_config() == []
    return e, records


def order(code: str = CODE, side: int = BUY, volume: int = 100, price: float = 10.0, price_type: int = FIX) -> dict:
    return {"stock_code": code, "order_type": side, "order_volume": volume, "price_type": price_type, "price": price}


def place(e: RiskEngine, strategy: str, tag: str, **kw: Any):
    o = e.evaluate(strategy, order(**kw))
    e.reserve(tag, o)
    return o


def push_order(e: RiskEngine, tag: str, strategy: str, order_id: int, status: int, traded: int = 0, **kw: Any) -> None:
    e.on_order({"owner_tag": tag, "owner": strategy, "order_id": order_id, "order_status": status,
                "traded_volume": traded, **kw})


def push_trade(e: RiskEngine, tag: str, strategy: str, order_id: int, traded_id: str, side: int, volume: int,
               price: float, commission: float, code: str = CODE) -> None:
    e.on_trade({"owner_tag": tag, "owner": strategy, "order_id": order_id, "traded_id": traded_id,
                "order_type": side, "stock_code": code, "traded_volume": volume,
                "traded_amount": round(price * volume, 2), "commission": commission})


def refused(e: RiskEngine, strategy: str, **kw: Any):
    """The Refusal the order gets (fails the test if it passes)."""
    from hub.risk import Refusal

    try:
        e.evaluate(strategy, order(**kw))
    except Refusal as r:
        return r
    raise AssertionError(f"order {kw} of {strategy} was not refused")


def reconnect_with_a_difference(hub: Any, watcher: Any, shares: int = 500, cash: float = 1234.56,
                                timeout: float = 10.0) -> dict[str, Any]:
    """While the hub is cut off from its (simulated) broker, the account changes with no trade and no
    push (a bonus issue of `shares` 600000.SH and a cash dividend of `cash`): the reconnect's reconcile
    finds both differences, a second snapshot confirms them and they are booked to the pool.
    `watcher` is a monitor or admin RawClient; returns the hub's `status` once both are booked."""
    import time

    from core_helpers import exchange_of

    def wait(pred: Any, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            st = watcher.call("status")
            if pred(st):
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {st.get('broker')} {st.get('risk')}")
            time.sleep(0.05)

    ex = exchange_of(hub)
    ex.disconnect_all(offline=True)
    try:
        wait(lambda st: st["broker"]["state"] != "up", "the broker down")
        with ex.lock:
            p = ex.positions[("SIM0001", CODE)]
            p.volume += shares
            p.can_use_volume += shares
            p.yesterday_volume += shares
            ex.accounts["SIM0001"].cash += cash
    finally:
        ex.go_online()
    return wait(lambda st: st["broker"]["state"] == "up" and st["risk"]["reconcile"]["booked_today"] == 2,
                "both differences booked")


def pending_difference(book: bool = False) -> RiskEngine:
    """An engine whose ledger the broker's account showed 500 more shares and 1,234.56 more cash than
    once (pending), or twice with `book` (booked to the pool); its `status()` is the `risk` map of
    `hub status`."""
    e, _ = engine(strategies={"alpha": {"cash": 100_000}})
    asset = {"cash": 1_000_000 + 1234.56, "frozen_cash": 0.0}
    positions = [{"stock_code": CODE, "volume": 10500, "can_use_volume": 10500, "avg_price": 9.0}]
    assert e.reconcile(asset, positions)["pending"]
    if book:
        assert e.reconcile(asset, positions)["booked"]
    return e
