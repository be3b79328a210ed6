"""The simulated MiniQMT: an A-share broker with xtquant's own API that runs anywhere.

A broker, not part of the hub: this package imports nothing from `hub` outside
`hub.sim`. Use it exactly like `xtquant.xttrader`:

    from hub.sim import XtQuantTrader, XtQuantTraderCallback

Traders created with the same `path` share one simulated terminal (exchange,
accounts, orders) persisted in SQLite under that path. See docs/simulator.md.
"""

from xtquant.xttype import StockAccount

from hub.sim.config import SimConfig
from hub.sim.exchange import SimExchange
from hub.sim.registry import configure, get_exchange, resolve_folder, shutdown_all, shutdown_exchange
from hub.sim.trader import XtQuantTrader, XtQuantTraderCallback
from hub.sim.xtdata import open_xtdata

#: the old public constructor of the quote source, kept: `SimXtData(path)` is `open_xtdata(path)`
#: (a folder gives `hub.sim.xtdata.SimXtData`, a tcp:// endpoint `hub.sim.remote.RemoteSimXtData`)
SimXtData = open_xtdata

__all__ = [
    "SimConfig", "SimExchange", "SimXtData", "StockAccount", "XtQuantTrader", "XtQuantTraderCallback",
    "configure", "get_exchange", "open_xtdata", "resolve_folder", "shutdown_all", "shutdown_exchange",
]
