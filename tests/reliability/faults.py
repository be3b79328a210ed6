"""Fault-injection helpers: real hub, simulator and strategy processes, killed for real.

Every process is started through a `Procs` registry whose `kill_all()` (called by the
`procs` fixture at teardown) kills whatever is still running, so a failing test never
leaves a process behind. POSIX signals (SIGKILL, SIGSTOP) are how faults are injected;
the hub and client code themselves stay portable.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import msgpack
import zmq
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = Path(__file__).resolve().parent / "strategy_proc.py"
CRASH_SIM = Path(__file__).resolve().parent / "crash_sim.py"
SIM_FORKER = Path(__file__).resolve().parent / "sim_forker.py"
ACCOUNT = "SIM0001"




def tcp() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


def wait_for(pred: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Proc:
    """One child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log: Path):
        self.name, self.args, self.log = name, args, log
        self._fh = open(log, "ab")
        self.popen = subprocess.Popen(args, stdout=self._fh, stderr=subprocess.STDOUT, cwd=str(ROOT), env=_env())

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye (a crash, a power-off of the process)."""
        if self.alive():
            self.popen.kill()
        self.popen.wait(10)
        self._fh.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._fh.close()
        return self.popen.returncode

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


def _dead(pid: int) -> bool:
    """The process is gone or a zombie (its sockets are closed); where /proc exists, else assumed."""
    stat = Path(f"/proc/{pid}/stat")
    if not Path("/proc").is_dir():
        return True
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


class SimForker:
    """The parent of `sim_forker.py`: `start()` forks a simulator (returns its pid), `kill()` SIGKILLs it.

    Counts as one process for `Procs.kill_all`: killing it kills the living simulators too.
    """

    def __init__(self, log: Path, args: list[str], endpoint: str):
        self.name, self.log, self.endpoint = "sim-forker", log, endpoint
        self._fh = open(log, "ab")
        self.popen = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._fh,
                                      cwd=str(ROOT), env=_env())
        self.pid: int | None = None  # the serving simulator
        self._ready = False  # its imports run meanwhile: `start` waits for them the first time

    def _line(self, want: bytes | None = None) -> bytes:
        """The next line the parent prints that is ours (imports may print their own lines first)."""
        while True:
            line = self.popen.stdout.readline()
            assert line, f"the simulator forker ended: {self.output()[-2000:]}"
            line = line.strip()
            if (want is not None and line == want) or (want is None and line.isdigit()):
                return line

    def start(self, timeout: float = 20.0) -> int:
        """Fork a simulator and wait until it answers; returns its pid."""
        if not self._ready:
            self._line(b"ready")
            self._ready = True
        self.popen.stdin.write(b"start\n")
        self.popen.stdin.flush()
        self.pid = int(self._line())
        wait_for(lambda: sim_call(self.endpoint, "ping", timeout=0.3), timeout, "the forked simulator")
        return self.pid

    def kill(self) -> None:
        """SIGKILL the serving simulator (the broker crash)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_for(lambda: _dead(self.pid), 10, f"simulator {self.pid} to die")
            self.pid = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def resume(self) -> None:
        pass

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        """Kill the serving simulator and end the parent."""
        self.kill()
        if self.alive():
            self.popen.terminate()  # the parent SIGKILLs any child still alive
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._fh.close()


class Procs:
    """Starts the processes of one test and kills every one of them at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.all: list[Proc] = []

    def _start(self, name: str, args: list[str]) -> Proc:
        p = Proc(name, args, self.tmp / f"{name}.{len(self.all)}.log")
        self.all.append(p)
        return p

    # ---- the broker: `hub sim` ---------------------------------------------------------
    def sim(self, path: Path, endpoint: str, config: dict | None = None, wait: bool = True) -> Proc:
        cfg = {"auto_tick": False, **(config or {})}
        p = self._start("sim", [sys.executable, "-m", "hub", "sim", "--path", str(path), "--endpoint", endpoint,
                                "--config", json.dumps(cfg)])
        if wait:
            wait_for(lambda: sim_call(endpoint, "ping", timeout=0.3) or not p.alive(), 20, "the simulator")
            assert p.alive(), p.output()
        return p

    def crash_sim(self, path: Path, endpoint: str, after: int, config: dict | None = None) -> Proc:
        """A simulator that SIGKILLs itself after committing its `after`-th order, before replying."""
        cfg = {"auto_tick": False, **(config or {})}
        p = self._start("crash-sim", [sys.executable, str(CRASH_SIM), "--path", str(path), "--endpoint", endpoint,
                                      "--after", str(after), "--config", json.dumps(cfg)])
        wait_for(lambda: sim_call(endpoint, "ping", timeout=0.3) or not p.alive(), 20, "the crashing simulator")
        assert p.alive(), p.output()
        return p

    def sim_forker(self, path: Path, endpoint: str, config: dict | None = None) -> "SimForker":
        """A parent that forks simulator processes on `path`/`endpoint` in milliseconds (see sim_forker.py)."""
        cfg = {"auto_tick": False, **(config or {})}
        forker = SimForker(self.tmp / f"sim-forker.{len(self.all)}.log",
                           [sys.executable, str(SIM_FORKER), "--path", str(path), "--endpoint", endpoint,
                            "--config", json.dumps(cfg)], endpoint)
        self.all.append(forker)
        return forker

    # ---- the hub: `hub start` ----------------------------------------------------------
    def hub(self, rpc: str, pub: str, data_dir: Path, config: dict | None = None, wait: bool = True) -> Proc:
        data_dir.mkdir(parents=True, exist_ok=True)
        values = {"rpc": rpc, "pub": pub, "data_dir": str(data_dir), "heartbeat_interval": 0.5,
                  "log_level": "INFO", "risk": dict(OPEN_RATE_GUARD), **(config or {})}
        cfg = self.tmp / f"hub-{uuid.uuid4().hex[:6]}.toml"
        cfg.write_text(_toml(values))
        p = self._start("hub", [sys.executable, "-m", "hub", "start", "--config", str(cfg)])
        if wait:
            wait_for(lambda: "running" in p.output() or not p.alive(), 30, "the hub to start")
            assert p.alive(), p.output()
        return p

    # ---- strategies --------------------------------------------------------------------
    def strategy(self, rpc: str, pub: str, name: str, out: Path, *extra: str) -> Proc:
        return self._start(f"strategy-{name}", [sys.executable, str(STRATEGY), "--rpc", rpc, "--pub", pub,
                                                "--name", name, "--out", str(out), *extra])

    def kill_all(self) -> None:
        for p in self.all:
            try:
                if isinstance(p, SimForker):
                    p.close()
                    continue
                if p.alive():
                    try:
                        p.resume()  # a paused process must be able to die
                    except OSError:
                        pass
                p.kill()
            except Exception:  # noqa: BLE001 - teardown: keep killing the rest
                pass


#: These tests' strategies together send faster than the account-wide program-trading guard allows
#: (200 orders+cancels/s; three strategies at 100/s each, or a burst after a restart): here every
#: order must reach the broker, so the guard is opened unless a test gives its own [risk]. The
#: guard's refusals are tested in tests/risk.
OPEN_RATE_GUARD = {"account_max_actions_per_second": 100000, "account_max_actions_per_day": 10000000}


def _toml(values: dict[str, Any]) -> str:
    lines, tables = [], []
    for k, v in values.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    for name, table in tables:
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


# ---- talking to processes directly ------------------------------------------------------

def sim_call(endpoint: str, method: str, timeout: float = 3.0, **params: Any) -> Any:
    """One request to a `hub sim` process (its own protocol); None when nothing answers."""
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    try:
        s.connect(endpoint)
        s.send(msgpack.packb({"id": 1, "method": method, "params": params}, use_bin_type=True))
        if not s.poll(int(timeout * 1000)):
            return None
        while s.poll(int(timeout * 1000)):
            msg = msgpack.unpackb(s.recv(), raw=False)
            if msg.get("id") == 1:
                return msg.get("result") if msg.get("ok") else None
        return None
    finally:
        s.close(0)


def hub_call(rpc: str, method: str, params: dict | None = None, timeout: float = 3.0) -> dict | None:
    """One call to the hub with a throwaway DEALER: the reply envelope, or None."""
    from raw_hub import call_hub

    return call_hub(rpc, method, params, timeout)


def admin_call(rpc: str, data_dir: Path, method: str, params: dict | None = None) -> Any:
    """hello as admin, then one call, on one DEALER."""
    from rpc_client.protocol import pack, request, unpack

    token = (data_dir / "admin.token").read_text().strip()
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(rpc)
    try:
        out = []
        for i, (m, p) in enumerate((("hello", {"protocol": 1, "strategy": f"adm{uuid.uuid4().hex[:6]}",
                                               "role": "admin", "token": token}), (method, params or {}))):
            s.send(pack(request(i + 1, m, p)))
            reply: dict = {}
            while reply.get("id") != i + 1:  # an admin session is also pushed every account event: skip them
                assert s.poll(5000), f"no reply to {m}"
                reply = unpack(s.recv())
            assert reply["ok"], reply
            out.append(reply["result"])
        s.send(pack(request(9, "bye", {})))
        return out[-1]
    finally:
        s.close(0)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # the last line of a killed process may be cut
    return out


# ---- the journal, read directly (as `hub journal export` does) ----------------------------

def journal_events(data_dir: Path, stream: str | None = None) -> list[dict]:
    db = sqlite3.connect(str(data_dir / "journal.sqlite"))
    try:
        sql = "SELECT seq, stream, sseq, topic, data FROM events"
        rows = db.execute(sql + (" WHERE stream = ? ORDER BY seq" if stream else " ORDER BY seq"),
                          (stream,) if stream else ()).fetchall()
    finally:
        db.close()
    return [{"seq": r[0], "stream": r[1], "sseq": r[2], "topic": r[3],
             "data": msgpack.unpackb(r[4], raw=False)} for r in rows]


def journal_orders(data_dir: Path) -> dict[str, dict]:
    """tag -> {strategy, client_order_id, state, order_id}: the order requests the hub journaled."""
    db = sqlite3.connect(str(data_dir / "journal.sqlite"))
    try:
        rows = db.execute("SELECT tag, strategy, client_order_id, state, order_id FROM orders").fetchall()
    finally:
        db.close()
    return {r[0]: {"strategy": r[1], "client_order_id": r[2], "state": r[3], "order_id": r[4]} for r in rows}
