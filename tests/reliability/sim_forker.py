"""Start simulator processes in milliseconds: a parent imports the simulator once and forks them.

    python sim_forker.py --path DIR --endpoint tcp://... [--config JSON]

Each line `start` on stdin forks a child that opens the simulator state at DIR and serves it
on the endpoint (the same `SimServer` as `hub sim`); the child's pid is printed on stdout.
The test SIGKILLs the child (the broker crash) and asks for the next one, which takes over
the same state and port at once: the drill restarts the broker many times, and a cold
`hub sim` start costs seconds on a loaded machine. The parent creates no ZeroMQ context and
no thread before forking; it reaps its children, and kills the living ones when stdin closes
or it gets SIGTERM. Test-only and POSIX-only (os.fork), like SIGKILL itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import hub.sim as simmod  # noqa: E402
from hub.sim.server import SimServer  # noqa: E402

children: set[int] = set()


def _serve(path: str, endpoint: str, config: dict) -> None:
    exchange = simmod.get_exchange(path, simmod.SimConfig.from_dict(config))
    deadline = time.monotonic() + 10
    while True:  # the killed predecessor may hold the port a moment longer (SIGKILL is not instant)
        try:
            server = SimServer(exchange, endpoint)
            break
        except Exception as exc:  # noqa: BLE001 - zmq.ZMQError: address in use
            if time.monotonic() > deadline:
                print(f"simulator {os.getpid()} cannot serve on {endpoint}: {exc}", file=sys.stderr, flush=True)
                raise
            time.sleep(0.02)
    server.start()
    print(f"simulator {os.getpid()} at {endpoint}", file=sys.stderr, flush=True)
    threading.Event().wait()


def _reap(*_: object) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)


def _kill_children(*_: object) -> None:
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--config", default="{}")
    args = ap.parse_args()
    config = json.loads(args.config)
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, _kill_children)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "start":
            continue
        pid = os.fork()
        if pid == 0:  # the simulator
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _serve(args.path, args.endpoint, config)
            finally:
                os._exit(1)
        children.add(pid)
        print(pid, flush=True)
    _kill_children()
    return 0


if __name__ == "__main__":
    sys.exit(main())
