"""The bench's cases, their figures and the order they run in."""

from __future__ import annotations

import math
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import psutil
import zmq

from rpc_client import protocol as P

from benchlib import extra, hubjobs, raw, rawhub
from benchlib.agents import Agent, Pool
from benchlib.hubproc import HubProcess, SimProcess
from benchlib.report import Report
from benchlib.util import free_endpoint, machine_info, median, p50_p99

# Orders that rest in the book and never fill (the sim runs with volatility 0, so the price
# never reaches them): the ack path is measured without fills running alongside it.
REST_CODE = "600000.SH"  # reference price 10.20, limit down 9.18
REST_PRICE = 9.50
# Marketable orders (fill at once) used to make account events during the tick fan-out.
FILL_PRICE = 11.20  # <= limit up 11.22

# The hub's PUB high-water mark (hub/core/server.py); the raw floor publisher uses the same.
HUB_PUB_SNDHWM = 100_000
# Sim tick interval for "full speed": 100 codes every ms offered, more than the hub publishes.
FAST_TICK_INTERVAL = 0.001

# 61 built-in codes plus generated main-board codes: the tick fan-out universe.
TICK_CODES_N = 100


def tick_codes(n: int) -> list[str]:
    from_builtin: list[str] = []
    try:
        from hub.sim.universe import BUILTIN

        from_builtin = [c for c in BUILTIN if c.endswith((".SH", ".SZ"))]
    except Exception:
        pass
    codes = from_builtin[:n]
    k = 600100
    while len(codes) < n:
        c = f"{k}.SH"
        if c not in codes:
            codes.append(c)
        k += 1
    return codes


@dataclass
class Settings:
    mode: str
    rounds: int
    lat_n: int  # calls per latency measurement per round
    lat_warm: int
    tput_clients: int
    tput_window: int  # calls in flight per client
    tput_duration: float
    fan_subs: tuple[int, ...]
    fan_duration: float
    fan_rounds: int
    fixed_rate: float  # ticks/s for the sustainable-rate run
    idle_clients: int
    idle_hosts: int
    idle_cpu_window: float
    mem_orders: int
    budget: float = 0.0  # seconds; past it, cases run one round only (0 = no budget)
    scale_rounds: int = 3
    scale_n: int = 1000
    book_orders: int = 100
    whole_codes: int = 5500  # codes in one whole-market snapshot (one upstream callback)
    whole_interval: float = 3.0  # seconds between snapshots (subscribe_whole_quote: every 3 s)
    whole_duration: float = 7.0  # window of the whole-market case (snapshots = duration / interval)
    whole_subs: int = 8
    oc_rate: float = 300.0  # orders+cancels/s in total from oc_strategies while the whole market ticks
    oc_strategies: int = 8
    simproc_rounds: int = 2
    relay_n: int = 2000
    #: after a whole-market window, read at least this long (None: one snapshot interval + 1 s) and
    #: until the socket was quiet `whole_quiet` s, so a snapshot still arriving counts in full
    whole_min_after: float | None = None
    whole_quiet: float = 1.0
    #: the whole-market floor's window (None: whole_duration); one burst needs ~1.5 s
    whole_floor_duration: float | None = None
    #: pauses for connections and pings to settle (128 idle clients up, before a CPU reading)
    settle: float = 1.0

    @classmethod
    def quick(cls) -> "Settings":
        # every figure of the full run, each from fewer and shorter rounds (issue 14: under 2 minutes)
        return cls("quick", rounds=2, lat_n=600, lat_warm=100, tput_clients=8, tput_window=8, tput_duration=1.0,
                   fan_subs=(1, 4, 8), fan_duration=0.8, fan_rounds=1, fixed_rate=2000.0, idle_clients=128,
                   idle_hosts=4, idle_cpu_window=1.0, mem_orders=3000, scale_rounds=1, scale_n=300,
                   budget=80.0, relay_n=600, whole_duration=4.0, simproc_rounds=1, whole_min_after=1.5,
                   whole_quiet=0.5, whole_floor_duration=1.5, settle=0.5)

    @classmethod
    def full(cls) -> "Settings":
        return cls("full", rounds=5, lat_n=3000, lat_warm=300, tput_clients=8, tput_window=8, tput_duration=3.0,
                   fan_subs=(1, 4, 8), fan_duration=3.0, fan_rounds=3, fixed_rate=2000.0, idle_clients=128,
                   idle_hosts=4, idle_cpu_window=10.0, mem_orders=100_000, scale_rounds=5, scale_n=2000,
                   whole_duration=31.0, simproc_rounds=5, relay_n=5000)


CASES = {
    1: "1 floor",
    2: "2 query",
    3: "3 order→ack",
    4: "4 throughput",
    5: "5 tick fan-out",
    6: "6 scale",
    7: "7 memory",
    8: "8 whole market",
    9: "9 sim process",
    10: "10 relay",
    11: "11 risk checks",
}
#: The bench's hubs run the risk engine (sleeves, checks, self-trade, rate guard) with the account
#: guard opened wide: the bench sends far more than the exchange's 300 actions/s on purpose.
RISK_WIDE = {"account_max_actions_per_second": 10 ** 9, "account_max_actions_per_day": 10 ** 12}


def declare(r: Report, s: Settings) -> None:
    c = CASES
    r.declare("floor.p50", c[1], "raw DEALER→ROUTER msgpack echo p50", "µs")
    r.declare("floor.p99", c[1], "raw echo p99", "µs")
    r.declare("floor_thread.p50", c[1], "raw echo via 2nd thread and back p50 (info)", "µs", info=True)
    r.declare("floor_thread.p99", c[1], "raw echo via 2nd thread p99 (info)", "µs", info=True)

    r.declare("query_asset.p50", c[2], "query_stock_asset p50", "µs")
    r.declare("query_asset.p99", c[2], "query_stock_asset p99", "µs")
    r.declare("query_asset.ratio", c[2], "query_stock_asset p50 / floor p50", "×", goal="<= 1.15")
    r.declare("query_orders.p50", c[2], f"query_stock_orders ({s.book_orders} orders) p50", "µs")
    r.declare("query_orders.p99", c[2], f"query_stock_orders ({s.book_orders} orders) p99", "µs")
    r.declare("query_orders.ratio", c[2], "query_stock_orders p50 / floor p50", "×")
    r.declare("floor_orders.p50", c[2], f"raw echo answering the same {s.book_orders}-order reply p50", "µs",
              info=True)
    r.declare("query_orders.ratio_same", c[2], "query_stock_orders p50 / same-size-reply floor p50", "×",
              goal="<= 1.15")
    r.declare("query_asset_raw.p50", c[2], "query_stock_asset p50, raw protocol client (info)", "µs", info=True)
    r.declare("query_asset_raw.ratio", c[2], "same / floor p50: the hub alone, no client library (info)", "×",
              info=True)

    r.declare("order.p50", c[3], "order_stock→ack p50", "µs")
    r.declare("order.p99", c[3], "order_stock→ack p99", "µs")
    r.declare("order.ratio", c[3], "order→ack p50 / floor p50", "×", goal="<= 1.5")
    r.declare("order.ratio_thread", c[3], "order→ack p50 / thread floor p50 (info)", "×", info=True)
    r.declare("order_raw.p50", c[3], "order_stock→ack p50, raw protocol client (info)", "µs", info=True)
    r.declare("order_raw.ratio", c[3], "same / floor p50: the hub alone, no client library (info)", "×", info=True)

    r.declare("tput.floor", c[4], f"raw echo, {s.tput_clients} procs × {s.tput_window} in flight", "/s")
    r.declare("tput.hub", c[4], f"orders acked, {s.tput_clients} procs × {s.tput_window} in flight", "/s")
    r.declare("tput.ratio", c[4], "hub orders/s / floor calls/s", "×", goal=">= 0.6")
    r.declare("tput.vnpy", c[4], f"vnpy RpcServer, trivial function, {s.tput_clients} procs × {s.tput_window} "
              "clients (REQ: 1 in flight each)", "/s")
    r.declare("tput.vs_vnpy", c[4], "hub orders/s / vnpy RpcServer calls/s", "×", goal=">= 1")

    for n in s.fan_subs:
        r.declare(f"fan.raw.{n}.rate", c[5], f"raw PUB/SUB, {n} sub(s): ticks/s per subscriber", "/s")
        r.declare(f"fan.raw.{n}.gaps", c[5], f"raw PUB/SUB, {n} sub(s): gaps (all subs)", "n")
        r.declare(f"fan.hub.{n}.rate", c[5], f"hub full speed, {n} sub(s): ticks/s per subscriber", "/s")
        r.declare(f"fan.hub.{n}.gaps", c[5], f"hub full speed, {n} sub(s): gaps (all subs)", "n")
        r.declare(f"fan.hub.{n}.ratio", c[5], f"hub / raw ticks/s per subscriber, {n} sub(s)", "×",
                  goal=">= 0.8")
    r.declare("fan.hub.published", c[5], "hub full speed: ticks/s published (hub counter)", "/s", info=True)
    r.declare("fan.order_p50", c[5], f"order→ack p50 during the full-speed fan-out to {max(s.fan_subs)} subs",
              "µs", goal="< 5000")
    r.declare("fan.acct_lost", c[5], f"a session's account events missing during the full-speed flood to "
              f"{max(s.fan_subs)} subs (pushed over its ROUTER)", "n", goal="<= 0")
    r.declare("fan.acct_dup", c[5], "a session's account events duplicated during the same flood", "n", goal="<= 0")
    r.declare("fan.fixed.rate", c[5], f"hub fixed rate, {max(s.fan_subs)} subs: ticks/s per subscriber", "/s")
    r.declare("fan.fixed.gaps", c[5], f"hub fixed rate, {max(s.fan_subs)} subs: gaps (all subs)", "n",
              goal="<= 0")

    r.declare("scale.order_p50_1", c[6], "order→ack p50, 1 client", "µs")
    r.declare("scale.order_p50_n", c[6], f"order→ack p50, {s.idle_clients} idle clients connected", "µs")
    r.declare("scale.ratio", c[6], f"p50 with {s.idle_clients} idle / with 1", "×", goal="<= 1.1")
    r.declare("scale.cpu_idle_1", c[6], "hub CPU idle, 1 client (% of a core)", "%", goal="< 1")
    r.declare("scale.cpu_idle_n", c[6], f"hub CPU idle, {s.idle_clients} clients (% of a core)", "%", goal="< 2")

    r.declare("risk.on_p50", c[11], "order→ack p50, risk checks on (raw protocol client)", "µs")
    r.declare("risk.off_p50", c[11], "order→ack p50, risk stage off (risk.enabled = false), same run", "µs")
    r.declare("risk.added_p50", c[11], "p50 added by the risk stage (median of paired rounds)", "µs", goal="<= 20")
    r.declare("risk.null_added_p50", c[11], "control: p50 added by a stage installed but doing nothing "
                                            "(benchlib.null_risk_hub; info)", "µs", info=True)
    r.declare("risk.warm_stage", c[11], "the stage's own work per order, warm, in one process (check, reserve, "
                                        "record, its broker push; info)", "µs", info=True)
    r.declare("risk.cpu_on", c[11], "hub CPU per order, risk checks on (the in-process sim included; info)", "µs",
              info=True)
    r.declare("risk.cpu_off", c[11], "hub CPU per order, risk stage off (info)", "µs", info=True)
    r.declare("risk.cpu_added", c[11], "hub CPU per order added by the risk stage (median of rounds; steadier than "
                                       "latency on a busy machine; info)", "µs", info=True)
    r.declare("mem.idle", c[7], "hub RSS idle (no client)", "MB")
    r.declare("mem.clients", c[7], f"hub RSS with {s.idle_clients} clients", "MB")
    r.declare("mem.orders", c[7], "hub RSS after the orders below", "MB", goal="< 250")
    r.declare("mem.orders_n", c[7], "orders placed for the figure above", "n")

    w = s.whole_subs
    r.declare("whole.codes", c[8], "codes in one whole-market snapshot (one upstream callback)", "n")
    r.declare("whole.floor_p99", c[8], f"raw PUB, the same snapshot to {w} SUBs in the hub's frames "
              f"(`ticks.<market>` batches of {P.TICK_BATCH_MAX} codes): last tick p99 after the burst starts", "ms")
    r.declare("whole.p50", c[8], f"hub, snapshot complete at {w} whole-market subscribers: p50 after the callback "
              "(≈ its first tick out)", "ms")
    r.declare("whole.p99", c[8], f"hub, snapshot complete at {w} whole-market subscribers: p99 after the callback "
              "(≈ its first tick out)", "ms", goal="<= 50")
    r.declare("whole.p99_snap", c[8], "same p99 after the snapshot's own time (the in-process sim building the "
              "5,500 ticks and calling back included)", "ms", info=True)
    r.declare("whole.first_p50", c[8], "first tick of a snapshot out, after the snapshot's time, p50", "ms", info=True)
    r.declare("whole.complete", c[8], f"snapshots complete at all {w} subscribers", "%")
    r.declare("whole.ratio", c[8], "hub p99 / raw PUB p99", "×", info=True)
    r.declare("oc.order_p99", c[8], f"{s.oc_rate:.0f} orders+cancels/s from {s.oc_strategies} strategies while "
              "the whole market ticks: order→ack p99", "µs", goal="< 5000")
    r.declare("oc.order_p50", c[8], "same: order→ack p50", "µs", info=True)
    r.declare("oc.cancel_p99", c[8], "same: cancel→reply p99", "µs", info=True)
    r.declare("oc.rate", c[8], "same: calls/s done", "/s", info=True)
    r.declare("oc.cpu", c[8], "same: hub CPU (% of a core; the in-process sim included)", "%", goal="< 25")
    r.declare("oc.cpu_whole", c[8], "hub CPU with the whole market ticking, no orders (% of a core)", "%",
              info=True)
    r.declare("oc.floor_p99", c[8], "raw echo p99 (the floor, case 1)", "µs", info=True)

    r.declare("simproc.floor_p50", c[9], "raw echo p50 (rounds paired with the rows below)", "µs")
    r.declare("simproc.order_p50", c[9], "order_stock→ack p50, simulator as its own process (`hub sim`)", "µs")
    r.declare("simproc.order_p99", c[9], "order_stock→ack p99, simulator as its own process", "µs")
    r.declare("simproc.order_ratio", c[9], "same p50 / floor p50", "×", goal="<= 1.5")
    r.declare("simproc.inproc_p50", c[9], "order_stock→ack p50, simulator in process (same rounds)", "µs")
    r.declare("simproc.inproc_ratio", c[9], "same p50 / floor p50", "×", goal="<= 1.5")
    r.declare("simproc.tput", c[9], f"orders acked, {s.tput_clients} procs × {s.tput_window} in flight, "
              "simulator as its own process", "/s")
    r.declare("simproc.tput_ratio", c[9], "same / raw echo calls/s (same shape, same round)", "×", goal=">= 0.6")

    r.declare("relay.direct_p50", c[10], "tick PUB→SUB directly p50", "µs")
    r.declare("relay.p50", c[10], "tick PUB→`Relay`→SUB p50", "µs")
    r.declare("relay.p99", c[10], "tick through the relay p99", "µs")
    r.declare("relay.added_p50", c[10], "relay's added latency p50 (relay p50 − direct p50)", "µs")
    r.declare("relay.ratio", c[10], "relay p50 / direct p50", "×", info=True)


_T0 = time.monotonic()


def progress(msg: str) -> None:
    """One progress line on stderr (the table goes to stdout)."""
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


class CaseSkipped(Exception):
    """A case cannot run: its figures become n/a with this reason."""


class Bench:
    def __init__(self, settings: Settings, only: set[int] | None = None, profile_dir: str | None = None,
                 keep: bool = False):
        self.s = settings
        self.only = only
        self.profile_dir = Path(profile_dir) if profile_dir else None
        self.keep = keep
        self.report = Report(settings.mode, machine_info(), params=asdict(settings))
        declare(self.report, settings)
        self.pool = Pool()
        self.agents: list[Agent] = []
        self.servers: dict[str, tuple[Agent, str]] = {}
        self.hubs: list[HubProcess] = []
        self.sims: list[SimProcess] = []
        self.hub: HubProcess | None = None  # the quiet hub (cases 2, 3, 4, 6, 7)
        self.hub_error: str | None = None
        self.lib_error = hubjobs.library_status()
        self.via = "lib" if self.lib_error is None else "raw"
        if self.lib_error:
            self.report.notes.append(f"client library not available ({self.lib_error}); hub figures use the "
                                     "raw protocol client instead")
        self.zctx = zmq.Context()
        self.t_start = time.monotonic()
        self.spies: dict[int, Any] = {}
        self.handles: list[Any] = []
        self.report.params["client"] = (
            "hub figures through the client library (rpc_client.RpcGateway); 'raw protocol client' rows "
            "speak the wire protocol directly" if self.via == "lib" else "raw protocol client (library missing)")

    # ------------------------------------------------------------------ plumbing
    def over_budget(self) -> bool:
        return bool(self.s.budget) and time.monotonic() - self.t_start > self.s.budget

    def rounds(self, planned: int, what: str) -> Any:
        """range(planned), cut short (after at least one round) once the time budget is spent."""
        for i in range(planned):
            if i > 0 and self.over_budget():
                self.report.notes.append(f"{what}: {i} of {planned} rounds (time budget of "
                                         f"{self.s.budget:.0f} s spent; the machine is slow or busy)")
                return
            yield i

    def wanted(self, case: int) -> bool:
        return self.only is None or case in self.only

    def run(self) -> None:
        n_agents = max(self.s.tput_clients, max(self.s.fan_subs) + 1, self.s.idle_hosts)
        self.agents = self.pool.start(n_agents + 3)
        self.pool.warm(self.agents)
        self.workers = self.agents[:n_agents]
        self.spare = self.agents[n_agents:]

        self.start_floor_servers()
        if any(self.wanted(c) for c in (2, 3, 4, 6, 7, 9)):
            self.guard(7, self.start_quiet_hub, case_on_fail=None)
        for case, fn in ((1, self.case_latency), (4, self.case_throughput), (6, self.case_scale),
                         (9, self.case_simproc), (7, self.case_memory), (5, self.case_fanout),
                         (8, self.case_whole), (10, self.case_relay), (11, self.case_risk)):
            if case == 1 and not any(self.wanted(c) for c in (1, 2, 3)):
                continue
            if case != 1 and not self.wanted(case):
                continue
            self.guard(case, fn)
        for case in CASES:
            if not self.wanted(case):
                self.report.na_case(CASES[case], "not selected (--only)")

    def guard(self, case: int, fn: Callable[[], None], case_on_fail: int | None = -1) -> None:
        t0 = time.monotonic()
        name = getattr(fn, "__name__", str(case))
        progress(f"{name} ...")
        try:
            fn()
        except KeyboardInterrupt:
            raise
        except CaseSkipped as exc:
            self.report.na_case(CASES[case], str(exc))
        except Exception as exc:
            reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            self.report.notes.append(f"case {case} failed: {traceback.format_exc(limit=4)}")
            cases = [1, 2, 3] if case == 1 else [case]
            for c in cases:
                self.report.na_case(CASES[c], reason)
            self.recover_agents()
        finally:
            self.report.params.setdefault("seconds", {})[name] = round(time.monotonic() - t0, 1)
            progress(f"{name} done in {time.monotonic() - t0:.1f} s")

    def recover_agents(self) -> None:
        """After a failed case: stop jobs still running, replace agents that do not stop."""
        server_agents = {id(a) for a, _ in self.servers.values()}
        for lst in (self.workers, self.spare):
            for i, a in enumerate(lst):
                if not a.busy or id(a) in server_agents:
                    continue
                try:
                    a.command("stop")
                    a.result(10)
                except Exception:
                    a.stop(1.0)
                    fresh = self.pool.start(1)[0]
                    self.pool.warm([fresh])
                    lst[i] = fresh

    def need_hub(self) -> HubProcess:
        if self.hub is None:
            raise CaseSkipped(self.hub_error or "hub not started")
        if not self.hub.alive():
            raise CaseSkipped(f"hub died: {self.hub.log_tail(300)}")
        return self.hub

    def close(self) -> None:
        for handle in list(self.handles):
            try:
                self.disconnect(handle)
            except Exception:
                pass
        for name, (agent, _) in list(self.servers.items()):
            try:
                agent.command("stop")
                agent.result(5)
            except Exception:
                pass
        self.servers.clear()
        self.pool.close()
        for h in self.hubs:
            try:
                self.stop_hub(h)
            except Exception:
                pass
            h.cleanup()
        for sp in self.sims:
            try:
                sp.stop()
            except Exception:
                pass
            sp.cleanup()
        try:
            self.zctx.destroy(linger=0)  # closes any socket still open: term() alone would wait for them
        except Exception:
            pass

    # ------------------------------------------------------------------ servers and hubs
    def start_server(self, name: str, agent: Agent, **kwargs: Any) -> str:
        ep = free_endpoint()
        agent.submit("benchlib.raw:echo_server", endpoint=ep, **kwargs)
        agent.wait_message(30)
        self.servers[name] = (agent, ep)
        return ep

    def stop_server(self, name: str) -> None:
        agent, _ = self.servers.pop(name)
        agent.command("stop")
        agent.result(10)

    def start_floor_servers(self) -> None:
        self.start_server("echo", self.spare[0])
        self.start_server("thread", self.spare[1], threaded=True)

    def hub_config(self, risk: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"risk": dict(RISK_WIDE, **(risk or {}))}

    def sim_config(self, **over: Any) -> dict[str, Any]:
        sim = {"default_cash": 1e13, "volatility": 0.0, "enforce_trading_hours": False}
        sim.update(over)
        return sim

    def launch_hub(self, tag: str, sim: dict[str, Any], risk: dict[str, Any] | None = None,
                   module: str = "hub") -> HubProcess:
        h = HubProcess(self.hub_config(risk), sim, keep=self.keep, module=module)
        self.hubs.append(h)
        h.start()
        if self.keep:
            self.report.notes.append(f"hub '{tag}' data dir and log kept in {h.dir}")
        if self.profile_dir is not None and tag == "quiet":
            from benchlib.profile import Spy

            try:
                self.profile_dir.mkdir(parents=True, exist_ok=True)
                self.spies[id(h)] = Spy(h.pid, (self.profile_dir / f"hub-{tag}.txt").resolve())
            except Exception as exc:
                self.report.notes.append(f"--profile: {exc}")
        return h

    def stop_hub(self, h: HubProcess) -> None:
        spy = self.spies.pop(id(h), None)
        if spy is not None:
            try:
                spy.stop()
                self.report.notes.append(f"hub profile written to {spy.out} (+ -summary.txt)")
            except Exception as exc:
                self.report.notes.append(f"--profile failed: {exc}")
        h.stop()
        if h is self.hub:
            self.hub = None

    def start_quiet_hub(self) -> None:
        try:
            self.hub = self.launch_hub("quiet", self.sim_config())
        except Exception as exc:
            self.hub_error = f"hub could not start: {str(exc).splitlines()[0][:200]}"
            raise CaseSkipped(self.hub_error) from None
        time.sleep(0.5)
        self.report.set("mem.idle", self.rss_mb(self.hub))

    def rss_mb(self, h: HubProcess) -> float:
        p = psutil.Process(h.pid)
        rss = p.memory_info().rss
        for ch in p.children(recursive=True):  # e.g. when started through a launcher
            try:
                rss += ch.memory_info().rss
            except psutil.Error:
                pass
        return rss / 2**20

    def cpu_percent(self, h: HubProcess, seconds: float) -> float:
        p = psutil.Process(h.pid)
        t0 = p.cpu_times()
        w0 = time.monotonic()
        time.sleep(seconds)
        t1 = p.cpu_times()
        used = (t1.user - t0.user) + (t1.system - t0.system)
        return 100.0 * used / (time.monotonic() - w0)

    # ------------------------------------------------------------------ clients
    def connect(self, h: HubProcess, strategy: str) -> tuple[Any, Callable[..., Any], Callable[..., Any]]:
        """(handle, call_order(), query(method)) for the client library (or the raw client)."""
        if self.via == "lib":
            gw = hubjobs.lib_connect(h.rpc, h.pub, strategy)
            self.handles.append(gw)
            return gw, gw.order_stock, lambda m: getattr(gw, m)()
        c = rawhub.RawHubClient(h.rpc, self.zctx)
        c.hello(strategy)
        self.handles.append(c)
        return c, lambda **kw: c.call("order_stock", kw), lambda m: c.call(m)

    def disconnect(self, handle: Any) -> None:
        if handle in self.handles:
            self.handles.remove(handle)
        if isinstance(handle, rawhub.RawHubClient):
            handle.close()
        else:
            hubjobs.lib_close(handle)

    # ------------------------------------------------------------------ cases 1-3
    def case_latency(self) -> None:
        s, r = self.s, self.report
        echo_ep = self.servers["echo"][1]
        thread_ep = self.servers["thread"][1]
        hub_ok = self.hub is not None and any(self.wanted(c) for c in (2, 3))
        hub_reason = None
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        if hub_ok:
            try:
                h = self.need_hub()
                # the querying strategy owns exactly book_orders resting orders
                qh, q_order, q_query = self.connect(h, "bench_q")
                for _ in range(s.book_orders):
                    q_order(**order)
                asset = q_query("query_stock_asset")
                orders = q_query("query_stock_orders")
                if len(orders) != s.book_orders:
                    r.notes.append(f"query_stock_orders returned {len(orders)} orders, expected {s.book_orders}")
                orders = [o if isinstance(o, dict) else _as_dict(o) for o in orders]
                self.start_server("canned", self.spare[2], canned={"orders": orders, "asset": asset})
                oh, o_order, _ = self.connect(h, "bench_lat")
            except CaseSkipped as exc:
                hub_ok, hub_reason = False, str(exc)
        else:
            hub_reason = self.hub_error or "not selected"

        cols: dict[str, list[tuple[float, float]]] = {k: [] for k in (
            "floor", "thread", "canned", "asset", "orders", "order", "asset_raw", "order_raw")}
        n, warm = s.lat_n, s.lat_warm
        try:
            self._latency_rounds(cols, hub_ok, locals())
        finally:
            self._latency_figures(cols, hub_ok, hub_reason)
            if hub_ok:
                self.disconnect(qh)
                self.disconnect(oh)
            if "canned" in self.servers:
                self.stop_server("canned")

    def _latency_rounds(self, cols: dict[str, list[tuple[float, float]]], hub_ok: bool, v: dict[str, Any]) -> None:
        s = self.s
        n, warm, order = s.lat_n, s.lat_warm, v["order"]
        echo_ep, thread_ep = v["echo_ep"], v["thread_ep"]
        q_query, o_order = v.get("q_query"), v.get("o_order")
        for _ in self.rounds(s.rounds, "latency"):
            cols["floor"].append(p50_p99(raw.raw_latency(echo_ep, n, warm=warm, zctx=self.zctx)))
            cols["thread"].append(p50_p99(raw.raw_latency(thread_ep, n, warm=warm, zctx=self.zctx)))
            if not hub_ok:
                continue
            canned_ep = self.servers["canned"][1]
            cols["asset"].append(p50_p99(hubjobs.sample(lambda: q_query("query_stock_asset"), n, warm)))
            cols["canned"].append(p50_p99(raw.raw_latency(canned_ep, n, method="orders", params={},
                                                          warm=warm, zctx=self.zctx)))
            cols["orders"].append(p50_p99(hubjobs.sample(lambda: q_query("query_stock_orders"), n, warm)))
            cols["order"].append(p50_p99(hubjobs.sample(lambda: o_order(**order), n, warm)))
            # a fresh raw session per round: it sends no pings, so the hub would drop it between rounds
            rc = rawhub.RawHubClient(self.need_hub().rpc, self.zctx)
            try:
                rc.hello("bench_raw")
                cols["asset_raw"].append(p50_p99(hubjobs.sample(lambda: rc.call("query_stock_asset"), n, warm)))
                cols["order_raw"].append(p50_p99(hubjobs.sample(lambda: rc.call("order_stock", order), n, warm)))
            finally:
                rc.close()

    def _latency_figures(self, cols: dict[str, list[tuple[float, float]]], hub_ok: bool,
                         hub_reason: str | None) -> None:
        r = self.report

        def put(fid: str, col: str, idx: int) -> None:
            vals = [x[idx] for x in cols[col]]
            if vals:
                r.set(fid, median(vals), vals)

        def ratio(fid: str, num: str, den: str) -> None:
            vals = [a[0] / b[0] for a, b in zip(cols[num], cols[den])]
            if vals:
                r.set(fid, median(vals), vals, note="median of paired rounds")

        put("floor.p50", "floor", 0)
        put("floor.p99", "floor", 1)
        put("floor_thread.p50", "thread", 0)
        put("floor_thread.p99", "thread", 1)
        if not hub_ok:
            r.na_case(CASES[2], hub_reason or "hub unavailable")
            r.na_case(CASES[3], hub_reason or "hub unavailable")
            return
        put("query_asset.p50", "asset", 0)
        put("query_asset.p99", "asset", 1)
        ratio("query_asset.ratio", "asset", "floor")
        put("query_orders.p50", "orders", 0)
        put("query_orders.p99", "orders", 1)
        ratio("query_orders.ratio", "orders", "floor")
        put("floor_orders.p50", "canned", 0)
        ratio("query_orders.ratio_same", "orders", "canned")
        put("query_asset_raw.p50", "asset_raw", 0)
        ratio("query_asset_raw.ratio", "asset_raw", "floor")
        put("order.p50", "order", 0)
        put("order.p99", "order", 1)
        ratio("order.ratio", "order", "floor")
        ratio("order.ratio_thread", "order", "thread")
        put("order_raw.p50", "order_raw", 0)
        ratio("order_raw.ratio", "order_raw", "floor")

    # ------------------------------------------------------------------ case 4
    def case_throughput(self) -> None:
        s, r = self.s, self.report
        echo_ep = self.servers["echo"][1]
        clients = self.workers[:s.tput_clients]
        floor_rates: list[float] = []
        hub_rates: list[float] = []
        hub_reason = None
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        for rnd in self.rounds(s.rounds, "throughput"):
            floor_rates.append(self._flood(clients, "benchlib.raw:raw_throughput",
                                           [dict(endpoint=echo_ep, window=s.tput_window) for _ in clients]))
            if hub_reason is None:
                try:
                    h = self.need_hub()
                    res = self._flood(clients, "benchlib.hubjobs:hub_throughput",
                                      [dict(rpc=h.rpc, pub=h.pub, strategy=f"bench_t{i}", window=s.tput_window,
                                            order=order, via=self.via) for i in range(len(clients))],
                                      detail=True)
                    hub_rates.append(res["rate"])
                    if res["errors"]:
                        r.notes.append(f"throughput round {rnd}: {res['errors']} order errors "
                                       f"(first: {res['first_error']})")
                except CaseSkipped as exc:
                    hub_reason = str(exc)
        self._vnpy_rounds(clients, hub_rates)
        r.set("tput.floor", median(floor_rates), floor_rates)
        if hub_rates:
            r.set("tput.hub", median(hub_rates), hub_rates)
            ratios = [a / b for a, b in zip(hub_rates, floor_rates)]
            r.set("tput.ratio", median(ratios), ratios, note="median of paired rounds")
        else:
            r.na(["tput.hub", "tput.ratio"], hub_reason or "hub unavailable")

    def _vnpy_rounds(self, clients: list[Agent], hub_rates: list[float]) -> None:
        """vnpy's RpcServer with a trivial function, 8 processes x 8 clients, beside the hub's rounds."""
        s, r = self.s, self.report
        why = extra.vnpy_available()
        if why is not None:
            r.na(["tput.vnpy", "tput.vs_vnpy"], why)
            return
        rep, pub = free_endpoint(), free_endpoint()
        srv = self.spare[2]
        srv.submit("benchlib.extra:vnpy_server", rep=rep, pub=pub)
        srv.wait_message(30)
        rates: list[float] = []
        try:
            for _ in self.rounds(max(1, min(s.rounds, len(hub_rates) or 1)), "vnpy throughput"):
                rates.append(self._flood(clients, "benchlib.extra:vnpy_throughput",
                                         [dict(rep=rep, pub=pub, window=s.tput_window) for _ in clients]))
        finally:
            srv.command("stop")
            srv.result(20)
        r.set("tput.vnpy", median(rates), rates)
        if hub_rates:
            ratios = [a / b for a, b in zip(hub_rates, rates)]
            r.set("tput.vs_vnpy", median(ratios), ratios, note="hub round i / vnpy round i")

    def _flood(self, clients: list[Agent], target: str, kwargs: list[dict[str, Any]], detail: bool = False,
               duration: float | None = None, timeout: float = 120.0) -> Any:
        """Run the same job on every client, all starting at one instant; the summed rate."""
        duration = self.s.tput_duration if duration is None else duration
        for a, kw in zip(clients, kwargs):
            a.submit(target, duration=duration, **kw)
        for a in clients:
            a.wait_message(60)
        start_at = time.time() + 0.2
        for a in clients:
            a.command(start_at)
        results = [a.result(duration + timeout) for a in clients]
        rate = sum(x["rate"] for x in results)
        if not detail:
            return rate
        return {"rate": rate, "done": sum(x["done"] for x in results),
                "errors": sum(x.get("errors", 0) for x in results),
                "first_error": next((x["first_error"] for x in results if x.get("first_error")), "")}

    # ------------------------------------------------------------------ case 5
    def fan_round(self, pub_ep: str, n: int, publisher: Callable[[float, float], Agent | None] | None = None,
                  hub: HubProcess | None = None, trader: Callable[[float, float], Agent | None] | None = None,
                  at_end: Callable[[], None] | None = None, duration: float | None = None) -> dict[str, Any]:
        """One window of `fan_duration` s with n subscriber processes on pub_ep."""
        d = duration or self.s.fan_duration
        ws = time.time() + 0.6
        we = ws + d
        extra: list[Agent] = []
        if publisher is not None:
            a = publisher(ws - 0.3, we + 0.3)
            if a is not None:
                extra.append(a)
        subs = self.workers[:n]
        acct = hub.rpc if hub is not None else None  # account events: over a session's call socket
        for a in subs:
            a.submit("benchlib.raw:tick_sub", endpoint=pub_ep, window_start=ws, window_end=we, account_rpc=acct)
        for a in subs:
            a.wait_message(20)
        late = time.time() > ws - 0.1
        head0 = None
        if trader is not None and hub is not None:
            head0 = (rawhub.status(hub.rpc).get("heads") or {}).get(P.ACCOUNT_STREAM, 0)
            a = trader(ws + 0.05, we - 0.4)  # stop early so every account event is out before the window ends
            if a is not None:
                extra.append(a)
        t_pub0 = t_pub1 = None
        if hub is not None:
            _sleep_until(ws)
            t_pub0 = (time.time(), rawhub.status(hub.rpc)["counters"]["ticks"])
            _sleep_until(we - 0.15)
            st = rawhub.status(hub.rpc)
            t_pub1 = (time.time(), st["counters"]["ticks"])
            head1 = (st.get("heads") or {}).get(P.ACCOUNT_STREAM, 0)
        _sleep_until(we)
        if at_end is not None:
            at_end()
        results = [a.result(d + 60) for a in subs]
        extra_results = [a.result(d + 60) for a in extra]
        out: dict[str, Any] = {
            "rate": median([x["rate"] for x in results]),
            "min_rate": min(x["rate"] for x in results),
            "gaps": sum(x["gaps"] for x in results),
            "late": late,
        }
        if t_pub0 and t_pub1:
            out["published"] = (t_pub1[1] - t_pub0[1]) / max(1e-9, t_pub1[0] - t_pub0[0])
        lat = [x for res in extra_results if isinstance(res, dict) for x in res.get("lat_ns", [])]
        if lat:
            out["trader_p50"], out["trader_p99"] = p50_p99(lat)
            out["trader_orders"] = len(lat)
        out["catch_up_s"] = max(x["catch_up_s"] for x in results)
        if head0 is not None:
            expected = set(range(head0 + 1, head1 + 1))
            out["acct_expected"] = len(expected)
            out["acct_lost"] = sum(len(expected - set(x["acct_sseqs"])) for x in results)
            out["acct_dup"] = sum(len(x["acct_sseqs"]) - len(set(x["acct_sseqs"])) for x in results)
        return out

    def case_fanout(self) -> None:
        s, r = self.s, self.report
        if self.hub is not None:  # free the quiet hub's CPU and memory first
            self.stop_hub(self.hub)
        codes = tick_codes(TICK_CODES_N)
        pub_agent = self.spare[2]
        hub_reason = None
        mon = None
        # "Full speed" through the public interface: the sim ticks every code every millisecond
        # (offered 100 codes x 1000/s), more than the hub can publish, so the hub publishes as fast
        # as it can. Codes are subscribed only during a hub window so the hub is idle (and holds no
        # backlog) while the raw floor runs.
        try:
            fast = self.launch_hub("fanout-full", self.sim_config(tick_interval=FAST_TICK_INTERVAL))
            mon = rawhub.RawHubClient(fast.rpc, self.zctx, timeout=30)
            mon.hello("bench_fan", role=P.Role.MONITOR)
            sample_tick = mon.call("get_full_tick", {"codes": [codes[0]]}).get(codes[0])
        except Exception as exc:
            fast = None
            hub_reason = f"fan-out hub unavailable: {str(exc).splitlines()[0][:160]}"
            sample_tick = None
        if not sample_tick:
            sample_tick = _synthetic_tick()
            r.notes.append("raw PUB/SUB used a synthetic xtdata-like tick (no tick from the hub)")

        def raw_publisher(rate: float | None) -> Callable[[float, float], Agent]:
            def start(t0: float, t1: float) -> Agent:
                pub_agent.submit("benchlib.raw:raw_pub", endpoint=raw_ep, tick=sample_tick, codes=codes,
                                 start_at=t0, stop_at=t1, rate=rate, sndhwm=HUB_PUB_SNDHWM)
                pub_agent.wait_message(20)
                return pub_agent
            return start

        def trader(t0: float, t1: float) -> Agent:
            pub_agent.submit("benchlib.hubjobs:trickle_orders", rpc=fast.rpc, strategy="bench_acct",
                             order=hubjobs.order_kwargs(REST_CODE, FILL_PRICE), rate=50.0, start_at=t0, stop_at=t1)
            pub_agent.wait_message(20)
            return pub_agent

        def hub_ticks_on(on: bool) -> None:
            mon.call("subscribe_quote" if on else "unsubscribe_quote", {"codes": codes})
            if not on:
                _wait_drained(fast)

        trader_p50: list[float] = []
        trader_n: list[int] = []

        acct_lost: list[int] = []
        acct_dup: list[int] = []
        acct_expected: list[int] = []
        published: list[float] = []
        nmax = max(s.fan_subs)
        for n in s.fan_subs:
            raw_rates, raw_gaps, hub_rates, hub_gaps, ratios = [], [], [], [], []
            for _ in self.rounds(s.fan_rounds, f"fan-out {n} subs"):
                raw_ep = free_endpoint()
                rr = self.fan_round(raw_ep, n, publisher=raw_publisher(None))
                raw_rates.append(rr["rate"])
                raw_gaps.append(rr["gaps"])
                if fast is None:
                    continue
                if not fast.alive():
                    hub_reason = f"fan-out hub died: {fast.log_tail(200)}"
                    fast = None
                    continue
                hub_ticks_on(True)
                try:
                    hr = self.fan_round(fast.pub, n, hub=fast, trader=trader if n == nmax else None,
                                        at_end=lambda: hub_ticks_on(False))
                except Exception:
                    hub_ticks_on(False)
                    raise
                if "trader_p50" in hr:
                    trader_p50.append(hr["trader_p50"])
                    trader_n.append(hr["trader_orders"])
                hub_rates.append(hr["rate"])
                hub_gaps.append(hr["gaps"])
                ratios.append(hr["rate"] / rr["rate"] if rr["rate"] else math.nan)
                if "published" in hr:
                    published.append(hr["published"])
                if "acct_lost" in hr:
                    acct_lost.append(hr["acct_lost"])
                    acct_dup.append(hr["acct_dup"])
                    acct_expected.append(hr["acct_expected"])
            r.set(f"fan.raw.{n}.rate", median(raw_rates), raw_rates)
            r.set(f"fan.raw.{n}.gaps", median(raw_gaps), raw_gaps)
            if hub_rates:
                r.set(f"fan.hub.{n}.rate", median(hub_rates), hub_rates)
                r.set(f"fan.hub.{n}.gaps", median(hub_gaps), hub_gaps)
                r.set(f"fan.hub.{n}.ratio", median(ratios), ratios, note="median of paired rounds")
            else:
                r.na([f"fan.hub.{n}.rate", f"fan.hub.{n}.gaps", f"fan.hub.{n}.ratio"], hub_reason or "no hub")
        if published:
            r.set("fan.hub.published", median(published), published)
        if trader_p50:
            r.set("fan.order_p50", median(trader_p50), trader_p50,
                  note=f"{median(trader_n):.0f} orders/round asked at 50/s")
        else:
            r.na(["fan.order_p50"], hub_reason or "no orders completed")
        if acct_lost:
            r.set("fan.acct_lost", max(acct_lost), acct_lost,
                  note=f"worst round; {median(acct_expected):.0f} events/round × {nmax} sessions expected")
            r.set("fan.acct_dup", max(acct_dup), acct_dup, note="worst round")
        else:
            r.na(["fan.hub.published", "fan.acct_lost", "fan.acct_dup"], hub_reason or "no hub")
        if mon is not None:
            mon.close(bye=False)
            mon = None
        if fast is not None:
            self.stop_hub(fast)

        # a fixed, sustainable rate: the sim ticks every code every len(codes)/fixed_rate seconds
        try:
            interval = len(codes) / s.fixed_rate
            fixed = self.launch_hub("fanout-fixed", self.sim_config(tick_interval=interval))
            mon = rawhub.RawHubClient(fixed.rpc, self.zctx)
            mon.hello("bench_fan", role=P.Role.MONITOR)
            mon.call("subscribe_quote", {"codes": codes})
            time.sleep(0.3)
            rates, gaps = [], []
            for rnd in range(max(1, s.fan_rounds - 1)):
                if rnd:  # re-subscribe: a silent monitor session is dropped after client_dead_after
                    mon.call("subscribe_quote", {"codes": codes})
                    time.sleep(0.3)
                fr = self.fan_round(fixed.pub, nmax, hub=fixed, duration=max(1.0, s.fan_duration))
                rates.append(fr["rate"])
                gaps.append(fr["gaps"])
            r.set("fan.fixed.rate", median(rates), rates,
                  note=f"sim: {len(codes)} codes every {interval * 1000:.0f} ms")
            r.set("fan.fixed.gaps", max(gaps), gaps, note="worst round")
            mon.close(bye=False)
            self.stop_hub(fixed)
        except CaseSkipped:
            raise
        except Exception as exc:
            r.na(["fan.fixed.rate", "fan.fixed.gaps"], f"fixed-rate hub failed: {str(exc).splitlines()[0][:160]}")

    # ------------------------------------------------------------------ case 6
    def case_scale(self) -> None:
        s, r = self.s, self.report
        h = self.need_hub()
        hosts = self.workers[:s.idle_hosts]
        per = math.ceil(s.idle_clients / len(hosts))
        names = [f"idle{i:03d}" for i in range(s.idle_clients)]
        for i, a in enumerate(hosts):
            a.submit("benchlib.hubjobs:idle_host", rpc=h.rpc, pub=h.pub, names=names[i * per:(i + 1) * per])
        for a in hosts:
            a.wait_message(30)
        handle, order_fn, _ = self.connect(h, "bench_scale")
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        one: list[float] = []
        many: list[float] = []
        try:
            for rnd in self.rounds(s.scale_rounds, "scale"):
                one.append(p50_p99(hubjobs.sample(lambda: order_fn(**order), s.scale_n, s.lat_warm))[0])
                if rnd == 0:
                    time.sleep(0.5)
                    r.set("scale.cpu_idle_1", self.cpu_percent(h, s.idle_cpu_window))
                for a in hosts:
                    a.command("up")
                for a in hosts:
                    a.wait_message(60)
                time.sleep(s.settle)  # let the hellos and first pings settle
                many.append(p50_p99(hubjobs.sample(lambda: order_fn(**order), s.scale_n, s.lat_warm))[0])
                if rnd == 0:
                    st = rawhub.status(h.rpc)
                    if st.get("clients") is not None and st["clients"] < s.idle_clients:
                        r.notes.append(f"hub reports {st['clients']} clients with {s.idle_clients} idle connected")
                    time.sleep(s.settle)
                    r.set("scale.cpu_idle_n", self.cpu_percent(h, s.idle_cpu_window),
                          note=f"over {s.idle_cpu_window:.0f} s")
                    r.set("mem.clients", self.rss_mb(h))
                for a in hosts:
                    a.command("down")
                for a in hosts:
                    a.wait_message(60)
        finally:
            for a in hosts:
                if a.busy:
                    a.command("stop")
            for a in hosts:
                if a.busy:
                    a.result(30)
            self.disconnect(handle)
        r.set("scale.order_p50_1", median(one), one)
        r.set("scale.order_p50_n", median(many), many)
        ratios = [b / a for a, b in zip(one, many)]
        r.set("scale.ratio", median(ratios), ratios, note="median of paired rounds")

    # ------------------------------------------------------------------ case 11
    def case_risk(self) -> None:
        """order→ack with the risk stage on (a hub with default risk settings) against off
        ([risk] enabled = false), both fresh hubs of this run. Within a round the calls alternate
        between the two hubs (on, off, off, on, ...), so whatever else the machine does hits both
        alike; each round also reads both hubs' CPU time per order (thread run times, ns).

        Then the control, the same way with a fresh pair (a third hub at once would load the machine
        more and change what is measured; one started later than its partner is not its equal): a
        hub whose stage is installed but does nothing (`benchlib.null_risk_hub`) against one with
        the stage off: what the bench reads when the stage's own work costs nothing. Last, the
        stage's own work per order in this process, warm (`extra.risk_stage_warm`): what the code
        costs when it stays cached."""
        s, r = self.s, self.report
        cols, cpu = self._pair_of_hubs("risk", {})
        control, _ = self._pair_of_hubs("risk control", {"module": "benchlib.null_risk_hub"})
        r.set("risk.on_p50", median(cols[0]), cols[0])
        r.set("risk.off_p50", median(cols[1]), cols[1])
        added = [a - b for a, b in zip(*cols)]
        r.set("risk.added_p50", median(added), added, note="median of paired rounds (on − off), calls alternated")
        null = [a - b for a, b in zip(*control)]
        r.set("risk.null_added_p50", median(null), null, note="median of paired rounds (null − off)")
        r.set("risk.cpu_on", median(cpu[0]), cpu[0])
        r.set("risk.cpu_off", median(cpu[1]), cpu[1])
        cadded = [a - b for a, b in zip(*cpu)]
        r.set("risk.cpu_added", median(cadded), cadded, note="median of rounds (on − off)")
        warm = [extra.risk_stage_warm(s.lat_n * 4) for _ in range(3)]
        r.set("risk.warm_stage", median(warm), warm, note="p50 per order, median of 3 runs, in the bench's process")

    def _pair_of_hubs(self, what: str, first: dict[str, Any]) -> tuple[list[list[float]], list[list[float]]]:
        """Two fresh hubs started together, the first with the risk stage (`first`: launch_hub's
        options), the second with it off; `_paired` over them, then both stopped."""
        a = self.launch_hub(what.replace(" ", "_") + "_on", self.sim_config(), **first)
        b = self.launch_hub(what.replace(" ", "_") + "_off", self.sim_config(), {"enabled": False})
        try:
            return self._paired(a, b, what)
        finally:
            for h in (a, b):
                self.stop_hub(h)
                if h in self.hubs:
                    self.hubs.remove(h)

    def _paired(self, a: HubProcess, b: HubProcess, what: str) -> tuple[list[list[float]], list[list[float]]]:
        """Rounds of order→ack calls alternating between hubs a and b (a, b, b, a, ...): per round each
        hub's p50 (µs) and its CPU time per order (µs): ([a's, b's], [a's, b's])."""
        s = self.s
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        hubs = (a, b)
        cols: list[list[float]] = [[], []]
        cpu: list[list[float]] = [[], []]
        clock = time.perf_counter_ns
        for _ in self.rounds(s.rounds, what):
            clients = [rawhub.RawHubClient(h.rpc, self.zctx) for h in hubs]
            try:
                calls = []
                for i, rc in enumerate(clients):
                    rc.hello(f"bench_risk_{i}")
                    calls.append((lambda rc: lambda: rc.call("order_stock", order))(rc))
                for _ in range(s.lat_warm):
                    calls[0]()
                    calls[1]()
                took: list[list[int]] = [[], []]
                cpu0 = [_cpu_ns(h) for h in hubs]
                turns = ((0, 1), (1, 0))
                for n in range(s.lat_n):
                    for k in turns[n & 1]:
                        t0 = clock()
                        calls[k]()
                        took[k].append(clock() - t0)
                for k, h in enumerate(hubs):
                    cols[k].append(p50_p99(took[k])[0])
                    cpu[k].append(_cpu_used_ns(cpu0[k], _cpu_ns(h)) / 1000.0 / s.lat_n)
            finally:
                for rc in clients:
                    rc.close()
        return cols, cpu

    # ------------------------------------------------------------------ case 7
    def case_memory(self) -> None:
        s, r = self.s, self.report
        h = self.need_hub()
        before = int(rawhub.status(h.rpc)["counters"].get("orders", 0))
        clients = self.workers[:s.tput_clients]
        per = math.ceil(s.mem_orders / len(clients))
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        res = self._flood(clients, "benchlib.hubjobs:hub_throughput",
                          [dict(rpc=h.rpc, pub=h.pub, strategy=f"bench_m{i}", window=s.tput_window, order=order,
                                via=self.via, max_orders=per) for i in range(len(clients))],
                          detail=True, duration=3600.0, timeout=600.0)
        time.sleep(s.settle)
        after = int(rawhub.status(h.rpc)["counters"].get("orders", 0))
        r.set("mem.orders", self.rss_mb(h), note=f"{after:,} orders in the hub's book")
        r.set("mem.orders_n", res["done"], note=f"this case; hub counter +{after - before:,}, "
              f"{res['errors']} errors" + (" (quick mode: fewer than 100,000)" if s.mode == "quick" else ""))

    # ------------------------------------------------------------------ case 8
    def _whole_window(self, ep: str, duration: float, before: Callable[[float, float], None] | None = None,
                      during: Callable[[float, float], None] | None = None) -> list[tuple[int, int, float, float]]:
        """Snapshots seen by each whole-market subscriber: (time ms, codes, last and first arrival after time)."""
        subs = self.workers[:self.s.whole_subs]
        ws = time.time() + 1.0
        we = ws + duration
        for a in subs:
            a.submit("benchlib.extra:whole_sub", endpoint=ep, window_start=ws, window_end=we,
                     min_after=self.s.whole_interval + 1.0 if self.s.whole_min_after is None
                     else self.s.whole_min_after, quiet=self.s.whole_quiet)
        for a in subs:
            a.wait_message(30)
        if before is not None:
            before(ws, we)
        if during is not None:
            during(ws, we)
        res = [a.result(duration + 120) for a in subs]
        return [snap for x in res for snap in x["snaps"]]

    def case_whole(self) -> None:
        s, r = self.s, self.report
        if self.hub is not None:
            self.stop_hub(self.hub)
        universe = extra.whole_universe(s.whole_codes)
        h = self.launch_hub("whole", self.sim_config(tick_interval=s.whole_interval, universe=universe))
        mon = rawhub.RawHubClient(h.rpc, self.zctx, timeout=60)
        try:
            mon.hello("bench_whole", role=P.Role.MONITOR)
            codes = extra.market_codes(universe)
            tick = mon.call("get_full_tick", {"codes": [codes[0]]}).get(codes[0]) or _synthetic_tick()
            # the floor: a raw PUB bursting the same number of ticks to the same number of SUBs
            raw_ep = free_endpoint()
            floor_dur = s.whole_floor_duration or s.whole_duration
            n_snap = max(1, int((floor_dur - 1.0) / s.whole_interval))
            pub_agent = self.spare[2]

            def burst(ws: float, we: float) -> None:
                at = [ws + 0.5 + i * s.whole_interval for i in range(n_snap)]
                at = [t for t in at if t < we - 0.2] or [ws + 0.3]
                pub_agent.submit("benchlib.extra:raw_burst", endpoint=raw_ep, tick=tick, codes=codes, at=at)
                pub_agent.wait_message(20)

            floor = self._whole_window(raw_ep, floor_dur, before=burst)
            pub_agent.result(60)
            floor_lat = sorted(lat for _, c, lat, _ in floor if c >= len(codes))
            if floor_lat:
                r.set("whole.floor_p99", 1000 * _pct(floor_lat, 0.99), note=f"{len(floor_lat)} snapshot×subscriber")

            else:
                r.na(["whole.floor_p99"], "no burst reached a subscriber complete")
            mon.close(bye=False)  # a fresh session: the old one fell silent during the floor window
            mon = rawhub.RawHubClient(h.rpc, self.zctx, timeout=60)
            mon.hello("bench_whole2", role=P.Role.MONITOR)
            got = mon.call("subscribe_whole_quote", {"codes": ["SH", "SZ"]})
            time.sleep(1.0)
            oc: dict[str, Any] = {}

            def orders(ws: float, we: float) -> None:
                # the whole market alone for the first part of the window, then orders + cancels as well
                t_mid = ws + min(we - ws, s.whole_interval * 2) / 2
                _sleep_until(ws + 0.2)
                cpu0 = _cpu(h)
                _sleep_until(t_mid)
                cpu1 = _cpu(h)
                names = [f"bench_oc{i}" for i in range(s.oc_strategies)]
                hosts = [self.workers[s.whole_subs], self.spare[2]]
                per = math.ceil(len(names) / len(hosts))
                t_start, t_stop = t_mid + 0.5, we - 0.2
                for i, a in enumerate(hosts):
                    a.submit("benchlib.extra:order_cancel", rpc=h.rpc, strategies=names[i * per:(i + 1) * per],
                             order=hubjobs.order_kwargs(REST_CODE, REST_PRICE), rate=s.oc_rate / len(names),
                             start_at=t_start, stop_at=t_stop)
                for a in hosts:
                    a.wait_message(30)
                _sleep_until(t_start)
                cpu2 = _cpu(h)
                _sleep_until(t_stop)
                cpu3 = _cpu(h)
                res = [a.result(120) for a in hosts]
                oc["cpu_whole"] = _cpu_pct(cpu0, cpu1)
                oc["cpu"] = _cpu_pct(cpu2, cpu3)
                oc["order_lat"] = sorted(x for q in res for x in q["order_lat"])
                oc["cancel_lat"] = sorted(x for q in res for x in q["cancel_lat"])
                oc["errors"] = sum(q["errors"] for q in res)
                oc["first_error"] = next((q["first_error"] for q in res if q["first_error"]), "")
                oc["span"] = t_stop - t_start

            pinger = _Pinger(mon)
            try:
                snaps = self._whole_window(h.pub, s.whole_duration, during=orders)
            finally:
                pinger.stop()
            n_codes = len(codes)
            r.set("whole.codes", n_codes, note=f"subscribe_whole_quote {got}; sim snapshot every "
                  f"{s.whole_interval:g} s")
            lat = sorted(x for _, c, x, _ in snaps if c >= n_codes)
            first: dict[int, float] = {}
            for tm, _, _, f in snaps:
                first[tm] = min(f, first.get(tm, f))
            lat_cb = sorted(x - first[tm] for tm, c, x, _ in snaps if c >= n_codes)
            if snaps:
                r.set("whole.complete", 100.0 * len(lat) / len(snaps), note=f"{len(snaps)} snapshot×subscriber; "
                      f"most codes of one snapshot at one subscriber: {max(c for _, c, _, _ in snaps):,}")
            else:
                r.na(["whole.complete"], "no snapshot reached the subscribers in the window")
            if lat:
                r.set("whole.p50", 1000 * _pct(lat_cb, 0.5))
                r.set("whole.p99", 1000 * _pct(lat_cb, 0.99), note=f"{len(lat)} snapshot×subscriber")
                r.set("whole.p99_snap", 1000 * _pct(lat, 0.99))
                r.set("whole.first_p50", 1000 * median(list(first.values())))
                if floor_lat:
                    r.set("whole.ratio", _pct(lat_cb, 0.99) / max(1e-9, _pct(floor_lat, 0.99)))
            else:
                r.na(["whole.p50", "whole.p99", "whole.p99_snap", "whole.first_p50", "whole.ratio"],
                     "no snapshot reached a subscriber complete (newer ticks replaced older ones of the same code "
                     "before the hub published them: the hub is behind)")
            if oc.get("order_lat"):
                r.set("oc.order_p99", _pct(oc["order_lat"], 0.99) / 1000, note=f"{len(oc['order_lat'])} orders")
                r.set("oc.order_p50", _pct(oc["order_lat"], 0.5) / 1000)
                if oc["cancel_lat"]:
                    r.set("oc.cancel_p99", _pct(oc["cancel_lat"], 0.99) / 1000)
                r.set("oc.rate", (len(oc["order_lat"]) + len(oc["cancel_lat"])) / max(1e-9, oc["span"]),
                      note=f"{oc['errors']} errors {oc['first_error'][:80]}".strip())
                r.set("oc.cpu", oc["cpu"])
                r.set("oc.cpu_whole", oc["cpu_whole"])
                fp = r.value("floor.p99")
                if fp is not None:
                    r.set("oc.floor_p99", fp)
                else:
                    r.na(["oc.floor_p99"], "case 1 not run")
            else:
                r.na(["oc.order_p99", "oc.order_p50", "oc.cancel_p99", "oc.rate", "oc.cpu", "oc.cpu_whole",
                      "oc.floor_p99"], "no order completed")
        finally:
            mon.close(bye=False)
            self.stop_hub(h)

    # ------------------------------------------------------------------ case 9
    def case_simproc(self) -> None:
        s, r = self.s, self.report
        inproc = self.need_hub()
        sp = SimProcess(self.sim_config(), keep=self.keep)
        self.sims.append(sp)
        sp.start()
        # the account's rate guard opened wide as on every bench hub: orders back to back pass 200/s
        # on a quiet machine, and a RATE_LIMITED order would end the case
        h = HubProcess(dict(self.hub_config(), sim_endpoint=sp.endpoint), {}, keep=self.keep)
        self.hubs.append(h)
        h.start()
        echo_ep = self.servers["echo"][1]
        order = hubjobs.order_kwargs(REST_CODE, REST_PRICE)
        floor, remote, local, tput, tfloor = [], [], [], [], []
        gw, o_remote, _ = self.connect(h, "bench_simproc")
        gl, o_local, _ = self.connect(inproc, "bench_inproc")
        clients = self.workers[:s.tput_clients]
        try:
            n = s.lat_n if s.mode == "full" else s.lat_n // 2
            for rnd in self.rounds(s.simproc_rounds, "sim process"):
                floor.append(p50_p99(raw.raw_latency(echo_ep, n, warm=s.lat_warm, zctx=self.zctx)))
                remote.append(p50_p99(hubjobs.sample(lambda: o_remote(**order), n, s.lat_warm)))
                local.append(p50_p99(hubjobs.sample(lambda: o_local(**order), n, s.lat_warm)))
                if rnd == 0 or s.mode == "full":
                    tfloor.append(self._flood(clients, "benchlib.raw:raw_throughput",
                                              [dict(endpoint=echo_ep, window=s.tput_window) for _ in clients]))
                    tput.append(self._flood(clients, "benchlib.hubjobs:hub_throughput",
                                            [dict(rpc=h.rpc, pub=h.pub, strategy=f"bench_st{i}",
                                                  window=s.tput_window, order=order, via=self.via)
                                             for i in range(len(clients))]))
        finally:
            self.disconnect(gw)
            self.disconnect(gl)
            self.stop_hub(h)
            sp.stop()
        r.set("simproc.floor_p50", median([f[0] for f in floor]), [f[0] for f in floor])
        r.set("simproc.order_p50", median([x[0] for x in remote]), [x[0] for x in remote])
        r.set("simproc.order_p99", median([x[1] for x in remote]), [x[1] for x in remote])
        rr = [a[0] / b[0] for a, b in zip(remote, floor)]
        r.set("simproc.order_ratio", median(rr), rr, note="median of paired rounds")
        r.set("simproc.inproc_p50", median([x[0] for x in local]), [x[0] for x in local])
        lr = [a[0] / b[0] for a, b in zip(local, floor)]
        r.set("simproc.inproc_ratio", median(lr), lr, note="median of paired rounds")
        r.set("simproc.tput", median(tput), tput)
        tr = [a / b for a, b in zip(tput, tfloor)]
        r.set("simproc.tput_ratio", median(tr), tr, note="median of paired rounds")

    # ------------------------------------------------------------------ case 10
    def case_relay(self) -> None:
        r = self.report
        direct, relayed = [], []
        for _ in self.rounds(max(1, self.s.rounds - 1), "relay"):
            d, rl = extra.relay_latency(self.s.relay_n)
            direct.append(p50_p99(d))
            relayed.append(p50_p99(rl))
        r.set("relay.direct_p50", median([x[0] for x in direct]), [x[0] for x in direct])
        r.set("relay.p50", median([x[0] for x in relayed]), [x[0] for x in relayed])
        r.set("relay.p99", median([x[1] for x in relayed]), [x[1] for x in relayed])
        added = [b[0] - a[0] for a, b in zip(direct, relayed)]
        r.set("relay.added_p50", median(added), added, note="median of paired rounds")
        ratios = [b[0] / a[0] for a, b in zip(direct, relayed)]
        r.set("relay.ratio", median(ratios), ratios, note="median of paired rounds")


class _Pinger:
    """Pings a raw session once a second on its own thread (the hub drops a silent session and
    its subscriptions); the session is used by no other thread meanwhile."""

    def __init__(self, client: Any):
        import threading

        self._stop = threading.Event()
        self._client = client
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._client.call("ping", {})
            except Exception:  # noqa: BLE001 - a slow hub; the next ping tries again
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _cpu_ns(h: HubProcess) -> dict[str, int]:
    """CPU time the hub process has used, in ns, per thread: their run times (/proc/PID/task/*/schedstat,
    exact); elsewhere one entry, psutil's user + system (clock ticks)."""
    tasks = Path(f"/proc/{h.pid}/task")
    if tasks.is_dir():
        out = {}
        for t in tasks.iterdir():
            try:
                out[t.name] = int((t / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
        return out
    t = psutil.Process(h.pid).cpu_times()
    return {"process": int((t.user + t.system) * 1e9)}


def _cpu_used_ns(before: dict[str, int], after: dict[str, int]) -> int:
    """CPU used between two `_cpu_ns` readings (threads that ended in between are not counted)."""
    return sum(max(0, ns - before.get(tid, 0)) for tid, ns in after.items())


def _cpu(h: HubProcess) -> tuple[float, float]:
    t = psutil.Process(h.pid).cpu_times()
    return time.monotonic(), t.user + t.system


def _cpu_pct(a: tuple[float, float], b: tuple[float, float]) -> float:
    return 100.0 * (b[1] - a[1]) / max(1e-9, b[0] - a[0])


def _wait_drained(h: HubProcess, timeout: float = 20.0) -> None:
    """Wait until the hub's tick counter stops moving (its backlog of ticks is published)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        n = rawhub.status(h.rpc, timeout=timeout)["counters"]["ticks"]  # answered after the backlog
        if n == last:
            return
        last = n
        time.sleep(0.3)


def _sleep_until(t: float) -> None:
    left = t - time.time()
    if left > 0:
        time.sleep(left)


def _synthetic_tick() -> dict[str, Any]:
    return {"time": int(time.time() * 1000), "lastPrice": 10.2, "open": 10.15, "high": 10.3, "low": 10.1,
            "lastClose": 10.2, "amount": 123456789.0, "volume": 120000, "pvolume": 12000000, "stockStatus": 0,
            "openInt": 0, "lastSettlementPrice": 0.0, "askPrice": [10.21, 10.22, 10.23, 10.24, 10.25],
            "bidPrice": [10.2, 10.19, 10.18, 10.17, 10.16], "askVol": [120, 80, 60, 40, 20],
            "bidVol": [110, 90, 70, 50, 30], "transactionNum": 5000, "settlementPrice": 0.0}


def _as_dict(o: Any) -> dict[str, Any]:
    if hasattr(o, "__dict__"):
        return {k: v for k, v in vars(o).items() if not k.startswith("_")}
    return dict(o)
