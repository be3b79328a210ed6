"""`XtQuantTrader` / `XtQuantTraderCallback` with xtquant's stock API, backed by the simulator.

Same methods, arguments and return conventions as `xtquant.xttrader`:
order id or -1, 0 or -1, a seq > 0 for async calls, None for a failed query.
Every callback runs on this trader's own thread (started by `start()`), in the
order the exchange produced the events. Sync calls never wait on that thread,
so they are safe inside callbacks (relaxed response order is accepted and has
nothing to relax).

A `path` starting with ``tcp://`` gives a trader talking to a simulator
process started with ``hub sim``: the same class on another backend (`_make_backend`
picks `hub.sim.remote.RemoteExchange`; the contract is `hub.sim.backend`).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import time as _time
from typing import Any, Callable

from hub.sim.backend import ExchangeBackend
from hub.sim.models import to_xt
from hub.sim.registry import get_exchange
from hub.sim.remote import RemoteExchange
from rpc_client.xt import CALLBACK_OF_KIND, XtQuantTraderCallback  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

_STOP = object()

#: push kind -> (callback method, xttype kind or None)
_PUSHES: dict[str, tuple[str, str | None]] = {
    kind: (method, None if kind in ("connected", "disconnected") else kind) for kind, method in CALLBACK_OF_KIND.items()}


def _acct(account: Any) -> tuple[Any, Any]:
    return getattr(account, "account_id", account), getattr(account, "account_type", None)


class XtQuantTrader:
    """Drop-in for `xtquant.xttrader.XtQuantTrader` against the simulated terminal at `path`."""

    def __init__(self, path: Any, session: int, callback: XtQuantTraderCallback | None = None) -> None:
        self.path = path
        self.session_id = session
        self.callback = callback
        self.relaxed_resp_order_enabled = False
        self.connected = False
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._seq = itertools.count(1)
        self._ex = self._make_backend(path)

    def _make_backend(self, path: Any) -> ExchangeBackend:
        """The one place the backend is chosen: a `hub sim` process for a tcp:// path, else the
        in-process terminal of that folder (shared by every trader of the same path)."""
        if isinstance(path, str) and path.startswith("tcp://"):
            return RemoteExchange(path, self, name=f"sim-remote-{self.session_id}")
        return get_exchange(path)

    @property
    def exchange(self) -> ExchangeBackend:
        """The simulated exchange behind this trader (for tests and tools)."""
        return self._ex

    # ------------------------------------------------------------ lifecycle
    def register_callback(self, callback: XtQuantTraderCallback) -> None:
        self.callback = callback

    def start(self) -> None:
        """Start the callback thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"sim-trader-{self.session_id}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Disconnect and end this trader's thread; later calls fail (-1 / None)."""
        self.connected = False
        self._stopped.set()
        self._ex.detach(self)
        self._queue.put(_STOP)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def connect(self) -> int:
        """0 on success, -1 if the terminal is offline/shut down or `start()` was not called."""
        if self._thread is None or self._stopped.is_set():
            return -1
        if not self._ex.attach(self):
            return -1
        self.connected = True  # no on_connected: xtquant never calls it
        return 0

    def sleep(self, time: float) -> None:  # noqa: A002 (xtquant's parameter name)
        _time.sleep(time)

    def run_forever(self) -> None:
        """Block until `stop()` (or Ctrl+C)."""
        try:
            while not self._stopped.wait(0.2):
                pass
        except KeyboardInterrupt:
            return

    def set_relaxed_response_order_enabled(self, enabled: bool) -> None:
        self.relaxed_resp_order_enabled = bool(enabled)

    def set_timeout(self, timeout: int = 0) -> None:
        """Accepted for compatibility; simulated calls do not block."""

    def _ok(self) -> bool:
        return self.connected and not self._stopped.is_set() and self._ex.is_attached(self)

    # ------------------------------------------------------------ exchange -> us (TraderSink)
    def push(self, kind: str, data: dict[str, Any]) -> None:
        """The backend's event for this session; only enqueued, the callback runs on our thread."""
        self._queue.put((kind, data))

    def disconnected(self) -> None:
        """The backend dropped this session: `on_disconnected` on our thread, later calls fail."""
        self.connected = False
        self._queue.put(("disconnected", None))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._dispatch(item)
            except Exception:  # a failing user callback must not end the push thread
                log.exception("exception in sim trader callback")

    def _dispatch(self, item: tuple) -> None:
        kind, data = item
        if kind == "result":
            fn, value = data
            fn(value)
            return
        method, xt_kind = _PUSHES[kind]
        cb = self.callback
        if cb is None:
            return
        handler = getattr(cb, method, None)
        if handler is None:
            return
        if xt_kind is None:
            handler()
        else:
            handler(to_xt(xt_kind, data))

    # ------------------------------------------------------------ accounts
    def subscribe(self, account: Any) -> int:
        """Receive the account's pushes: 0 ok, -1 failure."""
        if not self._ok():
            return -1
        account_id, account_type = _acct(account)
        if not isinstance(account_id, str):
            return -1
        return self._ex.subscribe(self, account_id, account_type)

    def unsubscribe(self, account: Any) -> int:
        if not self._ok():
            return -1
        return self._ex.unsubscribe(self, _acct(account)[0])

    # ------------------------------------------------------------ orders
    def order_stock(self, account: Any, stock_code: str, order_type: int, order_volume: int, price_type: int,
                    price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """Order id (> 0; a rejected order still gets one, then `on_order_error`), or -1.

        The volume goes through int() first, as in xtquant (100.0 and "100" are 100 shares)."""
        if not self._ok():
            return -1
        return self._ex.place_order(self, *_acct(account), stock_code, order_type, int(order_volume), price_type,
                                    price, strategy_name, order_remark)

    def order_stock_async(self, account: Any, stock_code: str, order_type: int, order_volume: int,
                          price_type: int, price: float, strategy_name: str = "", order_remark: str = "") -> int:
        """Request seq (> 0) matched by `on_order_stock_async_response`, or -1.

        Like xtquant, this only sends the request: the exchange runs it on its own thread and
        the response (then the order's pushes) arrives on this trader's callback thread.
        """
        if not self._ok():
            return -1
        seq = next(self._seq)
        if not self._ex.place_order_async(self, *_acct(account), stock_code, order_type, int(order_volume),
                                          price_type, price, strategy_name, order_remark, seq):
            return -1
        return seq

    def cancel_order_stock(self, account: Any, order_id: int) -> int:
        """0 if the cancel was sent, -1 (and `on_cancel_error`) if the order cannot be cancelled."""
        if not self._ok():
            return -1
        return self._ex.cancel(self, _acct(account)[0], order_id=order_id)

    def cancel_order_stock_async(self, account: Any, order_id: int) -> int:
        if not self._ok():
            return -1
        seq = next(self._seq)
        self._ex.cancel_async(self, _acct(account)[0], order_id=order_id, seq=seq)
        return seq

    def cancel_order_stock_sysid(self, account: Any, market: Any, sysid: str) -> int:
        if not self._ok():
            return -1
        return self._ex.cancel(self, _acct(account)[0], market=market, sysid=sysid)

    def cancel_order_stock_sysid_async(self, account: Any, market: Any, sysid: str) -> int:
        if not self._ok():
            return -1
        seq = next(self._seq)
        self._ex.cancel_async(self, _acct(account)[0], market=market, sysid=sysid, seq=seq)
        return seq

    # ------------------------------------------------------------ queries
    def query_stock_asset(self, account: Any) -> Any:
        if not self._ok():
            return None
        self._ex.settle()
        d = self._ex.asset(_acct(account)[0])
        return to_xt("asset", d) if d else None

    def query_stock_order(self, account: Any, order_id: int) -> Any:
        if not self._ok():
            return None
        self._ex.settle()
        d = self._ex.order(_acct(account)[0], order_id)
        return to_xt("order", d) if d else None

    def query_stock_orders(self, account: Any, cancelable_only: bool = False) -> list | None:
        if not self._ok():
            return None
        self._ex.settle()
        return [to_xt("order", d) for d in self._ex.order_list(_acct(account)[0], bool(cancelable_only)) or []]

    def query_stock_trades(self, account: Any) -> list | None:
        if not self._ok():
            return None
        self._ex.settle()
        return [to_xt("trade", d) for d in self._ex.trade_list(_acct(account)[0]) or []]

    def query_stock_positions(self, account: Any) -> list | None:
        if not self._ok():
            return None
        self._ex.settle()
        return [to_xt("position", d) for d in self._ex.position_list(_acct(account)[0]) or []]

    def query_stock_position(self, account: Any, stock_code: str) -> Any:
        if not self._ok():
            return None
        self._ex.settle()
        d = self._ex.position(_acct(account)[0], stock_code)
        return to_xt("position", d) if d else None

    def query_account_infos(self) -> list | None:
        if not self._ok():
            return None
        self._ex.settle()
        return [to_xt("account_info", d) for d in self._ex.account_infos()]

    query_account_info = query_account_infos

    def query_account_status(self) -> list | None:
        if not self._ok():
            return None
        self._ex.settle()
        return [to_xt("account_status", d) for d in self._ex.account_statuses()]

    # async queries: the answer is computed now and delivered on the callback thread
    def _later(self, query: Callable[[], Any], callback: Callable[[Any], None]) -> int:
        seq = next(self._seq)
        self._queue.put(("result", (callback, query())))
        return seq

    def query_stock_asset_async(self, account: Any, callback: Callable[[Any], None]) -> None:
        self._later(lambda: self.query_stock_asset(account), callback)
        return None  # xtquant's returns nothing here, unlike its other async queries

    def query_stock_orders_async(self, account: Any, callback: Callable[[Any], None],
                                 cancelable_only: bool = False) -> int:
        return self._later(lambda: self.query_stock_orders(account, cancelable_only), callback)

    def query_stock_trades_async(self, account: Any, callback: Callable[[Any], None]) -> int:
        return self._later(lambda: self.query_stock_trades(account), callback)

    def query_stock_positions_async(self, account: Any, callback: Callable[[Any], None]) -> int:
        return self._later(lambda: self.query_stock_positions(account), callback)

    def query_account_infos_async(self, callback: Callable[[Any], None]) -> int:
        return self._later(self.query_account_infos, callback)

    def query_account_status_async(self, callback: Callable[[Any], None]) -> int:
        return self._later(self.query_account_status, callback)
