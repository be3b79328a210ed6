"""The one broker path: the real xtquant XtQuantTrader or the simulator, behind the same calls."""

from hub.broker.adapter import (QMT_HELP, Broker, BrokerUnavailable, SerializedQuotes, make_broker,
                                make_callback)
from hub.broker.convert import FIELDS, plain, to_dict

__all__ = ["Broker", "BrokerUnavailable", "SerializedQuotes", "make_broker", "make_callback", "QMT_HELP",
           "to_dict", "plain", "FIELDS"]
