"""Is MiniQMT there at all? A cheap look before a full xtquant connect (hub/core/reconnect.py).

MiniQMT runs as `XtMiniQmt.exe` (the QMT terminal's mini mode; the full terminal is `XtItClient.exe`);
without one of them running, or without its `userdata_mini` folder, a connect cannot work and
only adds a session to MiniQMT's table. `psutil` (a dependency already) lists the processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

MINIQMT_PROCESSES = frozenset({"xtminiqmt.exe", "xtitclient.exe", "xtminiqmt", "xtitclient"})


def miniqmt_probe(qmt_path: str, processes: Callable[[], set[str]] | None = None) \
        -> Callable[[], tuple[bool | None, str]]:
    """A probe for MiniQMT at `qmt_path`: (True, ...) running, (False, why) not, (None, why) cannot tell."""

    def running() -> set[str]:
        import psutil

        return {(p.info.get("name") or "").lower() for p in psutil.process_iter(["name"])}

    names_of = processes or running

    def probe() -> tuple[bool | None, str]:
        if not Path(qmt_path).exists():
            return False, f"MiniQMT's folder {qmt_path} does not exist (is --qmt-path its userdata_mini?)"
        try:
            names = names_of()
        except Exception as exc:  # noqa: BLE001 - no process list: cannot tell, so try
            return None, f"cannot list processes: {exc}"
        if names & MINIQMT_PROCESSES:
            return True, "MiniQMT is running"
        return False, "XtMiniQmt.exe is not running (start the QMT terminal in 极简模式 and log in)"

    return probe
