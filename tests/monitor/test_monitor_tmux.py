"""`hub monitor` in a real terminal (tmux): header and strategies on screen, and through a hub restart.

Needs tmux (CI installs it); skipped with a reason only where tmux is absent.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from monitor_helpers import wait_until

from rpc_client import HubError, RpcGateway

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One private tmux server (its own socket), so the user's sessions are never touched."""

    def __init__(self) -> None:
        self.socket = f"qmthub-test-{os.getpid()}-{time.monotonic_ns() % 100000}"
        self.path = ""

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def start(self, command: str, width: int, height: int) -> None:
        self.run("new-session", "-d", "-s", "mon", "-x", str(width), "-y", str(height), command)
        self.path = self.run("display-message", "-p", "#{socket_path}").strip()

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "mon")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        if self.path:
            Path(self.path).unlink(missing_ok=True)


def start_hub(rpc: str, pub: str, data_dir: Path, log: Path) -> subprocess.Popen:
    out = open(log, "ab")
    return subprocess.Popen([sys.executable, "-m", "hub", "start", "--rpc", rpc, "--pub", pub,
                             "--data-dir", str(data_dir)], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def connect_strategy(rpc: str, pub: str, name: str) -> RpcGateway:
    def attempt():
        gw = RpcGateway(rpc, pub, timeout=1.0, backoff_max=1.0)
        try:
            gw.connect(strategy=name)
            return gw
        except HubError:
            gw.close()
            return None
    return wait_until(attempt, timeout=20, what=f"hub up for {name}")


def test_monitor_in_tmux_shows_header_strategies_and_survives_restart(tmp_path, endpoints):
    rpc, pub = endpoints
    data = tmp_path / "hub"
    log = tmp_path / "hub.log"
    hub = start_hub(rpc, pub, data, log)
    tmux = Tmux()
    strategies: list[RpcGateway] = []
    try:
        strategies = [connect_strategy(rpc, pub, n) for n in ("alpha", "beta", "gamma")]
        cmd = (f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m hub monitor "
               f"--rpc {rpc} --pub {pub} --timeout 1 --lang en; sleep 60")
        tmux.start(cmd, 100, 45)  # tall enough that a reconnect flap under load leaves "hub restarted" in the log pane

        def shows(*needles: str):
            def check():
                text = tmux.screen()
                return text if all(n in text for n in needles) else None
            return check

        text = wait_until(shows("qmt-hub", "BROKER UP", " alpha ", " beta ", " gamma "), timeout=20,
                          what="the dashboard")
        lines = text.splitlines()
        assert rpc in lines[0] and "SIM0001" in lines[0]
        assert "strategies (3)" in text
        first_id = lines[0].split("hub_id ")[1].split()[0]

        stop(hub)
        wait_until(shows("HUB UNREACHABLE"), timeout=15, what="the unreachable banner")

        hub = start_hub(rpc, pub, data, log)

        def back_with_strategies():
            text = tmux.screen()
            cells = [line.strip("│ ").split() for line in text.splitlines()]
            rows = [c for c in cells if c[:2] in (["alpha", "strategy"], ["beta", "strategy"], ["gamma", "strategy"])]
            ok = ("BROKER UP" in text and first_id not in text.splitlines()[0] and len(rows) == 3
                  and not any("gone" in c for c in rows))
            return text if ok else None

        text = wait_until(back_with_strategies, timeout=40, what="the dashboard after the restart")
        assert "hub restarted" in text
        assert "rpc_client" not in text.split("log (")[0]  # no stray log lines over the panes
    except AssertionError:
        print("--- last screen ---\n" + tmux.screen() + "\n--- hub log ---\n" + log.read_text(errors="replace"))
        raise
    finally:
        for gw in strategies:
            gw.close()
        tmux.kill()
        stop(hub)
