"""The one thread that sends alerts: never the caller's, so a dead webhook never delays anything.

`submit()` only puts the alert on a bounded queue (full: counted as dropped). The thread sends
each alert to every target that wants it, with a timeout per attempt and `retries` further
attempts (1 s, 2 s, 4 s ... apart). Two rules keep a flapping broker from becoming a storm:
the same alert key is sent at most once per `repeat_after` seconds, and each target takes at
most `max_per_minute` messages a minute; what is held back is counted, and the next message to
that target says how many were suppressed. Counters are in `counters()` (shown by `hub status`).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any, Callable

from hub.alerts.config import AlertsConfig, TargetConfig
from hub.alerts.rules import Alert
from hub.alerts.targets import accepted, request_for

log = logging.getLogger("hub.alerts")

QUEUE_SIZE = 1000
_STOP = object()


def post_json(url: str, body: dict[str, Any], timeout: float) -> tuple[int, bytes]:
    """POST `body` as JSON; (HTTP status, response body). Raises OSError on a network failure."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured https webhooks
            return resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536) if exc.fp else b""


class _TargetState:
    def __init__(self) -> None:
        self.sent_at: deque[float] = deque()
        self.suppressed = 0
        self.sent = 0
        self.failed = 0
        self.last_error = ""


class AlertSender:
    def __init__(self, config: AlertsConfig, account: str = "", *,
                 post: Callable[[str, dict[str, Any], float], tuple[int, bytes]] = post_json,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.account = account
        self._post, self._clock, self._sleep = post, clock, sleep
        self._queue: queue.Queue = queue.Queue(QUEUE_SIZE)
        self._last_key: dict[str, float] = {}
        self._targets = {t.name: _TargetState() for t in config.targets}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self.submitted = 0
        self.deduplicated = 0
        self.dropped = 0

    # ---- caller's side: never blocks -----------------------------------------------------
    def start(self) -> "AlertSender":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hub-alerts", daemon=True)
            self._thread.start()
        return self

    def submit(self, alert: Alert) -> bool:
        """Queue an alert; False when it was a repeat within `repeat_after` or the queue was full."""
        now = self._clock()
        key = alert.dedupe_key
        with self._lock:
            last = self._last_key.get(key)
            if last is not None and now - last < self.config.repeat_after:
                self.deduplicated += 1
                return False
            self._last_key[key] = now
            if len(self._last_key) > 10000:  # forget the oldest keys; bounded memory
                for k in sorted(self._last_key, key=self._last_key.get)[:5000]:
                    del self._last_key[k]
        try:
            self._idle.clear()
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1
            return False
        self.submitted += 1
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued (within `timeout`), then stop the thread."""
        if self._thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued alert has been handled (tests, `hub alerts test`)."""
        return self._idle.wait(timeout)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            per = {name: {"sent": s.sent, "failed": s.failed, "suppressed": s.suppressed,
                          "last_error": s.last_error} for name, s in self._targets.items()}
        return {"submitted": self.submitted, "deduplicated": self.deduplicated, "dropped": self.dropped,
                "sent": sum(p["sent"] for p in per.values()), "failed": sum(p["failed"] for p in per.values()),
                "suppressed": sum(p["suppressed"] for p in per.values()), "targets": per}

    # ---- the sending thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                self._idle.set()
                return
            for target in self.config.targets:
                if target.wants(item.kind, item.level):
                    try:
                        self._send(target, item)
                    except Exception:  # noqa: BLE001 - a bug here must not end alerting
                        log.exception("alerts: sending to %s failed unexpectedly", target.name)
            if self._queue.empty():
                self._idle.set()

    def _send(self, target: TargetConfig, alert: Alert) -> bool:
        state = self._targets[target.name]
        now = self._clock()
        while state.sent_at and now - state.sent_at[0] >= 60:
            state.sent_at.popleft()
        if self.config.max_per_minute and len(state.sent_at) >= self.config.max_per_minute:
            with self._lock:
                state.suppressed += 1
            return False
        note = ""
        if state.suppressed:
            note = f"({state.suppressed} earlier alert(s) to this target were suppressed by the rate limit)"
        delay = 1.0
        for attempt in range(self.config.retries + 1):
            url, body = request_for(target, alert, self.account, note, now=self._clock())
            try:
                status, answer = self._post(url, body, self.config.timeout)
                ok, why = accepted(target, status, answer)
            except (OSError, ValueError) as exc:
                ok, why = False, f"{type(exc).__name__}: {exc}"
            if ok:
                with self._lock:
                    state.sent += 1
                    state.suppressed = 0
                    state.sent_at.append(self._clock())
                return True
            log.warning("alerts: %s refused or unreachable (attempt %d of %d): %s", target.name, attempt + 1,
                        self.config.retries + 1, why)
            with self._lock:
                state.last_error = why
            if attempt < self.config.retries:
                self._sleep(delay)
                delay = min(delay * 2, 30.0)
        with self._lock:
            state.failed += 1
        return False
