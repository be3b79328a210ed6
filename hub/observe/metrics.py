"""Prometheus metrics and `/healthz`, served over the watcher's latest view of the hub.

The exposition is prometheus-client's own (`generate_latest`); the values are read at scrape time
from the hub's `status` and `clients` answers that the watcher keeps (no work on the hub's loop,
nothing added to the order path). `/healthz` answers 200 only when the hub answered within the
last few status periods (its loop is turning) and its broker is up; otherwise 503 with the reason.

Off unless `[metrics]` is configured; it listens on loopback only unless `allow_remote = true`
(then put it behind something that authenticates: docs/security.md).
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hub.observe.metrics_config import host_port

log = logging.getLogger("hub.metrics")

#: status counters exported as Prometheus counters: counter key -> (metric name, help)
COUNTERS = {
    "requests": ("qmt_hub_requests_total", "Calls the hub answered."),
    "events": ("qmt_hub_events_published_total", "Account events journaled and published."),
    "ticks": ("qmt_hub_ticks_published_total", "Ticks published."),
    "dropped_events": ("qmt_hub_events_dropped_total", "Messages the PUB socket refused (ticks, heartbeats)."),
    "session_events": ("qmt_hub_session_events_total", "Account events handed to sessions' call sockets."),
    "dropped_session_events": ("qmt_hub_session_events_dropped_all_total",
                               "Account events the call socket could not queue for a session, all sessions "
                               "(each recovers them by replay)."),
    "ticks_conflated": ("qmt_hub_ticks_conflated_total", "Ticks replaced by a newer tick before publishing."),
    "orders": ("qmt_hub_orders_total", "Orders sent to the broker."),
    "cancels": ("qmt_hub_cancels_total", "Cancels sent to the broker."),
    "rejects": ("qmt_hub_rejects_total", "Orders refused by the broker."),
    "duplicates": ("qmt_hub_duplicate_orders_total", "Retried client_order_ids answered without a new order."),
    "unknown_outcomes": ("qmt_hub_unknown_outcomes_total", "Orders whose outcome the hub could not know."),
    "broker_reconnects": ("qmt_hub_broker_reconnects_total", "Broker reconnects."),
    "bad_frames": ("qmt_hub_bad_frames_total", "Frames that were not a request."),
    "internal": ("qmt_hub_internal_errors_total", "INTERNAL replies (hub bugs)."),
    "dropped_replies": ("qmt_hub_dropped_replies_total", "Replies the ROUTER could not route."),
}
#: per-strategy figures of `clients`: key -> (metric name, help)
STRATEGY_GAUGES = {
    "orders_today": ("qmt_hub_strategy_orders_today", "Orders placed today."),
    "fills_today": ("qmt_hub_strategy_fills_today", "Fills today."),
    "rejects_today": ("qmt_hub_strategy_rejects_today", "Orders refused today."),
    "open_orders": ("qmt_hub_strategy_open_orders", "Orders not final."),
}


#: per-session counters of `clients` (since the session's hello): key -> (metric name, help)
SESSION_COUNTERS = {
    "events_dropped": ("qmt_hub_session_events_dropped_total",
                       "Account events the call socket could not queue for this session (its queue was full or it "
                       "was gone); the client recovers them by replay."),
    "dropped": ("qmt_hub_session_replies_dropped_total", "Replies the call socket could not deliver to this session."),
    "missed_ticks": ("qmt_hub_session_ticks_missed_total", "Ticks this client reports it missed (its last ping)."),
}


class HubCollector:
    """A prometheus-client collector over `snapshot() -> (status, clients, status_at)`."""

    def __init__(self, snapshot: Callable[[], tuple[dict[str, Any], list[dict[str, Any]], float]],
                 extra: Callable[[], Mapping[str, Any]] | None = None,
                 sleeves: Callable[[], list[dict[str, Any]]] | None = None):
        self._snapshot = snapshot
        self._extra = extra
        self._sleeves = sleeves

    def collect(self) -> Iterable[Any]:
        status, clients, status_at = self._snapshot()
        counters = status.get("counters") or {}
        up = GaugeMetricFamily("qmt_hub_up", "1 while the hub answers its status call.")
        up.add_metric([], 1.0 if status_at and time.time() - status_at < 60 else 0.0)
        yield up
        broker = GaugeMetricFamily("qmt_hub_broker_up", "1 while the broker connection is up.")
        broker.add_metric([], 1.0 if (status.get("broker") or {}).get("state") == "up" else 0.0)
        yield broker
        for key, (name, doc) in COUNTERS.items():
            if key in counters:
                c = CounterMetricFamily(name, doc)
                c.add_metric([], float(counters[key] or 0))
                yield c
        errors = CounterMetricFamily("qmt_hub_errors_total", "Error replies, by code.", labels=["code"])
        for code, n in sorted((counters.get("errors") or {}).items()):
            errors.add_metric([str(code)], float(n))
        yield errors
        by_method = counters.get("by_method") or {}
        if by_method:
            calls = CounterMetricFamily("qmt_hub_method_requests_total", "Calls answered, by method.",
                                        labels=["method"])
            for method, n in sorted(by_method.items()):
                calls.add_metric([str(method)], float(n))
            yield calls
        latency = GaugeMetricFamily("qmt_hub_call_latency_recent_seconds",
                                    "Call latency inside the hub over the last minute, all methods (p50, p99).",
                                    labels=["quantile"])
        for q, key in (("0.5", "p50"), ("0.99", "p99")):
            ms = (status.get("latency_ms") or {}).get(key)
            if ms is not None:
                latency.add_metric([q], float(ms) / 1000.0)
        yield latency
        yield from _histograms(status.get("histograms") or {})
        for key, name, doc in (("rss_bytes", "qmt_hub_rss_bytes", "Resident memory of the hub process."),
                               ("uptime", "qmt_hub_uptime_seconds", "Seconds since the hub started."),
                               ("clients", "qmt_hub_clients", "Connected sessions."),
                               ("last_seq", "qmt_hub_last_seq", "Sequence number of the last account event.")):
            if isinstance(status.get(key), (int, float)):
                g = GaugeMetricFamily(name, doc)
                g.add_metric([], float(status[key]))
                yield g
        for key, (name, doc) in STRATEGY_GAUGES.items():
            g = GaugeMetricFamily(name, doc, labels=["strategy", "role"])
            for row in clients:
                if key in row:
                    g.add_metric([str(row.get("strategy") or row.get("name") or ""), str(row.get("role") or "")],
                                 float(row.get(key) or 0))
            yield g
        yield from _session_counters(clients)
        yield from _risk_metrics(status.get("risk") or {})
        if self._sleeves is not None:
            yield from _sleeve_metrics(self._sleeves())
        extra = self._extra() if self._extra is not None else {}
        for name, (value, doc) in sorted(extra.items()):
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], float(value))
            yield g


def _session_counters(clients: list[dict[str, Any]]) -> Iterable[Any]:
    """What each session lost, by strategy (a name is unique among connected sessions) and role.

    A session's counters start at 0 at its hello; a reconnect is a counter reset to Prometheus,
    which `rate()` and `increase()` handle."""
    for key, (name, doc) in SESSION_COUNTERS.items():
        c = CounterMetricFamily(name, doc, labels=["strategy", "role"])
        for row in clients:
            if isinstance(row.get(key), (int, float)):
                c.add_metric([str(row.get("strategy") or row.get("name") or ""), str(row.get("role") or "")],
                             float(row[key]))
        yield c


#: the `histograms` parts of `status`: key -> (metric name, help, label)
HISTOGRAMS = {
    "call_latency": ("qmt_hub_call_latency_seconds", "Call latency inside the hub since it started, by method "
                                                      "(request read to reply sent; orders include the broker's answer).",
                     "method"),
    "journal_commit": ("qmt_hub_journal_commit_seconds", "Journal (SQLite) commit time since the hub started, by path "
                                                         "(group: the loop's commit per iteration; order: an order "
                                                         "request's own commit before the broker call).", "path"),
}


def _histograms(hists: Mapping[str, Any]) -> Iterable[Any]:
    """The loop's fixed-bucket counts (per bucket, +Inf last) as Prometheus histograms (cumulative `le`)."""
    bounds = [float(b) for b in hists.get("bounds") or []]
    if not bounds:
        return
    les = [_le(b) for b in bounds] + ["+Inf"]
    for key, (name, doc, label) in HISTOGRAMS.items():
        family = HistogramMetricFamily(name, doc, labels=[label])
        for value, h in sorted((hists.get(key) or {}).items()):
            counts = list(h.get("counts") or [])
            if len(counts) != len(les):  # another version's bounds: skip rather than mislabel
                continue
            running, buckets = 0, []
            for le, n in zip(les, counts):
                running += int(n)
                buckets.append((le, float(running)))
            family.add_metric([str(value)], buckets, float(h.get("sum") or 0.0))
        yield family


def _le(bound: float) -> str:
    """A bucket bound as Prometheus writes it ("0.00025", "1.0")."""
    return repr(float(bound))


def _risk_metrics(risk: Mapping[str, Any]) -> Iterable[Any]:
    """The account-wide rate guard's use and the refusals per check (the hub's `status` risk part)."""
    rate = risk.get("rate") or {}
    for key, name, doc in (("per_second", "qmt_hub_risk_actions_per_second", "Orders+cancels in the last second."),
                           ("peak_per_second", "qmt_hub_risk_actions_peak_per_second", "Peak orders+cancels/s today."),
                           ("per_day", "qmt_hub_risk_actions_today", "Orders+cancels today."),
                           ("limit_per_second", "qmt_hub_risk_actions_limit_per_second", "The account guard, /s."),
                           ("limit_per_day", "qmt_hub_risk_actions_limit_per_day", "The account guard, per day.")):
        if isinstance(rate.get(key), (int, float)):
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], float(rate[key]))
            yield g
    refusals = risk.get("refusals") or {}
    if refusals:
        c = CounterMetricFamily("qmt_hub_risk_refusals_total", "Orders refused by the risk checks, by check.",
                                labels=["check"])
        for check, n in sorted(refusals.items()):
            c.add_metric([str(check)], float(n))
        yield c


def _sleeve_metrics(rows: list[dict[str, Any]]) -> Iterable[Any]:
    """Per-strategy money from the sleeves: cash, market value, realized and floating P&L, fees."""
    fields = (("cash", "qmt_hub_strategy_cash", "Cash of the strategy's sleeve."),
              ("market_value", "qmt_hub_strategy_market_value", "Market value of the sleeve's positions."),
              ("realized_pnl", "qmt_hub_strategy_realized_pnl", "Realized P&L today, fees included."),
              ("floating_pnl", "qmt_hub_strategy_floating_pnl", "Floating P&L of the open positions."),
              ("fees", "qmt_hub_strategy_fees", "Fees paid today."))
    for key, name, doc in fields:
        g = GaugeMetricFamily(name, doc, labels=["strategy"])
        for row in rows:
            if isinstance(row.get(key), (int, float)):
                g.add_metric([str(row.get("strategy"))], float(row[key]))
        yield g


def health(snapshot: Callable[[], tuple[dict[str, Any], list[dict[str, Any]], float]], max_age: float,
           now: float | None = None) -> tuple[bool, str]:
    """(healthy, why): the hub answered within `max_age` seconds and its broker is up."""
    status, _, status_at = snapshot()
    now = time.time() if now is None else now
    if not status_at or now - status_at > max_age:
        return False, f"the hub has not answered for {now - status_at:.0f} s" if status_at else "no answer yet"
    state = (status.get("broker") or {}).get("state")
    if state != "up":
        return False, f"broker {state}: {(status.get('broker') or {}).get('reason', '')}"
    return True, "ok"


class MetricsServer:
    """HTTP on `listen`: /metrics (Prometheus text format) and /healthz, on its own threads."""

    def __init__(self, listen: str, collector: HubCollector, healthy: Callable[[], tuple[bool, str]]):
        host, port = host_port(listen) or ("127.0.0.1", 0)
        registry = CollectorRegistry()
        registry.register(collector)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, ctype, code = generate_latest(registry), CONTENT_TYPE_LATEST, 200
                elif path == "/healthz":
                    ok, why = healthy()
                    body, ctype, code = (why + "\n").encode(), "text/plain; charset=utf-8", 200 if ok else 503
                else:
                    body, ctype, code = b"try /metrics or /healthz\n", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("metrics: " + fmt, *args)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.address = f"{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-metrics", daemon=True)

    def start(self) -> "MetricsServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
