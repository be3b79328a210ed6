"""Importing the hub or the client never runs xtquant's network update check (2.5 s per process here, up to
10 s offline), and leaves `requests` importable for the program's own use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    fake = tmp_path / "fake"
    fake.mkdir(exist_ok=True)
    (fake / "requests.py").write_text(
        "import os\n"
        "def get(url, timeout=None):\n"
        "    open(os.environ['MARKER'], 'a').write(url + '\\n')\n"
        "    raise OSError('offline')\n", encoding="utf-8")
    marker = tmp_path / "asked.txt"
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)]), "MARKER": str(marker), **env}
    full_env.pop("QMT_HUB_XTQUANT_UPDATE_CHECK", None)
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=full_env,
                          cwd=tmp_path)


def test_hub_and_client_imports_skip_the_update_check(tmp_path):
    for module in ("rpc_client", "hub.sim", "hub.core"):
        r = _run(tmp_path, f"import {module}, xtquant.xttype; import requests; print(requests.get.__module__)")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "requests"  # the program's own `requests` is still there
        assert not (tmp_path / "asked.txt").exists(), f"importing {module} asked PyPI"


def test_the_check_can_be_kept(tmp_path):
    r = _run(tmp_path, "import rpc_client, xtquant.xttype", QMT_HUB_XTQUANT_UPDATE_CHECK="1")
    assert r.returncode == 0, r.stderr
    assert "pypi.org/pypi/xtquant" in (tmp_path / "asked.txt").read_text()
