"""The event path's hub half: a broker push (already a plain map) -> the book -> the publisher.

The broker's callbacks run on its own thread; `BrokerLink.on_push` converts each object to a
plain map there and posts it to the mailbox. The loop drains the mailbox and calls the
handler for the push's kind from `BrokerEvents.handlers()`: the book applies the push (and
says whether anything changed), the desk learns that the broker has an order it placed, and
the publisher journals the event and sends it on the PUB (after the iteration's commit).
A reconcile feeds the broker's snapshot through the same methods.

`asset` is conflated per account (docs/decisions.md, "Asset events once per loop iteration"): the
book takes every push at once (queries see it), but the event is journaled and published once per
loop iteration, with the account's latest asset, by `flush` (the server calls it before each
commit). A broker that pushes an asset per order (MiniQMT, the simulator) so costs each session
one asset event per iteration instead of one per order; what is journaled is what is sent and
replayed, exactly once.

Loop thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from rpc_client.protocol import Topic, owned_topic

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.book import Book
    from hub.core.orders import OrderDesk
    from hub.core.publisher import Publisher


class BrokerEvents:
    def __init__(self, book: "Book", desk: "OrderDesk", publisher: "Publisher"):
        self.book = book
        self.desk = desk
        self.publisher = publisher
        self.risk: Any = None  # the risk stage: fills and order states keep the sleeves (hub.risk)
        #: account id -> its latest changed asset not yet published (this loop iteration's)
        self._assets: dict[Any, dict[str, Any]] = {}

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        """Mailbox kind -> handler, for the pushes that become account events."""
        return {
            "order": self.order,
            "trade": self.trade,
            "order_error": self.order_error,
            "cancel_error": self.cancel_error,
            "position": self.position,
            "asset": self.asset,
            "account_status": self.account_status,
        }

    def order(self, raw: dict[str, Any]) -> None:
        self.desk.seen_at_broker(raw.get("order_remark"), raw.get("order_id"))
        data = self.book.apply_order(raw)
        if data is not None:
            if self.risk is not None:
                self.risk.on_order(data)
            self.publisher.publish(owned_topic(Topic.ORDER, data["owner"]), data)

    def trade(self, raw: dict[str, Any]) -> None:
        self.desk.seen_at_broker(raw.get("order_remark"), raw.get("order_id"))
        data = self.book.apply_trade(raw)
        if data is not None:
            if self.risk is not None:
                self.risk.on_trade(data)
            self.publisher.publish(owned_topic(Topic.TRADE, data["owner"]), data)

    def error(self, raw: dict[str, Any], kind: str) -> None:
        data = self.book.apply_error(raw, kind)
        self.publisher.publish(owned_topic(Topic.ERROR, data["owner"]), data)

    def order_error(self, raw: dict[str, Any]) -> None:
        self.error(raw, "order")

    def cancel_error(self, raw: dict[str, Any]) -> None:
        self.error(raw, "cancel")

    def position(self, raw: dict[str, Any]) -> None:
        if self.book.apply_position(raw) is not None:
            self.publisher.publish(Topic.POSITION, raw)

    def asset(self, raw: dict[str, Any]) -> None:
        if self.book.apply_asset(raw) is not None:
            self._assets[raw.get("account_id")] = raw  # published by flush(), the latest one only

    def flush(self) -> None:
        """Journal and publish each account's latest asset of this iteration, once."""
        if self._assets:
            assets, self._assets = self._assets, {}
            for raw in assets.values():
                self.publisher.publish(Topic.ASSET, raw)

    def account_status(self, raw: dict[str, Any]) -> None:
        if self.book.apply_account_status(raw) is not None:
            self.publisher.publish(Topic.ACCOUNT, raw)
