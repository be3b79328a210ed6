"""The task registry and `hub stop` by pid, without a hub: names are unique, stale entries go, kills clean up."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from rpc_client.runner import tasks


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def _entry(name: str, pid: int) -> tasks.TaskEntry:
    return tasks.TaskEntry(name=name, pid=pid, started=time.time(), code="/x/s.py", hub="tcp://127.0.0.1:1")


def test_registry_names_are_unique_and_stale_entries_are_replaced(tmp_path: Path) -> None:
    p = _sleeper()
    try:
        tasks.register(tmp_path, _entry("a", p.pid))
        with pytest.raises(tasks.TaskExists, match="already running"):
            tasks.register(tmp_path, _entry("a", p.pid + 100000))
        assert [t.name for t in tasks.list_tasks(tmp_path)] == ["a"]
    finally:
        p.kill()
        p.wait()
    # its process is gone: the entry is stale, listed no more, and the name can be taken again
    assert tasks.list_tasks(tmp_path) == []
    q = _sleeper()
    try:
        tasks.register(tmp_path, _entry("a", q.pid))
        assert tasks.list_tasks(tmp_path)[0].pid == q.pid
        tasks.unregister(tmp_path, "a", q.pid)
        assert tasks.list_tasks(tmp_path) == []
        assert tasks.instance_id(tmp_path, "a") == tasks.instance_id(tmp_path, "a")  # stable per name
    finally:
        q.kill()
        q.wait()


def test_hub_stop_by_pid_sigterm_and_sigkill(tmp_path: Path) -> None:
    r = CliRunner()
    assert r.invoke(app, ["stop", "--data-dir", str(tmp_path)]).exit_code == 2  # no target given
    res = r.invoke(app, ["stop", "-n", "ghost", "--data-dir", str(tmp_path)])
    assert res.exit_code == 1 and "no running strategy named 'ghost'" in res.output
    a, b = _sleeper(), _sleeper()
    try:
        tasks.register(tmp_path, _entry("a", a.pid))
        tasks.register(tmp_path, _entry("b", b.pid))
        res = r.invoke(app, ["stop", "-p", str(a.pid), "--data-dir", str(tmp_path), "--timeout", "10"])
        assert res.exit_code == 0 and f"stopped a (pid {a.pid})" in res.output, res.output
        assert a.wait(5) is not None and b.poll() is None
        assert tasks.stop_requested(tmp_path, "a")  # the request a runner polls (and Windows relies on)
        res = r.invoke(app, ["stop", "-n", "b", "-s", "SIGKILL", "--data-dir", str(tmp_path)])
        assert res.exit_code == 0 and "with SIGKILL" in res.output
        assert b.wait(5) is not None
        assert not tasks.entry_path(tmp_path, "b").exists()  # a killed runner cannot clean up: stop does
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_bad_names_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["run", __file__, "-n", "../evil", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "bad -n" in res.output
    from rpc_client.runner.main import main

    assert main([__file__, "-n", "a/b", "--data-dir", str(tmp_path)]) == 2
    assert not (tmp_path / "tasks").exists()
