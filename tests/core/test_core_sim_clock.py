"""The hub publishes its simulator's virtual clock (status and hub.heartbeat), in-process or `hub sim`."""

from __future__ import annotations

import time
from datetime import datetime

from core_helpers import free_port

from rpc_client.calendar import SHANGHAI


def _shanghai(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, SHANGHAI).replace(tzinfo=None)


def _status_clock(hub) -> dict:
    from rpc_client import RpcGateway

    gw = RpcGateway(hub.config.rpc, hub.config.pub, timeout=3)
    try:
        gw.connect(strategy="clock-status", role="monitor")
        return gw.status()["clock"]
    finally:
        gw.close()


def test_in_process_sim_clock_in_status_and_heartbeat(make_hub) -> None:
    hub = make_hub(sim={"auto_tick": False, "speed": 100.0, "start_time": "2026-12-02 09:25:00"})
    c1 = _status_clock(hub)
    assert c1["speed"] == 100.0
    assert datetime(2026, 12, 2, 9, 25) <= _shanghai(c1["time"]) < datetime(2026, 12, 2, 11, 0)  # Shanghai wall time
    time.sleep(0.5)
    c2 = _status_clock(hub)
    assert 30 <= c2["time"] - c1["time"] <= 300  # 0.5 s real at 100x (+ call latency)
    from rpc_client import RpcGateway

    gw = RpcGateway(hub.config.rpc, hub.config.pub, timeout=3, heartbeat_interval=0.2)
    try:
        gw.connect(strategy="clock-watch", role="monitor")
        deadline = time.monotonic() + 5
        while gw.last_heartbeat is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gw.last_heartbeat.payload["data"]["clock"]["speed"] == 100.0
    finally:
        gw.close()


def test_hub_sim_process_clock_reaches_the_hub(make_hub, tmp_path) -> None:
    import hub.sim as sim
    from hub.sim.server import SimServer

    folder = tmp_path / "terminal"
    exchange = sim.get_exchange(folder, sim.SimConfig.from_dict({"auto_tick": False, "speed": 50.0,
                                                                  "start_time": "2026-12-02 13:00:00"}))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    server = SimServer(exchange, endpoint)
    server.start()
    try:
        hub = make_hub(qmt_path=endpoint)
        deadline = time.monotonic() + 10
        clock = None
        while clock is None and time.monotonic() < deadline:
            clock = _status_clock(hub)
            time.sleep(0.1)
        assert clock is not None and clock["speed"] == 50.0
        assert abs(clock["time"] - exchange.clock.timestamp()) < 50 * 1.0  # within a second of real time
    finally:
        server.stop()
        sim.shutdown_exchange(folder)
