"""The risk engine: the checks, the sleeves ledger, self-trade prevention and the rate guard together.

Why one object with no sockets: the hub's order path calls `evaluate` (raises `Refusal`) and
`reserve` as one of its stages; broker pushes reach `on_order` / `on_trade`; reconciles reach
`reconcile`. Every ledger change goes to `sink(record)` (the hub journals it in the same
transaction as the event that caused it), so `restore` rebuilds the state after a crash.
Nothing here queries the broker or reads SQL per order.
"""

from __future__ import annotations

import logging
import time
from dataclasses import fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable

from rpc_client import xt

from hub.risk import checks as K
from hub.risk.checks import Order, Refusal
from hub.risk.config import LIMIT_KEYS, RiskConfig, RiskSettings, StrategyLimits, parse_limits
from hub.risk.ledger import BUY, POOL, SELL, Ledger, LedgerError, to_cents, yuan
from hub.risk.market import t_plus_zero
from hub.risk.ratelimit import RateGuard
from hub.risk.selftrade import Resting, RestingBook

log = logging.getLogger("hub.risk")

FINAL = xt.FINAL
Reference = Callable[[str], "tuple[float, float] | None"]  # code -> (last price, yesterday's close)


_RATE_SCALE = 10 ** 10  # fee rates as integers: exact half-up rounding of cents without Decimal per order


_TWICE = 2 * _RATE_SCALE


def _rate(x: float) -> int:
    return int(Decimal(str(x)) * _RATE_SCALE)


def _half_up(cents: int, rate: int) -> int:
    """round_half_up(cents * rate / _RATE_SCALE) for cents, rate >= 0, in integers."""
    return (cents * rate * 2 + _RATE_SCALE) // (2 * _RATE_SCALE)


class FeeModel:
    """Estimated buy fees for reservations: commission (with its minimum) and transfer fee, in cents."""

    def __init__(self, s: RiskSettings) -> None:
        self.rate, self.transfer, self.stamp = (_rate(s.commission_rate), _rate(s.transfer_fee_rate),
                                                _rate(s.stamp_duty_rate))
        self.minimum = int(Decimal(str(s.commission_min)).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))

    def buy_cash(self, notional: int) -> int:
        if notional <= 0:
            return 0
        # notional + max(_half_up(notional, rate), minimum) + _half_up(notional, transfer), inline (every buy)
        return (notional + max((notional * self.rate * 2 + _RATE_SCALE) // _TWICE, self.minimum)
                + (notional * self.transfer * 2 + _RATE_SCALE) // _TWICE)

    def estimate(self, side: int, amount: int) -> int:
        """All fees of a fill whose trade record carries none (commission min counted once per fill)."""
        fee = max(_half_up(amount, self.rate), self.minimum) + _half_up(amount, self.transfer)
        return fee + (_half_up(amount, self.stamp) if side == SELL else 0)


class RiskEngine:
    def __init__(self, config: RiskConfig | None = None, sink: Callable[[dict[str, Any]], None] | None = None,
                 reference: Reference | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        config = config or RiskConfig()
        self.settings = config.settings
        self.config_limits = config.strategies
        self.ledger = Ledger()
        self.resting = RestingBook()
        self.rate = RateGuard(self.settings.account_max_actions_per_second, self.settings.account_max_actions_per_day)
        self.fees = FeeModel(self.settings)
        self.sink = sink or (lambda rec: None)
        self.reference: Reference = reference or (lambda code: None)
        self.clock = clock
        self.now = 0.0
        self.refusals: dict[str, int] = {}
        self.refusals_by_strategy: dict[str, int] = {}
        self.held: dict[str, int] = {}  # strategy -> orders held while resting ones are cancelled
        self.warnings: list[str] = []
        self.on_warning: Callable[[str], None] | None = None  # the hub publishes it (hub.risk, event "warning")
        #: owner tag -> the broker's order id when known before the order's first push (the desk's answer)
        self.order_id_of: Callable[[str], int | None] = lambda tag: None
        #: code -> (last, yesterday's close) from the quote source when the hub holds no tick of it;
        #: asked at most once per code and day (a market buy needs the limit-up price to reserve)
        self.fetch_reference: Callable[[str], "tuple[float, float] | None"] = lambda code: None
        self._fetched: dict[str, tuple[float, float] | None] = {}
        self.problems: list[str] = []
        self.pending_diff: dict[str, int] | None = None
        self.last_report: dict[str, Any] | None = None
        self._limits: dict[str, StrategyLimits] = {}
        #: strategy -> (its limits, the checks that can refuse under them): built on a strategy's
        #: first order, again after its limits change (set_limits, restore)
        self._plans: dict[str, tuple[StrategyLimits, tuple[Any, ...]]] = {}

    # ---- limits --------------------------------------------------------------------
    def limits_of(self, strategy: str) -> StrategyLimits:
        lim = self._limits.get(strategy)
        if lim is None:
            base = self.config_limits.get(strategy) or StrategyLimits()
            over = self.ledger.limits.get(strategy)
            lim = parse_limits(over, f"limits of {strategy}", base) if over else base
            self._limits[strategy] = lim
        return lim

    def set_limits(self, strategy: str, changes: dict[str, Any]) -> StrategyLimits:
        """`hub limits set`: checked like the config, journaled, effective for the next order."""
        bad = [k for k in changes if k not in LIMIT_KEYS]
        if bad:
            raise LedgerError(f"unknown limit(s) {', '.join(bad)} (known: {', '.join(LIMIT_KEYS)})")
        parse_limits(changes, f"limits of {strategy}", self.limits_of(strategy))  # raises on a bad value
        self._emit(self.ledger.set_limits(strategy, changes))
        self._limits.pop(strategy, None)
        self._plans.pop(strategy, None)
        return self.limits_of(strategy)

    def plan_of(self, strategy: str) -> tuple[StrategyLimits, tuple[Any, ...]]:
        """(limits, the checks of the documented order that can refuse under them), kept per strategy."""
        got = self._plans.get(strategy)
        if got is None:
            lim = self.limits_of(strategy)
            got = self._plans[strategy] = (lim, K.active(self.settings, lim))
        return got

    def reference_once(self, code: str) -> "tuple[float, float] | None":
        if code not in self._fetched:
            try:
                self._fetched[code] = self.fetch_reference(code)
            except Exception:  # noqa: BLE001 - no price: the check refuses the market buy
                log.exception("risk: fetching a reference price of %s failed", code)
                self._fetched[code] = None
        return self._fetched[code]

    def held_count(self, strategy: str) -> int:
        return self.held.get(strategy, 0)

    def _emit(self, rec: dict[str, Any] | None) -> None:
        if rec is not None:
            self.sink(rec)

    # ---- the checks ----------------------------------------------------------------
    def evaluate(self, strategy: str, params: dict[str, Any], now: float | None = None) -> Order:
        """Run the checks in order; returns the checked order or raises Refusal (counted here)."""
        self.now = self.clock() if now is None else now
        o = Order(strategy, params["stock_code"], params["order_type"], params["order_volume"],
                  params["price_type"], float(params.get("price") or 0.0))
        got = self._plans.get(strategy)
        lim, plan = got if got is not None else self.plan_of(strategy)
        try:
            for check in plan:
                check(self, o, lim)
        except Refusal as r:
            self.refusals[r.check] = self.refusals.get(r.check, 0) + 1
            self.refusals_by_strategy[strategy] = self.refusals_by_strategy.get(strategy, 0) + 1
            raise
        return o

    @staticmethod
    def refusal_data(r: Refusal, strategy: str) -> dict[str, Any]:
        data = {"check": r.check, "limit": r.limit, "value": r.value, "strategy": strategy}
        data.update(r.extra)
        return data

    def reserve(self, tag: str, o: Order, emit: bool = True) -> dict[str, Any]:
        """The order passed and is about to go to the broker: hold its cash or shares, count it.

        Returns its record; `emit=False` leaves journaling it to the caller (the stage puts it in the
        order request's own journal row) instead of the engine's sink."""
        rec = self.ledger.reserve(tag, o.strategy, o.code, o.side, o.volume, o.ref_price, o.market, o.cash,
                                  o.notional, o.pool_shares)
        if emit:
            self.sink(rec)
        self.resting.add(Resting(tag, o.strategy, o.code, o.side, o.ref_price, o.market))
        warnings = self.rate.record(o.strategy, self.now or self.clock())
        if warnings:
            self._warn(warnings)
        return rec

    def placement_failed(self, tag: str) -> None:
        """The broker refused the placement (or it never left the hub): release everything."""
        self._emit(self.ledger.close(tag, 0))
        self.resting.remove(tag)

    def unreserve(self, tag: str) -> None:
        """A reservation whose record never became durable (the order request's journal write failed):
        undone in memory only, as if never made (no record: there is none to close)."""
        self.ledger.close(tag, 0)
        self.resting.remove(tag)

    def forget(self, tag: str) -> None:
        """An order that certainly never left the hub (BROKER_DOWN): as if never reserved."""
        self.placement_failed(tag)

    def on_cancel(self, strategy: str) -> None:
        """A cancel went to the broker: never refused, always counted (rate windows, daily cancels)."""
        self._emit(self.ledger.count_cancel(strategy))
        self._warn(self.rate.record(strategy, self.clock()))

    def _warn(self, warnings: Iterable[str]) -> None:
        for w in warnings:
            log.warning("rate guard: %s", w)
            self.warnings.append(w)
            del self.warnings[:-20]
            if self.on_warning is not None:
                self.on_warning(w)

    # ---- broker pushes (public book maps) ------------------------------------------------
    def on_order(self, data: dict[str, Any]) -> None:
        tag = data.get("owner_tag") or ""
        status = data.get("order_status")
        order_id = data.get("order_id")
        if tag and (tag in self.ledger.reservations or tag in self.resting.by_key):
            if isinstance(order_id, int) and order_id > 0:
                self.resting.bind(tag, order_id)
                res = self.ledger.reservations.get(tag)
                if res is not None:
                    res.order_id = order_id
            if status in FINAL:
                self.resting.remove(tag)
                self._emit(self.ledger.close(tag, int(data.get("traded_volume") or 0)))
            return
        if data.get("owner") == POOL and isinstance(order_id, int):
            key = f"x{order_id}"
            if status in FINAL:
                self.resting.remove(key)
            elif key not in self.resting.by_key and data.get("order_type") in (BUY, SELL):
                price = float(data.get("price") or 0.0)
                self.resting.add(Resting(key, POOL, data.get("stock_code", ""), data["order_type"], price,
                                         price <= 0, order_id))

    def on_trade(self, data: dict[str, Any]) -> None:
        owner = data.get("owner") or POOL
        side = data.get("order_type")
        if side not in (BUY, SELL):
            return
        amount = to_cents(float(data.get("traded_amount") or 0.0))
        fee = data.get("commission")
        fee_c = to_cents(float(fee)) if isinstance(fee, (int, float)) and not isinstance(fee, bool) \
            else self.fees.estimate(side, amount)
        tag = data.get("owner_tag") or ""
        if tag not in self.ledger.reservations:
            tag = ""
        code = data.get("stock_code", "")
        self._emit(self.ledger.fill(owner, tag, (data.get("order_id"), data.get("traded_id")), code, side,
                                    int(data.get("traded_volume") or 0), amount, fee_c, t_plus_zero(code)))

    # ---- allotments ------------------------------------------------------------------
    def allot(self, strategy: str, cash: float | None = None, code: str | None = None, volume: int = 0,
              why: str = "admin") -> dict[str, Any]:
        rec = self.ledger.allot(strategy, to_cents(cash) if cash is not None else None, code, volume, why)
        self._emit(rec)
        return rec

    def transfer(self, src: str, dst: str, cash: float | None = None, code: str | None = None, volume: int = 0,
                 why: str = "admin") -> dict[str, Any]:
        rec = self.ledger.transfer(src, dst, to_cents(cash) if cash is not None else None, code, volume, why)
        self._emit(rec)
        return rec

    def apply_config(self) -> list[str]:
        """Allot what `[strategies.NAME]` says, once: only the change since the last applied config moves."""
        problems = []
        for name, lim in self.config_limits.items():
            want = {"cash": to_cents(lim.cash) if lim.cash is not None else None, "positions": dict(lim.positions)}
            had = self.ledger.config_applied.get(name, {"cash": None, "positions": {}})
            if want == had:
                continue
            done = {"cash": had.get("cash"), "positions": dict(had.get("positions") or {})}
            try:
                if want["cash"] != had.get("cash"):
                    self._emit(self.ledger.allot(name, (want["cash"] or 0) - (had.get("cash") or 0), None, 0,
                                                 "config"))
                    done["cash"] = want["cash"]
                for code in sorted(set(want["positions"]) | set(done["positions"])):
                    dv = want["positions"].get(code, 0) - done["positions"].get(code, 0)
                    if dv:
                        self._emit(self.ledger.allot(name, None, code, dv, "config"))
                    done["positions"][code] = want["positions"].get(code, 0)
            except LedgerError as exc:
                problems.append(f"[strategies.{name}]: {exc}")
                log.error("risk: config allotment of %s refused: %s", name, exc)
            self._emit(self.ledger.mark_config(name, done))
        self.problems = problems
        return problems

    # ---- day roll and reconciliation ------------------------------------------------------
    def roll(self, day: str) -> None:
        """A new trading day: T+1 shares settle, daily counts restart."""
        if day != self.ledger.day:
            self._emit(self.ledger.roll(day))
            self.resting = RestingBook()  # yesterday's orders are all over
            self._fetched.clear()
            self.rate.new_day(0)

    def reconcile(self, asset: dict[str, Any] | None, positions: list[dict[str, Any]], book_now: bool = False) \
            -> dict[str, Any]:
        """Compare the broker's account with every sleeve plus the pool; book confirmed differences to the pool.

        A difference is booked when the previous comparison saw the same one (two snapshots agree:
        a fill racing the snapshot's queries is not booked), at once with `book_now`, and always on
        the first sync (an empty ledger: the pool takes the whole account).
        """
        led_cash, vol, sell = self.ledger.totals()
        broker_vol = {p.get("stock_code", ""): p for p in positions if p.get("stock_code")}
        diff: dict[str, int] = {}
        rows = []
        if asset is not None:
            bcash = to_cents(float(asset.get("cash") or 0)) + to_cents(float(asset.get("frozen_cash") or 0))
            if bcash != led_cash:
                diff["cash"] = bcash - led_cash
            cash_row = {"broker": yuan(bcash), "ledger": yuan(led_cash), "diff": yuan(bcash - led_cash)}
        else:
            cash_row = {"broker": None, "ledger": yuan(led_cash), "diff": None}
        for code in sorted(set(broker_vol) | {c for c, v in vol.items() if v}):
            p = broker_vol.get(code, {})
            b = int(p.get("volume") or 0)
            d = b - vol.get(code, 0)
            if d:
                diff[code] = d
                rows.append({"code": code, "broker": b, "ledger": vol.get(code, 0), "diff": d})
        first = self.ledger.applied == 0 or all(not s.cash and not s.holdings for s in self.ledger.sleeves.values())
        booked = []
        confirm = book_now or first or (self.pending_diff is not None and self.pending_diff == diff)
        if diff and confirm:
            for key, d in diff.items():
                if key == "cash":
                    rec = self.ledger.adjust(cash=d, why="initial sync" if first else "reconciliation")
                else:
                    p = broker_vol.get(key, {})
                    settled = int(p.get("can_use_volume") or 0) + int(p.get("frozen_volume") or 0)
                    ph = self.ledger.pool.holdings.get(key)
                    pool_vol = ph.volume if ph is not None else 0
                    pool_sell = ph.sellable if ph is not None else 0
                    ds = settled - sell.get(key, 0)
                    ds = max(-pool_sell, min(ds, pool_vol + d - pool_sell))
                    if d > 0:
                        cost = to_cents(float(p.get("avg_price") or 0) * d)
                    else:
                        cost = -(ph.cost * min(-d, pool_vol) // pool_vol) if ph is not None and pool_vol > 0 else 0
                    rec = self.ledger.adjust(code=key, volume=d, sellable=ds, cost=cost,
                                             why="initial sync" if first else "reconciliation")
                self._emit(rec)
                booked.append(rec)
            self.pending_diff = None
        else:
            self.pending_diff = diff or None
        # ok: the ledger agrees with the broker now (no difference, or every one booked to the pool)
        report = {"ok": not diff or bool(booked), "found": bool(diff), "initial": first and bool(booked),
                  "checked_at": time.time(), "cash": cash_row, "positions": rows,
                  "booked": [_booked_view(r) for r in booked], "pending": bool(diff) and not confirm,
                  "booked_today": [_booked_view(r) for r in self.ledger.adjustments],
                  "external_trades": list(self.ledger.externals)}
        self.last_report = report
        return report

    # ---- persistence -----------------------------------------------------------------
    def restore(self, snapshot: dict[str, Any] | None, records: Iterable[dict[str, Any]]) -> int:
        """Rebuild from the last snapshot plus the records written after it; returns records applied."""
        self.ledger = Ledger.from_dict(snapshot) if snapshot else Ledger()
        n = 0
        for rec in records:
            self.ledger.apply(rec)
            n += 1
        self._limits.clear()
        self._plans.clear()
        self.resting = RestingBook()
        for res in self.ledger.reservations.values():
            self.resting.add(Resting(res.tag, res.strategy, res.code, res.side, res.price, res.market,
                                     res.order_id))
        s = self.ledger.sleeves
        self.rate.new_day(sum(x.orders_today + x.cancels_today for x in s.values()))
        return n

    # ---- views (xtquant field names: XtAsset / XtPosition) ----------------------------------
    def _last(self, code: str, fallback: float = 0.0) -> float:
        ref = self.reference(code)
        return ref[0] if ref is not None and ref[0] > 0 else fallback

    def sleeve_asset(self, strategy: str, account_id: str = "", account_type: int = 2) -> dict[str, Any]:
        s = self.ledger.sleeves.get(strategy) or type(self.ledger.pool)(strategy)
        src = self.ledger.cash_source(strategy)
        mv = sum(self._last(c) * h.volume for c, h in s.holdings.items())
        own_reserved = sum(r.cash_left for r in self.ledger.reservations.values() if r.strategy == strategy)
        cash = yuan(src.free_cash)
        frozen = yuan(own_reserved)
        total = (yuan(s.cash) if s.has_cash else 0.0) + mv if strategy != POOL else yuan(s.cash) + mv
        return {"account_type": account_type, "account_id": account_id, "cash": round(cash, 2),
                "frozen_cash": round(frozen, 2), "market_value": round(mv, 2), "total_asset": round(total, 2),
                "fetch_balance": round(cash, 2), "strategy": strategy,
                "cash_source": "own" if s.has_cash or strategy == POOL else "pool"}

    # ---- what a strategy's own queries answer ------------------------------------------------
    def uses_pool(self, strategy: str) -> bool:
        """A strategy with no allotment at all spends the pool's cash and may sell the pool's shares:
        its queries show what it may use, its own holdings plus the pool's (one such strategy alone
        sees the account as before)."""
        s = self.ledger.sleeves.get(strategy)
        return strategy != POOL and not self.settings.require_allotment and (s is None or not s.allotted)

    def strategy_asset(self, strategy: str, account_id: str = "", account_type: int = 2) -> dict[str, Any]:
        if not self.uses_pool(strategy):
            return self.sleeve_asset(strategy, account_id, account_type)
        s, pool = self.ledger.sleeves.get(strategy), self.ledger.pool
        mv = sum(self._last(c) * h.volume for c, h in pool.holdings.items())
        if s is not None:
            mv += sum(self._last(c) * h.volume for c, h in s.holdings.items())
        return {"account_type": account_type, "account_id": account_id, "cash": round(yuan(pool.free_cash), 2),
                "frozen_cash": round(yuan(pool.reserved_cash), 2), "market_value": round(mv, 2),
                "total_asset": round(yuan(pool.cash) + mv, 2), "fetch_balance": round(yuan(pool.free_cash), 2),
                "strategy": strategy, "cash_source": "pool"}

    def _usable(self, strategy: str) -> dict[str, Any]:
        from hub.risk.ledger import Holding

        s = self.ledger.sleeves.get(strategy)
        merged: dict[str, Any] = {}
        for src in ([s] if s is not None else []) + [self.ledger.pool]:
            for code, h in src.holdings.items():
                m = merged.setdefault(code, Holding())
                m.volume += h.volume
                m.sellable += max(h.sellable, 0)
                m.reserved += h.reserved
                m.cost += h.cost
        return merged

    def strategy_positions(self, strategy: str, account_id: str = "", account_type: int = 2) -> list[dict[str, Any]]:
        if not self.uses_pool(strategy):
            return self.sleeve_positions(strategy, account_id, account_type)
        usable = self._usable(strategy)
        return [self._position(strategy, c, h, account_id, account_type) for c, h in sorted(usable.items())
                if h.volume > 0 or h.reserved]

    def strategy_position(self, strategy: str, code: str, account_id: str = "", account_type: int = 2) \
            -> dict[str, Any] | None:
        if not self.uses_pool(strategy):
            return self.sleeve_position(strategy, code, account_id, account_type)
        h = self._usable(strategy).get(code)
        if h is None or not (h.volume > 0 or h.reserved):
            return None
        return self._position(strategy, code, h, account_id, account_type)

    def sleeve_positions(self, strategy: str, account_id: str = "", account_type: int = 2) -> list[dict[str, Any]]:
        s = self.ledger.sleeves.get(strategy)
        if s is None:
            return []
        return [self._position(strategy, c, h, account_id, account_type) for c, h in sorted(s.holdings.items())
                if h.volume or h.reserved]

    def sleeve_position(self, strategy: str, code: str, account_id: str = "", account_type: int = 2) \
            -> dict[str, Any] | None:
        s = self.ledger.sleeves.get(strategy)
        h = s.holdings.get(code) if s is not None else None
        if h is None or not (h.volume or h.reserved):
            return None
        return self._position(strategy, code, h, account_id, account_type)

    def _position(self, strategy: str, code: str, h: Any, account_id: str, account_type: int) -> dict[str, Any]:
        avg = round(yuan(h.cost) / h.volume, 4) if h.volume else 0.0
        last = self._last(code, avg)
        mv = round(last * h.volume, 2)
        return {"account_type": account_type, "account_id": account_id, "stock_code": code, "volume": h.volume,
                "can_use_volume": max(0, h.free), "open_price": avg, "market_value": mv,
                "frozen_volume": h.reserved, "on_road_volume": 0, "yesterday_volume": h.sellable,
                "avg_price": avg, "direction": 48, "last_price": last,
                "profit_rate": round((last - avg) / avg, 6) if avg else 0.0,
                "float_profit": round(mv - yuan(h.cost), 2), "open_date": "", "position_profit": 0.0,
                "secu_account": "", "instrument_name": "", "strategy": strategy}

    def sleeves_view(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """Every sleeve and the pool (or just `names`): cash, reserved, positions, P&L, limit use (`hub sleeves`)."""
        out = []
        for name in sorted(self.ledger.sleeves if names is None else names, key=lambda n: (n == POOL, n)):
            s = self.ledger.sleeves.get(name) or type(self.ledger.pool)(name)
            positions = self.sleeve_positions(name)
            mv = sum(p["market_value"] for p in positions)
            floating = sum(p["float_profit"] for p in positions)
            lim = self.limits_of(name) if name != POOL else StrategyLimits()
            out.append({
                "strategy": name, "pool": name == POOL, "has_cash": s.has_cash, "has_shares": s.has_shares,
                "cash": yuan(s.cash), "reserved_cash": yuan(s.reserved_cash),
                "free_cash": yuan(self.ledger.cash_source(name).free_cash) if name != POOL else yuan(s.free_cash),
                "cash_source": "own" if s.has_cash or name == POOL else "pool",
                "market_value": round(mv, 2), "realized_pnl": yuan(s.realized), "floating_pnl": round(floating, 2),
                "fees": yuan(s.fees), "positions": positions,
                "open_orders": self.ledger.open_orders(name),
                "orders_today": s.orders_today, "volume_today": s.volume_today,
                "notional_today": yuan(s.notional_today), "cancels_today": s.cancels_today,
                "refused_today": self.refusals_by_strategy.get(name, 0),
                "actions_per_second": self.rate.window(name).count(self.clock()),
                "limits": {k: v for k, v in lim.to_dict().items() if v not in (0, 0.0, [], {}, None)},
            })
        return out

    def status(self) -> dict[str, Any]:
        """The risk part of `hub status`: switch, rate guard, refusals, reconciliation."""
        rep = self.last_report or {}
        return {"trading": self.settings.trading, "self_trade": self.settings.self_trade,
                "require_allotment": self.settings.require_allotment,
                "rate": self.rate.view(self.clock()), "refusals": dict(self.refusals),
                "open_reservations": len(self.ledger.reservations), "resting_orders": len(self.resting),
                "reconcile": {"ok": rep.get("ok"), "checked_at": rep.get("checked_at"),
                              "differences": [] if rep.get("initial") else rep.get("positions", []) + (
                                  [dict(rep["cash"], code="cash")] if rep.get("cash", {}).get("diff") else []),
                              "booked_today": len(self.ledger.adjustments)},
                "warnings": list(self.warnings[-5:]), "problems": list(self.problems)}


def _booked_view(r: dict[str, Any]) -> dict[str, Any]:
    if r.get("code") is None:
        return {"to": POOL, "cash": yuan(r["cash"]), "why": r.get("why", "")}
    return {"to": POOL, "code": r["code"], "volume": r["vol"], "why": r.get("why", "")}


__all__ = ["RiskEngine", "Refusal", "FeeModel", "FINAL", "fields"]
