"""Stand-in for ``xtquant.xtdatacenter`` when the hub serves the market data.

``xtdatacenter`` starts xtquant's own data service (a native module that loads only on Windows,
with a token for the vendor's servers). Through the hub there is nothing to start: ``xtdata``'s
calls go to the hub, which owns the one upstream. So every setup call here is accepted and does
nothing, and ``listen`` returns the (ip, port) it was given, as the real one does once it
listens. Programs such as vnpy_xt call ``set_token`` / ``init`` / ``listen`` before their first
``xtdata`` call; with this module they run unchanged (``python -m rpc_client.run``).

Any other function of the real module raises :class:`NotServedError` naming it.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("rpc_client")


class NotServedError(AttributeError):
    """A function of ``xtquant.xtdatacenter`` that the hub does not serve."""


def _accepted(name: str, *args: Any, **kwargs: Any) -> None:
    log.debug("rpc_client.xtdatacenter: %s%r accepted: the hub serves the data", name, args)


def try_create_client() -> None:
    _accepted("try_create_client")


def set_token(token: str = "") -> None:
    """Accepted: the hub holds the upstream's credentials, not the strategy."""
    _accepted("set_token")


def set_data_home_dir(data_home_dir: Any) -> None:
    _accepted("set_data_home_dir", data_home_dir)


def set_config_dir(config_dir: Any) -> None:
    _accepted("set_config_dir", config_dir)


def set_kline_mirror_enabled(enable: Any) -> None:
    _accepted("set_kline_mirror_enabled", enable)


def set_kline_mirror_markets(markets: Any) -> None:
    _accepted("set_kline_mirror_markets", markets)


def set_allow_optmize_address(allow_list: Any = None) -> None:  # xtquant's spelling
    _accepted("set_allow_optmize_address", allow_list)


def set_wholequote_market_list(market_list: Any = None) -> None:
    _accepted("set_wholequote_market_list", market_list)


def set_future_realtime_mode(enable: Any) -> None:
    _accepted("set_future_realtime_mode", enable)


def set_init_markets(markets: Any = None) -> None:
    _accepted("set_init_markets", markets)


def set_index_mirror_enabled(enable: Any) -> None:
    _accepted("set_index_mirror_enabled", enable)


def set_index_mirror_markets(markets: Any) -> None:
    _accepted("set_index_mirror_markets", markets)


def set_kline_cutting_mode(mode: Any) -> None:
    _accepted("set_kline_cutting_mode", mode)


def set_quote_time_mode_v2(enable: Any) -> None:
    _accepted("set_quote_time_mode_v2", enable)


def set_thousand_source_mode(mode: Any) -> None:
    _accepted("set_thousand_source_mode", mode)


def init(start_local_service: bool = True) -> None:
    """Accepted: there is no local data service to start; the hub is the data service."""
    _accepted("init", start_local_service)


def shutdown() -> None:
    _accepted("shutdown")


def listen(ip: str = "0.0.0.0", port: Any = 58610) -> tuple[str, Any]:
    """Accepted (nothing listens here: programs in this process reach the hub directly)."""
    _accepted("listen", ip, port)
    return ip, port


SERVED = ("try_create_client", "set_token", "set_data_home_dir", "set_config_dir", "set_kline_mirror_enabled",
          "set_kline_mirror_markets", "set_allow_optmize_address", "set_wholequote_market_list",
          "set_future_realtime_mode", "set_init_markets", "set_index_mirror_enabled", "set_index_mirror_markets",
          "set_kline_cutting_mode", "set_quote_time_mode_v2", "set_thousand_source_mode", "init", "shutdown",
          "listen")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise NotServedError(f"xtdatacenter.{name} is not served by the hub (only its setup calls are accepted: "
                         f"{', '.join(SERVED)})")
