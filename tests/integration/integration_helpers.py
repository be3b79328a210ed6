"""Start a real hub process on free ports and stop it for sure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import zmq

from rpc_client import protocol as P
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)

REPO = Path(__file__).resolve().parents[2]




def wait_for_hub(rpc: str, timeout: float = 30.0) -> dict:
    """Poll `status` until the hub answers; returns its status map."""
    ctx = zmq.Context.instance()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(rpc)
        try:
            sock.send(P.pack(P.request(1, "status")))
            if sock.poll(500):
                reply = P.unpack(sock.recv())
                if reply.get("ok"):
                    return reply["result"]
        finally:
            sock.close()
    raise TimeoutError(f"no hub answered at {rpc} within {timeout}s")


class HubProcess:
    """`python -m hub start` as a child process, with its output in a log file."""

    def __init__(self, data_dir: Path, *extra: str, rpc: str | None = None, pub: str | None = None):
        self.rpc = rpc or f"tcp://127.0.0.1:{free_port()}"
        self.pub = pub or f"tcp://127.0.0.1:{free_port()}"
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-hub.log"
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "start", "--rpc", self.rpc, "--pub", self.pub,
             "--data-dir", str(data_dir), *extra],
            cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        try:
            self.status = wait_for_hub(self.rpc)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
