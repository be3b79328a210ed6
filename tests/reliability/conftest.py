"""Fixtures for the fault-injection tests: a registry of real processes, all killed at teardown."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults import Procs  # noqa: E402


@pytest.fixture
def procs(tmp_path: Path):
    registry = Procs(tmp_path)
    try:
        yield registry
    finally:
        registry.kill_all()
