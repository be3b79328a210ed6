"""Sampling profile of a hub process with py-spy (all threads, no code change in the hub).

`python scripts/bench.py --profile DIR` records the quiet hub (cases 2, 3, 4, 6, 7) and
writes DIR/hub-quiet.txt (py-spy's raw collapsed stacks, viewable with speedscope or
flamegraph.pl) and DIR/hub-quiet-summary.txt (busy time by function, idle waits removed).
py-spy is not a dependency: `pip install py-spy`. Without it the option notes why and goes on.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# Frames that mean "this thread is waiting", not working.
IDLE = ("Poller.poll", "Condition.wait", "Queue.get (", "Event.wait", "Thread.join", "select (", "sleep (")


class Spy:
    def __init__(self, pid: int, out: Path, rate: int = 250):
        self.out = out
        exe = shutil.which("py-spy")
        if exe is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self.proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
                                      "--nonblocking", "-o", str(out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.CTRL_C_EVENT if sys.platform == "win32" else signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-300:]}")
        summary = summarize(self.out)
        self.out.with_name(self.out.stem + "-summary.txt").write_text(summary, encoding="utf-8")
        return summary


def summarize(path: Path, top: int = 40) -> str:
    """Busy samples by function (inclusive and self), idle waits left out."""
    incl: collections.Counter = collections.Counter()
    selft: collections.Counter = collections.Counter()
    busy = total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        stack, _, n = line.rpartition(" ")
        try:
            k = int(n)
        except ValueError:
            continue
        total += k
        frames = stack.split(";")
        if any(frames[-1].startswith(i.strip()) or i in frames[-1] for i in IDLE):
            continue
        busy += k
        for f in {fr.split(":")[0] + ")" if ":" in fr else fr for fr in frames}:
            incl[f] += k
        selft[frames[-1]] += k
    lines = [f"samples: {total}, busy (not waiting): {busy}", "", "inclusive busy time, % of busy samples:"]
    lines += [f"{v / max(1, busy) * 100:6.1f}%  {k}" for k, v in incl.most_common(top)]
    lines += ["", "self busy time:"]
    lines += [f"{v / max(1, busy) * 100:6.1f}%  {k}" for k, v in selft.most_common(top // 2)]
    return "\n".join(lines) + "\n"
