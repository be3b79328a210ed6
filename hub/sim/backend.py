"""The simulator's backend contract, written down: what a trader calls, what it is pushed.

`hub.sim.XtQuantTrader` runs on one of two backends with the same calls:
`hub.sim.exchange.SimExchange` (in process) or `hub.sim.remote.RemoteExchange` (a `hub sim`
process over ZeroMQ). `ExchangeBackend` is that surface; `hub.sim.wire.METHODS`, the calls a
simulator process serves, is derived from it, so the three can no longer drift apart.

The other direction is `TraderSink`: what the backend calls on a session (a trader, or the
server's stand-in for a remote one). Both calls run on the backend's threads, under its lock,
so they must only enqueue.

A leaf: it imports nothing from the simulator.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TraderSink(Protocol):
    """A session as the backend sees it. Both calls must only enqueue (they run under the backend's lock)."""

    def push(self, kind: str, data: Any) -> None:
        """One event for this session: `kind` is a key of `rpc_client.xt.CALLBACK_OF_KIND`
        ("order", "trade", "order_response", ...), `data` the record as a dict of xttype names."""

    def disconnected(self) -> None:
        """The terminal dropped this session (MiniQMT exited, the simulator process died)."""


class ExchangeBackend(Protocol):
    """The calls `hub.sim.XtQuantTrader` makes on its backend, with xtquant's return conventions.

    Sessions are passed as the `session` argument; accounts by their id. Orders and cancels
    return an order id / 0, or -1; queries a dict or list, or None for an unknown account.
    """

    def attach(self, session: TraderSink) -> bool:
        """The session connects: False while the terminal is offline or shut down."""

    def detach(self, session: TraderSink) -> None:
        """The session leaves; it gets no more pushes."""

    def is_attached(self, session: TraderSink) -> bool:
        """Whether the session is connected to this terminal right now."""

    def subscribe(self, session: TraderSink, account_id: str, account_type: Any) -> int:
        """Log the account in and push its events to the session: 0 or -1."""

    def unsubscribe(self, session: TraderSink, account_id: Any) -> int:
        """Stop the account's pushes to the session: 0 or -1."""

    def place_order(self, session: TraderSink | None, account_id: Any, account_type: Any, stock_code: Any,
                    order_type: Any, order_volume: Any, price_type: Any, price: Any, strategy_name: Any = "",
                    order_remark: Any = "", seq: int | None = None) -> int:
        """Accept or reject one order at once: its order id (> 0) either way, -1 if shut down."""

    def place_order_async(self, session: TraderSink, account_id: Any, account_type: Any, stock_code: Any,
                          order_type: Any, order_volume: Any, price_type: Any, price: Any, strategy_name: Any,
                          order_remark: Any, seq: int) -> bool:
        """Send the order request; its `order_response` (carrying `seq`) is pushed later. False: not sent."""

    def cancel(self, session: TraderSink | None, account_id: Any, order_id: Any = None, market: Any = None,
               sysid: Any = None, seq: int | None = None) -> int:
        """Cancel by order id or by market + sysid: 0 if under way, -1 (and `cancel_error`) if not."""

    def cancel_async(self, session: TraderSink, account_id: Any, order_id: Any = None, market: Any = None,
                     sysid: Any = None, seq: int | None = None) -> bool:
        """Send the cancel request; its `cancel_response` is pushed later. False: not sent."""

    def settle(self) -> None:
        """Run every request sent before now, so a query that follows sees them."""

    def asset(self, account_id: Any) -> dict | None: ...

    def order(self, account_id: Any, order_id: Any) -> dict | None: ...

    def order_list(self, account_id: Any, cancelable_only: bool = False) -> list | None: ...

    def trade_list(self, account_id: Any) -> list | None: ...

    def position_list(self, account_id: Any) -> list | None: ...

    def position(self, account_id: Any, code: Any) -> dict | None: ...

    def account_infos(self) -> list: ...

    def account_statuses(self) -> list: ...


#: the contract's calls, in the order they are declared above
BACKEND_CALLS: tuple[str, ...] = tuple(n for n in vars(ExchangeBackend) if not n.startswith("_"))
