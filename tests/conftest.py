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


@pytest.fixture(autouse=True, scope="session")
def isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """`~` is a fresh folder for the whole run, so the user's own hub cannot change a test's outcome.

    The CLI and the runner fall back to `~/.qmt-hub` (the admin token, the task registry, the
    calendar cache); a hub the user started by hand writes `admin.token` there, and a test that
    checks "no token given" would then find one. HOME (POSIX) and USERPROFILE (Windows) both move;
    PYTHONUSERBASE keeps the real user site, so child processes of a `pip install --user` still import.
    """
    import os
    import site

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONUSERBASE", os.environ.get("PYTHONUSERBASE") or site.getuserbase())
        mp.setenv("HOME", str(home))
        mp.setenv("USERPROFILE", str(home))
        mp.delenv("QMT_HUB_DATA", raising=False)
        yield home
