"""Issue 3 acceptance: a hub and three strategy processes trading at once.

Each strategy receives only its own order/trade/error events; a monitor receives all of
them; no strategy can cancel or see the details of another's orders.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from integration_helpers import HubProcess  # noqa: E402

from rpc_client import ErrorCode, HubError, RpcGateway  # noqa: E402

HERE = Path(__file__).resolve().parent
NAMES = ("alpha", "alpha2", "beta")  # 'alpha' is a topic prefix of 'alpha2' on purpose


@pytest.mark.timeout(120)
def test_three_strategy_processes_see_only_their_own(tmp_path: Path):
    cfg = tmp_path / "hub.toml"  # the 150-share buy must reach the broker and be rejected there
    cfg.write_text("[risk]\nstatic_checks = false\n", encoding="utf-8")
    hub = HubProcess(tmp_path / "hub", "--config", str(cfg))
    children: list[subprocess.Popen] = []
    monitor = RpcGateway(hub.rpc, hub.pub, timeout=15)
    seen_by_monitor: list[tuple[str, int | None, str | None]] = []
    lock = threading.Lock()

    def on_monitor_event(topic: str, payload: dict) -> None:
        data = payload.get("data") or {}
        with lock:
            seen_by_monitor.append((topic, data.get("order_id"), data.get("owner")))

    monitor.on_event = on_monitor_event
    try:
        monitor.connect(strategy="watcher", role="monitor")
        go = tmp_path / "go"
        outs = {name: tmp_path / f"{name}.json" for name in NAMES}
        for name in NAMES:
            children.append(subprocess.Popen(
                [sys.executable, str(HERE / "strategy_child.py"), hub.rpc, hub.pub, name, str(outs[name]), str(go)]))
        deadline = time.monotonic() + 30
        while len(monitor.clients()) < len(NAMES) + 1:
            assert time.monotonic() < deadline, "strategies did not connect"
            time.sleep(0.1)
        go.write_text("go")  # all three trade at once
        for child in children:
            assert child.wait(60) == 0, f"strategy process failed; hub log:\n{hub.log()}"

        results = {name: json.loads(outs[name].read_text(encoding="utf-8")) for name in NAMES}
        all_ids = {name: set(r["filled"]) | set(r["resting"]) | {r["rejected"]} for name, r in results.items()}
        for name, r in results.items():
            mine = all_ids[name]
            assert len(mine) == 6 and all(i > 0 for i in mine)
            owned = [e for e in r["events"] if e["topic"].split(".", 1)[0] in ("order", "trade", "error")]
            # only its own topics, compared exactly (alpha must not get alpha2's events)
            assert {e["topic"] for e in owned} <= {f"order.{name}", f"trade.{name}", f"error.{name}"}
            assert {e["order_id"] for e in owned} <= mine
            assert {e["stream"] for e in owned} == {name}
            # every own event, once, in stream order
            sseqs = [e["sseq"] for e in r["events"] if e["stream"] == name]
            assert sseqs == sorted(set(sseqs))
            assert {e["order_id"] for e in owned if e["topic"] == f"trade.{name}"} == set(r["filled"])
            assert {e["order_id"] for e in owned if e["topic"] == f"error.{name}"} == {r["rejected"]}
            assert set(r["own_orders"]) == mine  # its query shows its own orders only

        # the monitor saw every strategy's orders, with the right owner
        time.sleep(0.5)
        with lock:
            orders_seen = {(topic, oid, owner) for topic, oid, owner in seen_by_monitor if topic.startswith("order.")}
        for name, ids in all_ids.items():
            assert {oid for topic, oid, owner in orders_seen if topic == f"order.{name}" and owner == name} == ids

        # an intruder strategy can neither see nor cancel another's order
        intruder = RpcGateway(hub.rpc, hub.pub, timeout=15)
        try:
            intruder.connect(strategy="intruder")
            assert intruder.query_stock_orders() == []
            assert intruder.query_stock_trades() == []
            victim = results["beta"]["resting"][0]
            for attempt in (lambda: intruder.cancel_order_stock(victim), lambda: intruder.query_stock_order(victim)):
                with pytest.raises(HubError) as info:
                    attempt()
                assert info.value.code == ErrorCode.NOT_OWNER
        finally:
            intruder.close()
        still_open = {o.order_id for o in monitor.query_stock_orders(cancelable_only=True)}
        assert set(results["beta"]["resting"]) <= still_open
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        monitor.close()
        hub.stop()
