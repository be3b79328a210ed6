"""`hub run-xt SCRIPT [ARGS...]`: run an unmodified xtquant program against the hub.

The same as ``python -m rpc_client.run SCRIPT [ARGS...]`` (see `rpc_client.run`): xtquant's
trader, xtdata and xtdatacenter are served by the hub through an import hook in the child
process; nothing is written into site-packages. The child's exit code is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

import typer

from hub.cli import app
from hub.cli.common import PubOpt, RpcOpt
from rpc_client.endpoints import ENV_PUB, ENV_RPC
from rpc_client.xttrader import ENV_STRATEGY


@app.command("run-xt", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_xt_cmd(script: str = typer.Argument(..., help="The xtquant program (a .py file)."),
               args: Optional[List[str]] = typer.Argument(None, help="Its own arguments."),
               strategy: Optional[str] = typer.Option(None, "--strategy", "-s",
                                                      help="Strategy name [default: $QMT_HUB_STRATEGY, else the "
                                                           "script's file name]."),
               rpc: Optional[str] = RpcOpt, pub: Optional[str] = PubOpt) -> None:
    """Run an unmodified xtquant program with xtquant.xttrader / xtdata / xtdatacenter served by the hub."""
    env = dict(os.environ)
    if rpc:
        env[ENV_RPC] = rpc
    if pub:
        env[ENV_PUB] = pub
    if strategy:
        env[ENV_STRATEGY] = strategy
    cmd = [sys.executable, "-m", "rpc_client.run", script, *(args or [])]
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)
