"""Run an unmodified xtquant program against the hub: ``python -m rpc_client.run SCRIPT [ARGS...]``.

``xtquant.xttrader``, ``xtquant.xtdata`` and ``xtquant.xtdatacenter`` are served by the hub
through an import hook (``rpc_client.xthook``); the rest of xtquant is the real package. The
script runs as ``__main__`` with ``sys.argv`` = ``[SCRIPT, ARGS...]`` and its folder first on
``sys.path``, as ``python SCRIPT`` would run it. ``-m MODULE`` runs a module instead (as
``python -m MODULE``). The hub is ``QMT_HUB`` (default ``tcp://127.0.0.1:5555``) and the strategy
name ``QMT_HUB_STRATEGY``, else the script's file name; ``--hub`` and ``--strategy`` set them.
``hub run-xt SCRIPT`` is the same command.

Examples::

    python -m rpc_client.run my_strategy.py --symbol 600000.SH
    python -m rpc_client.run --hub tcp://10.0.0.5:5555 --strategy grid -m mypkg.grid
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from rpc_client import xthook
from rpc_client.endpoints import ENV_RPC
from rpc_client.xttrader import ENV_STRATEGY

USAGE = "usage: python -m rpc_client.run [--hub tcp://HOST:PORT] [--strategy NAME] (SCRIPT | -m MODULE) [ARGS...]"


def main(argv: list[str] | None = None) -> int:
    """Run the script or module named in `argv` (default ``sys.argv[1:]``) with the hook installed."""
    args = list(sys.argv[1:] if argv is None else argv)
    module = None
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-h", "--help"):
            print(__doc__.strip() + "\n\n" + USAGE)
            return 0
        if opt in ("--hub", "--strategy", "-m") and args:
            value = args.pop(0)
            if opt == "--hub":
                os.environ[ENV_RPC] = value
            elif opt == "--strategy":
                os.environ[ENV_STRATEGY] = value
            else:
                module = value
                break
            continue
        print(f"rpc_client.run: unknown option {opt!r}\n{USAGE}", file=sys.stderr)
        return 2
    if module is None and not args:
        print(USAGE, file=sys.stderr)
        return 2
    if module is not None:
        xthook.install()
        sys.argv = [module, *args]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    script = Path(args[0])
    if not script.is_file():
        print(f"rpc_client.run: no such script: {script}", file=sys.stderr)
        return 2
    xthook.install()
    sys.argv = [str(script), *args[1:]]
    sys.path.insert(0, str(script.resolve().parent))
    runpy.run_path(str(script), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
