"""Drop-in for the real-time part of ``xtquant.xtdata``, served by the hub::

    # from xtquant import xtdata
    from rpc_client import xtdata

    def on_data(datas):                     # {code: [tick]}  as xtdata.subscribe_quote gives it
        print(datas)

    seq = xtdata.subscribe_quote("600000.SH", period="tick", callback=on_data)
    xtdata.subscribe_whole_quote(["SH", "SZ"], callback=lambda datas: ...)   # {code: tick}
    print(xtdata.get_full_tick(["600000.SH"]))
    xtdata.run()

The module keeps one gateway, connected on first use to ``QMT_HUB`` (default
``tcp://127.0.0.1:5555``; events at ``QMT_HUB_PUB`` or rpc port + 1) with the **monitor**
role (read-only: it cannot place orders) under the name ``xtdata-<pid>``, and it does
not follow account events. Only ``period='tick'`` is served (the hub relays ticks);
other periods return -1 with a logged warning. Callbacks run on the client's callback
thread, one at a time.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from typing import Any, Callable

from rpc_client.endpoints import resolve
from rpc_client.gateway import RpcGateway
from rpc_client.protocol import HubError, Role

log = logging.getLogger("rpc_client")

_lock = threading.RLock()
_gw: RpcGateway | None = None
_seqs = itertools.count(1)
#: seq -> (kind 'quote' | 'whole', codes, callback)
_subs: dict[int, tuple[str, list[str], Callable[[dict], Any] | None]] = {}


def _markets_match(code: str, codes: list[str]) -> bool:
    return code in codes or code.rsplit(".", 1)[-1] in codes


def _on_tick(code: str, tick: Any) -> None:
    with _lock:
        subs = list(_subs.values())
    for kind, codes, cb in subs:
        if cb is None or not _markets_match(code, codes):
            continue
        try:
            cb({code: [tick]} if kind == "quote" else {code: tick})
        except Exception:
            log.exception("rpc_client.xtdata: subscribe callback %s raised", cb)


def _gateway() -> RpcGateway:
    """The module's gateway, connected on first use."""
    global _gw
    with _lock:
        if _gw is None:
            rpc, pub = resolve(None)
            gw = RpcGateway(rpc, pub, follow_events=False)
            gw.on_tick = _on_tick
            gw.connect(strategy=f"xtdata-{os.getpid()}", role=Role.MONITOR)
            _gw = gw
        return _gw


def _codes_in_use(exclude: int) -> set[str]:
    return {c for s, (_, codes, _) in _subs.items() if s != exclude for c in codes}


def subscribe_quote(stock_code: str, period: str = "tick", start_time: str = "", end_time: str = "",
                    count: int = 0, callback: Callable[[dict], Any] | None = None) -> int:
    """Subscribe one code's ticks; callback gets ``{code: [tick]}``. Returns a seq (-1 on failure)."""
    if period != "tick":
        log.warning("rpc_client.xtdata: only period='tick' is served through the hub, not %r", period)
        return -1
    try:
        _gateway().subscribe_quote([stock_code])
    except HubError as exc:
        log.warning("rpc_client.xtdata: subscribe_quote %s failed: %s", stock_code, exc)
        return -1
    with _lock:
        seq = next(_seqs)
        _subs[seq] = ("quote", [stock_code], callback)
    return seq


def subscribe_whole_quote(code_list: list[str], callback: Callable[[dict], Any] | None = None) -> int:
    """Markets (``['SH', 'SZ']``) or codes; callback gets ``{code: tick}``. Returns a seq (-1 on failure)."""
    codes = [code_list] if isinstance(code_list, str) else list(code_list)
    try:
        _gateway().subscribe_whole_quote(codes)
    except HubError as exc:
        log.warning("rpc_client.xtdata: subscribe_whole_quote %s failed: %s", codes, exc)
        return -1
    with _lock:
        seq = next(_seqs)
        _subs[seq] = ("whole", codes, callback)
    return seq


def unsubscribe_quote(seq: int) -> None:
    """Drop one subscription; the hub stops sending a code once no subscription uses it."""
    with _lock:
        sub = _subs.pop(seq, None)
        if sub is None or _gw is None:
            return
        unused = [c for c in sub[1] if c not in _codes_in_use(seq)]
    if unused:
        try:
            _gw.unsubscribe_quote(unused)
        except HubError as exc:
            log.warning("rpc_client.xtdata: unsubscribe_quote %s failed: %s", unused, exc)


def get_full_tick(code_list: list[str]) -> dict:
    """``{code: tick}`` for the latest tick of each code (markets or codes)."""
    codes = [code_list] if isinstance(code_list, str) else list(code_list)
    return _gateway().get_full_tick(codes)


def run() -> None:
    """Block and keep receiving callbacks (Ctrl+C to leave); raises if the client was closed."""
    gw = _gateway()
    while True:
        time.sleep(0.5)
        if gw._transport is None or gw._transport.state == "closed":
            raise Exception("行情服务连接断开 (the connection to the hub was closed)")


def close() -> None:
    """Close the module's gateway (not in xtquant; for tests and clean exits)."""
    global _gw
    with _lock:
        gw, _gw = _gw, None
        _subs.clear()
    if gw is not None:
        gw.close()


__all__ = ["subscribe_quote", "subscribe_whole_quote", "unsubscribe_quote", "get_full_tick", "run", "close"]
