"""Acceptance of issue 13: jqtrade's example strategy, unchanged, through a whole simulated trading day.

One hub on the simulator at 1800x (a virtual minute is 33 ms, 05:00-15:30 about 21 s), its account the
one the strategy names. Under `hub run`: the seed strategy (scripts/jqtrade_example.py) fires every
scheduled function at its virtual time and its orders reach the hub under its name; `hub tasks`
lists two strategies; `hub stop -n` stops one gracefully (its running function finishes) while the
other goes on; a function raising every minute is logged and counted, the others keep firing and
after max_failures the strategy's new orders are halted at the hub; SIGKILL works and a restarted
runner never runs a fire twice; `hub stop --all` stops the rest; a wrong account refuses to start.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from rpc_client import RpcGateway
from rpc_client.calendar import TradingCalendar
from rpc_client.runner import tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from integration_helpers import REPO, HubProcess, free_port  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLE = REPO / "scripts" / "jqtrade_example.py"
SPEED = 1800
GRACE = 3600  # virtual seconds (2 s real at 1800x): a busy 2-core box must not turn a stall into misses
FIRE = re.compile(r"fire (\w+) spec=(\S+) scheduled=(\S+) at=(\S+) result=(\w+)")


def fires(log: Path) -> list[tuple[str, str, datetime, datetime, str]]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        m = FIRE.search(line)
        if m:
            out.append((m.group(1), m.group(2), datetime.fromisoformat(m.group(3)), datetime.fromisoformat(m.group(4)),
                        m.group(5)))
    return out


def wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.output


class LateHub(HubProcess):
    """A HubProcess whose ports and config exist before it starts (the runners are started first)."""

    def __init__(self, data_dir: Path, config: Path) -> None:  # noqa: D107 - start() starts it
        self.rpc = f"tcp://127.0.0.1:{free_port()}"
        self.pub = f"tcp://127.0.0.1:{free_port()}"
        self.data_dir, self._config, self.proc = data_dir, config, None

    def start(self) -> None:
        super().__init__(self.data_dir, "--config", str(self._config), rpc=self.rpc, pub=self.pub)

    def stop(self) -> None:
        if self.proc is not None:
            super().stop()


@pytest.fixture
def day(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    # warm the calendar cache the runners read, so none of them imports pandas while the clock races
    assert TradingCalendar(cache_path=data / "calendar-cache.json").is_trading_day("2026-12-02")
    (tmp_path / "hub.toml").write_text(
        'account = "1234567"\n[sim]\nspeed = %d\nstart_time = "2026-12-02 07:00:00"\ntick_interval = 600.0\n'
        'starting_positions = {"000001.SZ" = 1000}\n' % SPEED, encoding="utf-8")
    hub = LateHub(data, tmp_path / "hub.toml")
    (tmp_path / "runner.toml").write_text(
        f'[runner]\nrpc = "{hub.rpc}"\npub = "{hub.pub}"\ndata_dir = "{data.as_posix()}"\nmisfire_grace = {GRACE}\n'
        f'wait_for_hub = 60\n', encoding="utf-8")
    yield hub, data, tmp_path / "runner.toml", tmp_path
    import psutil

    for t in tasks.list_tasks(data):
        try:
            psutil.Process(t.pid).kill()
        except psutil.Error:
            pass
    hub.stop()


def test_seed_strategy_full_day_tasks_stop_kill(day) -> None:
    hub, data, conf, tmp = day
    demo_log, other_log, victim_log = tmp / "demo.log", tmp / "other.log", tmp / "victim.log"

    # two `hub run --detach` at once, started before the hub (wait_for_hub) so their start-up, slow on a
    # busy box, does not eat the virtual morning; each returns once its runner is scheduling
    release = tmp / "release-slow"  # other's slow function runs until this file exists
    starts = [subprocess.Popen([sys.executable, "-m", "hub", "run", str(code), "-n", name, "-o", str(log), "--config",
                                str(conf), "--detach", *extra], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
              for code, name, log, extra in ((EXAMPLE, "demo", demo_log, []),
                                             (HERE / "strategies" / "other.py", "other", other_log,
                                              ["-e", f"SLOW_RELEASE={release}"]))]
    wait_for(lambda: all("connecting to the hub" in text(p) for p in (demo_log, other_log)), 60, "both runners")
    hub.start()
    assert hub.status["clock"]["speed"] == SPEED and hub.status["account_id"] == "1234567"
    for p in starts:
        out_, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out_

    # hub tasks lists the two, with pid, code path, hub and start time
    rc, out = cli("tasks", "--data-dir", str(data), "--json")
    assert rc == 0, out
    listed = {r["name"]: r for r in json.loads(out)}
    assert set(listed) == {"demo", "other"}
    assert listed["demo"]["code"] == str(EXAMPLE) and listed["demo"]["hub"] == hub.rpc
    assert all(tasks.pid_alive(r["pid"]) for r in listed.values())
    assert "helper says hello from the strategy folder" in text(other_log)
    assert "order_dir concern jqtrade's own broker files" in text(other_log)

    # victim: -e reaches it; killed mid-morning with SIGKILL, restarted under the same name
    rc, out = cli("run", str(HERE / "strategies" / "victim.py"), "-n", "victim", "-o", str(victim_log), "--config",
                  str(conf), "-e", "VICTIM_TAG=abc;OTHER=1", "-d")
    assert rc == 0, out
    assert "env VICTIM_TAG=abc" in text(victim_log)
    wait_for(lambda: len(fires(victim_log)) >= 5, 30, "victim's first ticks")
    rc, out = cli("stop", "-n", "victim", "-s", "SIGKILL", "--data-dir", str(data))
    assert rc == 0 and "stopped victim" in out, out
    assert "victim" not in {t.name for t in tasks.list_tasks(data)}
    killed_at = max(f[2] for f in fires(victim_log))
    rc, out = cli("run", str(HERE / "strategies" / "victim.py"), "-n", "victim", "-o", str(victim_log), "--config",
                  str(conf), "-d")
    assert rc == 0, out

    # other was halted after 3 failures in a row; an operator's resume reaches the runner (then boom halts it again)
    wait_for(lambda: "failed 3 times in a row" in text(other_log), 30, "other's halt")
    rc, out = cli("resume", "-s", "other", "--rpc", hub.rpc, "--data-dir", str(data))
    assert rc == 0, out
    wait_for(lambda: "the hub resumed other" in text(other_log), 30, "other's resume")
    wait_for(lambda: text(other_log).count("failed 3 times in a row") >= 2, 30, "other's second halt")

    # other: graceful stop while its slow function runs; the function finishes, demo goes on
    wait_for(lambda: "slow start" in text(other_log), 30, "other's slow function")
    stopper = threading.Thread(target=lambda: stopped.append(cli("stop", "-n", "other", "--data-dir", str(data))))
    stopped: list[tuple[int, str]] = []
    stopper.start()
    wait_for(lambda: "stop requested" in text(other_log), 30, "other to see the stop request")
    assert tasks.pid_alive(listed["other"]["pid"])  # still inside slow: a graceful stop waits for it
    release.write_text("go", encoding="utf-8")
    stopper.join(40)
    rc, out = stopped[0]
    assert rc == 0 and "stopped other" in out, out
    olog = text(other_log)
    # the stop came while slow ran; slow finished; then the runner stopped
    assert olog.index("slow start") < olog.index("stop requested") < olog.index("slow end") \
        < olog.index("strategy other stopped")
    assert {t.name for t in tasks.list_tasks(data)} == {"demo", "victim"}

    # the end of demo's day, then --all stops both that are left
    wait_for(lambda: "after_market_close run" in text(demo_log), 60, "demo's close+30m")
    rc, out = cli("stop", "--all", "--data-dir", str(data))
    assert rc == 0 and "stopped demo" in out and "stopped victim" in out, out
    assert tasks.list_tasks(data) == []
    rc, out = cli("tasks", "--data-dir", str(data), "--json")
    assert json.loads(out) == []

    # --- demo: every scheduled function at its virtual time, every_minute 240 times --------------------
    got = fires(demo_log)
    assert all(f[4] == "ok" for f in got), [f for f in got if f[4] != "ok"][:3]
    by: dict[str, list[datetime]] = {}
    for func, spec, sched, at, _ in got:
        by.setdefault(func, []).append(sched)
        # started at or after its time; a stall's backlog runs back to back, each decided inside its grace
        assert timedelta(0) <= at - sched <= timedelta(seconds=2 * GRACE), (func, sched, at)
    day0 = datetime.fromisoformat("2026-12-02T00:00:00+08:00")
    hm = lambda h, m: day0 + timedelta(hours=h, minutes=m)  # noqa: E731
    assert by["before_market_open"] == [hm(9, 0)]
    assert by["market_open"] == [hm(9, 30)]
    assert by["market_1000"] == [hm(10, 0)]
    assert by["market_close"] == [hm(15, 0)]
    assert by["after_market_close"] == [hm(15, 30)]
    minutes = by["do_order"]
    assert len(minutes) == 240 and len(set(minutes)) == 240
    assert minutes[0] == hm(9, 30) and minutes[119] == hm(11, 29) and minutes[120] == hm(13, 0)
    assert minutes[-1] == hm(14, 59)
    dlog = text(demo_log)
    assert "当前总资产" in dlog and "Traceback" not in dlog
    assert "WARNING rpc_client.runner: missed" not in dlog and ", 0 missed" in dlog

    # --- its orders reached the hub under its name: the sell of the starting 000001 and the buy of 000002
    mon = RpcGateway(hub.rpc, hub.pub, timeout=5)
    try:
        mon.connect(strategy="runner-test-monitor", role="monitor")
        orders = mon.query_stock_orders(strategy="demo")
        codes = sorted({o.stock_code for o in orders})
        assert codes == ["000001.SZ", "000002.SZ"], orders
        assert all(o.get("owner", "demo") == "demo" for o in orders)
        st = mon.status()
    finally:
        mon.close()

    # --- other: boom raised every minute, was logged with its traceback and counted; fine kept firing;
    # after 3 failures in a row the runner halted its new orders at the hub (the monitor shows halts)
    assert "ValueError: boom at" in olog and "Traceback" in olog
    ofires = fires(other_log)
    assert sum(1 for f in ofires if f[0] == "boom" and f[4] == "error") >= 3
    assert sum(1 for f in ofires if f[0] == "fine" and f[4] == "ok") >= 60
    assert "failed 3 times in a row" in olog
    assert "other" in st["halted"]["strategies"] and "runner:" in st["halted"]["strategies"]["other"]
    m = re.search(r"after the halt: order \S+ status=(\w+) err=(.*)", olog)
    assert m and m.group(1) == "rejected" and "halted" in m.group(2)
    ostate = json.loads(tasks.state_path(data, "other").read_text(encoding="utf-8"))
    assert ostate["stats"]["boom@every_minute"]["failures"] >= 3

    # --- victim: killed and restarted; no fire ran twice; the fires it slept through were missed and counted
    vf = [f[2] for f in fires(victim_log)]
    assert len(vf) == len(set(vf))
    assert any(t > killed_at + timedelta(minutes=5) for t in vf)
    vstate = json.loads(tasks.state_path(data, "victim").read_text(encoding="utf-8"))
    assert vstate["stats"]["tick@every_minute"]["missed"] >= 1
    assert "WARNING rpc_client.runner: missed" in text(victim_log)

    # --- a strategy naming another account never starts
    rc, out = cli("run", str(HERE / "strategies" / "wrong_account.py"), "-n", "wrong", "--config", str(conf))
    assert rc == 2
