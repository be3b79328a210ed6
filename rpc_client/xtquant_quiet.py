"""Import the `xtquant` package without its import-time update check.

`xtquant/__init__.py` asks PyPI for the latest version on every import when `requests` is
installed (10 s timeout), prints a line, and imports `requests` and `pkg_resources` to do it:
about 2.5 s per process here, and up to 10 s on a trading machine without internet. The hub,
the simulator and every strategy process import xtquant's pure-Python parts (`xtconstant`,
`xttype`), so each paid it. `quiet()` imports the package once with `requests` hidden, which
makes the check fail at once inside xtquant's own `try`; nothing else of xtquant changes.
Set QMT_HUB_XTQUANT_UPDATE_CHECK=1 to keep xtquant's check.
"""

from __future__ import annotations

import os
import sys

_MISSING = object()


def quiet() -> None:
    """Import `xtquant` (the package only) with its update check skipped; a no-op once imported."""
    if "xtquant" in sys.modules or os.environ.get("QMT_HUB_XTQUANT_UPDATE_CHECK", "").strip() == "1":
        return
    saved = sys.modules.get("requests", _MISSING)
    sys.modules["requests"] = None  # type: ignore[assignment]  # `import requests` raises ImportError
    try:
        import xtquant  # noqa: F401
    except ImportError:  # xtquant not installed: the callers say so when they need it
        pass
    finally:
        if saved is _MISSING:
            del sys.modules["requests"]
        else:
            sys.modules["requests"] = saved
