"""Client side of qmt-hub: what a strategy process installs and imports.

Imports nothing from `hub`. `rpc_client.protocol` is the one definition of the wire protocol.

* :class:`RpcGateway` -- the native client (``rpc_client.gateway``).
* ``rpc_client.xttrader`` -- drop-in ``XtQuantTrader`` / ``XtQuantTraderCallback``.
* ``python -m rpc_client.run SCRIPT`` -- an unmodified xtquant program, its trader, xtdata and
  xtdatacenter served by the hub through an import hook (``rpc_client.xthook``).
* ``rpc_client.xtdata`` -- drop-in ``xtquant.xtdata``: history, bars, ticks, instrument details, sectors, calendars.
* :class:`CurveKeys` -- CurveZMQ keys for a hub with ``curve = true`` (``rpc_client.security``).
"""

from rpc_client import xtquant_quiet as _xtquant_quiet

_xtquant_quiet.install()  # whoever imports xtquant first: no network update check per process

from rpc_client.gateway import Heartbeat, RpcGateway  # noqa: F401
from rpc_client.protocol import DEFAULT_PUB_ENDPOINT, DEFAULT_RPC_ENDPOINT, ErrorCode, HubError, Role  # noqa: F401
from rpc_client.records import (XtAccountInfo, XtAccountStatus, XtAsset, XtCancelError,  # noqa: F401
                                XtCancelOrderResponse, XtOrder, XtOrderError, XtOrderResponse, XtPosition,
                                XtRecord, XtTrade)
from rpc_client.security import CurveKeyError, CurveKeys  # noqa: F401

__all__ = ["RpcGateway", "Heartbeat", "CurveKeys", "CurveKeyError", "ErrorCode", "HubError", "Role", "DEFAULT_RPC_ENDPOINT", "DEFAULT_PUB_ENDPOINT",
           "XtRecord", "XtAsset", "XtOrder", "XtTrade", "XtPosition", "XtOrderError", "XtCancelError",
           "XtOrderResponse", "XtCancelOrderResponse", "XtAccountStatus", "XtAccountInfo"]
