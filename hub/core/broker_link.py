"""Broker supervision: keep one live trader, say whether the broker is up, reconcile the book.

One job: the hub's connection to the broker. `BrokerLink` owns the `Broker`, the
broker-connect thread (`hub.broker.connector`), the connect attempts and their generations,
the reconnect counters and the published broker state (`up`, `down`, `reconnecting`).

- Every trader is created, connected and stopped on the broker-connect thread; the loop only
  starts an attempt (`start_attempt`, never blocks) and applies its outcome when the mailbox
  says it is ready (`apply_attempt`): install the trader, reconcile, re-subscribe quotes, `up`.
- Generations: each attempt has a number and its trader's pushes carry it, so a late
  `on_disconnected` from a replaced trader cannot mark its successor down, and a disconnect
  from an attempt not yet applied discards that attempt (`on_disconnected`).
- Reconciles read the broker on the broker-connect thread too (`BrokerConnector.snapshot`):
  the loop asks, the snapshot comes back through the mailbox and is applied here
  (`apply_attempt` takes both outcomes), so a broker that is slow or dies mid-query never
  stops the loop. After a reconnect the broker is `up` only once its snapshot is applied.
- While the broker is not up, the `maybe_reconnect` timer starts one attempt per
  `reconnect_interval`; after `reconnect_max_attempts` failures (0 = never) it gives up and the
  broker stays down (published) until the hub is restarted.
- `require_up()` is the order path's and the cancels' "broker is up" check (BROKER_DOWN).
- The hub starts when the broker cannot be reached (MiniQMT not up yet, `hub sim` not started):
  the first attempt's failure is the broker state's reason, the reconnect timer keeps trying
  (probe and backoff as after any loss), and until the first snapshot is applied (`synced`) the
  account queries answer BROKER_DOWN too (`require_known`): the book knows nothing of today yet.

Threads: `on_push` runs on the broker's callback threads (it only converts and posts to the
mailbox); everything else on the loop thread.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from rpc_client.protocol import ErrorCode, HubError, Topic

from hub.broker import Broker, to_dict
from hub.broker.connector import BrokerConnector
from hub.core.call import HubStartError
from hub.core.reconnect import ReconnectPlan, TradingDays

if TYPE_CHECKING:  # pragma: no cover
    from hub.config import HubConfig
    from hub.core.broker_events import BrokerEvents
    from hub.core.orders import OrderDesk
    from hub.core.publisher import Publisher
    from hub.core.quotes import QuoteFanout

log = logging.getLogger("hub.server")

BROKER_UP, BROKER_DOWN, BROKER_RECONNECTING = "up", "down", "reconnecting"


class BrokerLink:
    def __init__(self, broker: Broker, config: "HubConfig", publisher: "Publisher", desk: "OrderDesk",
                 events: "BrokerEvents", quotes: "QuoteFanout", post: Callable[..., None]):
        self.broker = broker
        self.config = config
        self._publisher = publisher
        self._desk = desk
        self._events = events
        self.quotes = quotes
        self._post = post  # the mailbox's put: any thread -> the loop
        self.connector = BrokerConnector(broker, lambda: post("broker_attempt"))
        self.state: dict[str, Any] = {"state": BROKER_DOWN, "since": time.time(), "reason": "not started"}
        self._attempt_gen = 0  # generation of the last connect attempt started
        self._broker_gen = 0  # generation of the trader in use (its pushes carry it)
        self._lost_gens: set[int] = set()  # attempts whose trader reported a disconnect before it was installed
        self.reconnect_attempts = 0
        self.gave_up = False
        self.reconnects = 0
        self._reconciling: int | None = None  # generation whose reconnect waits for its snapshot
        #: a broker snapshot was applied since the hub started (the book holds the broker's view)
        self.synced = False
        live = config.broker == "qmt"  # the simulator connects any day, with no probe and no backoff
        self.plan = ReconnectPlan(config.reconnect_interval,
                                  config.reconnect_max_interval if live else config.reconnect_interval,
                                  probe=getattr(broker, "probe", None) if live else None,
                                  trading_day=TradingDays() if live else None,
                                  what="MiniQMT" if live else "the broker")
        #: called at the end of every reconcile (hub.risk: compare the sleeves with the account)
        self.after_reconcile: Callable[[], None] | None = None

    # ---- the state --------------------------------------------------------------------
    @property
    def is_up(self) -> bool:
        return self.state["state"] == BROKER_UP

    @property
    def account_id(self) -> str:
        return self.broker.account_id

    def down_error(self) -> HubError | None:
        """BROKER_DOWN unless an order or cancel can be sent now; None when it can."""
        state = self.state
        if state["state"] == BROKER_UP and self.broker.connected:
            return None
        return HubError(ErrorCode.BROKER_DOWN, f"the broker connection is {state['state']} ({state['reason']}); "
                                               "nothing was sent", {"broker": dict(state)})

    def require_up(self) -> None:
        """Raise BROKER_DOWN unless an order or cancel can be sent now."""
        err = self.down_error()
        if err is not None:
            raise err

    def require_known(self) -> None:
        """Raise BROKER_DOWN while the hub has never reached the broker since it started: an account
        query would answer from a book that knows nothing of the broker (after a later loss the book
        keeps the last known state, and queries answer from it)."""
        if self.synced:
            return
        state = self.state
        raise HubError(ErrorCode.BROKER_DOWN, f"the hub has not reached the broker since it started "
                                              f"({state['state']}: {state['reason']}); the account is not known yet",
                       {"broker": dict(state)})

    def set_state(self, state: str, reason: str) -> None:
        """Change the broker state and publish it on `hub.broker` (no event when it stays the same)."""
        if self.state["state"] == state:
            return
        self.state = {"state": state, "since": time.time(), "reason": reason}
        self._publisher.publish(Topic.BROKER, dict(self.state))

    def status_counters(self) -> dict[str, int]:
        return {"broker_reconnects": self.reconnects}

    # ---- pushes (broker threads) -----------------------------------------------------------
    def on_push(self, kind: str, obj: Any, gen: int | None = None) -> None:
        """Broker thread: convert and hand over. Never touches sockets or the book.

        `gen` is the connect attempt whose trader pushed this; a disconnect carries it so that
        a late one from a replaced trader cannot mark its successor down.
        """
        if kind == "disconnected":
            self._post(kind, gen)
            return
        try:
            data = to_dict(obj, kind) if obj is not None else None
        except Exception:  # noqa: BLE001
            log.exception("converting broker %s failed", kind)
            return
        self._post(kind, data)

    # ---- connect attempts (loop thread) ----------------------------------------------------
    def start_attempt(self) -> None:
        """Hand the old trader and a connect attempt to the broker-connect thread (never blocks)."""
        self._attempt_gen += 1
        gen = self._attempt_gen
        old = self.broker.detach_trader()
        self.connector.attempt(lambda kind, obj: self.on_push(kind, obj, gen), old, token=gen)

    def connect_first(self, stopped: Callable[[], bool]) -> bool:
        """At start: the first attempt, waited for (the loop is not running yet). True when connected.

        False when it failed: the hub starts anyway, the broker `down` with the attempt's reason,
        and the reconnect timer tries again (an unattended hub started at boot must not die
        because MiniQMT starts later). HubStartError only when the hub was stopped meanwhile.
        """
        self.start_attempt()
        while not self.connector.wait(0.1):
            if stopped():
                raise HubStartError("the hub was stopped while connecting to the broker")
        attempt = self.connector.take()
        if attempt is not None and attempt.trader is not None:
            self._install(attempt.trader, attempt.token)
            return True
        reason = attempt.reason if attempt is not None else "the broker connect attempt vanished"
        log.warning("broker not reachable at start: %s; the hub serves meanwhile (orders get BROKER_DOWN) and "
                    "keeps trying", reason)
        self.state = {"state": BROKER_DOWN, "since": time.time(),
                      "reason": f"not connected since start: {self.plan.failed(time.time(), reason)}"}
        self._publisher.publish(Topic.BROKER, dict(self.state))
        return False

    def _install(self, trader: Any, gen: int) -> None:
        self.broker.install(trader)
        self._broker_gen = gen
        self._lost_gens = {g for g in self._lost_gens if g > gen}

    def lost(self, reason: str) -> None:
        """The trader in use lost its connection: down, and what waited for the broker is answered."""
        self.broker.mark_down()
        self._reconciling = None
        self.set_state(BROKER_DOWN, reason)
        self._desk.broker_lost(reason)

    def on_disconnected(self, gen: Any) -> None:
        """Mailbox: a trader reported `on_disconnected` (with the generation of its attempt)."""
        gen = gen if isinstance(gen, int) else self._broker_gen
        if gen == self._broker_gen and self.broker.has_trader:
            self.lost("the broker reported a disconnect")
        elif gen > self._broker_gen:  # the trader of an attempt not yet applied
            self._lost_gens.add(gen)
        else:
            log.debug("ignored a disconnect from a replaced trader (attempt %d)", gen)

    def maybe_reconnect(self) -> None:
        """Timer: while the broker is not up, start one reconnect attempt per reconnect_interval.

        The attempt runs on the broker-connect thread: it stops the old trader and connects a
        fresh one with a fresh session id while the loop keeps serving (orders get BROKER_DOWN).
        Its outcome comes back through the mailbox (`apply_attempt`). One attempt at a time.
        """
        if self.is_up or self.gave_up or self.connector.busy or self._reconciling is not None:
            return
        decision = self.plan.decide(time.time())
        if not decision.attempt:  # waiting (backoff, probe, non-trading day): say for what, in place
            self.state["reason"] = decision.reason
            return
        self.reconnect_attempts += 1
        self.set_state(BROKER_RECONNECTING, decision.reason)
        self.state["reason"] = decision.reason  # already reconnecting (a retry): the reason still moves on
        self.start_attempt()

    def apply_attempt(self, _data: Any = None) -> None:
        """Mailbox: the outcome of a connect attempt (then reconcile: ask for the snapshot), or of a snapshot."""
        snapshot = self.connector.take_snapshot()
        if snapshot is not None:
            self._apply_snapshot(snapshot)
        attempt = self.connector.take()
        if attempt is None:
            return
        trader, reason = attempt.trader, attempt.reason
        if trader is not None and attempt.token in self._lost_gens:
            self._lost_gens.discard(attempt.token)
            self.connector.stop_later(trader)
            trader, reason = None, "the broker disconnected right after connecting"
        if trader is None:
            limit = self.config.reconnect_max_attempts
            log.warning("broker reconnect attempt %d failed: %s", self.reconnect_attempts, reason)
            self.state["reason"] = self.plan.failed(time.time(), reason)
            if limit and self.reconnect_attempts >= limit:
                self.gave_up = True
                log.error("broker: giving up after %d reconnect attempts; restart the hub", self.reconnect_attempts)
                self.set_state(BROKER_DOWN, f"gave up after {self.reconnect_attempts} reconnect attempts "
                                            f"({reason}); restart the hub")
            return
        self._install(trader, attempt.token)
        self._reconciling = attempt.token
        if not self.connector.snapshot(trader, token=("reconnect", attempt.token)):
            # a periodic snapshot still runs: this one is asked for when its outcome arrives
            log.info("reconcile after reconnect waits for the running snapshot")

    def _apply_snapshot(self, snapshot: Any) -> None:
        """A snapshot is back: reconcile with it; after a reconnect, re-subscribe quotes and say up."""
        kind, gen = snapshot.token if isinstance(snapshot.token, tuple) else ("periodic", None)
        if gen != self._broker_gen or not self.broker.has_trader:
            log.debug("dropped the snapshot of a replaced trader (attempt %s)", gen)
        elif snapshot.data is None:
            log.warning("broker snapshot failed: %s", snapshot.reason)
            if kind == "reconnect" and self._reconciling == gen:
                self._reconciling = None
                self.broker.mark_down()  # not up: the next reconnect attempt starts afresh
                self.state["reason"] = f"reconcile failed: {snapshot.reason}"
        else:
            try:
                self._reconcile_with(snapshot.data)
            except Exception:  # noqa: BLE001 - a snapshot that cannot be applied must not stop the loop
                log.exception("applying the broker snapshot failed")
            if kind == "reconnect" and self._reconciling == gen:
                self._reconciling = None
                self._came_up()
        if self._reconciling is not None and self._reconciling == self._broker_gen and not \
                self.connector.snapshot_busy:  # a reconnect that found a periodic snapshot running
            self.connector.snapshot(self.broker.trader, token=("reconnect", self._reconciling))

    def _came_up(self) -> None:
        # a restarted broker/terminal (MiniQMT, `hub sim`) has forgotten the quote subscriptions
        quotes = self.quotes
        if quotes.refs:
            try:
                n = quotes.resubscribe()
                log.info("re-subscribed %d of %d quote items after the reconnect", n, len(quotes.refs))
            except Exception:  # noqa: BLE001 - quotes must not keep the broker down
                log.exception("re-subscribing quotes after the reconnect failed")
        self.reconnect_attempts = 0
        self.plan.succeeded()
        first = not self.synced  # the broker was not there when the hub started: a connect, not a reconnect
        self.synced = True
        if first:
            log.info("broker connected (it was not reachable when the hub started)")
        else:
            self.reconnects += 1
        self.set_state(BROKER_UP, "connected" if first else "reconnected")

    def retry_quotes(self) -> None:
        """Timer: items clients hold whose re-subscribe after a reconnect was refused, again."""
        if self.is_up and self.quotes.missing:
            n = self.quotes.resubscribe(only_missing=True)
            if n:
                log.info("re-subscribed %d quote items", n)

    # ---- reconcile (loop thread) ---------------------------------------------------------
    def reconcile(self) -> None:
        """At start, before the loop runs: query the broker here and reconcile (blocking is fine then)."""
        self._reconcile_with(self.broker.snapshot())
        self.synced = True

    def _reconcile_with(self, snap: dict[str, Any]) -> None:
        """Bring the book in line with the broker's own view (`snap`); publish what changed."""
        events = self._events
        if snap.get("asset") is not None:
            events.asset(snap["asset"])
            events.flush()  # a snapshot's asset goes out in its place, first (also before the loop runs)
        for pos in snap.get("positions", []):
            events.position(pos)
        for order in snap.get("orders", []):
            events.order(order)
        for trade in snap.get("trades", []):
            events.trade(trade)
        account_id = self.account_id
        for status in snap.get("account_status", []):
            if status.get("account_id") in (None, "", account_id):
                events.account_status(status)
        events.book.account_infos = snap.get("account_infos", [])
        log.info("reconciled with the broker: %d orders, %d trades, %d positions", len(snap.get("orders", [])),
                 len(snap.get("trades", [])), len(snap.get("positions", [])))
        if self.after_reconcile is not None:  # the risk engine compares the sleeves with the account
            self.after_reconcile()

    def reconcile_if_up(self) -> bool:
        """Timer (`reconcile_interval`), day rollover, `hub reconcile`: ask for a snapshot while the broker is
        up (never waits; it is applied from the mailbox). False if none was asked for (down, or one runs)."""
        if self.is_up and self.broker.has_trader:
            return self.connector.snapshot(self.broker.trader, token=("periodic", self._broker_gen))
        return False

    # ---- teardown (loop thread) -----------------------------------------------------------
    def close(self) -> None:
        """Stop the trader on its own thread (bounded wait, never a hang), then the broker."""
        # an attempt still running stops its own late trader when it ends
        self.connector.stop_later(self.broker.detach_trader())
        self.connector.close(timeout=2.0)
        try:
            self.broker.close()
        except Exception:  # noqa: BLE001
            log.exception("stopping the broker failed")
