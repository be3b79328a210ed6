"""The hub's market-data service: bars, reference data and calendars from the one source.

`MarketData` (service.py) takes the requests, caches what does not change intraday, makes
every upstream call on one thread and pages large results; `upstream.py` adapts the source
(the simulator or the real xtdata); `handlers.py` wires the protocol methods to it.
"""

from hub.marketdata.service import MarketData, paginate
from hub.marketdata.upstream import NotServed, SimUpstream, UpstreamThread, XtDataUpstream, make_upstream

__all__ = ["MarketData", "paginate", "NotServed", "SimUpstream", "UpstreamThread", "XtDataUpstream", "make_upstream"]
