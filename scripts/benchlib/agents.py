"""A small pool of worker processes (spawn start method) that run benchmark jobs.

Why a pool: starting a Python process costs a few hundred ms on Windows; the bench
needs up to a dozen helpers (servers, publishers, subscribers, load clients) many
times over, so it starts them once and hands them jobs.

A job is a module-level function ``fn(ctl, **kwargs) -> result`` named
``"module:function"``. ``ctl.report(x)`` sends an intermediate message to the
parent (e.g. "ready"); ``ctl.command(timeout)`` reads a command the parent sent
(e.g. "stop"). Results travel over multiprocessing's own pipe (this is local
bookkeeping, not the wire: the wire is ZeroMQ + msgpack only).

Every agent exits when its pipe closes (parent gone) or on ``stop``; the pool's
``close()`` terminates any that do not.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import time
import traceback
from typing import Any


class JobError(RuntimeError):
    """A job raised in an agent; carries the agent's traceback."""


class Ctl:
    """The job's side of the pipe."""

    def __init__(self, conn: Any):
        self._conn = conn
        self._pending: list[Any] = []

    def report(self, payload: Any) -> None:
        self._conn.send(("msg", payload))

    def command(self, timeout: float = 0.0) -> Any:
        """A command from the parent, or None when none arrives within `timeout` seconds."""
        if self._pending:
            return self._pending.pop(0)
        if self._conn.poll(timeout):
            kind, payload = self._conn.recv()
            if kind == "stop_agent":
                raise SystemExit(0)
            return payload
        return None

    @staticmethod
    def parent_alive() -> bool:
        parent = mp.parent_process()
        return parent is None or parent.is_alive()


def _agent_main(conn: Any) -> None:
    ctl = Ctl(conn)
    try:
        while True:
            try:
                kind, payload = conn.recv()
            except (EOFError, OSError):
                return
            if kind == "stop_agent":
                return
            if kind != "run":
                continue
            target, kwargs = payload
            try:
                mod_name, fn_name = target.split(":")
                fn = getattr(importlib.import_module(mod_name), fn_name)
                result = fn(ctl, **kwargs)
                conn.send(("done", result))
            except SystemExit:
                return
            except KeyboardInterrupt:
                return
            except BaseException:  # report any failure to the parent; the agent lives on
                try:
                    conn.send(("error", traceback.format_exc()))
                except (EOFError, OSError):
                    return
    except KeyboardInterrupt:
        return


class Agent:
    def __init__(self, ctx: Any, name: str):
        self.name = name
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_agent_main, args=(child,), name=name, daemon=True)
        self.proc.start()
        child.close()
        self.busy = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def submit(self, target: str, **kwargs: Any) -> None:
        if self.busy:
            raise RuntimeError(f"agent {self.name} is busy")
        self.busy = True
        self._conn.send(("run", (target, kwargs)))

    def command(self, payload: Any) -> None:
        self._conn.send(("cmd", payload))

    def next_message(self, timeout: float) -> tuple[str, Any] | None:
        """('msg', x), ('done', result) or None on timeout; raises JobError on a failed job."""
        if not self._conn.poll(timeout):
            if not self.proc.is_alive():
                self.busy = False
                raise JobError(f"agent {self.name} died (exit code {self.proc.exitcode})")
            return None
        try:
            kind, payload = self._conn.recv()
        except (EOFError, OSError):
            self.busy = False
            raise JobError(f"agent {self.name} died (exit code {self.proc.exitcode})") from None
        if kind == "error":
            self.busy = False
            raise JobError(f"job on {self.name} failed:\n{payload}")
        if kind == "done":
            self.busy = False
        return kind, payload

    def wait_message(self, timeout: float, want: str = "msg") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"agent {self.name}: no {want!r} within {timeout:.1f}s")
            got = self.next_message(left)
            if got is None:
                continue
            kind, payload = got
            if kind == want:
                return payload
            if kind == "done" and want == "msg":
                raise JobError(f"job on {self.name} ended before reporting: {payload!r}")

    def result(self, timeout: float) -> Any:
        """Wait for the running job's result (skipping intermediate messages)."""
        return self.wait_message(timeout, want="done")

    def stop(self, timeout: float = 2.0) -> None:
        try:
            self._conn.send(("stop_agent", None))
        except (EOFError, OSError):
            pass
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout)
        try:
            self._conn.close()
        except OSError:
            pass


class Pool:
    """Agents started with the spawn method (the only one Windows has)."""

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")
        self.agents: list[Agent] = []

    def start(self, n: int, prefix: str = "bench-agent") -> list[Agent]:
        new = [Agent(self._ctx, f"{prefix}-{len(self.agents) + i}") for i in range(n)]
        self.agents.extend(new)
        return new

    def warm(self, agents: list[Agent], timeout: float = 60.0) -> None:
        """Wait until every agent has imported the job modules (so no start-up cost lands in a figure)."""
        for a in agents:
            a.submit("benchlib.raw:warmup")
        for a in agents:
            a.result(timeout)

    def close(self, timeout: float = 3.0) -> None:
        """Ask every agent to stop, give them `timeout` s together, then terminate (and kill) the rest."""
        for a in self.agents:
            try:
                a._conn.send(("stop_agent", None))
            except (EOFError, OSError):
                pass
        deadline = time.monotonic() + timeout
        for a in self.agents:
            a.proc.join(max(0.0, deadline - time.monotonic()))
        for a in self.agents:
            if a.proc.is_alive():
                a.proc.terminate()
        for a in self.agents:
            a.proc.join(2.0)
            if a.proc.is_alive():
                a.proc.kill()
                a.proc.join(2.0)
            try:
                a._conn.close()
            except OSError:
                pass
        self.agents.clear()


def run_all(agents: list[Agent], target: str, kwargs_list: list[dict[str, Any]], timeout: float) -> list[Any]:
    for a, kw in zip(agents, kwargs_list):
        a.submit(target, **kw)
    return [a.result(timeout) for a in agents]
