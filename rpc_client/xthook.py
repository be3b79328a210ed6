"""The import hook that serves ``xtquant.xttrader``, ``xtquant.xtdata`` and ``xtquant.xtdatacenter``
from the hub, so an xtquant program runs with zero changed lines (``python -m rpc_client.run``).

A finder in ``sys.meta_path`` answers for those three module names before the real xtquant
package's own files are looked at; nothing is written into site-packages, and only this process
(and whatever it imports) is affected. The rest of xtquant (``xttype``, ``xtconstant``...) is
the real, pure-Python package. Each served module is a view of the rpc_client module behind it:
the same functions and the same module state (``rpc_client.xttrader`` and so on).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Sequence

#: xtquant module -> the rpc_client module that serves it
SERVED = {
    "xtquant.xttrader": "rpc_client.xttrader",
    "xtquant.xtdata": "rpc_client.xtdata",
    "xtquant.xtdatacenter": "rpc_client.xtdatacenter",
}
_KEEP = frozenset({"__name__", "__spec__", "__loader__", "__file__", "__cached__", "__package__", "__path__",
                   "__builtins__"})


class XtquantHook(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the xtquant modules listed in :data:`SERVED` from ``rpc_client``."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None):
        source = SERVED.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=f"qmt-hub ({source})")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # a fresh module, filled by exec_module

    def exec_module(self, module: ModuleType) -> None:
        source = importlib.import_module(SERVED[module.__name__])
        module.__dict__.update({k: v for k, v in vars(source).items() if k not in _KEEP})
        module.__doc__ = source.__doc__
        module.__served_by__ = source.__name__  # type: ignore[attr-defined]


def install() -> XtquantHook:
    """Put the hook first in ``sys.meta_path`` (once) and forget any xtquant module already imported
    from xtquant's own files, so the next import gets the hub's. Returns the hook."""
    for finder in sys.meta_path:
        if isinstance(finder, XtquantHook):
            return finder
    hook = XtquantHook()
    sys.meta_path.insert(0, hook)
    for name in SERVED:
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "__served_by__", None) is None:
            del sys.modules[name]
            parent = sys.modules.get(name.rpartition(".")[0])
            if parent is not None and getattr(parent, name.rpartition(".")[2], None) is mod:
                delattr(parent, name.rpartition(".")[2])
    return hook


def uninstall() -> None:
    """Remove the hook and the modules it served (tests)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, XtquantHook)]
    for name in SERVED:
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "__served_by__", None) is not None:
            del sys.modules[name]
            parent = sys.modules.get(name.rpartition(".")[0])
            if parent is not None and getattr(parent, name.rpartition(".")[2], None) is mod:
                delattr(parent, name.rpartition(".")[2])


def is_installed() -> bool:
    return any(isinstance(f, XtquantHook) for f in sys.meta_path)


__all__ = ["SERVED", "XtquantHook", "install", "uninstall", "is_installed"]
