"""Shared test helpers: free ports and process cleanup."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/raw_hub.py and other shared helpers

from ports import free_port  # noqa: E402  (one definition: tests/ports.py)

__all__ = ["free_port"]


@pytest.fixture
def endpoints() -> tuple[str, str]:
    """A fresh (rpc, pub) pair of loopback endpoints on free ports."""
    return f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
