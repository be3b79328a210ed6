"""Small shared helpers: ports, statistics, machine description."""

from __future__ import annotations

import math
import os
import platform
import socket
import statistics
import sys
import time
from typing import Any, Iterable, Sequence


_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now and not handed out before by this process
    (the OS may give two binds in a row the same ephemeral port once the first is closed)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port
    raise RuntimeError("no loopback port this process has not used yet in 200 tries")


def free_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank-with-interpolation percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return float(sorted_values[lo] * (1 - frac) + sorted_values[hi] * frac)


def p50_p99(samples_ns: Iterable[int]) -> tuple[float, float]:
    """(p50, p99) in microseconds of round-trip samples in nanoseconds."""
    s = sorted(samples_ns)
    return percentile(s, 50) / 1000.0, percentile(s, 99) / 1000.0


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(vals) if vals else math.nan


def spread(values: Iterable[float]) -> tuple[float, float]:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return (min(vals), max(vals)) if vals else (math.nan, math.nan)


def machine_info() -> dict[str, Any]:
    """What the bench ran on: enough to compare two runs."""
    import msgpack
    import psutil
    import zmq

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "msgpack": ".".join(str(x) for x in msgpack.version),
        "hostname": platform.node(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        freq = psutil.cpu_freq()
        if freq and freq.max:
            info["cpu_mhz_max"] = round(freq.max)
    except Exception:  # not available everywhere (containers, some Windows VMs)
        pass
    try:
        info["load_avg_1m_at_start"] = round(psutil.getloadavg()[0], 2)
    except Exception:
        pass
    return info


def _cpu_model() -> str:
    name = ""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.lower().startswith("model name"):
                        name = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            import subprocess

            name = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip()
        except Exception:
            pass
    return name or platform.processor() or os.environ.get("PROCESSOR_IDENTIFIER", "") or "unknown"
