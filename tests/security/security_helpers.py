"""Helpers for the security tests: free loopback ports, CurveZMQ key folders, the CLI as a process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hub import security
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)

#: Fast client timings (heartbeats, reconnects) so refusals show up within a second or two.
FAST = dict(heartbeat_interval=0.1, dead_after=0.6, backoff_initial=0.1, backoff_max=0.4)




def loopback_endpoints() -> tuple[str, str]:
    return f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"


def wait_for(pred: Any, timeout: float = 5.0, interval: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def make_keys(curve_dir: Path, *clients: str) -> dict[str, Path]:
    """The hub's keypair plus one authorised client folder per name (as `hub keys` makes them)."""
    import shutil

    (curve_dir / security.AUTHORIZED).mkdir(parents=True, exist_ok=True)
    security.create_keypair(curve_dir, security.SERVER_NAME)
    folders = {}
    for name in clients:
        dest = curve_dir / security.CLIENTS / name
        public, _ = security.create_keypair(dest, name)
        shutil.copyfile(curve_dir / security.SERVER_KEY, dest / security.SERVER_KEY)
        shutil.copyfile(public, curve_dir / security.AUTHORIZED / f"{name}.key")
        folders[name] = dest
    return folders


def run_hub_cli(*args: str, timeout: float = 30, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)
