"""`scripts/risk_instructions.py`: the callgrind dumps are summed right, and the full count runs where valgrind is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import risk_instructions  # noqa: E402


def test_callgrind_total_sums_every_dump_of_one_output(tmp_path: Path) -> None:
    # callgrind writes `out` at exit and `out.1`, `out.2` ... for each `callgrind_control -d`
    (tmp_path / "callgrind.out").write_text("events: Ir\nsummary: 0\ntotals: 0\n", encoding="utf-8")
    (tmp_path / "callgrind.out.1").write_text("events: Ir\nsummary: 0\ntotals: 1500\nfl=x\n", encoding="utf-8")
    (tmp_path / "callgrind.out.2").write_text("totals: 250\n", encoding="utf-8")
    (tmp_path / "other.out.1").write_text("totals: 99999\n", encoding="utf-8")
    assert risk_instructions.callgrind_total(tmp_path / "callgrind.out") == 1750


def test_without_valgrind_it_says_so_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(risk_instructions.shutil, "which", lambda name: None)
    assert risk_instructions.main(["--orders", "10"]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.timeout(600)
def test_it_counts_a_hub_with_the_stage_doing_more_than_one_without() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "risk_instructions.py"), "--orders", "100"],
                          capture_output=True, text=True, timeout=560)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = {}
    for line in proc.stdout.splitlines():
        label, _, rest = line.partition(":")
        got[label.strip()] = int(rest.split()[0].replace(",", ""))
    assert got["hub, risk stage on"] > got["hub, risk stage off"] > 100_000
    assert abs(got["added by the stage"] - (got["hub, risk stage on"] - got["hub, risk stage off"])) <= 1  # each printed rounded
    assert 10_000 < got["the stage alone"] < got["hub, risk stage off"]
