"""The task registry: which strategy processes run on this machine, in ``<data_dir>/tasks/``.

Each running runner owns ``NAME.json`` (name, pid, started, code path, hub, log, state file) and
writes its schedule state to ``NAME.state.json`` (last scheduled run and its result, counts).
``hub tasks`` lists them, ``hub stop`` stops them: gracefully by a stop request the runner polls
(``NAME.stop``; this works on Windows, where a detached process shares no console to send
CTRL_BREAK to) plus SIGTERM where there is one, or at once by killing the process.

Names are unique per machine (as jqtrade's task names): the file is created exclusively, and an
entry whose process is gone (same pid, other start time) is stale and replaced.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil


class TaskExists(RuntimeError):
    """A live runner already uses this name."""


@dataclass
class TaskEntry:
    name: str
    pid: int
    started: float
    code: str
    hub: str
    log: str = ""
    state_path: str = ""
    create_time: float = 0.0
    host: str = field(default_factory=socket.gethostname)
    argv: list[str] = field(default_factory=list)

    def alive(self) -> bool:
        try:
            p = psutil.Process(self.pid)
            if self.create_time and abs(p.create_time() - self.create_time) > 1.0:
                return False  # the pid was reused by another process
            return p.status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            return False

    def state(self) -> dict[str, Any]:
        if not self.state_path:
            return {}
        try:
            return json.loads(Path(self.state_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


def tasks_dir(data_dir: str | Path) -> Path:
    return Path(data_dir).expanduser() / "tasks"


def entry_path(data_dir: str | Path, name: str) -> Path:
    return tasks_dir(data_dir) / f"{name}.json"


def stop_path(data_dir: str | Path, name: str) -> Path:
    return tasks_dir(data_dir) / f"{name}.stop"


def state_path(data_dir: str | Path, name: str) -> Path:
    return tasks_dir(data_dir) / f"{name}.state.json"


def instance_id(data_dir: str | Path, name: str) -> str:
    """The task's stable hub instance id: a restarted runner takes over its own dead session at once."""
    import uuid

    p = tasks_dir(data_dir) / f"{name}.instance"
    try:
        value = p.read_text(encoding="utf-8").strip()
        if value:
            return value
    except OSError:
        pass
    value = uuid.uuid4().hex
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(value, encoding="utf-8")
    return value


def _read(path: Path) -> TaskEntry | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return TaskEntry(**data)
    except (OSError, ValueError, TypeError):
        return None


def register(data_dir: str | Path, entry: TaskEntry) -> Path:
    """Claim ``entry.name``; TaskExists if a live runner holds it."""
    d = tasks_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = entry_path(data_dir, entry.name)
    if not entry.create_time:
        try:
            entry.create_time = psutil.Process(entry.pid).create_time()
        except psutil.Error:
            entry.create_time = 0.0
    for _ in range(3):
        try:
            with path.open("x", encoding="utf-8") as fh:
                json.dump(asdict(entry), fh)
            stop_path(data_dir, entry.name).unlink(missing_ok=True)
            return path
        except FileExistsError:
            old = _read(path)
            if old is not None and old.pid != entry.pid and old.alive():
                raise TaskExists(f"a strategy named {entry.name!r} is already running (pid {old.pid}, code "
                                 f"{old.code}); stop it with `hub stop -n {entry.name}` or pick another -n") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
    raise TaskExists(f"could not claim the task name {entry.name!r} in {d}")


def unregister(data_dir: str | Path, name: str, pid: int) -> None:
    """Drop the entry if it is still ours."""
    path = entry_path(data_dir, name)
    old = _read(path)
    if old is not None and old.pid == pid:
        path.unlink(missing_ok=True)
    stop_path(data_dir, name).unlink(missing_ok=True)
    if is_ready(data_dir, name, pid):
        ready_path(data_dir, name).unlink(missing_ok=True)


def list_tasks(data_dir: str | Path) -> list[TaskEntry]:
    """Live entries, by name; stale ones (process gone) are removed."""
    d = tasks_dir(data_dir)
    out = []
    for path in sorted(d.glob("*.json")) if d.is_dir() else []:
        if path.name.endswith(".state.json"):
            continue
        e = _read(path)
        if e is None:
            continue
        if e.alive():
            out.append(e)
        else:
            path.unlink(missing_ok=True)
    return out


def ready_path(data_dir: str | Path, name: str) -> Path:
    return tasks_dir(data_dir) / f"{name}.ready"


def mark_ready(data_dir: str | Path, name: str, pid: int) -> None:
    """The runner is scheduling (session open, strategy initialized, account checked)."""
    ready_path(data_dir, name).write_text(str(pid), encoding="utf-8")


def is_ready(data_dir: str | Path, name: str, pid: int) -> bool:
    try:
        return ready_path(data_dir, name).read_text(encoding="utf-8").strip() == str(pid)
    except OSError:
        return False


def request_stop(data_dir: str | Path, name: str) -> None:
    p = stop_path(data_dir, name)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(str(time.time()), encoding="utf-8")


def stop_requested(data_dir: str | Path, name: str) -> bool:
    return stop_path(data_dir, name).exists()


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


__all__ = ["TaskEntry", "TaskExists", "register", "unregister", "list_tasks", "request_stop", "stop_requested",
           "tasks_dir", "entry_path", "stop_path", "state_path", "pid_alive", "instance_id", "mark_ready", "is_ready"]
