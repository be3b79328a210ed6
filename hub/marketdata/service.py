"""The hub's market-data service: history, reference data and calendars on request.

    md = MarketData(source, post=mailbox.put, reply=hub.reply, reply_error=hub.reply_error,
                    day=lambda: hub.day)
    result = md.request(call, "instrument_type", {...}, cache=True)   # a value, or DEFERRED

Why it looks like this:

* **One upstream call per request kind and arguments.** Identical requests in flight share
  one call to the source; results that do not change intraday (instrument details, sectors,
  calendars, dividend factors, financial tables) are cached for the trading day, so a
  program that asks for 5000 instrument details once a second costs the source one call each
  per day.
* **One thread calls the source** (`UpstreamThread`): xtdata must never be called from two
  threads at once, and a slow call (a history download takes seconds) must never stop the
  hub's loop. The loop hands the job over and answers later (DEFERRED); the result comes
  back through the mailbox (`finish`). Each job has a deadline (`expire`, a loop timer): a
  call the source does not finish in time is answered with BROKER_ERROR and its late result
  is dropped.
* **Large results stream in pages.** A bar result is cut into pages of at most
  `MD_PAGE_ROWS` rows; the first page comes with ``more: true`` and a ``cursor`` the caller
  passes to `next_page`. Pages wait for their owner (the same session) for `PAGE_TTL`
  seconds; a cursor names its page, so a retried `next_page` gets the same page again.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from typing import Any, Callable

from rpc_client.protocol import MD_MAX_ROWS, MD_PAGE_ROWS, ErrorCode, HubError

from hub.core.methods import DEFERRED
from hub.marketdata.upstream import NotServed, UpstreamThread, make_upstream

log = logging.getLogger("hub.marketdata")

PAGE_TTL = 300.0  # seconds pages wait for their owner
MAX_CURSORS = 64  # results with pages waiting, over all sessions
MAX_PAGED_ROWS = 500_000  # rows waiting in pages, over all sessions (~200 MB at worst)
CACHE_ENTRIES = 20_000


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def count_rows(data: dict[str, dict[str, list]]) -> int:
    total = 0
    for cols in data.values():
        for values in cols.values():
            total += len(values)
            break
    return total


def paginate(data: dict[str, dict[str, list]], rows: int = MD_PAGE_ROWS) -> list[dict[str, dict[str, list]]]:
    """{code: {field: [values]}} cut into pages of at most `rows` rows (a code may span pages;
    every code appears in the first page it has rows in, an empty code in the first page)."""
    pages: list[dict[str, dict[str, list]]] = [{}]
    room = rows
    for code, cols in data.items():
        n = len(next(iter(cols.values()))) if cols else 0
        if n == 0:
            pages[0].setdefault(code, cols)
            continue
        pos = 0
        while pos < n:
            if room == 0:
                pages.append({})
                room = rows
            take = min(room, n - pos)
            pages[-1][code] = {f: v[pos:pos + take] for f, v in cols.items()}
            pos += take
            room -= take
    return pages


class _Job:
    __slots__ = ("kind", "key", "calls", "deadline", "finish")

    def __init__(self, kind: str, key: Any, deadline: float):
        self.kind = kind
        self.key = key
        self.deadline = deadline
        #: (call, finish(result) -> reply value) per caller waiting for this job
        self.calls: list[tuple[Any, Callable[[Any], Any]]] = []


class PageStore:
    """Pages of results waiting for their owner's next_page."""

    def __init__(self) -> None:
        self._results: OrderedDict[str, tuple[str, list, float]] = OrderedDict()  # token -> owner, pages, expiry
        self.rows = 0

    def add(self, owner: str, pages: list) -> str:
        token = os.urandom(8).hex()
        self._results[token] = (owner, pages, time.monotonic() + PAGE_TTL)
        self.rows += sum(count_rows(p) for p in pages)
        self._trim()
        return token

    def _drop(self, token: str) -> None:
        entry = self._results.pop(token, None)
        if entry is not None:
            self.rows -= sum(count_rows(p) for p in entry[1])

    def _trim(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, _, exp) in self._results.items() if exp < now]:
            self._drop(token)
        while self._results and (len(self._results) > MAX_CURSORS or self.rows > MAX_PAGED_ROWS):
            self._drop(next(iter(self._results)))

    def take(self, owner: str, cursor: str) -> dict[str, Any]:
        """The page a cursor names: {data, more, cursor}."""
        self._trim()
        token, index = cursor[:16], cursor[16:]
        entry = self._results.get(token)
        if entry is None or entry[0] != owner or not index:
            raise HubError(ErrorCode.INVALID_PARAMS, "unknown or expired cursor: pages wait "
                                                     f"{PAGE_TTL:g}s for the session that asked; ask again")
        _, pages, _ = entry
        i = int(index, 16)
        if i >= len(pages):
            raise HubError(ErrorCode.INVALID_PARAMS, "the cursor is past the last page")
        more = i + 1 < len(pages)
        if not more:
            self._drop(token)
        return {"data": pages[i], "more": more, "cursor": f"{token}{i + 1:04x}" if more else None}

    def drop_owner(self, owner: str) -> None:
        for token in [t for t, (o, _, _) in self._results.items() if o == owner]:
            self._drop(token)

    def __len__(self) -> int:
        return len(self._results)


class MarketData:
    """Requests for market data: cached, coalesced, made on one thread, answered by the loop."""

    def __init__(self, source: Any, post: Callable[[str, Any], None], reply: Callable[[Any, Any], None],
                 reply_error: Callable[[Any, HubError], None], day: Callable[[], str],
                 timeout: float = 30.0, download_timeout: float = 600.0, thread: UpstreamThread | None = None):
        """`thread`: the source's one calling thread when it already has one (live xtdata: the
        quote subscriptions share it); else the service starts its own."""
        self.upstream = make_upstream(source)
        self._own_thread = thread is None
        self.thread = thread if thread is not None else (UpstreamThread() if self.upstream is not None else None)
        self._post = post
        self._reply = reply
        self._reply_error = reply_error
        self._day = day
        self.timeout = timeout
        self.download_timeout = download_timeout
        self._ids = 0
        self.jobs: dict[int, _Job] = {}
        self.inflight: dict[Any, int] = {}
        self.cache: OrderedDict[Any, Any] = OrderedDict()
        self._cache_day = day()
        self.pages = PageStore()
        self.counters = {"requests": 0, "upstream_calls": 0, "cache_hits": 0, "coalesced": 0, "timeouts": 0,
                         "errors": 0, "pages": 0}

    # ---- cache ------------------------------------------------------------------
    def cache_get(self, key: Any) -> tuple[bool, Any]:
        day = self._day()
        if day != self._cache_day:
            self.cache.clear()
            self._cache_day = day
        if key in self.cache:
            self.cache.move_to_end(key)
            self.counters["cache_hits"] += 1
            return True, self.cache[key]
        return False, None

    def cache_put(self, key: Any, value: Any) -> None:
        self.cache[key] = value
        while len(self.cache) > CACHE_ENTRIES:
            self.cache.popitem(last=False)

    def forget(self, kind: str) -> None:
        """Drop cached results of one kind (after a download refreshed them)."""
        for key in [k for k in self.cache if k[0] == kind]:
            del self.cache[key]

    # ---- requests (loop thread) ----------------------------------------------------
    def request(self, call: Any, kind: str, params: dict[str, Any], cache: bool = False,
                finish: Callable[[Any], Any] | None = None, timeout: float | None = None) -> Any:
        """Answer from the cache, or start (or join) the upstream call and return DEFERRED.

        `finish(result)` turns the source's result into the reply (runs on the loop thread);
        it may raise HubError.
        """
        self.counters["requests"] += 1
        key = (kind, _freeze(params))
        finish = finish or (lambda r: r)
        if cache:
            hit, value = self.cache_get(key)
            if hit:
                return finish(value)
        job_id = self.inflight.get(key)
        if job_id is not None and job_id in self.jobs:
            self.counters["coalesced"] += 1
            self.jobs[job_id].calls.append((call, finish))
            return DEFERRED
        if self.upstream is None or self.thread is None:
            raise HubError(ErrorCode.BROKER_DOWN, "this hub has no market-data source (xtdata is not available)")
        self._ids += 1
        job_id = self._ids
        job = _Job(kind, key if cache else None, time.monotonic() + (timeout or self.timeout))
        job.calls.append((call, finish))
        upstream, post = self.upstream, self._post

        def run() -> Any:
            return upstream.call(kind, **params)

        def done(result: Any, err: BaseException | None) -> None:  # the upstream thread: hand over only
            post("md_done", (job_id, result, err))

        if not self.thread.submit(run, done):
            raise HubError(ErrorCode.BROKER_ERROR, "the market-data source is busy (too many requests waiting); "
                                                   "try again shortly")
        self.counters["upstream_calls"] += 1
        self.jobs[job_id] = job
        self.inflight[key] = job_id
        return DEFERRED

    def finish(self, data: tuple[int, Any, BaseException | None]) -> None:
        """Loop thread (mailbox 'md_done'): reply to everyone waiting for the job."""
        job_id, result, err = data
        job = self.jobs.pop(job_id, None)
        if job is None:
            log.info("a market-data result arrived after its deadline; dropped")
            return
        for key in [k for k, j in self.inflight.items() if j == job_id]:
            del self.inflight[key]
        if err is not None:
            self.counters["errors"] += 1
            if isinstance(err, NotServed):
                error = HubError(ErrorCode.BROKER_ERROR, f"{job.kind}: {err}", {"not_served": True})
            else:
                error = HubError(ErrorCode.BROKER_ERROR, f"{job.kind} failed at the market-data source: "
                                                         f"{type(err).__name__}: {err}")
            for call, _ in job.calls:
                self._reply_error(call, error)
            return
        if job.key is not None:
            self.cache_put(job.key, result)
        for call, finish in job.calls:
            try:
                value = finish(result)
            except HubError as exc:
                self._reply_error(call, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - one bad result must not stop the others
                log.exception("finishing %s failed", job.kind)
                self._reply_error(call, HubError(ErrorCode.INTERNAL, f"the hub failed finishing {job.kind}: {exc}"))
                continue
            self._reply(call, value)

    def expire(self) -> None:
        """Loop timer: answer jobs past their deadline with BROKER_ERROR (their late results are dropped)."""
        if not self.jobs:
            return
        now = time.monotonic()
        for job_id in [i for i, j in self.jobs.items() if j.deadline < now]:
            job = self.jobs.pop(job_id)
            for key in [k for k, j in self.inflight.items() if j == job_id]:
                del self.inflight[key]
            self.counters["timeouts"] += 1
            error = HubError(ErrorCode.BROKER_ERROR, f"the market-data source did not answer {job.kind} in time; "
                                                     "it may still be busy with an earlier request")
            for call, _ in job.calls:
                self._reply_error(call, error)

    # ---- pages --------------------------------------------------------------------
    def paged(self, owner: str, data: dict[str, dict[str, list]]) -> dict[str, Any]:
        """The first page of a bar result (the rest wait in the page store)."""
        rows = count_rows(data)
        if rows > MD_MAX_ROWS:
            raise HubError(ErrorCode.INVALID_PARAMS, f"the request gives {rows} rows, more than {MD_MAX_ROWS}; "
                                                     "ask for fewer codes or a shorter range",
                           {"rows": rows, "limit": MD_MAX_ROWS})
        pages = paginate(data)
        if len(pages) == 1:
            return {"data": pages[0], "more": False, "cursor": None}
        self.counters["pages"] += len(pages)
        token = self.pages.add(owner, pages)
        return self.pages.take(owner, f"{token}0000")

    def next_page(self, owner: str, cursor: str) -> dict[str, Any]:
        return self.pages.take(owner, cursor)

    def drop_session(self, owner: str) -> None:
        self.pages.drop_owner(owner)

    def stats(self) -> dict[str, Any]:
        return dict(self.counters, jobs=len(self.jobs), cached=len(self.cache), cursors=len(self.pages),
                    paged_rows=self.pages.rows, queued=self.thread.pending() if self.thread else 0)

    def close(self) -> None:
        if self.thread is not None and self._own_thread:
            self.thread.close()
