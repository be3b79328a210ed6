"""Both drop-in traders hold to xtquant's own XtQuantTrader: same method names, same parameters,
same return conventions.

The reference is read from the installed xtquant's source (ast; its native parts need not load),
so a drift of either drop-in from xtquant -- or between the two -- fails here.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import time
from pathlib import Path

import pytest

from hub.sim import XtQuantTrader as SimTrader
from rpc_client.xttrader import XtQuantTrader as HubTrader

#: The stock-trading surface both drop-ins serve (credit, bank, smt and algo calls are not served).
SERVED = (
    "set_timeout", "register_callback", "start", "stop", "connect", "sleep", "run_forever",
    "set_relaxed_response_order_enabled", "subscribe", "unsubscribe",
    "order_stock", "order_stock_async", "cancel_order_stock", "cancel_order_stock_async",
    "cancel_order_stock_sysid", "cancel_order_stock_sysid_async",
    "query_account_infos", "query_account_infos_async", "query_account_status", "query_account_status_async",
    "query_stock_asset", "query_stock_asset_async", "query_stock_order", "query_stock_orders",
    "query_stock_orders_async", "query_stock_trades", "query_stock_trades_async", "query_stock_position",
    "query_stock_positions", "query_stock_positions_async",
)


def _xtquant_reference() -> dict[str, tuple[list[str], bool]]:
    """method -> (parameter names after self, returns a value) from xtquant/xttrader.py."""
    spec = importlib.util.find_spec("xtquant")
    source = Path(spec.origin).with_name("xttrader.py").read_text(encoding="utf-8")
    cls = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "XtQuantTrader")
    out = {}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        nested = {id(r) for n in ast.walk(fn) if n is not fn and isinstance(n, (ast.FunctionDef, ast.Lambda))
                  for r in ast.walk(n) if isinstance(r, ast.Return)}
        returns = [r for r in ast.walk(fn) if isinstance(r, ast.Return) and id(r) not in nested]
        out[fn.name] = ([a.arg for a in fn.args.args][1:], any(r.value is not None for r in returns))
    return out


REFERENCE = _xtquant_reference()


def test_reference_is_read_from_xtquant():
    assert REFERENCE["order_stock"][0] == ["account", "stock_code", "order_type", "order_volume", "price_type",
                                           "price", "strategy_name", "order_remark"]
    assert REFERENCE["query_stock_asset_async"][1] is False  # xtquant returns nothing here
    assert REFERENCE["query_stock_orders_async"][1] is True


@pytest.mark.parametrize("trader", [SimTrader, HubTrader], ids=["hub.sim", "rpc_client.xttrader"])
@pytest.mark.parametrize("name", SERVED)
def test_same_parameters_as_xtquant(trader, name):
    want, _ = REFERENCE[name]
    got = [p for p in inspect.signature(getattr(trader, name)).parameters][1:]
    assert got[:len(want)] == want, f"{trader.__module__}.{name}{tuple(got)} differs from xtquant's {tuple(want)}"
    extra = [p for p in inspect.signature(getattr(trader, name)).parameters.values()][1 + len(want):]
    assert all(p.default is not inspect.Parameter.empty for p in extra), "extra parameters must be optional"


class _Account:
    def __init__(self, account_id: str):
        self.account_id, self.account_type = account_id, 2


def _async_returns(trader, account) -> dict[str, object]:
    got = []
    results = {
        "query_stock_asset_async": trader.query_stock_asset_async(account, got.append),
        "query_stock_orders_async": trader.query_stock_orders_async(account, got.append),
        "query_stock_trades_async": trader.query_stock_trades_async(account, got.append),
        "query_stock_positions_async": trader.query_stock_positions_async(account, got.append),
        "query_account_infos_async": trader.query_account_infos_async(got.append),
        "query_account_status_async": trader.query_account_status_async(got.append),
    }
    deadline = time.monotonic() + 5
    while len(got) < len(results) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(got) == len(results), "every async query calls its callback"
    return results


def _check_conventions(results: dict[str, object]) -> None:
    for name, value in results.items():
        if REFERENCE[name][1]:
            assert isinstance(value, int) and not isinstance(value, bool), f"{name} returns a seq, got {value!r}"
        else:
            assert value is None, f"{name} returns None as xtquant's does, got {value!r}"


def test_sim_trader_return_conventions(tmp_path):
    from hub.sim import SimConfig

    trader = SimTrader(str(tmp_path / "userdata_mini"), 1, config=SimConfig()) \
        if "config" in inspect.signature(SimTrader).parameters else SimTrader(str(tmp_path / "userdata_mini"), 1)
    trader.start()
    try:
        assert trader.connect() == 0
        account = _Account("SIM0001")
        assert trader.subscribe(account) == 0
        _check_conventions(_async_returns(trader, account))
    finally:
        trader.stop()
