"""Integration: the client library against the real hub (hub.core.HubServer) with the simulated broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from client_helpers import FAST, free_port as _free_port, wait_for
from stand_ins import DroppingRouter
from rpc_client import RpcGateway, XtOrder

hub_core = pytest.importorskip("hub.core")
from hub.config import HubConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "1000000365"  # the account the xtquant quickstart uses


def _config(data_dir: Path, rpc: str | None = None, pub: str | None = None) -> HubConfig:
    return HubConfig.from_dict({
        "rpc": rpc or f"tcp://127.0.0.1:{_free_port()}", "pub": pub or f"tcp://127.0.0.1:{_free_port()}",
        "data_dir": data_dir, "heartbeat_interval": 0.2, "account": ACCOUNT, "sim": {"auto_tick": False}})


@pytest.fixture
def real_hub(tmp_path):
    servers = []

    def start(cfg: HubConfig | None = None):
        server = hub_core.HubServer(cfg or _config(tmp_path / "hub")).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()
        assert s.wait(10)


class Events:
    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def __call__(self, topic, payload):
        with self.lock:
            self.items.append((topic, payload.get("stream"), payload.get("sseq"), payload.get("data")))

    def sseqs(self, stream):
        with self.lock:
            return [i[2] for i in self.items if i[1] == stream]


def test_orders_events_and_queries_through_the_hub(real_hub):
    server = real_hub()
    cfg = server.config
    orders, trades, events = [], [], Events()
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, **FAST) as gw:
        gw.on_stock_order = lambda o: orders.append((o.order_id, o.order_status, o.order_remark))
        gw.on_stock_trade = lambda t: trades.append((t.order_id, t.traded_volume))
        gw.on_event = events
        hello = gw.connect(strategy="alpha")
        assert hello["account_id"] == ACCOUNT and gw.hub_id == server.hub_id
        oid = gw.order_stock("600000.SH", 23, 200, 11, 10.5, "mine")
        assert oid > 0
        assert wait_for(lambda: trades == [(oid, 200)] and orders and orders[-1][1] == 56)
        assert all(o[0] == oid and o[2] == "mine" for o in orders)
        mine = gw.query_stock_orders()
        assert [(o.order_id, o.order_status) for o in mine] == [(oid, 56)] and isinstance(mine[0], XtOrder)
        pos = gw.query_stock_position("600000.SH")
        assert pos.volume == 200
        assert gw.query_stock_asset().account_id == ACCOUNT
        # same client_order_id again: the hub returns the first order, the broker sees one
        coid = "fixed-1"
        assert gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id=coid) == \
            gw.order_stock("600000.SH", 23, 100, 11, 10.5, client_order_id=coid)
        assert len(gw.query_stock_orders()) == 2
        assert wait_for(lambda: events.sseqs("alpha") == list(range(1, len(events.sseqs("alpha")) + 1)))


def test_reconnect_after_hub_restart_replays_what_was_missed(real_hub, tmp_path):
    first = real_hub()
    cfg = first.config
    events, conn = Events(), []
    gw = RpcGateway(cfg.rpc, cfg.pub, timeout=5, **FAST)
    gw.on_event = events
    gw.on_connected = lambda: conn.append("up")
    gw.on_disconnected = lambda: conn.append("down")
    try:
        gw.connect(strategy="alpha")
        gw.order_stock("600000.SH", 23, 100, 11, 10.5)
        assert wait_for(lambda: len(events.sseqs("@account")) >= 2)
        first.stop()
        assert first.wait(10)
        assert wait_for(lambda: conn[-1:] == ["down"], 5)
        second = real_hub(_config(cfg.data_dir, cfg.rpc, cfg.pub))
        # another strategy trades while alpha is still reconnecting: account events alpha must get
        with RpcGateway(cfg.rpc, cfg.pub, timeout=5) as beta:
            beta.connect(strategy="beta")
            beta.order_stock("600000.SH", 23, 100, 11, 10.5)
        assert wait_for(lambda: gw.hub_id == second.hub_id and conn[-1:] == ["up"], 10)
        head = gw.status()["heads"]["@account"]
        assert wait_for(lambda: events.sseqs("@account")[-1:] == [head], 5), (events.sseqs("@account"), head)
        got = events.sseqs("@account")
        assert got == list(range(got[0], got[0] + len(got))), got  # in order, no gap, no duplicate
        assert gw.query_stock_asset().account_id == ACCOUNT
    finally:
        gw.close()


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGINT to stop run_forever")
def test_quickstart_script_runs_unchanged_but_for_its_import(real_hub):
    server = real_hub()
    env = {**os.environ, "QMT_HUB": server.config.rpc, "QMT_HUB_PUB": server.config.pub,
           "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}
    # A shell starts background jobs with SIGINT ignored, and children inherit that (Python then
    # installs no KeyboardInterrupt handler): give the script the default Ctrl+C, as a terminal would.
    proc = subprocess.Popen([sys.executable, "-u", str(ROOT / "scripts" / "quickstart_hub.py")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: [lines.append(line.rstrip("\n")) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: "query position:" in lines, 60), "\n".join(lines)
        time.sleep(0.5)  # run_forever: the process keeps running and receiving pushes
        assert proc.poll() is None, "\n".join(lines)
        proc.send_signal(signal.SIGINT)  # Ctrl+C ends run_forever
        proc.wait(30)  # generous: a CPU-starved CI machine, yet a hang still fails
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        reader.join(5)
    out = "\n".join(lines)
    # callbacks print from the callback thread, so their lines interleave with the main thread's
    assert lines[lines.index("demo test") + 1] == "0", out  # connect
    assert lines[lines.index("demo test") + 2] == "0", out  # subscribe
    # callbacks print from another thread and may land between a print's pieces ("orders:" … " 2")
    assert "cash " in out and "orders:" in out and "on order callback:" in out, out
    with RpcGateway(server.config.rpc, server.config.pub, timeout=5) as mon:
        mon.connect(strategy="check", role="monitor")
        placed = mon.query_stock_orders(strategy="quickstart_hub")  # named after the script (issue 12)
    assert len(placed) == 2 and all(o.order_remark == "remark" for o in placed), placed
    # order_stock's return value was printed on its own line, though a callback's heading, printed
    # from the callback thread, may land on that line before or after it ("1on order callback:")
    headings = ("on order callback:", "on trade callback", "on_order_stock_async_response", "on cancel_error callback")
    def without_headings(line: str) -> str:
        for heading in headings:
            line = line.replace(heading, "")
        return line.strip()
    start = next(i for i, line in enumerate(lines) if "order using the fix price:" in line)
    end = next(i for i, line in enumerate(lines) if "order using async api:" in line)
    after_fix_price = lines[start:end + 1]
    assert str(placed[0].order_id) in [without_headings(line) for line in after_fix_price], out
    assert "on_order_stock_async_response" in out, out
    assert "Traceback" not in out.split("query position:")[0], out


def test_events_dropped_at_the_call_socket_are_found_by_the_ping_heads_and_replayed(real_hub):
    server = real_hub()
    cfg = server.config
    events = Events()
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, **FAST) as gw:
        gw.on_event = events
        hello = gw.connect(strategy="alpha")
        start = hello["heads"]["@account"]
        router = DroppingRouter(server.publisher._router, server.sessions.named("alpha").identity)
        server.publisher._router = router  # every event pushed to alpha from here on is lost on the wire
        gw.order_stock("600000.SH", 23, 100, 11, 10.5)
        assert wait_for(lambda: server.journal.heads.get("alpha", 0) >= 3, 5)  # reported, filled, its trade
        time.sleep(0.3)
        router.dropping = False  # nothing more happens: only the heads in the ping replies can tell alpha
        heads = dict(server.journal.heads)
        assert router.dropped >= heads["alpha"] + 2  # alpha's own events and the account's: none got through
        assert wait_for(lambda: events.sseqs("alpha") == list(range(1, heads["alpha"] + 1)), 5), events.sseqs("alpha")
        assert wait_for(lambda: events.sseqs("@account") == list(range(start + 1, heads["@account"] + 1)), 5)
        st = gw.status()
        assert st["counters"]["dropped_session_events"] == router.dropped
        assert gw.stats()["lost_events"] == 0 and gw.stats()["replays"] >= 2
        assert server.sessions.named("alpha").events_dropped == router.dropped  # what `clients` shows
