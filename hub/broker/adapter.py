"""The one broker path: an `XtQuantTrader` (real or simulated) plus a quote source.

The hub drives the broker only through the documented XtQuantTrader API, so the
live path and the simulator run the same hub code. Everything here is called from
the hub's loop thread except `open_trader` (the broker-connect thread, see
`hub.broker.connector`); broker callbacks arrive on the broker's own threads and are
handed to `sink(kind, payload)` untouched (the hub's mailbox takes them from there).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Callable

from rpc_client.xt import CALLBACK_KIND

from hub.broker.convert import to_dict
from hub.broker.probe import miniqmt_probe

log = logging.getLogger("hub.broker")

#: Callback kinds handed to the sink, one per XtQuantTraderCallback method.
CALLBACKS = CALLBACK_KIND

Sink = Callable[[str, Any], None]


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached; the message says what was tried and what to do."""


class _Account:
    """Minimal StockAccount (account_id, account_type) used when xtquant's is not wanted."""

    def __init__(self, account_id: str, account_type: int = 2):
        self.account_id = account_id
        self.account_type = account_type


def make_callback(base: type, sink: Sink) -> Any:
    """An instance of `base` (an XtQuantTraderCallback class) whose methods forward to sink."""

    def forward(kind: str):
        def method(self, *args):  # noqa: ARG001
            sink(kind, args[0] if args else None)
        return method

    namespace = {name: forward(kind) for name, kind in CALLBACKS.items()}
    cls = type("HubTraderCallback", (base,), namespace)
    return cls()


class SerializedQuotes:
    """Every call into the quote source (xtdata or the simulated feed) goes through here.

    xtdata is not thread-safe (concurrent calls have crashed its native module). Live, every
    call runs on the hub's one market-data thread (`runner`, a hub.marketdata.UpstreamThread),
    ahead of queued history requests, with a timeout; the simulator's feed is thread-safe and is
    called under one lock. Callbacks from the source run on its thread and must only hand data
    over (the hub puts them in its mailbox).
    """

    #: seconds a live subscribe / unsubscribe / get_full_tick may wait for the market-data thread
    CALL_TIMEOUT = 5.0

    def __init__(self, source: Any, runner: Any = None):
        self._source = source
        self._lock = threading.Lock()
        #: the thread that makes every call (live MiniQMT), or None (calls under the lock)
        self.runner = runner

    @property
    def source(self) -> Any:
        """The source itself, for the market-data service (which calls it on its own thread)."""
        return self._source

    def _run(self, fn: Callable[[], Any]) -> Any:
        if self.runner is not None:
            return self.runner.call(fn, self.CALL_TIMEOUT)
        with self._lock:
            return fn()

    def subscribe_quote(self, code: str, callback: Callable[[dict], None]) -> int:
        return self._run(lambda: self._source.subscribe_quote(code, period="tick", count=0, callback=callback))

    def subscribe_whole_quote(self, codes: list[str], callback: Callable[[dict], None]) -> int:
        return self._run(lambda: self._source.subscribe_whole_quote(codes, callback=callback))

    def unsubscribe_quote(self, seq: int) -> None:
        self._run(lambda: self._source.unsubscribe_quote(seq))

    def get_full_tick(self, codes: list[str]) -> dict[str, Any]:
        return self._run(lambda: self._source.get_full_tick(codes)) or {}

    def close(self) -> None:
        close = getattr(self._source, "close", None) or getattr(self._source, "stop", None)
        if callable(close):
            try:
                self._run(close)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                log.exception("closing the quote source failed")
        if self.runner is not None:
            self.runner.close()


class Broker:
    """One brokerage connection: trader + account + quotes, with reconnect by a fresh trader."""

    def __init__(self, name: str, account_id: str, trader_factory: Callable[[int], Any], callback_base: type,
                 account: Any, quotes: SerializedQuotes | None, session_id: int = 0, where: str = "",
                 on_close: Callable[[], None] | None = None):
        self.name = name
        self.account_id = account_id
        self.account = account
        self.quotes = quotes
        self.where = where
        self._trader_factory = trader_factory
        self._callback_base = callback_base
        self._session_id = session_id
        self._trader: Any = None
        self._sink: Sink | None = None
        self.connected = False
        self._on_close = on_close
        #: is the broker there at all, before a reconnect attempt: () -> (ok or None, why); None = no probe
        self.probe: Callable[[], tuple[bool | None, str]] | None = None
        #: the broker's virtual clock, {time: epoch s, speed}, for a simulator; None = the wall clock
        self.clock: Callable[[], dict[str, float]] | None = None

    # ---- connection -------------------------------------------------------------
    # The hub runs `open_trader` on its broker-connect thread (hub.broker.connector): xtquant
    # wants connect() on the thread that created the trader, and a slow or hanging connect
    # must not stop the hub's loop. The loop only `install`s the result and `detach_trader`s.
    def open_trader(self, sink: Sink) -> Any:
        """Make a fresh trader with a fresh session id, start, connect and subscribe the account.

        Returns the connected trader, not yet in use (`install` it). Raises BrokerUnavailable
        after stopping the failed trader. Does not touch the current trader.
        """
        self._sink = sink
        session = self._session_id or random.randint(100000, 999999999)
        self._session_id = 0  # a reconnect uses a fresh session id
        try:
            trader = self._trader_factory(session)
        except BrokerUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise BrokerUnavailable(f"could not create the {self.name} trader at {self.where}: {exc}") from None
        try:
            trader.register_callback(make_callback(self._callback_base, sink))
            trader.start()
            rc = trader.connect()
            if rc != 0:
                raise BrokerUnavailable(
                    f"connect() to {self.name} at {self.where} returned {rc} (session {session})"
                    + (". " + QMT_HELP if self.name == "qmt" else "")
                    + (f": is `hub sim --endpoint {self.where}` running?" if self.where.startswith("tcp://") else ""))
            rc = trader.subscribe(self.account)
            if rc not in (0, None):
                raise BrokerUnavailable(f"subscribe({self.account_id}) on {self.name} returned {rc}: "
                                        "is the account logged in to this terminal?")
        except BaseException as exc:
            self.stop_trader(trader)
            if isinstance(exc, BrokerUnavailable):
                raise
            raise BrokerUnavailable(f"connecting to {self.name} at {self.where} failed: "
                                    f"{type(exc).__name__}: {exc}") from None
        log.info("broker %s connected (session %s, account %s)", self.name, session, self.account_id)
        return trader

    @property
    def trader(self) -> Any:
        """The trader in use, or None (between a detach and the next install)."""
        return self._trader

    @property
    def has_trader(self) -> bool:
        """A trader is installed (it may have lost its connection since)."""
        return self._trader is not None

    def install(self, trader: Any) -> None:
        """Loop thread: use `trader` (from `open_trader`) from now on."""
        self._trader = trader
        self.connected = True

    def detach_trader(self) -> Any:
        """Loop thread: stop using the current trader and return it (to be stopped elsewhere), or None."""
        trader, self._trader = self._trader, None
        self.connected = False
        return trader

    @staticmethod
    def stop_trader(trader: Any) -> None:
        if trader is not None:
            try:
                trader.stop()
            except Exception:  # noqa: BLE001 - a dead trader may fail to stop
                log.exception("stopping a trader failed")

    def connect(self, sink: Sink) -> None:
        """All in the caller's thread: stop the old trader, open and install a fresh one."""
        self._drop_trader()
        self.install(self.open_trader(sink))

    def _drop_trader(self) -> None:
        self.stop_trader(self.detach_trader())

    def close_trader(self) -> None:
        """Stop the current trader (its threads and connection), keep the quote source."""
        self._drop_trader()

    def close(self) -> None:
        self._drop_trader()
        if self.quotes is not None:
            self.quotes.close()
        if self._on_close is not None:
            self._on_close()

    def mark_down(self) -> None:
        self.connected = False

    def trader_says_connected(self) -> bool:
        """False when the trader itself knows its connection is gone (its on_disconnected may
        still be on its way to the hub). Traders without such a flag count as connected."""
        return self._trader is not None and bool(getattr(self._trader, "connected", True))

    # ---- trading: async only (the loop never waits on the broker) ----------------
    def order_async(self, stock_code: str, order_type: int, volume: int, price_type: int, price: float,
                    strategy_name: str, order_remark: str) -> int:
        return self._trader.order_stock_async(self.account, stock_code, order_type, volume, price_type, price,
                                              strategy_name, order_remark)

    def cancel_async(self, order_id: int) -> int:
        return self._trader.cancel_order_stock_async(self.account, order_id)

    def cancel_sysid_async(self, market: int, order_sysid: str) -> int:
        return self._trader.cancel_order_stock_sysid_async(self.account, market, order_sysid)

    # ---- sync queries: at start and reconcile only, never inside a callback -------
    def snapshot(self, trader: Any = None) -> dict[str, Any]:
        """Orders, trades, positions, asset and account status as plain maps (None entries skipped).

        Of `trader` (the connect thread passes the one it was asked about) or the current one.
        Raises BrokerUnavailable when a query fails (None: the trader lost its connection).
        """
        t, acc = trader if trader is not None else self._trader, self.account
        if t is None:
            raise BrokerUnavailable("no trader to query")

        def many(result: Any, kind: str) -> list[dict]:
            return [to_dict(x, kind) for x in (result or [])]

        def listed(result: Any, what: str) -> list:
            # None is xtquant's failed query (e.g. the connection is gone): not an empty account
            if result is None:
                raise BrokerUnavailable(f"{what} failed on {self.name} at {self.where} (the trader returned None)")
            return result

        asset = t.query_stock_asset(acc)
        status = None
        infos = None
        try:
            status = t.query_account_status()
        except Exception:  # noqa: BLE001 - optional on some builds
            log.debug("query_account_status failed", exc_info=True)
        try:
            infos = t.query_account_infos()
        except Exception:  # noqa: BLE001
            log.debug("query_account_infos failed", exc_info=True)
        return {
            "asset": to_dict(asset, "asset") if asset is not None else None,
            "orders": many(listed(t.query_stock_orders(acc, False), "query_stock_orders"), "order"),
            "trades": many(listed(t.query_stock_trades(acc), "query_stock_trades"), "trade"),
            "positions": many(listed(t.query_stock_positions(acc), "query_stock_positions"), "position"),
            "account_status": many(status, "account_status"),
            "account_infos": many(infos, "account_info"),
        }


# --------------------------------------------------------------------------------
# Factories
# --------------------------------------------------------------------------------

QMT_HELP = ("MiniQMT must be running on this machine, logged in to the account, in 极简模式 "
            "(the xtquant/MiniQMT mode), and --qmt-path must point at its userdata_mini folder.")


def make_broker(config: Any) -> Broker:
    """The broker named by `config.broker`: 'sim' (in-process simulator) or 'qmt' (real MiniQMT)."""
    if config.broker == "sim":
        return _make_sim(config)
    if config.broker == "qmt":
        return _make_qmt(config)
    raise BrokerUnavailable(f"unknown broker {config.broker!r} (use sim or qmt)")


def clock_of(broker: "Broker | None") -> dict[str, float] | None:
    """The broker's virtual clock reading for heartbeats and status (None: the wall clock rules)."""
    fn = getattr(broker, "clock", None)
    return fn() if callable(fn) else None


def _make_sim(config: Any) -> Broker:
    import hub.sim as sim

    if getattr(config, "sim_endpoint", "") or str(config.qmt_path).startswith("tcp://"):
        return _make_remote_sim(config, sim)
    path = config.sim_dir
    path.mkdir(parents=True, exist_ok=True)
    try:
        sim_cfg = sim.SimConfig.from_dict(config.sim or {})
    except (TypeError, ValueError) as exc:
        raise BrokerUnavailable(f"invalid [sim] settings: {exc}") from None
    try:
        exchange = sim.get_exchange(str(path), config=sim_cfg)
    except RuntimeError as exc:
        raise BrokerUnavailable(f"simulator at {path}: {exc}") from None
    quotes = None
    if hasattr(sim, "SimXtData"):
        quotes = SerializedQuotes(sim.SimXtData(str(path)))
    account_cls = getattr(sim, "StockAccount", None)
    account = account_cls(config.account_id) if account_cls else _Account(config.account_id)
    shutdown = getattr(sim, "shutdown_exchange", None)
    broker = Broker("sim", config.account_id, lambda session: sim.XtQuantTrader(str(path), session),
                    sim.XtQuantTraderCallback, account, quotes, config.session_id, where=str(path),
                    on_close=(lambda: shutdown(str(path))) if shutdown else None)
    clock = getattr(exchange, "clock", None)
    if clock is not None:  # the runner follows the simulator's time (issue 13)
        broker.clock = lambda: {"time": clock.timestamp(), "speed": clock.speed}
    return broker


def _make_remote_sim(config: Any, sim: Any) -> Broker:
    """The simulator running as its own process (`hub sim --endpoint tcp://...`): the hub does not own it."""
    endpoint = str(getattr(config, "sim_endpoint", "") or config.qmt_path)
    account = _Account(config.account_id)
    # quotes from the same process (`hub sim` serves them too); SimXtData("tcp://…") is the remote one
    quotes = SerializedQuotes(sim.SimXtData(endpoint))
    broker = Broker("sim", config.account_id, lambda session: sim.XtQuantTrader(endpoint, session),
                    sim.XtQuantTraderCallback, account, quotes, config.session_id, where=endpoint)
    broker.clock = lambda: _remote_clock(broker)
    return broker


def _remote_clock(broker: Broker) -> dict[str, float] | None:
    """The `hub sim` process's virtual clock, from the last heartbeat its trader link heard (None: none yet)."""
    link = getattr(broker._trader, "exchange", None)
    reading = getattr(link, "clock_reading", None)
    if not reading:
        return None
    clock, at = reading
    speed = float(clock.get("speed") or 1.0)
    return {"time": float(clock["time"]) + (time.monotonic() - at) * speed, "speed": speed}


def _make_qmt(config: Any) -> Broker:
    if not config.qmt_path:
        raise BrokerUnavailable("--broker qmt needs --qmt-path (MiniQMT's userdata_mini folder). " + QMT_HELP)
    if not config.account:
        raise BrokerUnavailable("--broker qmt needs --account (the brokerage account id). " + QMT_HELP)
    where = str(config.qmt_path)
    try:
        from xtquant import xttrader  # the native module: Windows with MiniQMT only
        from xtquant.xttype import StockAccount
    except Exception as exc:  # noqa: BLE001 - ImportError or a native loader error
        raise BrokerUnavailable(f"cannot load xtquant's trader module for MiniQMT at {where}: {exc}. "
                                + QMT_HELP) from None
    account = StockAccount(config.account, config.account_type)
    quotes = None
    try:
        from xtquant import xtdata

        from hub.marketdata.upstream import UpstreamThread  # every xtdata call from this one thread
        quotes = SerializedQuotes(xtdata, runner=UpstreamThread(name="hub-xtdata"))
    except Exception as exc:  # noqa: BLE001
        log.warning("xtdata unavailable, quotes disabled: %s", exc)

    def factory(session: int) -> Any:
        return xttrader.XtQuantTrader(where, session)

    broker = Broker("qmt", config.account, factory, xttrader.XtQuantTraderCallback, account, quotes,
                    config.session_id, where=where)
    broker.probe = miniqmt_probe(where)
    return broker
