"""The simulated exchange + counter behind one MiniQMT "terminal" path.

One instance per path holds every account, order, trade and position and the
quotes. Traders (sessions, `hub.sim.backend.TraderSink`) and quote subscribers
attach to it; it is the in-process `hub.sim.backend.ExchangeBackend`. Its jobs
are the lock, the store transactions, the events and their flush, and the
queries; the decisions live beside it: matching in `hub.sim.matching`, the
account arithmetic in `hub.sim.ledger`, the async request queue in
`hub.sim.requests`, the order rules in `hub.sim.rules`. The lock is taken once,
in the public entry points; every `_` method runs under it. The events that
state changes cause are collected and then handed to the listeners' queues in broker order
(order accepted, then trade, order update, position, asset), so callbacks run
on the listeners' own threads, never on the caller's.

Async requests (`order_stock_async`, `cancel_order_stock_async`, ...) only queue
the request for the exchange's own worker thread and return, as xtquant's calls
only send a request to MiniQMT: the caller's thread never runs the exchange.
Requests run in the order they were queued; a sync call first runs whatever is
still queued, so it never overtakes an earlier async request.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from xtquant import xtconstant as C

from hub.sim import errors as E
from hub.sim import ledger, matching, rules
from hub.sim.backend import TraderSink
from hub.sim.clock import SimClock, in_trading_hours
from hub.sim.config import SimConfig
from hub.sim.errors import Reject, reject
from hub.sim.fees import buy_freeze, cents, fill_fees
from hub.sim.models import (
    CANCEL_PENDING, FINAL_STATES, Account, CancelRequest, Order, OrderRequest, Position, Trade,
    asset_dict, order_dict, position_dict, trade_dict,
)
from hub.sim.quotes import CsvReplay, Quote, RandomWalk
from hub.sim.requests import RequestWorker
from hub.sim.store import Store
from hub.sim.universe import Instrument, Universe
from rpc_client.xt import MARKET_ENUM

log = logging.getLogger(__name__)


class SimExchange:
    """Shared state and matching for every trader created with the same path."""

    def __init__(self, folder: Path, config: SimConfig | None = None, key: str = "") -> None:
        self.config = config or SimConfig()
        self.config.validate()
        self.folder = folder
        self.key = key or str(folder)
        self.lock = threading.RLock()
        self.clock = SimClock(self.config.start_time, self.config.speed)
        self.universe = Universe(self.config.universe)
        self.store = Store(folder)
        self.online = True
        self.closed = False

        self.accounts: dict[str, Account] = {}
        self.positions: dict[tuple[str, str], Position] = {}
        self.orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self.quotes: dict[str, Quote] = {}

        self._subs: dict[str, set[TraderSink]] = {}  # account_id -> subscribed sessions
        self._sessions: set[TraderSink] = set()  # connected sessions
        self._tick_listeners: list[Callable[[dict[str, dict]], None]] = []
        self._quote_subs: Counter[str] = Counter()
        self._events: list[tuple[Any, str, dict[str, Any]]] = []
        # async requests, run by the worker's thread under the lock, oldest first
        self.requests = RequestWorker(self.lock, f"sim-exchange-{folder.name}")

        self._load()
        self._market = self._make_market()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.config.auto_tick:
            self._thread = threading.Thread(target=self._run_market, name=f"sim-market-{folder.name}", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ setup
    def _load(self) -> None:
        s = self.store
        day = s.get_meta("trading_day")
        self.trading_day = datetime.strptime(day, "%Y%m%d").date() if day else self.clock.now().date()
        s.set_meta("trading_day", self.trading_day.strftime("%Y%m%d"))
        self._next_order_id = int(s.get_meta("next_order_id", "1"))
        self._next_trade_id = int(s.get_meta("next_trade_id", "1"))
        for a in s.load_accounts():
            self.accounts[a.account_id] = a
        for p in s.load_positions():
            self.positions[(p.account_id, p.stock_code)] = p
        for o in s.load_orders():
            self.orders[o.order_id] = o
        self.trades = s.load_trades()
        self._saved_quotes = s.load_quotes()

    def _make_market(self) -> RandomWalk | CsvReplay:
        walk = RandomWalk(self.config.seed, self.trading_day, self.config.volatility,
                          (self.config.depth_min, self.config.depth_max))
        if self.config.replay_csv:
            return CsvReplay(self.config.replay_csv, walk)
        return walk

    # ------------------------------------------------------------------ sessions
    def attach(self, session: TraderSink) -> bool:
        """A trader connects; False while the simulated terminal is offline or shut down."""
        with self.lock:
            if self.closed or not self.online:
                return False
            self._sessions.add(session)
            return True

    def detach(self, session: TraderSink) -> None:
        with self.lock:
            self._sessions.discard(session)
            for subs in self._subs.values():
                subs.discard(session)

    def is_attached(self, session: TraderSink) -> bool:
        return session in self._sessions and not self.closed

    def subscribe(self, session: TraderSink, account_id: str, account_type: int) -> int:
        """Log the account in (creating it on first use) and push its events to `session`."""
        with self.lock:
            if not self.is_attached(session) or account_type != C.SECURITY_ACCOUNT:
                return -1
            self._ensure_account(account_id)
            self._subs.setdefault(account_id, set()).add(session)
            self._events.append((session, "account_status", {
                "account_id": account_id, "account_type": account_type, "status": C.ACCOUNT_STATUS_OK}))
            self._flush()
            return 0

    def unsubscribe(self, session: TraderSink, account_id: str) -> int:
        with self.lock:
            subs = self._subs.get(account_id, set())
            if session not in subs:
                return -1
            subs.discard(session)
            return 0

    def disconnect_all(self, offline: bool = False) -> None:
        """Drop every session (each gets `on_disconnected`), as when MiniQMT exits.

        With `offline=True` new `connect()` calls fail until `go_online()`.
        """
        with self.lock:
            if offline:
                self.online = False
            sessions, self._sessions = list(self._sessions), set()
            for subs in self._subs.values():
                subs.clear()
            for s in sessions:
                s.disconnected()

    def go_online(self) -> None:
        with self.lock:
            self.online = True

    def shutdown(self) -> None:
        """Stop the market thread, disconnect everyone, persist and close the database."""
        with self.lock:
            if self.closed:
                return
            self.disconnect_all()
            self.closed = True
            self._stop.set()
        self.requests.stop()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self.lock:
            for code, q in self.quotes.items():
                self.store.save_quote(code, q.last_close, q.last, q.fair)
            self.store.close()

    # ------------------------------------------------------------------ accounts
    def has_account(self, account_id: str) -> bool:
        return account_id in self.accounts

    def _ensure_account(self, account_id: str) -> Account:
        a = self.accounts.get(account_id)
        if a is None:
            a = self.accounts[account_id] = Account(account_id, cash=float(self.config.default_cash))
            with self.store.transaction():
                self.store.save_account(a)
                for code, vol in self.config.starting_positions.items():
                    inst = self.universe.get(code)
                    if inst is None or vol <= 0:
                        continue
                    ref = self._quote(code).last_close
                    p = Position(account_id, code, int(vol), int(vol), int(vol), 0,
                                 round(vol * ref, 2), round(vol * ref, 2), int(vol))
                    self.positions[(account_id, code)] = p
                    self.store.save_position(p)
        return a

    # ------------------------------------------------------------------ quotes
    def quote(self, code: str) -> Quote:
        """The live quote of a known code, created (with its day's limits) on first use."""
        with self.lock:
            return self._quote(code)

    def _quote(self, code: str) -> Quote:
        """`quote` under the lock."""
        q = self.quotes.get(code)
        if q is not None:
            return q
        inst = self.universe.get(code)
        if inst is None:
            raise KeyError(code)
        ref = inst.ref_price
        last_close, last, fair = self._saved_quotes.get(code, (ref, ref, ref))
        down, up = inst.limits(last_close, self.trading_day)
        q = Quote(inst, last_close, down, up, last, fair=fair, time_ms=int(self.clock.timestamp() * 1000))
        q.high = q.low = 0.0
        q.rebuild_book(self._market_rng(code), self.config.depth_min, self.config.depth_max)
        self.quotes[code] = q
        if code not in self._saved_quotes:
            self.store.save_quote(code, last_close, last, fair)
        return q

    def _market_rng(self, code: str):
        m = self._market
        return m.rng(code) if isinstance(m, RandomWalk) else m._fallback.rng(code)

    def market_data(self) -> Any:
        """This terminal's `hub.sim.marketdata.SimMarketData` (bars, instruments, sectors,
        calendar), created on first use; it records the tick feed from then on."""
        with self.lock:
            md = getattr(self, "_market_data", None)
            if md is None:
                from hub.sim.marketdata import SimMarketData

                md = self._market_data = SimMarketData(self)
            return md

    def instrument(self, code: str) -> Instrument | None:
        return self.universe.get(code) if isinstance(code, str) else None

    def set_book(self, code: str, last: float | None = None, ask: list[tuple[float, int]] | None = None,
                 bid: list[tuple[float, int]] | None = None) -> None:
        """Pin a code's price and book levels ([(price, shares)], best first) for a test; matches at once."""
        with self.lock:
            q = self._quote(code)
            if last is not None:
                q.last = q.fair = last
            if ask is not None:
                q.ask = [[p, v] for p, v in ask]
            if bid is not None:
                q.bid = [[p, v] for p, v in bid]
            self._match_resting()
            self._flush()

    def full_ticks(self, codes: list[str]) -> dict[str, dict]:
        with self.lock:
            out = {}
            for c in codes:
                if self.universe.get(c) is not None:
                    out[c] = self._quote(c).tick_dict()
            return out

    def add_tick_listener(self, fn: Callable[[dict[str, dict]], None]) -> None:
        with self.lock:
            self._tick_listeners.append(fn)

    def remove_tick_listener(self, fn: Callable[[dict[str, dict]], None]) -> None:
        with self.lock:
            if fn in self._tick_listeners:
                self._tick_listeners.remove(fn)

    def count_quote_sub(self, key: str, delta: int) -> None:
        with self.lock:
            self._quote_subs[key] += delta
            if self._quote_subs[key] <= 0:
                del self._quote_subs[key]

    def active_subscriptions(self) -> dict[str, int]:
        """Live upstream quote subscriptions per code (or market for whole-quote), across all subscribers."""
        with self.lock:
            return dict(self._quote_subs)

    # ------------------------------------------------------------------ time
    def step(self) -> None:
        """One market snapshot: move every active quote, match resting orders, publish ticks."""
        with self.lock:
            if self.closed:
                return
            now_ms = int(self.clock.timestamp() * 1000)
            trading = self._trading_now()
            for q in self.quotes.values():
                if trading:
                    self._market.step(q)
                q.time_ms = now_ms
            if trading:
                self._match_resting()
            self._flush()
            if self._tick_listeners and self.quotes:
                ticks = {c: q.tick_dict() for c, q in self.quotes.items()}
                for fn in list(self._tick_listeners):
                    fn(ticks)

    def advance(self, seconds: float) -> int:
        """Move virtual time forward, taking one market snapshot per `tick_interval` (at least one)."""
        n = max(1, int(seconds // self.config.tick_interval))
        per = seconds / n
        for _ in range(n):
            self.clock.advance(per)
            self.step()
        return n

    def _run_market(self) -> None:
        while not self._stop.wait(self.config.tick_interval / self.config.speed):
            try:
                self.step()
            except Exception:  # the market must not die of one bad step
                log.exception("sim market step failed")

    def _trading_now(self) -> bool:
        return not self.config.enforce_trading_hours or in_trading_hours(self.clock.now())

    # ------------------------------------------------------------------ async requests
    @property
    def _requests(self) -> Any:
        """The queued async requests (`hub.sim.requests.RequestWorker.pending`)."""
        return self.requests.pending

    @property
    def _wake(self) -> Any:
        return self.requests.wake

    @_wake.setter
    def _wake(self, value: Any) -> None:  # tests hold the worker back by replacing its wake-up queue
        self.requests.wake = value

    def request(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue one async request for the worker thread and return at once; False once shut down."""
        if self.closed:
            return False
        return self.requests.submit(fn, *args)

    def settle(self) -> None:
        """Run every queued async request now: a sync query never overtakes an earlier request.

        One session's requests reach a real broker over one connection in order, so a query
        sent after `order_stock_async` sees that order. Sync orders and cancels already do this.
        """
        self.requests.settle()

    def place_order_async(self, session: TraderSink, account_id: Any, account_type: Any, stock_code: Any,
                          order_type: Any, order_volume: Any, price_type: Any, price: Any, strategy_name: Any,
                          order_remark: Any, seq: int) -> bool:
        """Queue an order request: `session` gets its `order_response` (then the order's pushes) later."""
        req = OrderRequest(session, account_id, account_type, stock_code, order_type, order_volume, price_type,
                           price, strategy_name, order_remark, seq)
        return self.request(self._place, req)

    def cancel_async(self, session: TraderSink, account_id: Any, order_id: Any = None, market: Any = None,
                     sysid: Any = None, seq: int | None = None) -> bool:
        """Queue a cancel request: `session` gets its `cancel_response` (then the pushes) later."""
        return self.request(self._cancel, CancelRequest(session, account_id, order_id, market, sysid, seq))

    # ------------------------------------------------------------------ orders
    def place_order(self, session: TraderSink | None, account_id: Any, account_type: Any, stock_code: Any,
                    order_type: Any, order_volume: Any, price_type: Any, price: Any, strategy_name: Any = "",
                    order_remark: Any = "", seq: int | None = None) -> int:
        """Accept or reject one order; returns its order id (> 0) either way, -1 if shut down.

        With `seq` (an async request) `session` first gets an `order_response`
        push carrying it, before any push about the order. A rejection gives
        an ORDER_JUNK order push and an `order_error` push to `session`.
        Async requests queued before this call run first.
        """
        req = OrderRequest(session, account_id, account_type, stock_code, order_type, order_volume, price_type,
                           price, strategy_name, order_remark, seq)
        with self.lock:
            self.requests.run_pending()
            return self._place(req)

    def _place(self, req: OrderRequest) -> int:
        """Under the lock: one order request in one store commit; its pushes go out only after it."""
        if self.closed:
            return -1
        with self.store.transaction():  # one commit for every write the request causes
            rc = self._place_tx(req.plain())
        self._flush()  # pushes only once their state is committed
        return rc

    def _place_tx(self, req: OrderRequest) -> int:
        order_id = self._next_order_id
        self._next_order_id += 1
        self.store.set_meta("next_order_id", self._next_order_id)
        now = int(self.clock.timestamp())
        try:
            order, error = self._validate(order_id, req, now), None
        except Reject as r:
            order, error = None, r
        if req.seq is not None and req.session is not None:
            self._events.append((req.session, "order_response", {
                "account_id": req.account_id, "order_id": order_id, "strategy_name": req.strategy_name,
                "order_remark": req.order_remark, "error_msg": error.msg if error else "", "seq": req.seq}))
        if error is not None:
            self._reject(order_id, req, now, error)
        else:
            self._accept(order)
        return order_id

    def _validate(self, order_id: int, req: OrderRequest, now: int) -> Order:
        account_id, code, order_type = req.account_id, req.stock_code, req.order_type
        if req.account_type != C.SECURITY_ACCOUNT or not self.has_account(account_id):
            raise reject(E.WRONG_ACCOUNT, code, "账号未登录",
                         f"account {account_id!r} is not a subscribed stock account (StockAccount + subscribe)")
        inst = self.instrument(code)
        if inst is None:
            raise reject(E.UNKNOWN_CODE, code, "证券代码不存在",
                         f"{code!r} is not an A-share stock code (e.g. '600000.SH'), nor an ETF or a convertible bond")
        if not inst.tradable:
            raise reject(E.UNKNOWN_CODE, code, "指数不可交易", f"{code} is an index: quotes only, no orders")
        if order_type not in (C.STOCK_BUY, C.STOCK_SELL) or isinstance(order_type, bool):
            raise reject(E.BAD_ARGUMENT, code, "委托类型错误",
                         f"order_type must be STOCK_BUY (23) or STOCK_SELL (24), got {order_type!r}")
        vol = rules.whole_volume(req.order_volume, code)
        pt = rules.check_price_type(inst, req.price_type)
        q = self._quote(code)
        if pt == C.FIX_PRICE:
            px = rules.check_limit_price(inst, req.price, q.limit_down, q.limit_up)
        else:  # the price of any other type is ignored, whatever it is (scripts pass 0 or -1), as on MiniQMT
            px = q.last if pt == C.LATEST_PRICE else 0.0
        if not self._trading_now():
            raise reject(E.CLOSED, code, "非交易时间",
                         f"outside trading hours 09:30-11:30, 13:00-15:00 (now {self.clock.now():%Y-%m-%d %H:%M:%S})")
        order = Order(order_id, account_id, code, int(order_type), vol, pt, float(px),
                      strategy_name=req.strategy_name, order_remark=req.order_remark, order_time=now,
                      trading_day=self.trading_day.strftime("%Y%m%d"))
        if pt in rules.LIMIT_TYPES:
            order.limit_price = px
        acc = self.accounts[account_id]
        if order.is_buy:
            rules.check_buy_volume(inst, vol)
            worst = order.limit_price if order.limit_price is not None else q.limit_up
            need = buy_freeze(self.config, worst * vol)
            if need > acc.cash + 1e-9:
                raise reject(E.NO_CASH, code, "可用资金不足",
                             f"insufficient cash: need {need:.2f}, available {acc.cash:.2f}")
            order.frozen_cash = need
        else:
            pos = self.positions.get((account_id, code))
            rules.check_sell_volume(inst, vol, pos.can_use_volume if pos else 0)
        return order

    def _reject(self, order_id: int, req: OrderRequest, now: int, r: Reject) -> None:
        volume, price, order_type, price_type = req.order_volume, req.price, req.order_type, req.price_type
        if self.has_account(req.account_id):
            o = Order(order_id, req.account_id, req.stock_code,
                      order_type if isinstance(order_type, int) else 0,
                      int(volume) if rules.is_number(volume) and abs(volume) < 2**62 and volume == volume else 0,
                      price_type if isinstance(price_type, int) else 0,
                      float(price) if rules.is_number(price) else 0.0,
                      order_time=now, order_status=C.ORDER_JUNK, status_msg=r.msg,
                      strategy_name=req.strategy_name, order_remark=req.order_remark,
                      trading_day=self.trading_day.strftime("%Y%m%d"), history=[C.ORDER_JUNK])
            self.orders[order_id] = o
            self.store.save_order(o)
            self._events.append((req.account_id, "order", order_dict(o, self._name(req.stock_code))))
        if req.session is not None:
            self._events.append((req.session, "order_error", {
                "account_id": req.account_id, "order_id": order_id, "error_id": r.code, "error_msg": r.msg,
                "strategy_name": req.strategy_name, "order_remark": req.order_remark}))

    def _accept(self, o: Order) -> None:
        acc = self.accounts[o.account_id]
        o.order_sysid = str(100_000_000 + o.order_id)
        pos = None if o.is_buy else self.positions[(o.account_id, o.stock_code)]
        ledger.freeze(o, acc, pos)
        if pos is None:
            self.store.save_account(acc)
        else:
            self.store.save_position(pos)
        self.orders[o.order_id] = o
        self._set_status(o, C.ORDER_REPORTED)
        if o.is_buy:
            self._push_asset(o.account_id)
        else:
            self._push_position(o.account_id, o.stock_code)
        self._enter_book(o)

    def _enter_book(self, o: Order) -> None:
        """Run the price type's semantics against the current book (`matching.enter_book`), then book it."""
        q = self._quote(o.stock_code)
        entry = matching.enter_book(o, q, self.config.fill_ratio)
        if entry.limit is not None:
            o.limit_price = entry.limit
        for f in entry.fills:
            self._fill(o, q, f.price, f.qty)
        if entry.rest_at is not None:
            o.limit_price = entry.rest_at
        elif entry.cancel is not None and o.order_status not in FINAL_STATES:
            self._finish_cancel(o, entry.cancel)

    def _match_resting(self) -> None:
        for o in list(self.orders.values()):
            if o.is_open and o.limit_price is not None:
                q = self._quote(o.stock_code)
                for f in matching.match_order(o, q, self.config.fill_ratio):
                    self._fill(o, q, f.price, f.qty)

    def _fill(self, o: Order, q: Quote, price: float, qty: int) -> None:
        """Book one fill (`ledger.apply_fill`), write it and queue its pushes (trade, order, position, asset)."""
        acc = self.accounts[o.account_id]
        key = (o.account_id, o.stock_code)
        pos = self.positions.get(key) or Position(o.account_id, o.stock_code)
        self.positions[key] = pos
        fees = fill_fees(self.config, not o.is_buy, cents(price * qty), o.traded_amount,
                         stamp_duty=q.inst.kind == "stock")
        amount = ledger.apply_fill(o, acc, pos, price, qty, fees.total, t_plus_zero=q.inst.t_plus_zero)
        q.record_trade(price, qty)
        t = Trade(str(self._next_trade_id), o.account_id, o.stock_code, o.order_type,
                  int(self.clock.timestamp()), price, qty, amount, o.order_id, o.order_sysid,
                  o.strategy_name, o.order_remark, fees.total, o.trading_day)
        self._next_trade_id += 1
        self.trades.append(t)
        status = C.ORDER_SUCCEEDED if o.remaining == 0 else C.ORDER_PART_SUCC
        if status == C.ORDER_SUCCEEDED and o.is_buy and o.frozen_cash:
            self._release(o, acc)
        with self.store.transaction():
            self.store.set_meta("next_trade_id", self._next_trade_id)
            self.store.save_trade(t)
            self.store.save_account(acc)
            self.store.save_position(pos)
            self.store.save_quote(o.stock_code, q.last_close, q.last, q.fair)
        self._events.append((o.account_id, "trade", trade_dict(t, self._name(o.stock_code))))
        self._set_status(o, status)
        self._push_position(o.account_id, o.stock_code)
        self._push_asset(o.account_id)

    def _release(self, o: Order, acc: Account) -> None:
        """Give back what an order still has frozen (buy cash or sell shares), and write it."""
        pos = None if o.is_buy else self.positions[(o.account_id, o.stock_code)]
        ledger.release(o, acc, pos)
        if pos is None:
            self.store.save_account(acc)
        else:
            self.store.save_position(pos)

    def _set_status(self, o: Order, status: int, msg: str | None = None) -> None:
        o.order_status = status
        if msg is not None:
            o.status_msg = msg
        o.history.append(status)
        self.store.save_order(o)
        self._events.append((o.account_id, "order", order_dict(o, self._name(o.stock_code))))

    def _finish_cancel(self, o: Order, msg: str, pending: bool = False) -> None:
        """End an open order as cancelled (partly filled or not), releasing what it froze."""
        if pending:
            self._set_status(o, C.ORDER_PARTSUCC_CANCEL if o.traded_volume else C.ORDER_REPORTED_CANCEL, msg)
        self._release(o, self.accounts[o.account_id])
        self._set_status(o, C.ORDER_PART_CANCEL if o.traded_volume else C.ORDER_CANCELED, msg)
        if o.is_buy:
            self._push_asset(o.account_id)
        else:
            self._push_position(o.account_id, o.stock_code)

    # ------------------------------------------------------------------ cancels
    def cancel(self, session: TraderSink | None, account_id: Any, order_id: Any = None, market: Any = None,
               sysid: Any = None, seq: int | None = None) -> int:
        """Cancel by order id (or by market + sysid): 0 if the cancel is under way, -1 if not.

        With `seq` `session` first gets a `cancel_response` push; a failure then
        gives `session` an `on_cancel_error` push. Async requests queued before
        this call run first.
        """
        req = CancelRequest(session, account_id, order_id, market, sysid, seq)
        with self.lock:
            self.requests.run_pending()
            return self._cancel(req)

    def _cancel(self, req: CancelRequest) -> int:
        """Under the lock: one cancel request in one store commit; its pushes go out only after it."""
        if self.closed:
            return -1
        with self.store.transaction():
            rc = self._cancel_tx(req)
        self._flush()
        return rc

    def _find_order(self, req: CancelRequest) -> Order | None:
        account_id, order_id, market, sysid = req.account_id, req.order_id, req.market, req.sysid
        if sysid is not None:
            mkt = market if isinstance(market, int) else C.MARKET_STR_TO_ENUM_MAPPING.get(market, -1)
            return next((x for x in self.orders.values() if x.order_sysid == str(sysid) and x.account_id == account_id
                         and MARKET_ENUM.get(x.stock_code[-2:]) == mkt), None)
        if isinstance(order_id, int) and not isinstance(order_id, bool):
            o = self.orders.get(order_id)
            return o if o is not None and o.account_id == account_id else None
        return None

    def _cancel_tx(self, req: CancelRequest) -> int:
        session, account_id, order_id, market, sysid = req.session, req.account_id, req.order_id, req.market, req.sysid
        o = self._find_order(req)
        if o is None:
            err = (E.CANCEL_UNKNOWN, f"撤单失败 no such order: order_id={order_id!r} sysid={sysid!r} "
                                      f"for account {account_id!r}")
        elif o.order_status in FINAL_STATES:
            err = (E.CANCEL_FINAL, f"[{o.stock_code}] 撤单失败 order {o.order_id} is already final "
                                    f"(status {o.order_status}); nothing to cancel")
        elif o.order_status in CANCEL_PENDING:
            err = (E.CANCEL_PENDING, f"[{o.stock_code}] 撤单失败 order {o.order_id} already has a cancel pending")
        else:
            err = None
        oid = o.order_id if o else (order_id if isinstance(order_id, int) else -1)
        osys = o.order_sysid if o else (str(sysid) if sysid is not None else "")
        result = -1 if err else 0
        if req.seq is not None and session is not None:
            self._events.append((session, "cancel_response", {
                "account_id": account_id, "cancel_result": result, "order_id": oid, "order_sysid": osys,
                "seq": req.seq, "error_msg": err[1] if err else ""}))
        if err is not None:
            if session is not None:
                mkt_enum = MARKET_ENUM.get(o.stock_code[-2:], -1) if o else (market if isinstance(market, int) else -1)
                self._events.append((session, "cancel_error", {
                    "account_id": account_id, "order_id": oid, "market": mkt_enum,
                    "order_sysid": osys, "error_id": err[0], "error_msg": err[1]}))
        else:
            self._finish_cancel(o, "cancelled by request (已撤)", pending=True)
        return result

    # ------------------------------------------------------------------ queries
    def _name(self, code: str) -> str:
        inst = self.universe.get(code)
        return inst.name if inst else ""

    def _market_value(self, account_id: str) -> float:
        return sum(p.volume * self._quote(p.stock_code).last for (a, _), p in self.positions.items()
                   if a == account_id and p.volume)

    def asset(self, account_id: str) -> dict | None:
        with self.lock:
            a = self.accounts.get(account_id)
            return asset_dict(a, self._market_value(account_id)) if a else None

    def order_list(self, account_id: str, cancelable_only: bool = False) -> list[dict] | None:
        with self.lock:
            if account_id not in self.accounts:
                return None
            return [order_dict(o, self._name(o.stock_code)) for o in self.orders.values()
                    if o.account_id == account_id and (o.is_open or not cancelable_only)]

    def order(self, account_id: str, order_id: int) -> dict | None:
        with self.lock:
            o = self.orders.get(order_id)
            if o is None or o.account_id != account_id:
                return None
            return order_dict(o, self._name(o.stock_code))

    def trade_list(self, account_id: str) -> list[dict] | None:
        with self.lock:
            if account_id not in self.accounts:
                return None
            return [trade_dict(t, self._name(t.stock_code)) for t in self.trades if t.account_id == account_id]

    def position_list(self, account_id: str) -> list[dict] | None:
        with self.lock:
            if account_id not in self.accounts:
                return None
            return [position_dict(p, self._name(c), self._quote(c).last)
                    for (a, c), p in self.positions.items() if a == account_id]

    def position(self, account_id: str, code: str) -> dict | None:
        with self.lock:
            p = self.positions.get((account_id, code))
            return position_dict(p, self._name(code), self._quote(code).last) if p else None

    def account_infos(self) -> list[dict]:
        with self.lock:
            return [{"account_id": a.account_id, "account_type": a.account_type, "broker_type": a.account_type,
                     "platform_id": 0, "account_classification": 0, "login_status": C.ACCOUNT_STATUS_OK}
                    for a in self.accounts.values()]

    def account_statuses(self) -> list[dict]:
        with self.lock:
            return [{"account_id": a.account_id, "account_type": a.account_type, "status": C.ACCOUNT_STATUS_OK}
                    for a in self.accounts.values()]

    # ------------------------------------------------------------------ pushes
    def _push_position(self, account_id: str, code: str) -> None:
        p = self.positions.get((account_id, code))
        if p is not None:
            self._events.append((account_id, "position", position_dict(p, self._name(code), self._quote(code).last)))

    def _push_asset(self, account_id: str) -> None:
        a = self.accounts[account_id]
        self._events.append((account_id, "asset", asset_dict(a, self._market_value(account_id))))

    def _flush(self) -> None:
        """Hand queued events to their listeners (an account's subscribers, or one session)."""
        if self.store.in_transaction:
            return  # the outermost transaction flushes once it has committed
        events, self._events = self._events, []
        for target, kind, data in events:
            if isinstance(target, str):
                for s in list(self._subs.get(target, ())):
                    s.push(kind, data)
            elif target in self._sessions:
                target.push(kind, data)

    # ------------------------------------------------------------------ day roll
    @staticmethod
    def _next_trading_day(day: date) -> date:
        """The next exchange trading day (holidays skipped; Monday-Friday past the calendar's years)."""
        from hub.sim.marketdata import calendar

        days = calendar().trading_days(day + timedelta(days=1), day + timedelta(days=30))
        if days:
            return days[0]
        nxt = day + timedelta(days=1)
        while nxt.weekday() >= 5:
            nxt += timedelta(days=1)
        return nxt

    def roll_day(self) -> date:
        """Close the trading day: expire open orders, settle T+1, clear the day's orders and trades,
        move to the next trading day (the exchange calendar's: holidays are skipped).

        Returns the new trading day. Safe while traders are running; they see
        the expiry pushes and then find empty order/trade lists.
        """
        with self.lock:
            for o in list(self.orders.values()):
                if o.is_open or o.order_status in CANCEL_PENDING:
                    self._finish_cancel(o, "expired at day end (收盘自动撤单)")
            self._flush()
            nxt = self._next_trading_day(self.trading_day)
            with self.store.transaction():
                for p in ledger.settle_day(self.positions, self.accounts.values()):
                    self.store.save_position(p)
                for a in self.accounts.values():
                    self.store.save_account(a)
                self.orders.clear()
                self.trades.clear()
                self.store.clear_day()
                self.trading_day = nxt
                self.store.set_meta("trading_day", nxt.strftime("%Y%m%d"))
                old = self.quotes
                self.quotes = {}
                # the close becomes the new reference; the market resumes from its own price
                self._saved_quotes = {c: (q.last, q.last, q.fair) for c, q in old.items()}
                for c, q in old.items():
                    self.store.save_quote(c, q.last, q.last, q.fair)
            self._market = self._make_market()
            for c in old:
                self._quote(c)
            return nxt
