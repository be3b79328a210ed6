"""`XtQuantTrader(path="tcp://host:port", session)`: a trader talking to a `hub sim` process.

Same methods and callbacks as the in-process trader; only the backend differs.
`RemoteExchange` is the `hub.sim.backend.ExchangeBackend` the trader picks for a tcp://
path (`XtQuantTrader._make_backend`), sending each call as a request to
`hub.sim.server.SimServer` (codec and method table: `hub.sim.wire`). One I/O thread owns the DEALER
socket (ZeroMQ sockets are not thread-safe). When the server's heartbeats stop
the trader gets `on_disconnected` and later calls fail (-1 / None); `connect()`
returns -1 when no simulator answers.

The async order and cancel calls only send (as xtquant's do): they return at once and
their answer is the `order_response` / `cancel_response` push, so a caller (the hub's
loop) never waits on the simulator, and a simulator that dies with the request in hand
leaves the request's outcome open (the caller sees `on_disconnected`, not a refusal).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from hub.sim.backend import TraderSink
from hub.sim.wire import pack, unpack

CALL_TIMEOUT = 5.0  # seconds a call waits for its reply
CONNECT_TIMEOUT = 1.5
DEAD_AFTER = 1.5  # seconds without any message from the server
PING_EVERY = 1.0
QUOTE_CALL_TIMEOUT = 1.0  # quote calls: the simulator answers in ms; never hold a caller long
PROBE_TIMEOUT = 0.2  # a quote call while the simulator is not heard from
MARKET_DATA_TIMEOUT = 25.0  # history and reference data (the hub's own limit is 30 s)


class _Failed(Exception):
    pass


class _Link:
    """One DEALER connection to a `hub sim` process, owned by its own I/O thread.

    Calls (`_call`) wait for the reply with the same id; pushes (`{event, data}`) go to
    `_on_event` on the I/O thread. While `_watching()` is true the link pings the server and,
    when nothing has arrived for DEAD_AFTER, calls `_on_lost()` and fails the waiting calls.
    """

    def __init__(self, endpoint: str, name: str, immediate: bool = False) -> None:
        self.endpoint = endpoint
        self._immediate = immediate
        self.closed = False
        self._ids = itertools.count(1)
        self._pending: dict[int, list] = {}  # id -> [event, ok, value]
        self._lock = threading.Lock()
        self._outq: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._last_seen = time.monotonic()
        self.clock_reading: tuple[dict, float] | None = None  # ({time, speed}, monotonic at arrival)
        self._thread = threading.Thread(target=self._io, name=name, daemon=True)
        self._thread.start()

    # hooks
    def _watching(self) -> bool:
        return False

    def _on_event(self, kind: str, data: Any) -> None:
        pass

    def _on_lost(self) -> None:
        pass

    def _on_seen(self) -> None:
        pass

    def _ping_every(self) -> float:
        return PING_EVERY

    # ------------------------------------------------------------ I/O thread
    def _io(self) -> None:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        if self._immediate:  # no queueing for a simulator that is not there: a stale request never runs later
            sock.setsockopt(zmq.IMMEDIATE, 1)
        # the TCP connection closing (a simulator process that died: its OS closes its sockets) is
        # news at once, not after DEAD_AFTER of silence; silence still catches a hung simulator
        monitor = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        sock.connect(self.endpoint)
        self._last_seen = time.monotonic()
        last_ping = 0.0
        try:
            while not self._stop.is_set():
                while True:
                    try:
                        out = self._outq.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        sock.send(pack(out), zmq.NOBLOCK)
                    except zmq.ZMQError as exc:  # no connection (IMMEDIATE): this request never left
                        self._unsent(out, exc)
                ready = dict(poller.poll(5))
                dropped = False
                if ready.get(monitor):
                    while True:
                        try:
                            event = recv_monitor_message(monitor, zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        dropped = dropped or event.get("event") == zmq.EVENT_DISCONNECTED
                if ready.get(sock) or dropped:
                    while True:  # what arrived before the connection closed is read first
                        try:
                            msg = unpack(sock.recv(zmq.NOBLOCK))
                        except zmq.Again:
                            break
                        except Exception:
                            continue
                        self._last_seen = time.monotonic()
                        self._on_seen()
                        self._on_message(msg)
                if dropped and self._watching():
                    self._lost()
                now = time.monotonic()
                if self._watching() and now - last_ping > self._ping_every():
                    last_ping = now
                    self._outq.put({"id": 0, "method": "ping", "params": {}})
                if self._watching() and now - self._last_seen > DEAD_AFTER:
                    self._lost()
        finally:
            sock.disable_monitor()
            monitor.close(0)
            sock.close(0)

    def _on_message(self, msg: dict) -> None:
        if "event" in msg:
            kind = msg["event"]
            if kind == "heartbeat":
                data = msg.get("data")
                if isinstance(data, dict) and isinstance(data.get("clock"), dict):
                    self.clock_reading = (data["clock"], time.monotonic())  # the simulator's virtual clock
                return
            if kind == "disconnected":
                self._lost()
                return
            self._on_event(kind, msg.get("data"))
            return
        with self._lock:
            slot = self._pending.pop(msg.get("id"), None)
        if callable(slot):  # the answer to a request sent with `_send`
            try:
                slot(msg.get("ok", False), msg.get("result", msg.get("error")))
            except Exception:  # noqa: BLE001 - never end the I/O thread
                logging.getLogger(__name__).exception("handling a reply from the simulator failed")
        elif slot is not None:
            slot[1], slot[2] = msg.get("ok", False), msg.get("result", msg.get("error"))
            slot[0].set()

    def _unsent(self, out: dict, exc: Exception) -> None:
        """A request that could not leave fails its waiting caller now, not after its whole timeout.

        A caller waiting on `_call` learns at once that nothing was sent. A request sent with
        `_send` keeps its open outcome: the order path treats a request it cannot confirm as
        unknown and resolves it at reconnect, which is safe either way.
        """
        with self._lock:
            slot = self._pending.get(out.get("id"))
            if slot is None or callable(slot):
                return
            del self._pending[out["id"]]
        slot[1], slot[2] = False, f"{out.get('method')}: not sent to {self.endpoint} ({exc})"
        slot[0].set()

    def _lost(self) -> None:
        self._on_lost()
        # calls waiting for a reply from the dead simulator fail now, not after their timeout
        with self._lock:
            pending, self._pending = self._pending, {}
        for slot in pending.values():
            if callable(slot):
                continue  # a sent request whose outcome is open: the disconnect says so
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

    def _send(self, method: str, on_reply: Any, **params: Any) -> bool:
        """Send one request without waiting; `on_reply(ok, value)` runs on the I/O thread if it is answered.

        False when the link is closed (nothing was sent). A request sent to a simulator that
        dies before answering gets no `on_reply` at all.
        """
        if self._stop.is_set():
            return False
        rid = next(self._ids)
        with self._lock:
            self._pending[rid] = on_reply
        self._outq.put({"id": rid, "method": method, "params": params})
        return True

    def _try(self, fail: Any, method: str, **params: Any) -> Any:
        try:
            return self._call(method, **params)
        except _Failed:
            return fail

    def _close_link(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)


class RemoteExchange(_Link):
    """The client side of one trader's connection to a simulator process: an `ExchangeBackend`.

    `sink` (the trader) gets the pushes and `disconnected()` on this link's I/O thread.
    """

    def settle(self) -> None:
        """Nothing to do: the simulator process runs each call of this link in order, at once."""

    def __init__(self, endpoint: str, sink: TraderSink, name: str = "sim-remote") -> None:
        self._trader = sink
        self._attached = False
        super().__init__(endpoint, name)

    def _watching(self) -> bool:
        return self._attached

    def _on_event(self, kind: str, data: Any) -> None:
        self._trader.push(kind, data)

    def _on_lost(self) -> None:
        if self._attached:
            self._attached = False
            # this connection is over (a trader never reconnects; the hub makes a fresh one): close it,
            # so that nothing still queued for the lost simulator reaches a restarted one later
            self._stop.set()
            self._trader.disconnected()

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
        self._close_link()

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

    # async requests: sent, never waited for. The simulator process runs them in order and pushes the
    # `order_response` / `cancel_response` (carrying `seq`) before the order's own pushes.
    def place_order_async(self, session: Any, account_id: Any, account_type: Any, stock_code: Any,
                          order_type: Any, order_volume: Any, price_type: Any, price: Any, strategy_name: Any,
                          order_remark: Any, seq: int) -> bool:
        """Send the order request; False only when it could not be sent (link closed or not attached)."""
        if not self._attached:
            return False

        def refused(ok: bool, value: Any) -> None:
            # the simulator answered with an error instead of running the request (it made no order):
            # the caller still gets its response for `seq`, as a refusal
            if not ok:
                self._trader.push("order_response", {
                    "account_id": _plain(account_id), "order_id": -1, "strategy_name": _plain(strategy_name),
                    "order_remark": _plain(order_remark), "error_msg": f"the simulator failed the request: {value}",
                    "seq": seq})

        return self._send("place_order", refused, account_id=_plain(account_id),
                          account_type=_plain(account_type), stock_code=_plain(stock_code),
                          order_type=_plain(order_type), order_volume=_plain(order_volume),
                          price_type=_plain(price_type), price=_plain(price), strategy_name=_plain(strategy_name),
                          order_remark=_plain(order_remark), seq=seq)

    def cancel_async(self, session: Any, account_id: Any, order_id: Any = None, market: Any = None,
                     sysid: Any = None, seq: int | None = None) -> bool:
        """Send the cancel request; False only when it could not be sent."""
        if not self._attached:
            return False

        def refused(ok: bool, value: Any) -> None:
            if not ok and seq is not None:
                self._trader.push("cancel_response", {
                    "account_id": _plain(account_id), "order_id": order_id if isinstance(order_id, int) else -1,
                    "order_sysid": "" if sysid is None else str(sysid),
                    "cancel_result": -1, "seq": seq, "error_msg": f"the simulator failed the request: {value}"})

        return self._send("cancel", refused, account_id=_plain(account_id), order_id=_plain(order_id),
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


class _RemoteTraderKind(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(getattr(obj, "exchange", None), RemoteExchange)


class RemoteXtQuantTrader(metaclass=_RemoteTraderKind):
    """Not a class of its own any more: a name for "a trader whose backend is a simulator process".

    `XtQuantTrader("tcp://…", session)` is a plain `hub.sim.XtQuantTrader` (its
    `_make_backend` picks `RemoteExchange`); `isinstance(t, RemoteXtQuantTrader)` is true
    exactly for such traders, so old checks keep their meaning. Build one with `XtQuantTrader`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a remote trader with hub.sim.XtQuantTrader('tcp://host:port', session)")


_CB_STOP = object()


class RemoteSimXtData(_Link):
    """`open_xtdata("tcp://host:port")`: xtdata-shaped quotes from a `hub sim` process.

    Same calls as `SimXtData` (`subscribe_quote`, `subscribe_whole_quote`, `unsubscribe_quote`,
    `get_full_tick`, `active_subscriptions`); ticks arrive pushed over the connection
    (msgpack) and callbacks run on this object's own thread, `{code: [tick]}` for
    `subscribe_quote` and `{code: tick, ...}` for `subscribe_whole_quote`. Calls wait at most
    QUOTE_CALL_TIMEOUT, and only PROBE_TIMEOUT once the simulator has been silent for
    DEAD_AFTER (then they fail: -1, {}), so a caller's thread is never held long by a dead
    simulator. A restarted simulator
    knows no subscriptions (as xtdata after a MiniQMT restart): subscribe again
    (`resubscribe()` does it for every live seq; the hub re-subscribes after its broker
    reconnects).
    """

    def __init__(self, endpoint: str, call_timeout: float = QUOTE_CALL_TIMEOUT) -> None:
        self._subs: dict[int, tuple[str, tuple[str, ...], Any]] = {}
        self._seq = itertools.count(1)
        self._alive = True  # until proven otherwise
        self._call_timeout = call_timeout
        self._cbq: queue.Queue = queue.Queue()
        self._cb_thread = threading.Thread(target=self._callbacks, name="sim-xtdata-remote", daemon=True)
        self._cb_thread.start()
        super().__init__(str(endpoint), "sim-xtdata-link", immediate=True)

    # ------------------------------------------------------------ xtdata API
    def subscribe_quote(self, stock_code: str, period: str = "tick", start_time: str = "", end_time: str = "",
                        count: int = 0, callback: Any = None) -> int:
        """One code's ticks: seq > 0, or -1 (unknown code, period other than 'tick', simulator unreachable)."""
        if period != "tick" or not isinstance(stock_code, str):
            return -1
        return self._subscribe("one", (stock_code,), callback)

    def subscribe_whole_quote(self, code_list: list[str], callback: Any = None) -> int:
        """Many codes or whole markets ('SH', 'SZ', 'BJ'): callback gets {code: tick, ...}; seq or -1."""
        codes = tuple(c for c in code_list if isinstance(c, str))
        if not codes:
            return -1
        return self._subscribe("whole", codes, callback)

    def unsubscribe_quote(self, seq: int) -> None:
        with self._lock:
            sub = self._subs.pop(seq, None)
        if sub is None:
            return
        if self._alive:
            self._quick(None, "quote_unsubscribe", key=seq)
        else:  # do not wait on a silent simulator; if it is there after all, this still reaches it
            self._outq.put({"id": 0, "method": "quote_unsubscribe", "params": {"key": seq}})

    def get_full_tick(self, code_list: list[str]) -> dict[str, dict]:
        """{code: tick} for the known codes; {} when the simulator does not answer."""
        return self._quick({}, "full_tick", codes=[c for c in code_list if isinstance(c, str)]) or {}

    def market_data(self, kind: str, **params: Any) -> Any:
        """`SimXtData.market_data` at the simulator process (the hub calls it on its market-data
        thread, so it may wait); raises RuntimeError when the simulator does not answer."""
        deadline = time.monotonic() + MARKET_DATA_TIMEOUT
        while True:
            try:
                return self._call("market_data", timeout=max(0.1, deadline - time.monotonic()), kind=kind,
                                  params=params)
            except _Failed as exc:
                # a link not heard from lately fails calls at once; the simulator may just be starting
                if self._stop.is_set() or time.monotonic() + 0.3 > deadline:
                    raise RuntimeError(f"the simulator at {self.endpoint} did not serve {kind}: {exc}") from None
                time.sleep(0.3)

    def active_subscriptions(self) -> dict[str, int]:
        """Upstream subscriptions per code/market at the simulator (all its clients); {} if unreachable."""
        return self._quick({}, "quote_active") or {}

    def resubscribe(self) -> int:
        """Send every live subscription again (after a simulator restart); returns how many it took."""
        with self._lock:
            subs = list(self._subs.items())
        n = 0
        for seq, (kind, codes, _) in subs:
            rc = self._quick(-1, "quote_subscribe", key=seq, kind=kind, codes=list(codes))
            n += 1 if isinstance(rc, int) and rc > 0 else 0
        return n

    def close(self) -> None:
        """Drop every subscription (best effort) and end both threads."""
        with self._lock:
            seqs = list(self._subs)
        for s in seqs:
            self.unsubscribe_quote(s)
        self._close_link()
        self._cbq.put(_CB_STOP)
        if self._cb_thread is not threading.current_thread():
            self._cb_thread.join(timeout=2)

    stop = close

    @property
    def alive(self) -> bool:
        return self._alive

    # ------------------------------------------------------------ internals
    def _subscribe(self, kind: str, codes: tuple[str, ...], callback: Any) -> int:
        seq = next(self._seq)
        with self._lock:
            self._subs[seq] = (kind, codes, callback)  # before the call: ticks may follow the reply at once
        rc = self._quick(None, "quote_subscribe", key=seq, kind=kind, codes=list(codes))
        if not isinstance(rc, int) or rc <= 0:
            with self._lock:
                self._subs.pop(seq, None)
            if rc is None:  # no answer: should the request still arrive, this undoes it (same connection, in order)
                self._outq.put({"id": 0, "method": "quote_unsubscribe", "params": {"key": seq}})
            return -1
        return seq

    def _quick(self, fail: Any, method: str, **params: Any) -> Any:
        # a simulator not heard from lately gets a short chance only (it may just have restarted)
        timeout = self._call_timeout if self._alive else PROBE_TIMEOUT
        try:
            return self._call(method, timeout=timeout, **params)
        except _Failed:
            return fail

    def _watching(self) -> bool:
        return True

    def _on_seen(self) -> None:
        self._alive = True

    def _ping_every(self) -> float:
        return PING_EVERY if self._alive else 0.2

    def _on_lost(self) -> None:
        self._alive = False

    def _on_event(self, kind: str, data: Any) -> None:
        if kind == "ticks" and isinstance(data, dict):
            self._cbq.put((data.get("key"), data.get("ticks")))

    def _callbacks(self) -> None:
        while True:
            item = self._cbq.get()
            if item is _CB_STOP:
                return
            key, ticks = item
            with self._lock:
                sub = self._subs.get(key)
            if sub is None or sub[2] is None or not isinstance(ticks, dict):
                continue
            try:
                sub[2](ticks)
            except Exception:  # noqa: BLE001 - a failing user callback must not end the thread
                logging.getLogger(__name__).exception("exception in remote sim quote callback")
