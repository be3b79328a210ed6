"""`hub run` / `hub tasks` / `hub stop`: jqtrade's start_task / get_tasks / stop_task for the hub.

`hub run STRATEGY.py -n NAME` starts ``python -m rpc_client.runner`` (the runner imports only
the client library): in the foreground by default (Ctrl+C stops it cleanly: the running function
finishes), or in the background with ``--detach``. The runner registers itself in
``<data-dir>/tasks/``; `hub tasks` reads that registry, `hub stop` stops what it lists: a stop
request the runner polls (works on Windows too) plus SIGTERM on POSIX / CTRL_BREAK_EVENT on
Windows, or ``-s SIGKILL`` to kill at once.

Exit codes: 0 ok, 1 the strategy failed (or a task did not stop), 2 usage error, 3 hub unreachable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import psutil
import typer
from rich.table import Table

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import fail, out
from rpc_client.endpoints import DEFAULT_DATA_DIR
from rpc_client.protocol import STRATEGY_NAME_RE
from rpc_client.runner import tasks

WINDOWS = os.name == "nt"


class StopSignal(str, Enum):
    SIGTERM = "SIGTERM"
    SIGKILL = "SIGKILL"


def _data_dir(data_dir: Optional[Path], config: Optional[Path] = None) -> Path:
    """--data-dir, else the config file's data_dir, else ~/.qmt-hub."""
    if data_dir:
        return Path(data_dir).expanduser()
    if config:
        try:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            with Path(config).expanduser().open("rb") as fh:
                data = tomllib.load(fh)
            value = (data.get("runner") or {}).get("data_dir") or data.get("data_dir") or \
                (data.get("hub") or {}).get("data_dir")
            if value:
                return Path(str(value)).expanduser()
        except (OSError, ValueError):
            pass  # the runner reports a bad config file itself
    return DEFAULT_DATA_DIR.expanduser()


def runner_argv(code: Path, name: str, out_: Optional[str], env: Optional[str], config: Optional[Path], debug: bool,
                rpc: Optional[str], data_dir: Optional[Path]) -> list[str]:
    argv = [sys.executable, "-m", "rpc_client.runner", str(code), "-n", name]
    if out_:
        argv += ["-o", str(out_)]
    if env:
        argv += ["-e", env]
    if config:
        argv += ["--config", str(config)]
    if debug:
        argv.append("--debug")
    if rpc:
        argv += ["--rpc", rpc]
    if data_dir:
        argv += ["--data-dir", str(data_dir)]
    return argv


@app.command("run")
def run_cmd(
    code: Path = typer.Argument(..., metavar="STRATEGY.py", help="The jqtrade strategy file."),
    name: str = typer.Option(..., "-n", "--name", help="Task and hub strategy name, unique on this machine and hub."),
    out_: Optional[str] = typer.Option(None, "-o", "--out", metavar="LOG", help="Log file [default: the terminal]."),
    env: Optional[str] = typer.Option(None, "-e", "--env", metavar="K=V;K2=V2",
                                      help="Environment for the strategy; PYTHONPATH entries go on sys.path."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML: the hub's rpc/data_dir and a [runner] table."),
    debug: bool = typer.Option(False, "--debug", help="Debug logging (the runner's own lines too)."),
    rpc: Optional[str] = typer.Option(None, "--rpc", metavar="ENDPOINT",
                                      help="The hub's call endpoint [default: $QMT_HUB or tcp://127.0.0.1:5555]."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", metavar="DIR",
                                            help=f"The hub's data folder (task registry) [default: {DEFAULT_DATA_DIR}]."),
    detach: bool = typer.Option(False, "-d", "--detach", help="Run in the background; `hub stop` ends it."),
) -> None:
    """Start a strategy process under NAME (jqtrade's start_task)."""
    if not STRATEGY_NAME_RE.match(name):
        fail(EXIT_USAGE, f"bad -n {name!r}: 1-32 letters, digits, '_' or '-', starting with a letter or digit")
    if not code.is_file():
        fail(EXIT_USAGE, f"no strategy file {code}")
    if not detach:
        argv = runner_argv(code, name, out_, env, config, debug, rpc, data_dir)
        proc = subprocess.Popen(argv)
        # Ctrl+C reaches the runner too (same console / process group): it stops cleanly; we wait for it
        sigs = [signal.SIGINT] + ([signal.SIGBREAK] if hasattr(signal, "SIGBREAK") else [])  # Ctrl+Break (Windows)
        old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in sigs}
        try:
            code_ = proc.wait()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
        raise typer.Exit(code_ if code_ >= 0 else EXIT_CALL_FAILED)
    ddir = _data_dir(data_dir, config)
    log = out_ or str(tasks.tasks_dir(ddir) / f"{name}.log")
    argv = runner_argv(code, name, log, env, config, debug, rpc, data_dir)
    tasks.tasks_dir(ddir).mkdir(parents=True, exist_ok=True)
    console_out = tasks.tasks_dir(ddir) / f"{name}.out"
    kw: dict[str, Any] = {}
    if WINDOWS:  # its own group: CTRL_BREAK_EVENT reaches it alone; no console window of its own
        kw["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "DETACHED_PROCESS", 0)
    else:
        kw["start_new_session"] = True  # Ctrl+C in this terminal no longer reaches it
    with console_out.open("ab") as fh:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, **kw)
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            tail = console_out.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            fail(rc or EXIT_CALL_FAILED, f"strategy {name} exited at once (code {rc}): " + " | ".join(tail))
        if tasks.is_ready(ddir, name, proc.pid):
            break
        time.sleep(0.1)
    else:
        out().print(f"{name} (pid {proc.pid}) is not scheduling after 60 s; see {log}", markup=False,
                    highlight=False)
        raise typer.Exit(EXIT_CALL_FAILED)
    out().print(f"started {name} (pid {proc.pid}); log {log}; stop with: hub stop -n {name}", markup=False,
                highlight=False)


def _fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _row(t: tasks.TaskEntry) -> dict[str, Any]:
    st = t.state()
    jobs = st.get("stats") or {}
    last = max((j.get("last") or {} for j in jobs.values()), key=lambda r: r.get("at") or "", default={})
    return {"name": t.name, "pid": t.pid, "started": t.started, "code": t.code, "hub": t.hub, "log": t.log,
            "argv": t.argv, "host": t.host,
            "last_run": last or None, "runs": sum(j.get("runs", 0) for j in jobs.values()),
            "failures": sum(j.get("failures", 0) for j in jobs.values()),
            "missed": sum(j.get("missed", 0) for j in jobs.values()), "halted": st.get("halted") or "",
            "running": st.get("running") or ""}


@app.command("tasks")
def tasks_cmd(
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", metavar="DIR",
                                            help=f"The hub's data folder (task registry) [default: {DEFAULT_DATA_DIR}]."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON (for scripts)."),
) -> None:
    """List running strategies (jqtrade's get_tasks): name, pid, started, code, hub, last scheduled run."""
    rows = [_row(t) for t in tasks.list_tasks(_data_dir(data_dir))]
    if as_json:
        out().print_json(json.dumps(rows))
        return
    table = Table(title=f"{len(rows)} running strateg{'y' if len(rows) == 1 else 'ies'}")
    for col in ("name", "pid", "started", "code", "hub", "last run", "runs/fail/missed", "halted"):
        table.add_column(col)
    for r in rows:
        last = r["last_run"]
        shown = (f"{last['func']} {last['scheduled'][11:19]} {last['result']}" if last else "-")
        table.add_row(r["name"], str(r["pid"]), _fmt_time(r["started"]), r["code"], r["hub"], shown,
                      f"{r['runs']}/{r['failures']}/{r['missed']}", r["halted"] or "-")
    out().print(table)


def _graceful(data_dir: Path, t: tasks.TaskEntry) -> None:
    tasks.request_stop(data_dir, t.name)  # polled by the runner: works on every platform
    try:
        if WINDOWS:
            os.kill(t.pid, signal.CTRL_BREAK_EVENT)  # only reaches a runner sharing our console; the file does the rest
        else:
            os.kill(t.pid, signal.SIGTERM)
    except (OSError, AttributeError, ValueError):
        pass


@app.command("stop")
def stop_cmd(
    name: Optional[str] = typer.Option(None, "-n", "--name", help="Stop the strategy of this name."),
    pid: Optional[int] = typer.Option(None, "-p", "--pid", help="Stop the strategy process with this pid."),
    all_: bool = typer.Option(False, "--all", help="Stop every running strategy (ignores -n and -p)."),
    sig: StopSignal = typer.Option(StopSignal.SIGTERM, "-s", "--signal",
                                   help="SIGTERM: the running function finishes first; SIGKILL: at once."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.0, help="Seconds to wait for each to exit."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", metavar="DIR",
                                            help=f"The hub's data folder (task registry) [default: {DEFAULT_DATA_DIR}]."),
) -> None:
    """Stop running strategies (jqtrade's stop_task)."""
    ddir = _data_dir(data_dir)
    running = tasks.list_tasks(ddir)
    if all_:
        targets = running
    elif name is not None or pid is not None:
        targets = [t for t in running if (name is None or t.name == name) and (pid is None or t.pid == pid)]
        if not targets:
            which = f"named {name!r}" if name is not None else f"with pid {pid}"
            fail(EXIT_CALL_FAILED, f"no running strategy {which} (see `hub tasks`)")
    else:
        fail(EXIT_USAGE, "give -n NAME, -p PID or --all")
    for t in targets:
        if sig == StopSignal.SIGKILL:
            try:
                psutil.Process(t.pid).kill()
            except psutil.Error:
                pass
        else:
            _graceful(ddir, t)
    deadline = time.monotonic() + timeout
    left = list(targets)
    while left and time.monotonic() < deadline:
        left = [t for t in left if t.alive()]
        if left:
            time.sleep(0.1)
    for t in targets:
        if t in left:
            continue
        if sig == StopSignal.SIGKILL:
            tasks.unregister(ddir, t.name, t.pid)  # a killed runner cannot clean up after itself
        out().print(f"stopped {t.name} (pid {t.pid}){' with SIGKILL' if sig == StopSignal.SIGKILL else ''}",
                    markup=False, highlight=False)
    if left:
        fail(EXIT_CALL_FAILED, "still running after {:g} s: {} (the running function has not finished; "
             "-s SIGKILL stops it at once)".format(timeout, ", ".join(f"{t.name} (pid {t.pid})" for t in left)))
    raise typer.Exit(EXIT_OK)
