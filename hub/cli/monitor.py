"""`hub monitor`: the live dashboard, a read-only client of a running hub."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.live import Live

from hub.cli import EXIT_UNREACHABLE, app
from hub.cli import common
from hub.monitor.feed import Feed
from hub.monitor.render import render_dashboard
from hub.monitor.state import MonitorState
from rpc_client.protocol import Role


def terminal_size(console: Console) -> tuple[int, int]:
    """The real size of the terminal, re-read every frame (resizes), even when COLUMNS/LINES are stale."""
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())
        if size.columns > 0 and size.lines > 0:
            return size.columns, size.lines
    except (AttributeError, ValueError, OSError):
        pass
    return console.width, console.height


class _StateLog(logging.Handler):
    """Warnings from the client library go to the dashboard's log pane, not over the screen."""

    def __init__(self, feed: Feed):
        super().__init__(logging.WARNING)
        self.feed = feed

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with self.feed.lock:
                self.feed.state.add_log(record.created, "warning" if record.levelno < logging.ERROR else "error",
                                        record.getMessage())
        except Exception:  # a log handler must never raise
            pass


@app.command("monitor")
def monitor_cmd(strategy: Optional[str] = typer.Option(None, "--strategy", "-s",
                                                       help="Focus on one strategy: its row, orders, trades, log."),
                lang: common.Lang = common.LangOpt,
                refresh: float = typer.Option(4.0, "--refresh", min=0.5, max=30.0, help="Screen redraws per second."),
                once: bool = typer.Option(False, "--once",
                                          help="Print one frame and exit (exit 3 if the hub did not answer)."),
                width: Optional[int] = typer.Option(None, "--width", min=40, help="With --once: frame width."),
                height: Optional[int] = typer.Option(None, "--height", min=10, help="With --once: frame height."),
                rpc: Optional[str] = common.RpcOpt, pub: Optional[str] = common.PubOpt,
                timeout: float = common.TimeoutOpt, curve_dir: Optional[Path] = common.CurveDirOpt) -> None:
    """Live dashboard of a running hub: broker, asset, strategies, positions, orders, trades, traffic, log.

    Works from another terminal or machine (read-only monitor role). Survives hub
    restarts: shows "hub unreachable" and reconnects. Ctrl+C quits. When the output is
    not a terminal, prints one frame as with --once.
    """
    rpc, pub = common.endpoints(rpc, pub)
    curve = common.client_curve(curve_dir)
    state = MonitorState(rpc=rpc, pub=pub)
    feed = Feed(state, lambda: common.make_link(rpc, pub, role=Role.MONITOR, timeout=timeout, curve=curve))
    console = Console()
    if once or not console.is_terminal:
        feed.step()
        feed.step()  # the first step connects and loads the book; the second drains the first events
        if width or height:
            console = Console(width=width, height=height)
        w, h = console.width, height or console.height
        with feed.lock:
            console.print(render_dashboard(state, now=time.time(), width=w, height=h, lang=lang.value,
                                           focus=strategy))
        feed.stop()
        if not state.connected:
            raise typer.Exit(EXIT_UNREACHABLE)
        return

    handler = _StateLog(feed)
    client_log = logging.getLogger("rpc_client")
    client_log.addHandler(handler)
    client_log.propagate = False
    feed.start()
    try:
        with Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False,
                  redirect_stderr=False) as live:
            while True:
                w, h = terminal_size(console)
                console.size = (w, h)
                with feed.lock:
                    frame = render_dashboard(state, now=time.time(), width=w, height=h, lang=lang.value,
                                             focus=strategy)
                live.update(frame, refresh=True)
                time.sleep(1.0 / refresh)
    except KeyboardInterrupt:
        pass
    finally:
        feed.stop()
        client_log.removeHandler(handler)
