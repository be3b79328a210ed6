"""The client's layers: the drop-ins use the gateway's public API only; futures carry real fields."""

from __future__ import annotations

import re
from pathlib import Path

from rpc_client.transport import CallFuture

ROOT = Path(__file__).resolve().parents[2] / "rpc_client"


def test_the_xtquant_dropins_use_only_the_gateways_public_api():
    for name in ("xttrader.py", "xtdata.py"):
        src = (ROOT / name).read_text(encoding="utf-8")
        assert not re.findall(r"(?:_gw|\bgw)\._[a-z]\w*", src), name  # no gw._transport, gw._dispatcher ...
        for line in re.findall(r"from rpc_client\.(?:gateway|transport) import ([^\n]+)", src):
            names = [n.strip().split(" as ")[0] for n in line.strip("()").split(",")]
            assert not [n for n in names if n.startswith("_")], (name, line)


def test_no_attribute_is_patched_onto_a_future():
    for name in ("gateway.py", "xttrader.py", "xtdata.py", "transport.py"):
        src = (ROOT / name).read_text(encoding="utf-8")
        assert "type: ignore[attr-defined]" not in src, name
    fut = CallFuture(None, method="order_stock", wait_budget=3.0, client_order_id="c-1")
    assert (fut.method, fut.wait_budget, fut.client_order_id) == ("order_stock", 3.0, "c-1")
