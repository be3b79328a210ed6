"""`XtQuantTrader(path="tcp://host:port", session)`: a trader talking to a `hub sim` process.

Same methods and callbacks as the in-process trader; only the backend differs.
`RemoteExchange` offers the `SimExchange` calls the trader uses, sending each
as a request to `hub.sim.server.SimServer`. One I/O thread owns the DEALER
socket (ZeroMQ sockets are not thread-safe). When the server's heartbeats stop
the trader gets `on_disconnected` and later calls fail (-1 / None); `connect()`
returns -1 when no simulator answers.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

import zmq

from hub.sim.server import pack, unpack
from hub.sim.trader import XtQuantTrader

CALL_TIMEOUT = 5.0  # seconds a call waits for its reply
CONNECT_TIMEOUT = 1.5
DEAD_AFTER = 1.5  # seconds without any message from the server
PING_EVERY = 1.0


class _Failed(Exception):
    pass


class RemoteExchange:
    """The client side of one trader's connection to a simulator process."""

    def __init__(self, endpoint: str, trader: XtQuantTrader) -> None:
        self.endpoint = endpoint
        self.closed = False
        self._trader = trader
        self._ids = itertools.count(1)
        self._pending: dict[int, list] = {}  # id -> [event, ok, value]
        self._lock = threading.Lock()
        self._outq: queue.Queue = queue.Queue()
        self._attached = False
        self._alive = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._io, name=f"sim-remote-{trader.session_id}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ I/O thread
    def _io(self) -> None:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        last_seen = time.monotonic()
        last_ping = 0.0
        try:
            while not self._stop.is_set():
                while True:
                    try:
                        sock.send(pack(self._outq.get_nowait()), zmq.NOBLOCK)
                    except queue.Empty:
                        break
                    except zmq.ZMQError:
                        break
                if sock.poll(5):
                    while True:
                        try:
                            msg = unpack(sock.recv(zmq.NOBLOCK))
                        except zmq.Again:
                            break
                        except Exception:
                            continue
                        last_seen = time.monotonic()
                        self._on_message(msg)
                now = time.monotonic()
                if self._attached and now - last_ping > PING_EVERY:
                    last_ping = now
                    self._outq.put({"id": 0, "method": "ping", "params": {}})
                if self._attached and now - last_seen > DEAD_AFTER:
                    self._lost()
        finally:
            sock.close(0)

    def _on_message(self, msg: dict) -> None:
        if "event" in msg:
            kind = msg["event"]
            if kind == "heartbeat":
                return
            if kind == "disconnected":
                self._lost()
                return
            self._trader._sim_push(kind, msg["data"])
            return
        with self._lock:
            slot = self._pending.pop(msg.get("id"), None)
        if slot is not None:
            slot[1], slot[2] = msg.get("ok", False), msg.get("result", msg.get("error"))
            slot[0].set()

    def _lost(self) -> None:
        if self._attached:
            self._attached = False
            self._trader._sim_disconnected()
            # calls waiting for a reply from the dead simulator fail now, not after CALL_TIMEOUT
            with self._lock:
                pending, self._pending = self._pending, {}
            for slot in pending.values():
                slot[1], slot[2] = False, "the simulator is gone"
                slot[0].set()

    def _call(self, method: str, timeout: float = CALL_TIMEOUT, **params: Any) -> Any:
        if self._stop.is_set():
            raise _Failed("closed")
        rid = next(self._ids)
        slot = [threading.Event(), False, None]
        with self._lock:
            self._pending[rid] = slot
        self._outq.put({"id": rid, "method": method, "params": params})
        if not slot[0].wait(timeout):
            with self._lock:
                self._pending.pop(rid, None)
            raise _Failed(f"{method}: no reply from {self.endpoint} in {timeout}s")
        if not slot[1]:
            raise _Failed(str(slot[2]))
        return slot[2]

    def _try(self, fail: Any, method: str, **params: Any) -> Any:
        try:
            return self._call(method, **params)
        except _Failed:
            return fail

    # ------------------------------------------------------------ SimExchange look-alike
    def attach(self, session: Any) -> bool:
        """Connect: False when no simulator answers within CONNECT_TIMEOUT or it is offline."""
        try:
            ok = bool(self._call("attach", timeout=CONNECT_TIMEOUT))
        except _Failed:
            ok = False
        self._attached = ok
        return ok

    def detach(self, session: Any) -> None:
        if self._attached:
            self._attached = False
            try:
                self._call("detach", timeout=1.0)
            except _Failed:
                pass
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def is_attached(self, session: Any) -> bool:
        return self._attached and not self._stop.is_set()

    def subscribe(self, session: Any, account_id: str, account_type: Any) -> int:
        return self._try(-1, "subscribe", account_id=account_id, account_type=account_type)

    def unsubscribe(self, session: Any, account_id: Any) -> int:
        return self._try(-1, "unsubscribe", account_id=_plain(account_id))

    def place_order(self, session: Any, account_id: Any, account_type: Any, stock_code: Any, order_type: Any,
                    order_volume: Any, price_type: Any, price: Any, strategy_name: Any = "",
                    order_remark: Any = "", seq: int | None = None) -> int:
        return self._try(-1, "place_order", account_id=_plain(account_id), account_type=_plain(account_type),
                         stock_code=_plain(stock_code), order_type=_plain(order_type),
                         order_volume=_plain(order_volume), price_type=_plain(price_type), price=_plain(price),
                         strategy_name=_plain(strategy_name), order_remark=_plain(order_remark), seq=seq)

    def cancel(self, session: Any, account_id: Any, order_id: Any = None, market: Any = None, sysid: Any = None,
               seq: int | None = None) -> int:
        return self._try(-1, "cancel", account_id=_plain(account_id), order_id=_plain(order_id),
                         market=_plain(market), sysid=_plain(sysid), seq=seq)

    def asset(self, account_id: Any) -> dict | None:
        return self._try(None, "asset", account_id=_plain(account_id))

    def order(self, account_id: Any, order_id: Any) -> dict | None:
        return self._try(None, "order", account_id=_plain(account_id), order_id=_plain(order_id))

    def order_list(self, account_id: Any, cancelable_only: bool = False) -> list | None:
        return self._try(None, "order_list", account_id=_plain(account_id), cancelable_only=cancelable_only)

    def trade_list(self, account_id: Any) -> list | None:
        return self._try(None, "trade_list", account_id=_plain(account_id))

    def position_list(self, account_id: Any) -> list | None:
        return self._try(None, "position_list", account_id=_plain(account_id))

    def position(self, account_id: Any, code: Any) -> dict | None:
        return self._try(None, "position", account_id=_plain(account_id), code=_plain(code))

    def account_infos(self) -> list:
        return self._try([], "account_infos")

    def account_statuses(self) -> list:
        return self._try([], "account_statuses")


def _plain(v: Any) -> Any:
    """Keep msgpack-native values (so the server sees the same types); anything else as its str."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


class RemoteXtQuantTrader(XtQuantTrader):
    """The trader with a `RemoteExchange` backend; created by `XtQuantTrader("tcp://…", session)`."""

    def _make_backend(self, path: Any) -> RemoteExchange:
        return RemoteExchange(str(path), self)

    def _ok(self) -> bool:
        return self.connected and not self._stopped.is_set() and self._ex.is_attached(self)
