"""Import the `xtquant` package without its import-time update check, whenever it is first imported.

`xtquant/__init__.py` asks PyPI for the latest version on every import when `requests` is
installed (10 s timeout), prints a line, and imports `requests` and `pkg_resources` to do it:
about 2.5 s per process here, and up to 10 s on a trading machine without internet. The hub,
the simulator and every strategy process import xtquant's pure-Python parts (`xtconstant`,
`xttype`), so each paid it.

`install()` puts a finder first on `sys.meta_path` that waits for the first `import xtquant`
(from anywhere: us, easytrader, vnpy_xt) and runs that one package `__init__` with `requests`
hidden, so the check fails at once inside xtquant's own `try`. It imports nothing itself
(`import rpc_client` still does not import xtquant), changes nothing else of xtquant, and takes
itself off `sys.meta_path` after that one import. QMT_HUB_XTQUANT_UPDATE_CHECK=1 keeps the check.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

_MISSING = object()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, real: Any):
        self._real = real

    def create_module(self, spec: Any) -> Any:
        return self._real.create_module(spec)

    def exec_module(self, module: Any) -> None:
        saved = sys.modules.get("requests", _MISSING)
        sys.modules["requests"] = None  # type: ignore[assignment]  # `import requests` raises ImportError
        try:
            self._real.exec_module(module)
        finally:
            if saved is _MISSING:
                sys.modules.pop("requests", None)
            else:
                sys.modules["requests"] = saved

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._real, name)


class _QuietXtquantFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "xtquant":
            return None
        _uninstall()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_FINDER = _QuietXtquantFinder()


def install() -> None:
    """Skip xtquant's update check at its first import in this process (no-op if already imported)."""
    if "xtquant" in sys.modules or os.environ.get("QMT_HUB_XTQUANT_UPDATE_CHECK", "").strip() == "1":
        return
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def _uninstall() -> None:
    try:
        sys.meta_path.remove(_FINDER)
    except ValueError:
        pass
