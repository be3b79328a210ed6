"""Protocol handlers of the market-data methods (rpc_client.protocol.MD_METHODS).

Each turns validated params into one `MarketData.request` (or an answer from the page store);
the reply comes later (DEFERRED) unless the cache answers at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.core.methods import handler

if TYPE_CHECKING:  # pragma: no cover
    from hub.core.server import Call, HubServer


def _owner(call: "Call") -> str:
    return call.session.key if call.session is not None else ""


@handler("get_bars")
def get_bars(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    md = hub.marketdata
    owner = _owner(call)
    params = dict(p, codes=list(dict.fromkeys(p["codes"])))
    return md.request(call, "bars", params, finish=lambda r: md.paged(owner, r))


@handler("next_page")
def next_page(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.next_page(_owner(call), p["cursor"])


@handler("download_history_data")
def download_history_data(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    md = hub.marketdata
    return md.request(call, "download_history", p, timeout=md.download_timeout)


@handler("get_instrument_detail")
def get_instrument_detail(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    """Per code from the day's cache; the codes it lacks in one upstream call."""
    md = hub.marketdata
    codes = list(dict.fromkeys(p["codes"]))
    full = p["iscomplete"]
    known: dict[str, Any] = {}
    missing = []
    for code in codes:
        hit, value = md.cache_get(("instrument_detail1", code, full))
        if hit:
            known[code] = value
        else:
            missing.append(code)
    if not missing:
        return {c: known[c] for c in codes}

    def finish(result: dict[str, Any]) -> dict[str, Any]:
        for code in missing:
            md.cache_put(("instrument_detail1", code, full), result.get(code))
            known[code] = result.get(code)
        return {c: known.get(c) for c in codes}

    return md.request(call, "instrument_detail", {"codes": missing, "iscomplete": full}, finish=finish)


@handler("get_instrument_type")
def get_instrument_type(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "instrument_type", p, cache=True)


@handler("get_sector_list")
def get_sector_list(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "sector_list", p, cache=True)


@handler("get_stock_list_in_sector")
def get_stock_list_in_sector(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "stock_list_in_sector", p, cache=True)


@handler("download_sector_data")
def download_sector_data(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    md = hub.marketdata

    def finish(result: Any) -> Any:
        md.forget("sector_list")
        md.forget("stock_list_in_sector")
        return result

    return md.request(call, "download_sector", p, finish=finish, timeout=md.download_timeout)


@handler("get_trading_dates")
def get_trading_dates(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "trading_dates", p, cache=True)


@handler("get_trading_calendar")
def get_trading_calendar(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "trading_calendar", p, cache=True)


@handler("get_divid_factors")
def get_divid_factors(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "divid_factors", p, cache=True)


@handler("download_financial_data")
def download_financial_data(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    md = hub.marketdata

    def finish(result: Any) -> Any:
        md.forget("financial_data")
        return result

    return md.request(call, "download_financial", p, finish=finish, timeout=md.download_timeout)


@handler("get_financial_data")
def get_financial_data(hub: "HubServer", call: "Call", p: dict[str, Any]) -> Any:
    return hub.marketdata.request(call, "financial_data", p, cache=True)
