"""Fixed-bucket histograms the loop can afford on every call: one list of ints, one index bump.

Why here and not prometheus-client: the hub's loop must not import or lock anything for a
metric, and the metrics endpoint runs in another thread (or process) that only sees `status`.
So the loop keeps plain counts per bucket (not cumulative: one increment per observation) and
a running sum; `status` carries them as lists; `hub.observe.metrics` turns them into a real
Prometheus histogram (cumulative `_bucket{le=...}`, `_sum`, `_count`).

The bounds are fixed for the life of the process and shared by every histogram, so the `status`
map sends them once and two hubs' figures can be added bucket by bucket.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

#: Upper bounds in seconds (a bucket counts values <= its bound; one more bucket for +Inf).
#: From 50 µs (a journal commit on a quiet disk) to 10 s (an order waiting on a slow broker).
BOUNDS: tuple[float, ...] = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                             0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """Counts per bucket of `BOUNDS` (+Inf last) and the sum of the observed values (seconds).

    Loop thread only: no lock, no allocation per observation beyond the float sum.
    """

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: list[int] = [0] * (len(BOUNDS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        """One value: its bucket (the first bound >= it, else +Inf) counts one more."""
        self.counts[bisect_left(BOUNDS, seconds)] += 1
        self.total += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)

    def view(self) -> dict[str, Any]:
        """For `status`: {"counts": per-bucket counts (len(BOUNDS) + 1, +Inf last), "sum": seconds}."""
        return {"counts": list(self.counts), "sum": round(self.total, 6)}
