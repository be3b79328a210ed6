"""qmt-hub: one process owns the MiniQMT connection; many strategies share it over ZeroMQ.

Packages:
    hub.core     the event loop, sessions, book, journal and routing (the product)
    hub.broker   the one broker path: real xtquant or the simulator behind the same calls
    hub.sim      the simulated MiniQMT (a broker, not part of the hub: imports nothing from hub)
    hub.monitor  the rich terminal dashboard (a read-only client)
    hub.cli      the `hub` command (a thin front end over the above)
"""

__version__ = "0.1.0"

from rpc_client import xtquant_quiet as _xtquant_quiet  # noqa: E402

_xtquant_quiet.install()  # every hub process imports xtquant's constants: skip its network update check
