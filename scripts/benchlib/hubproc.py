"""Start and stop a hub process for the bench (simulated broker, free ports, temp data dir)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchlib import rawhub
from benchlib.util import free_endpoint

REPO = Path(__file__).resolve().parents[2]


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else toml_value(k)


def write_toml(path: Path, top: dict[str, Any], tables: dict[str, dict[str, Any]]) -> None:
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items()]
    for name, table in tables.items():
        lines.append("")
        lines.append(f"[{name}]")
        lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class HubProcess:
    """`python -m hub start` in its own process, as in real use (no shared GIL with clients)."""

    def __init__(self, config: dict[str, Any], sim: dict[str, Any], keep: bool = False, module: str = "hub",
                 wrapper: list[str] | None = None):
        self.module = module  # what `python -m` runs: the hub, or a bench control built on it (null_risk_hub)
        self.wrapper = list(wrapper or [])  # a command the hub runs under (valgrind: risk_instructions.py)
        self.rpc = free_endpoint()
        self.pub = free_endpoint()
        while self.pub == self.rpc:
            self.pub = free_endpoint()
        self.dir = Path(tempfile.mkdtemp(prefix="qmt-hub-bench-"))
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "hub.toml"
        self.log_path = self.dir / "hub.log"
        self.config = dict(config)
        self.sim = dict(sim)
        self.keep = keep
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 30.0) -> dict[str, Any]:
        top = {"broker": "sim", "rpc": self.rpc, "pub": self.pub, "data_dir": str(self.data_dir),
               "log_level": "WARNING"}
        top.update(self.config)
        write_toml(self.config_path, top, {"sim": self.sim} if self.sim else {})
        cmd = [*self.wrapper, sys.executable, "-m", self.module, "start", "--config", str(self.config_path),
                "--rpc", self.rpc, "--pub", self.pub, "--data-dir", str(self.data_dir)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join((str(REPO), str(REPO / "scripts"), env.get("PYTHONPATH", "")))
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # so CTRL_BREAK reaches only the hub
        else:
            kwargs["start_new_session"] = True  # a terminal Ctrl+C hits the bench, which then stops the hub
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=str(REPO), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, **kwargs)
        try:
            return rawhub.wait_ready(self.rpc, timeout)
        except Exception as exc:
            code = self.proc.poll()
            self.stop()
            raise RuntimeError(f"hub did not start ({exc}; exit code {code}); log: {self.log_tail()}") from None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 1500) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:].strip()
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ask the hub to stop (Ctrl+C / Ctrl+Break), then terminate, then kill."""
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.send_signal(signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGINT)
                p.wait(timeout)
            except (subprocess.TimeoutExpired, OSError, ValueError):
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None
        return p.returncode if p is not None else None

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class SimProcess:
    """`python -m hub sim` in its own process: the simulated MiniQMT a hub reaches over tcp
    (`sim_endpoint`), as a real MiniQMT runs beside the hub."""

    def __init__(self, sim: dict[str, Any], keep: bool = False):
        self.endpoint = free_endpoint()
        self.dir = Path(tempfile.mkdtemp(prefix="qmt-hub-bench-sim-"))
        self.sim = dict(sim)
        self.keep = keep
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 30.0) -> None:
        import socket
        import time

        cfg = self.dir / "sim.toml"
        write_toml(cfg, {}, {"sim": self.sim} if self.sim else {})
        cmd = [sys.executable, "-m", "hub", "sim", "--path", str(self.dir / "terminal"), "--endpoint", self.endpoint,
               "--config", str(cfg)]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True
        self._log = open(self.dir / "sim.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=str(REPO), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, **kwargs)
        host, port = self.endpoint.rsplit("/", 1)[1].rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # listening = served
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection((host, int(port)), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hub sim did not start: {(self.dir / 'sim.log').read_text(errors='replace')[-800:]}")

    def stop(self, timeout: float = 15.0) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.send_signal(signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGINT)
                p.wait(timeout)
            except (subprocess.TimeoutExpired, OSError, ValueError):
                p.kill()
                p.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
