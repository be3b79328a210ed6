"""pandas frames in xtdata's shapes, built from the hub's plain replies.

pandas is imported inside each function: a strategy that only trades, or only takes ticks,
never loads it (docs/decisions.md, "pandas for market data").
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from rpc_client.bars import BAR_DTYPES, BAR_FIELDS, index_format, timetag_to_datetime

#: tick fields of get_market_data's structured arrays (the list fields stay out, as in xtdata)
TICK_SCALAR_DTYPES = {
    "time": "int64", "lastPrice": "float64", "open": "float64", "high": "float64", "low": "float64",
    "lastClose": "float64", "amount": "float64", "volume": "int64", "pvolume": "int64", "stockStatus": "int32",
    "openInt": "int32", "transactionNum": "int64", "lastSettlementPrice": "float64", "settlementPrice": "float64",
}


def _index(times: Iterable[Any], period: str) -> list[str]:
    fmt = index_format(period)
    return [timetag_to_datetime(t, fmt) for t in times]


def bar_frame(cols: Mapping[str, list], fields: list[str] | None, period: str) -> Any:
    """One code's bars as get_market_data_ex gives them: index = bar time strings
    ('%Y%m%d' for days and longer, '%Y%m%d%H%M%S' otherwise), xtdata's columns and dtypes."""
    import numpy as np
    import pandas as pd

    names = list(fields) if fields else list(BAR_FIELDS)
    times = cols.get("time", [])
    data = {}
    for f in names:
        values = cols.get(f)
        if values is None:
            values = [0] * len(times)
        data[f] = np.asarray(values, dtype=BAR_DTYPES.get(f, "float64"))
    return pd.DataFrame(data, index=_index(times, period), columns=names)


def tick_frame(cols: Mapping[str, list], fields: list[str] | None) -> Any:
    """One code's ticks as get_market_data_ex(period='tick') gives them (index '%Y%m%d%H%M%S')."""
    import pandas as pd

    names = list(fields) if fields else list(cols)
    times = cols.get("time", [])
    data = {f: cols.get(f, [None] * len(times)) for f in names}
    return pd.DataFrame(data, index=_index(times, "tick"), columns=names)


def field_panels(by_code: Mapping[str, Mapping[str, list]], codes: list[str], fields: list[str] | None,
                 period: str) -> dict[str, Any]:
    """get_market_data's bar shape: {field: DataFrame(index=codes, columns=bar time strings)}."""
    import pandas as pd

    names = list(fields) if fields else list(BAR_FIELDS)
    fmt = index_format(period)
    all_times = sorted({t for c in codes for t in by_code.get(c, {}).get("time", [])})
    columns = [timetag_to_datetime(t, fmt) for t in all_times]
    out = {}
    for f in names:
        rows = []
        for c in codes:
            cols = by_code.get(c, {})
            row = dict(zip(cols.get("time", []), cols.get(f, [])))
            rows.append([row.get(t, float("nan")) for t in all_times])
        frame = pd.DataFrame(rows, index=list(codes), columns=columns, dtype="float64")
        out[f] = frame
    return out


def tick_arrays(by_code: Mapping[str, Mapping[str, list]], codes: list[str], fields: list[str] | None) -> dict:
    """get_market_data's tick shape: {code: numpy structured array ordered by time}."""
    import numpy as np

    names = [f for f in (fields or TICK_SCALAR_DTYPES) if f in TICK_SCALAR_DTYPES]
    dtype = [(f, TICK_SCALAR_DTYPES[f]) for f in names]
    out = {}
    for c in codes:
        cols = by_code.get(c, {})
        n = len(cols.get("time", []))
        arr = np.zeros(n, dtype=dtype)
        for f in names:
            if f in cols:
                arr[f] = cols[f]
        out[c] = arr
    return out


def split_frame(split: Mapping[str, Any] | None) -> Any:
    """A frame sent as {index, columns, data}."""
    import pandas as pd

    split = split or {}
    return pd.DataFrame(split.get("data") or [], index=split.get("index") or None,
                        columns=split.get("columns") or None)


__all__ = ["bar_frame", "tick_frame", "field_panels", "tick_arrays", "split_frame", "TICK_SCALAR_DTYPES"]
