"""The book: today's orders, trades, positions, asset and account status, kept from broker pushes.

Queries are answered from here, never by calling the broker. The book also knows who
owns every order: the owner tag the hub stamped into `order_remark` maps to the strategy
that placed it (registered before the broker is called), and each order id is bound to
its tag as soon as it is known. Orders without a known tag belong to `_external`.

Every stored order/trade is the "public" map: xtquant's attribute names, with
`order_remark` set back to the caller's own remark, plus `owner_tag`, `owner` and
`client_order_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rpc_client.protocol import EXTERNAL_OWNER, REMARK_TAG_PREFIX, STRATEGY_NAME_RE
from rpc_client.xt import CANCELABLE, ORDER_JUNK, is_open, moved_backwards


@dataclass
class Owner:
    strategy: str
    tag: str = ""
    client_order_id: str | None = None
    order_remark: str = ""
    #: the caller's own strategy_name argument (the xtquant drop-in sends it); None: not given, and
    #: records show the owning strategy's name as before
    strategy_name: str | None = None


class Book:
    def __init__(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.trades: dict[tuple, dict[str, Any]] = {}
        self.positions: dict[str, dict[str, Any]] = {}
        self.asset: dict[str, Any] | None = None
        self.account_status: dict[str, dict[str, Any]] = {}
        self.account_infos: list[dict[str, Any]] = []
        self.by_tag: dict[str, Owner] = {}
        self.tag_of_order: dict[int, str] = {}
        self.errors: dict[str, int] = {}  # rejects per owner today

    def new_day(self) -> None:
        """A new trading day: today's orders and trades start empty (positions and asset carry over)."""
        self.orders.clear()
        self.trades.clear()
        self.tag_of_order.clear()

    # ---- ownership ---------------------------------------------------------------
    def register_tag(self, tag: str, strategy: str, client_order_id: str | None, order_remark: str,
                     strategy_name: str | None = None) -> None:
        self.by_tag[tag] = Owner(strategy, tag, client_order_id, order_remark, strategy_name)

    def bind_order(self, order_id: int, tag: str) -> None:
        if order_id and order_id > 0:
            self.tag_of_order[order_id] = tag

    def resolve(self, order_id: Any, remark: Any = "", strategy_name: Any = "") -> Owner:
        """Who owns this order: by bound order id, by owner tag in the remark, else external."""
        tag = self.tag_of_order.get(order_id) if isinstance(order_id, int) else None
        if tag is None and isinstance(remark, str) and remark in self.by_tag:
            tag = remark
            self.bind_order(order_id if isinstance(order_id, int) else 0, tag)
        if tag is not None and tag in self.by_tag:
            return self.by_tag[tag]
        if isinstance(remark, str) and remark.startswith(REMARK_TAG_PREFIX) and isinstance(strategy_name, str) \
                and STRATEGY_NAME_RE.match(strategy_name):
            # stamped by a hub whose journal we do not have: the stamp still names the owner
            return Owner(strategy_name, remark, None, "")
        return Owner(EXTERNAL_OWNER, "", None, remark if isinstance(remark, str) else "")

    def owner_of(self, order_id: int) -> str | None:
        """The owner of a known order id, or None if the hub has never heard of it."""
        if order_id in self.orders:
            return self.orders[order_id]["owner"]
        tag = self.tag_of_order.get(order_id)
        if tag is not None and tag in self.by_tag:
            return self.by_tag[tag].strategy
        return None

    @staticmethod
    def _public(raw: dict[str, Any], owner: Owner) -> dict[str, Any]:
        data = dict(raw)
        data["owner_tag"] = raw.get("order_remark", "") if owner.tag else ""
        if owner.strategy != EXTERNAL_OWNER:
            data["order_remark"] = owner.order_remark
            if owner.strategy_name is not None:  # the caller's own, as given (the owner is in `owner`)
                data["strategy_name"] = owner.strategy_name
        data["owner"] = owner.strategy
        data["client_order_id"] = owner.client_order_id
        return data

    # ---- pushes (each returns the public map, or None when nothing changed) --------
    def apply_order(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        owner = self.resolve(raw.get("order_id"), raw.get("order_remark"), raw.get("strategy_name"))
        data = self._public(raw, owner)
        order_id = raw.get("order_id")
        old = self.orders.get(order_id)
        if old == data or (old is not None and moved_backwards(old, data)):
            return None
        self.orders[order_id] = data
        return data

    def apply_trade(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        key = (raw.get("order_id"), raw.get("traded_id"))
        if key in self.trades:
            return None
        owner = self.resolve(raw.get("order_id"), raw.get("order_remark"), raw.get("strategy_name"))
        data = self._public(raw, owner)
        self.trades[key] = data
        return data

    def apply_error(self, raw: dict[str, Any], kind: str) -> dict[str, Any]:
        order_id = raw.get("order_id")
        known = self.orders.get(order_id)
        if "order_remark" in raw:
            owner = self.resolve(order_id, raw.get("order_remark"), raw.get("strategy_name"))
        elif known is not None:
            owner = self.resolve(order_id, known.get("owner_tag"), known.get("strategy_name"))
        else:
            owner = self.resolve(order_id)
        data = self._public(raw, owner) if "order_remark" in raw else dict(
            raw, owner=owner.strategy, client_order_id=owner.client_order_id)
        data["kind"] = kind
        if kind == "order":
            self.errors[owner.strategy] = self.errors.get(owner.strategy, 0) + 1
        return data

    def apply_position(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        code = raw.get("stock_code", "")
        if self.positions.get(code) == raw:
            return None
        self.positions[code] = dict(raw)
        return raw

    def apply_asset(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        if self.asset == raw:
            return None
        self.asset = dict(raw)
        return raw

    def apply_account_status(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        key = str(raw.get("account_id", ""))
        if self.account_status.get(key) == raw:
            return None
        self.account_status[key] = dict(raw)
        return raw

    # ---- recovery (from the journal's own events: no new events) -------------------
    def restore_order(self, data: dict[str, Any]) -> None:
        self.orders[data.get("order_id")] = data

    def restore_trade(self, data: dict[str, Any]) -> None:
        self.trades[(data.get("order_id"), data.get("traded_id"))] = data

    # ---- queries -----------------------------------------------------------------
    def orders_of(self, owner: str | None = None, cancelable_only: bool = False) -> list[dict[str, Any]]:
        out = [o for o in self.orders.values() if owner is None or o["owner"] == owner]
        if cancelable_only:
            out = [o for o in out if o.get("order_status") in CANCELABLE]
        return sorted(out, key=lambda o: (o.get("order_time") or 0, o.get("order_id") or 0))

    def trades_of(self, owner: str | None = None) -> list[dict[str, Any]]:
        out = [t for t in self.trades.values() if owner is None or t["owner"] == owner]
        return sorted(out, key=lambda t: (t.get("traded_time") or 0, str(t.get("traded_id"))))

    def open_orders(self, owner: str | None = None) -> list[dict[str, Any]]:
        return self.orders_of(owner, cancelable_only=True)

    def find_sysid(self, order_sysid: str) -> dict[str, Any] | None:
        for order in self.orders.values():
            if order.get("order_sysid") == order_sysid:
                return order
        return None

    def counts(self, owner: str) -> dict[str, int]:
        orders = [o for o in self.orders.values() if o["owner"] == owner]
        return {
            "open_orders": sum(1 for o in orders if is_open(o.get("order_status"))),
            "orders_today": len(orders),
            "fills_today": sum(1 for t in self.trades.values() if t["owner"] == owner),
            "rejects_today": sum(1 for o in orders if o.get("order_status") == ORDER_JUNK),
        }

