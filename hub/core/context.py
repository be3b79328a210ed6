"""What a method handler (and an order stage) may use: the hub's state owners, nothing else.

Handlers in `hub.core.methods` get `(ctx, call, params)` instead of the whole server, so they
can be tested against fakes and cannot reach the loop's sockets or timers. The loop
(`hub.core.server`) builds one `HubContext` at start, once every owner exists.

Loop thread only, like everything it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from hub.config import HubConfig
    from hub.core.book import Book
    from hub.core.broker_link import BrokerLink
    from hub.core.halts import Halts
    from hub.core.journal import Journal
    from hub.core.order_path import OrderPath
    from hub.core.orders import OrderDesk
    from hub.core.publisher import Publisher
    from hub.core.quotes import QuoteFanout
    from hub.core.sessions import Sessions
    from hub.core.stats import HubStats


@dataclass(eq=False, slots=True)
class HubContext:
    hub_id: str
    config: "HubConfig"
    book: "Book"  # today's orders, trades, positions, asset (queries are answered from here)
    desk: "OrderDesk"  # placements and cancels waiting for the broker; idempotency keys
    journal: "Journal"  # events, order reservations, meta (halts)
    sessions: "Sessions"  # who is connected, by routing id and by name
    quotes: "QuoteFanout"  # quote subscriptions, one upstream per item
    halts: "Halts"  # halt state (the kill switch lives beside it in hub.core.halts)
    link: "BrokerLink"  # the broker: up or not, the trader in use, reconcile
    publisher: "Publisher"  # journal then publish
    stats: "HubStats"  # counters, latency, rates and the `status` map
    orders: "OrderPath | None" = None  # the order path (its stages); set once the context exists
    #: the risk engine's order stage (issue 11: hub.risk sets it at start; None: no risk checks).
    #: `hub.core.order_path.build_stages` puts it between the halt check and the reservation.
    risk: Any = None
    marketdata: Any = None  # hub.marketdata.MarketData: history, instruments, sectors (its handlers use it)
