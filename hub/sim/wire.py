"""The one codec and method table of the simulator's own wire (`hub sim` <-> `RemoteExchange`).

Requests are msgpack maps `{id, method, params}`; replies `{id, ok, result}` or
`{id, ok: false, error}`; pushes `{event, data}`. No pickle. `METHODS` is derived from the
backend contract (`hub.sim.backend.ExchangeBackend`), so a call added there is served by the
server and offered by the remote backend, or named here as answered locally.

Imported by both ends (server.py and remote.py), so neither imports the other.
"""

from __future__ import annotations

import inspect
from typing import Any

import msgpack

from hub.sim.backend import BACKEND_CALLS, ExchangeBackend

#: backend calls the remote side answers itself, never sent as such: `is_attached` is the link's
#: own state, `settle` has nothing to do (the process runs each call at once, in order), and the
#: async calls are sent as `place_order` / `cancel` carrying their `seq`, without waiting
LOCAL_CALLS = frozenset({"is_attached", "settle", "place_order_async", "cancel_async"})


def _takes_session(name: str) -> bool:
    params = list(inspect.signature(getattr(ExchangeBackend, name)).parameters)
    return len(params) > 1 and params[1] == "session"


#: method -> does it take the caller's session as first argument (the server passes its own
#: stand-in for the remote trader); "ping" keeps an idle connection heard from
METHODS: dict[str, bool] = {
    **{name: _takes_session(name) for name in BACKEND_CALLS if name not in LOCAL_CALLS},
    "ping": False,
}
#: methods only a session attached to THIS server process may call (as on a real terminal, where
#: trading needs a connected session): a request queued for a simulator that died and reaching
#: its restarted successor on a new connection is refused, never run behind its sender's back
ATTACHED_ONLY = frozenset({"subscribe", "unsubscribe", "place_order", "cancel"})
#: quote methods, served by the server's own SimXtData (see `SimServer._q_*`)
QUOTE_METHODS = ("quote_subscribe", "quote_unsubscribe", "full_tick", "quote_active", "market_data")


def pack(obj: Any) -> bytes:
    """msgpack, binary-safe; a value msgpack cannot carry travels as its str."""
    return msgpack.packb(obj, use_bin_type=True, default=str)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)
