"""Statistics and the `status` map: the loop's own counters, reply latency, rates.

One job: numbers about the hub. The loop counts requests, rejects, bad frames, dropped
replies, internal errors and errors by code in `counters`, and records each reply's latency
(`done`): in a recent-samples window (the p50/p99 the monitor shows) and in a fixed-bucket
histogram per method (`hub.core.histogram`, cumulative since start, what Prometheus wants). The
method names come from the protocol table only, so a peer cannot add labels. Every other number belongs to the component that produces it and is asked for at
`status()` time: each registered source has a `status_counters() -> dict` (the order desk, the
publisher, the quote fan-out, the tick store, the broker link, CURVE). The `status` method
and the monitor read the map `status()` builds.

Loop thread only (the status map is built when a `status` call is answered).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Protocol

from rpc_client.protocol import METHODS

import hub
from hub import security
from hub.core.histogram import BOUNDS, Histogram

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.context import HubContext


class CounterSource(Protocol):
    def status_counters(self) -> dict[str, Any]:
        """This component's counters for the `status` map (names are unique across sources)."""


class HubStats:
    def __init__(self) -> None:
        self.started_at = time.time()
        self._t0 = time.monotonic()
        self.counters: dict[str, Any] = {"requests": 0, "rejects": 0, "bad_frames": 0, "dropped_replies": 0,
                                         "internal": 0, "encode_failures": 0, "replay_skipped": 0,
                                         "errors": {}}
        #: (monotonic time, reply latency in ms) of recent replies; the loop appends to it directly
        self.latency_samples: deque[tuple[float, float]] = deque(maxlen=20000)
        self.calls_by_method: dict[str, int] = {}  # answered calls per method (names come from METHODS only)
        #: reply latency per method since start (names from METHODS only: bounded label cardinality)
        self.latency_by_method: dict[str, Histogram] = {}
        #: name -> callable: extra parts of `status` from the hub's companions (hub.observe); called on the loop
        self.status_sources: dict[str, Callable[[], Any]] = {}
        self._rate_marks: deque[tuple[float, int, int, int]] = deque(maxlen=120)
        self._sources: list[CounterSource] = []
        self._ctx: HubContext | None = None
        self._curve: Any = None
        self._today: Callable[[], str] = lambda: ""

    def bind(self, ctx: "HubContext", sources: list[CounterSource], curve: Any, today: Callable[[], str]) -> None:
        """At start, once every component exists: what `status()` reports on."""
        self._ctx, self._sources, self._curve, self._today = ctx, list(sources), curve, today
        if curve is not None:
            self._sources.append(_CurveCounters(curve))

    # ---- the loop's own counters ------------------------------------------------------------
    def count_error(self, code: str) -> None:
        errors = self.counters["errors"]
        errors[code] = errors.get(code, 0) + 1

    def done(self, call: Any) -> None:
        """A reply was sent for `call` (a hub.core.call.Call): its latency, and one more call of its method."""
        seconds = time.perf_counter() - call.t0
        self.latency_samples.append((time.monotonic(), seconds * 1000.0))
        method = call.method
        if method in METHODS:  # a peer's unknown names never become keys
            by_method = self.calls_by_method
            by_method[method] = by_method.get(method, 0) + 1
            hist = self.latency_by_method.get(method)
            if hist is None:  # once per method for the life of the hub
                hist = self.latency_by_method[method] = Histogram()
            hist.observe(seconds)

    @property
    def uptime(self) -> float:
        return time.monotonic() - self._t0

    # ---- rates and latency ----------------------------------------------------------------------
    def mark_rates(self, events: int, ticks: int) -> None:
        """Timer (1 s): remember the running totals; `rates()` differentiates them."""
        self._rate_marks.append((time.monotonic(), self.counters["requests"], events, ticks))

    def rates(self) -> dict[str, float]:
        if len(self._rate_marks) < 2:
            return {"requests_per_s": 0.0, "events_per_s": 0.0, "ticks_per_s": 0.0}
        t1, r1, e1, k1 = self._rate_marks[-1]
        older = [m for m in self._rate_marks if t1 - m[0] <= 10.0]
        t0, r0, e0, k0 = older[0]
        dt = max(t1 - t0, 1e-9)
        return {"requests_per_s": round((r1 - r0) / dt, 2), "events_per_s": round((e1 - e0) / dt, 2),
                "ticks_per_s": round((k1 - k0) / dt, 2)}

    def latency(self) -> dict[str, float | None]:
        cutoff = time.monotonic() - 60.0
        values = sorted(ms for t, ms in self.latency_samples if t >= cutoff)
        if not values:
            return {"p50": None, "p99": None}
        return {"p50": round(values[len(values) // 2], 3),
                "p99": round(values[min(len(values) - 1, int(len(values) * 0.99))], 3)}

    # ---- the status map --------------------------------------------------------------------------
    def all_counters(self) -> dict[str, Any]:
        counters = dict(self.counters)
        counters["errors"] = dict(self.counters["errors"])
        for source in self._sources:
            counters.update(source.status_counters())
        counters["by_method"] = dict(self.calls_by_method)
        return counters

    def status(self) -> dict[str, Any]:
        ctx = self._ctx
        if ctx is None:
            raise RuntimeError("the hub has not started")
        rss = None
        try:
            import psutil
            rss = psutil.Process().memory_info().rss
        except Exception:  # noqa: BLE001
            pass
        config, curve = ctx.config, self._curve
        return {"hub_id": ctx.hub_id, "version": hub.__version__, "account_id": ctx.link.account_id,
                "broker_name": config.broker,
                "endpoints": {"rpc": config.rpc, "pub": config.pub},
                "security": security.summary(config, len(curve.keys) if curve is not None else None),
                "data_dir": str(config.data_dir), "started_at": self.started_at,
                "uptime": round(self.uptime, 3), "broker": dict(ctx.link.state),
                "halted": ctx.halts.view(),
                "last_seq": ctx.journal.last_seq, "heads": dict(ctx.journal.heads),
                "clients": len(ctx.sessions), "counters": self.all_counters(), "rates": self.rates(),
                "latency_ms": self.latency(), "histograms": self.histograms(), "rss_bytes": rss,
                "trading_day": self._today(),
                **self._extra_status()}

    def histograms(self) -> dict[str, Any]:
        """The `histograms` part of `status`: the shared bucket bounds (seconds), then per-bucket counts
        and sums of the call latency per method and of the journal's commits per path."""
        ctx = self._ctx
        commits = getattr(ctx.journal, "commit_times", {}) if ctx is not None else {}
        return {"bounds": list(BOUNDS),
                "call_latency": {m: h.view() for m, h in sorted(self.latency_by_method.items())},
                "journal_commit": {path: h.view() for path, h in sorted(commits.items())}}

    def _extra_status(self) -> dict[str, Any]:
        """What the hub's companions add to `status` (alerts, metrics: hub.observe), each under its name."""
        out: dict[str, Any] = {}
        for name, source in list(self.status_sources.items()):
            try:
                out[name] = source()
            except Exception as exc:  # noqa: BLE001 - a companion's bug must not cost the status call
                out[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        return out


class _CurveCounters:
    """CURVE's authentication counters (`hub.security.CurveServer.counters`) as a source."""

    def __init__(self, curve: Any):
        self._curve = curve

    def status_counters(self) -> dict[str, Any]:
        return self._curve.counters()
