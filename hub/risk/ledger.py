"""The sleeves ledger: who owns which cash and shares of the one account, and what open orders hold.

Why a ledger of records: every change is one small record (a plain dict) applied by a pure
function (`Ledger.apply`). The hub journals each record in the same transaction as the event
that caused it; replaying the records in order rebuilds exactly the same state after a crash.
Public operations validate first (raising `LedgerError` with the figures), then build the
record, apply it and return it for the caller to journal.

Money is integer cents. The pool is the sleeve of `_external`: whatever no strategy owns.
See docs/risk.md for the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rpc_client import xt

POOL = "_external"
BUY, SELL = xt.STOCK_BUY, xt.STOCK_SELL


class LedgerError(ValueError):
    """An operation the ledger refuses (e.g. allotting more than the pool holds); says the figures."""


def to_cents(x: float) -> int:
    """CNY -> cents, half-up (how brokers round)."""
    return int(Decimal(str(x)).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))


def yuan(c: int) -> float:
    return c / 100.0


@dataclass
class Holding:
    volume: int = 0
    sellable: int = 0  # settled shares (T+1): bought today are not sellable until the day roll
    reserved: int = 0  # held by open sells
    cost: int = 0  # cents, buy fees included

    @property
    def free(self) -> int:
        return self.sellable - self.reserved


@dataclass
class Sleeve:
    name: str
    cash: int = 0  # cents owned (a cash allotment, or the pool's cash)
    has_cash: bool = False  # a cash allotment exists: spends only its own cash
    has_shares: bool = False  # shares were allotted: may not sell pool shares
    reserved_cash: int = 0  # cents held by open buys drawing on this sleeve's cash
    holdings: dict[str, Holding] = field(default_factory=dict)
    realized: int = 0  # cents, fees included
    fees: int = 0
    orders_today: int = 0
    volume_today: int = 0
    notional_today: int = 0  # cents
    cancels_today: int = 0
    rejected_today: int = 0

    @property
    def allotted(self) -> bool:
        return self.has_cash or self.has_shares

    @property
    def free_cash(self) -> int:
        return self.cash - self.reserved_cash

    def holding(self, code: str) -> Holding:
        h = self.holdings.get(code)
        if h is None:
            h = self.holdings[code] = Holding()
        return h


@dataclass(slots=True)
class Reservation:
    tag: str
    strategy: str
    code: str
    side: int
    volume: int
    price: float  # the effective limit price (0 for a market order)
    market: bool
    cash: int  # cents reserved (buys)
    cash_src: str | None  # sleeve whose cash is held (buys)
    share_src: list[list[Any]]  # sells: [[sleeve, reserved, filled], ...]
    notional: int
    cash_left: int = 0
    filled: int = 0
    final_traded: int | None = None  # set when the order is final: the broker's traded volume
    order_id: int | None = None

    @property
    def open_shares(self) -> int:
        return self.volume - self.filled


class Ledger:
    def __init__(self) -> None:
        self.sleeves: dict[str, Sleeve] = {POOL: Sleeve(POOL)}
        self.reservations: dict[str, Reservation] = {}
        self.open_count: dict[str, int] = {}  # strategy -> its reservations (kept with them: no scan per order)
        self.fills_seen: set[tuple[Any, Any]] = set()
        self.limits: dict[str, dict[str, Any]] = {}  # run-time overrides from `hub limits set`
        self.config_applied: dict[str, dict[str, Any]] = {}
        self.day = ""
        self.applied = 0  # records applied
        self.adjustments: list[dict[str, Any]] = []  # today's differences booked to the pool
        self.externals: list[dict[str, Any]] = []  # today's fills of orders the hub did not place

    @property
    def pool(self) -> Sleeve:
        return self.sleeves[POOL]

    def sleeve(self, name: str) -> Sleeve:
        s = self.sleeves.get(name)
        if s is None:
            s = self.sleeves[name] = Sleeve(name)
        return s

    def cash_source(self, strategy: str) -> Sleeve:
        s = self.sleeves.get(strategy)
        return s if s is not None and s.has_cash else self.pool

    # ---- queries -----------------------------------------------------------------
    def free_cash(self, strategy: str) -> int:
        return self.cash_source(strategy).free_cash

    def free_shares(self, strategy: str, code: str, pool_allowed: bool) -> tuple[int, int]:
        """(own free sellable, pool free sellable usable by this strategy)."""
        s = self.sleeve(strategy)
        own = s.holdings.get(code)
        own_free = own.free if own is not None else 0
        pool_free = 0
        if pool_allowed and not s.allotted and strategy != POOL:
            ph = self.pool.holdings.get(code)
            pool_free = max(0, ph.free) if ph is not None else 0
        return own_free, pool_free

    def open_orders(self, strategy: str) -> int:
        return self.open_count.get(strategy, 0)

    def _hold(self, res: Reservation) -> None:
        old = self.reservations.get(res.tag)
        if old is not None:  # never twice for one tag (a record seen again): the count stays the dict's
            self._drop(old)
        self.reservations[res.tag] = res
        self.open_count[res.strategy] = self.open_count.get(res.strategy, 0) + 1

    def _drop(self, res: Reservation) -> None:
        if self.reservations.pop(res.tag, None) is not None:
            n = self.open_count.get(res.strategy, 0) - 1
            if n > 0:
                self.open_count[res.strategy] = n
            else:
                self.open_count.pop(res.strategy, None)

    def totals(self) -> tuple[int, dict[str, int], dict[str, int]]:
        """(cash cents, volume per code, sellable per code) over every sleeve and the pool."""
        cash, vol, sell = 0, {}, {}
        for s in self.sleeves.values():
            cash += s.cash
            for code, h in s.holdings.items():
                vol[code] = vol.get(code, 0) + h.volume
                sell[code] = sell.get(code, 0) + h.sellable
        return cash, vol, sell

    # ---- operations (validate, build the record, apply it, return it) ----------------
    def _do(self, rec: dict[str, Any]) -> dict[str, Any]:
        self.apply(rec)
        return rec

    def reserve(self, tag: str, strategy: str, code: str, side: int, volume: int, price: float, market: bool,
                cash: int, notional: int, pool_shares: bool) -> dict[str, Any]:
        """Hold cash (buy) or shares (sell) for an accepted order; the checks ran before."""
        rec: dict[str, Any] = {"k": "reserve", "tag": tag, "s": strategy, "code": code, "side": side,
                               "vol": volume, "px": price, "mkt": market, "notional": notional}
        if side == BUY:
            rec["cash"] = cash
            s = self.sleeves.get(strategy)  # cash_source(strategy), inline
            rec["csrc"] = strategy if s is not None and s.has_cash else POOL
        else:
            own, pool = self.free_shares(strategy, code, pool_shares)
            take_own = min(volume, max(own, 0))
            src = [[strategy, take_own]] if take_own else []
            if volume - take_own > 0:
                src.append([POOL, volume - take_own])
            if volume - take_own > pool:
                raise LedgerError(f"sell {volume} {code}: only {own + pool} sellable")
            rec["ssrc"] = src
        self._apply_reserve(rec)  # what apply(rec) does, without the dispatch (every order)
        self.applied += 1
        return rec

    def fill(self, owner: str, tag: str, key: tuple[Any, Any], code: str, side: int, volume: int,
             amount: int, fee: int, t0: bool = False) -> dict[str, Any] | None:
        """A trade of `owner` (by the hub's tag, or `_external`); None if already booked.
        `t0`: the code settles the same day (convertible bonds): a buy is sellable at once."""
        if key in self.fills_seen:
            return None
        rec = {"k": "fill", "s": owner, "tag": tag, "key": list(key), "code": code, "side": side, "vol": volume,
               "amt": amount, "fee": fee}
        if t0:
            rec["t0"] = True
        return self._do(rec)

    def close(self, tag: str, traded: int) -> dict[str, Any] | None:
        """The order of `tag` is final (filled, cancelled, junk) or was never placed (traded = 0)."""
        res = self.reservations.get(tag)
        if res is None or res.final_traded is not None:
            return None
        return self._do({"k": "close", "tag": tag, "traded": traded})

    def count_cancel(self, strategy: str) -> dict[str, Any]:
        return self._do({"k": "cancel", "s": strategy})

    def count_reject(self, strategy: str) -> dict[str, Any]:
        return self._do({"k": "reject", "s": strategy})

    def allot(self, strategy: str, cash: int | None = None, code: str | None = None, volume: int = 0,
              why: str = "admin") -> dict[str, Any]:
        """Move cash and/or shares from the pool to a strategy (negative: back to the pool)."""
        return self.transfer(POOL, strategy, cash, code, volume, why)

    def transfer(self, src: str, dst: str, cash: int | None = None, code: str | None = None, volume: int = 0,
                 why: str = "admin") -> dict[str, Any]:
        if src == dst:
            raise LedgerError("transfer: source and destination are the same")
        if code is None:
            volume = 0
        if (cash or 0) < 0 or volume < 0:  # negative: the other way round
            if (cash or 0) > 0 or volume > 0:
                raise LedgerError("transfer: give cash and shares in the same direction")
            src, dst = dst, src
            cash, volume = (-cash if cash is not None else None), -volume
        a = self.sleeves.get(src) or Sleeve(src)
        if cash:
            if a.free_cash < cash:
                raise LedgerError(f"{src} has {yuan(a.free_cash):,.2f} free cash (cash {yuan(a.cash):,.2f}, reserved "
                                  f"{yuan(a.reserved_cash):,.2f}); cannot move {yuan(cash):,.2f} to {dst}")
        if code is not None and volume:
            h = a.holdings.get(code)
            have = h.volume - h.reserved if h is not None else 0
            if have < volume:
                raise LedgerError(f"{src} holds {h.volume if h else 0} {code} ({h.reserved if h else 0} held by open "
                                  f"sells); cannot move {volume} to {dst}")
        return self._do({"k": "transfer", "a": src, "b": dst, "cash": cash, "code": code, "vol": volume,
                         "why": why})

    def set_limits(self, strategy: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._do({"k": "limits", "s": strategy, "set": dict(changes)})

    def mark_config(self, strategy: str, applied: dict[str, Any]) -> dict[str, Any]:
        return self._do({"k": "config", "s": strategy, "applied": applied})

    def roll(self, day: str) -> dict[str, Any]:
        return self._do({"k": "roll", "day": day})

    def adjust(self, cash: int = 0, code: str | None = None, volume: int = 0, sellable: int = 0, cost: int = 0,
               why: str = "") -> dict[str, Any]:
        """Book a reconciliation difference to the pool."""
        return self._do({"k": "adjust", "cash": cash, "code": code, "vol": volume, "sell": sellable, "cost": cost,
                         "why": why})

    # ---- the pure state transition ---------------------------------------------------
    def apply(self, rec: dict[str, Any]) -> None:
        kind = rec["k"]
        fn = _APPLY.get(kind)
        if fn is None:
            fn = _APPLY[kind] = getattr(Ledger, "_apply_" + kind)  # AttributeError for an unknown kind, as before
        fn(self, rec)
        self.applied += 1

    def _apply_reserve(self, r: dict[str, Any]) -> None:
        s = self.sleeve(r["s"])
        ssrc = r.get("ssrc")
        res = Reservation(r["tag"], r["s"], r["code"], r["side"], r["vol"], r["px"], r["mkt"], r.get("cash", 0),
                          r.get("csrc"), [[src, n, 0] for src, n in ssrc] if ssrc else [], r["notional"])
        res.cash_left = res.cash
        if res.side == BUY:
            src = self.sleeves.get(res.cash_src)
            (src if src is not None else self.sleeve(res.cash_src)).reserved_cash += res.cash
        else:
            for src, n, _ in res.share_src:
                self.sleeve(src).holding(res.code).reserved += n
        s.orders_today += 1
        s.volume_today += res.volume
        s.notional_today += res.notional
        self._hold(res)

    def _apply_fill(self, r: dict[str, Any]) -> None:
        self.fills_seen.add(tuple(r["key"]))
        owner = self.sleeve(r["s"])
        code, vol, amt, fee = r["code"], r["vol"], r["amt"], r["fee"]
        res = self.reservations.get(r["tag"]) if r["tag"] else None
        owner.fees += fee
        if owner.name == POOL:
            self.externals.append({"order_id": r["key"][0], "traded_id": r["key"][1], "code": code,
                                   "side": "buy" if r["side"] == BUY else "sell", "volume": vol,
                                   "amount": yuan(amt), "fee": yuan(fee), "booked_to": POOL})
        if r["side"] == BUY:
            src = self.sleeve(res.cash_src) if res is not None else self.cash_source(owner.name)
            src.cash -= amt + fee
            h = owner.holding(code)
            h.volume += vol
            h.cost += amt + fee
            if r.get("t0"):
                h.sellable += vol
            if res is not None:
                part = min(res.cash_left, res.cash * vol // res.volume) if res.volume else res.cash_left
                res.cash_left -= part
                src.reserved_cash -= part
        else:
            proceeds = amt - fee
            dest = owner if owner.has_cash or owner.name == POOL else self.pool
            dest.cash += proceeds
            left = vol
            sources = res.share_src if res is not None else [[owner.name, vol, 0]]
            cost_out = 0
            for entry in sources:
                if left <= 0:
                    break
                take = min(left, entry[1] - entry[2]) if res is not None else left
                if take <= 0:
                    continue
                h = self.sleeve(entry[0]).holding(code)
                cost_out += self._take(h, take, reserved=res is not None)
                entry[2] += take
                left -= take
            if left > 0:  # more sold than reserved (should not happen): from the owner, else the pool
                h = owner.holdings.get(code)
                h = h if h is not None and h.volume >= left else self.pool.holding(code)
                cost_out += self._take(h, left, reserved=False)
            owner.realized += proceeds - cost_out
        if res is not None:
            res.filled += vol
            self._maybe_settle(res)

    @staticmethod
    def _take(h: Holding, n: int, reserved: bool) -> int:
        """Remove n shares from a holding; returns their cost (average cost)."""
        cost = h.cost if n >= h.volume else (h.cost * n // h.volume if h.volume > 0 else 0)
        h.volume -= n
        h.sellable = max(0, h.sellable - n)
        if reserved:
            h.reserved = max(0, h.reserved - n)
        h.cost -= cost
        return cost

    def _apply_close(self, r: dict[str, Any]) -> None:
        res = self.reservations.get(r["tag"])
        if res is None:
            return
        res.final_traded = r["traded"]
        self._maybe_settle(res)

    def _maybe_settle(self, res: Reservation) -> None:
        """Release what a final order no longer needs; drop it once its fills are all booked."""
        if res.final_traded is None:
            return
        if res.side == SELL:
            keep = max(0, res.final_traded - res.filled)  # fills still on their way (they take sources in order)
            for entry in res.share_src:
                src_open = entry[1] - entry[2]
                kept = min(src_open, keep)
                keep -= kept
                release = src_open - kept
                if release:
                    h = self.sleeve(entry[0]).holding(res.code)
                    h.reserved = max(0, h.reserved - release)
                    entry[1] -= release
        if res.filled >= res.final_traded:
            if res.side == BUY and res.cash_left:
                self.sleeve(res.cash_src).reserved_cash -= res.cash_left
                res.cash_left = 0
            self._drop(res)

    def _apply_cancel(self, r: dict[str, Any]) -> None:
        self.sleeve(r["s"]).cancels_today += 1

    def _apply_reject(self, r: dict[str, Any]) -> None:
        self.sleeve(r["s"]).rejected_today += 1

    def _apply_transfer(self, r: dict[str, Any]) -> None:
        a, b = self.sleeve(r["a"]), self.sleeve(r["b"])
        if r["cash"] is not None:
            a.cash -= r["cash"]
            b.cash += r["cash"]
            if b.name != POOL:
                b.has_cash = True
        if r["code"] is not None and r["vol"]:
            ha, hb = a.holding(r["code"]), b.holding(r["code"])
            n = r["vol"]
            movable_sellable = max(0, min(n, ha.sellable - ha.reserved))
            cost = ha.cost if n >= ha.volume else (ha.cost * n // ha.volume if ha.volume > 0 else 0)
            ha.volume -= n
            ha.sellable -= movable_sellable
            ha.cost -= cost
            hb.volume += n
            hb.sellable += movable_sellable
            hb.cost += cost
            if b.name != POOL:
                b.has_shares = True

    def _apply_limits(self, r: dict[str, Any]) -> None:
        self.limits.setdefault(r["s"], {}).update(r["set"])

    def _apply_config(self, r: dict[str, Any]) -> None:
        self.config_applied[r["s"]] = r["applied"]

    def _apply_roll(self, r: dict[str, Any]) -> None:
        # A-share orders do not outlive their day: what a reservation still holds is released
        for res in list(self.reservations.values()):
            if res.side == BUY:
                self.sleeve(res.cash_src).reserved_cash -= res.cash_left
            else:
                for src, n, filled in res.share_src:
                    h = self.sleeve(src).holding(res.code)
                    h.reserved = max(0, h.reserved - (n - filled))
        self.reservations.clear()
        self.open_count.clear()
        self.day = r["day"]
        for s in self.sleeves.values():
            s.orders_today = s.volume_today = s.notional_today = s.cancels_today = s.rejected_today = 0
            for h in s.holdings.values():
                h.sellable = h.volume
            s.holdings = {c: h for c, h in s.holdings.items() if h.volume or h.reserved}
        self.fills_seen.clear()
        self.adjustments = []
        self.externals = []

    def _apply_adjust(self, r: dict[str, Any]) -> None:
        p = self.pool
        p.cash += r["cash"]
        if r["code"] is not None:
            h = p.holding(r["code"])
            h.volume += r["vol"]
            h.sellable += r["sell"]
            h.cost += r["cost"]
        self.adjustments.append(dict(r))

    # ---- snapshot --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day, "applied": self.applied, "limits": self.limits, "config_applied": self.config_applied,
            "fills_seen": [list(k) for k in self.fills_seen], "adjustments": self.adjustments,
            "externals": self.externals,
            "sleeves": {n: {**{k: v for k, v in s.__dict__.items() if k != "holdings"},
                            "holdings": {c: h.__dict__ for c, h in s.holdings.items()}}
                        for n, s in self.sleeves.items()},
            "reservations": [{name: getattr(r, name) for name in _RES_FIELDS} for r in self.reservations.values()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ledger":
        led = cls()
        led.day, led.applied = d["day"], d["applied"]
        led.limits, led.config_applied = dict(d["limits"]), dict(d["config_applied"])
        led.fills_seen = {tuple(k) for k in d["fills_seen"]}
        led.adjustments = list(d.get("adjustments", []))
        led.externals = list(d.get("externals", []))
        for name, s in d["sleeves"].items():
            fields_ = {k: v for k, v in s.items() if k != "holdings"}
            sl = Sleeve(**fields_)
            sl.holdings = {c: Holding(**h) for c, h in s["holdings"].items()}
            led.sleeves[name] = sl
        for r in d["reservations"]:
            led._hold(Reservation(**r))
        return led


_RES_FIELDS = tuple(f.name for f in fields(Reservation))
_APPLY: dict[str, Any] = {}  # record kind -> Ledger._apply_<kind>
