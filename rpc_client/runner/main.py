"""One strategy process: ``python -m rpc_client.runner STRATEGY.py -n NAME [...]`` (``hub run`` starts it).

Order of work: options and config -> log -> task registry (the name is unique per machine) ->
hub session under NAME -> clock (the hub's simulated one when it has one) -> trading calendar
(today must be covered, else exit 2) -> load the strategy file with jqtrade's names ->
``process_initialize(context)`` -> ``set_options(account_no=...)`` must be the hub's account (else
exit 2) -> the scheduler until stopped. A stop (Ctrl+C, SIGTERM, CTRL_BREAK, ``hub stop``'s stop
request) lets the running function finish, then closes the session and leaves the registry.

Exit codes: 0 stopped, 1 the strategy failed to load or initialize, 2 usage or configuration error
(wrong account, calendar coverage, name taken), 3 hub unreachable.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

from rpc_client.calendar import (BrokerSource, CalendarCoverageError, FileSource, PackageSource, SimulatorWeekdays,
                                 TradingCalendar)
from rpc_client.endpoints import DEFAULT_DATA_DIR
from rpc_client.gateway import RpcGateway
from rpc_client.protocol import DEFAULT_RPC_ENDPOINT, STRATEGY_NAME_RE, ErrorCode, HubError, Topic
from rpc_client.runner import tasks
from rpc_client.runner.api import AccountMismatch, StrategyApi, StrategyError
from rpc_client.runner.clock import HubClock
from rpc_client.runner.schedule import CATCH_UP, DEFAULT_GRACE, DEFAULT_MAX_FAILURES, Scheduler, ScheduleError

log = logging.getLogger("rpc_client.runner")

EXIT_OK, EXIT_STRATEGY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
RUNNER_KEYS = ("rpc", "pub", "data_dir", "curve_dir", "timeout", "misfire_grace", "catch_up", "max_failures",
               "holidays_file", "wait_for_hub")
STOP_POLL = 0.2  # seconds between looks for a stop request


class RunnerExit(SystemExit):
    """End the runner with an exit code and a message for a person."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.message = message


@dataclass
class Settings:
    code: Path
    name: str
    out: str = ""
    env: str = ""
    debug: bool = False
    rpc: str = ""
    pub: str = ""
    data_dir: Path = DEFAULT_DATA_DIR
    curve_dir: str = ""
    timeout: float = 5.0
    misfire_grace: float = DEFAULT_GRACE
    catch_up: str | None = None
    max_failures: int = DEFAULT_MAX_FAILURES
    holidays_file: str = ""
    wait_for_hub: float = 0.0  # seconds to keep trying to reach a hub that is not up yet; 0 = one attempt


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rpc_client.runner", description="Run one jqtrade strategy on the hub.")
    p.add_argument("code", help="the strategy file")
    p.add_argument("-n", "--name", required=True, help="task and hub strategy name (unique)")
    p.add_argument("-o", "--out", default="", help="log file (default: stdout/stderr)")
    p.add_argument("-e", "--env", default="", help="K=V;K2=V2 environment for the strategy (PYTHONPATH goes on sys.path)")
    p.add_argument("--config", default="", help="TOML: the hub's rpc/data_dir and a [runner] table")
    p.add_argument("--debug", action="store_true", help="debug logging")
    p.add_argument("--rpc", default="", help="the hub's call endpoint [default: $QMT_HUB or tcp://127.0.0.1:5555]")
    p.add_argument("--pub", default="", help="the hub's event endpoint [default: the rpc port + 1]")
    p.add_argument("--data-dir", default="", help="the hub's data folder (task registry) [default: ~/.qmt-hub]")
    return p.parse_args(argv)


def load_settings(ns: argparse.Namespace) -> Settings:
    """Flags > [runner] table > the hub's own keys (top level or [hub]) > $QMT_HUB > defaults."""
    if not STRATEGY_NAME_RE.match(ns.name or ""):  # also a file name in the task registry
        raise RunnerExit(EXIT_USAGE, f"bad -n {ns.name!r}: 1-32 letters, digits, '_' or '-', starting with a "
                                     f"letter or digit")
    s = Settings(code=Path(ns.code).expanduser(), name=ns.name, out=ns.out, env=ns.env, debug=ns.debug)
    values: dict[str, Any] = {}
    if ns.config:
        path = Path(ns.config).expanduser()
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise RunnerExit(EXIT_USAGE, f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise RunnerExit(EXIT_USAGE, f"config file {path} is not valid TOML: {exc}") from None
        hub = dict(data.get("hub") or {})
        hub.update({k: v for k, v in data.items() if not isinstance(v, dict)})
        for k in ("rpc", "pub", "data_dir", "curve_dir"):
            if k in hub:
                values[k] = hub[k]
        runner = data.get("runner") or {}
        unknown = sorted(set(runner) - set(RUNNER_KEYS))
        if unknown:
            raise RunnerExit(EXIT_USAGE, f"{path}: unknown [runner] key(s) {', '.join(unknown)} "
                                         f"(known: {', '.join(RUNNER_KEYS)})")
        values.update(runner)
    for k in ("rpc", "pub", "data_dir"):
        v = getattr(ns, k, "")
        if v:
            values[k] = v
    s.rpc = str(values.get("rpc") or os.environ.get("QMT_HUB") or DEFAULT_RPC_ENDPOINT)
    s.pub = str(values.get("pub") or os.environ.get("QMT_HUB_PUB") or "")
    s.data_dir = Path(str(values.get("data_dir") or DEFAULT_DATA_DIR)).expanduser()
    s.curve_dir = str(values.get("curve_dir") or "")
    try:
        s.timeout = float(values.get("timeout", s.timeout))
        s.misfire_grace = float(values.get("misfire_grace", s.misfire_grace))
        s.max_failures = int(values.get("max_failures", s.max_failures))
        s.wait_for_hub = float(values.get("wait_for_hub", s.wait_for_hub))
    except (TypeError, ValueError) as exc:
        raise RunnerExit(EXIT_USAGE, f"bad [runner] value: {exc}") from None
    s.catch_up = values.get("catch_up")
    if s.catch_up is not None and s.catch_up not in CATCH_UP:
        raise RunnerExit(EXIT_USAGE, f"[runner] catch_up must be one of {', '.join(CATCH_UP)}")
    if s.misfire_grace < 0:
        raise RunnerExit(EXIT_USAGE, "[runner] misfire_grace must be >= 0")
    s.holidays_file = str(values.get("holidays_file") or "")
    return s


def apply_env(env: str) -> None:
    """jqtrade's ``-e 'PYTHONPATH=./pkg;USER=test'``: set each; PYTHONPATH entries go on sys.path."""
    for part in [p for p in env.split(";") if p.strip()]:
        if "=" not in part:
            raise RunnerExit(EXIT_USAGE, f"-e expects K=V;K2=V2, got {part!r}")
        k, v = part.split("=", 1)
        k = k.strip()
        os.environ[k] = v
        if k == "PYTHONPATH":
            for entry in reversed([e for e in v.split(os.pathsep) if e]):
                sys.path.insert(0, str(Path(entry).expanduser().resolve()))


def setup_logging(out: str, debug: bool) -> None:
    handler: logging.Handler
    if out:
        Path(out).expanduser().parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(Path(out).expanduser(), encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:
        logging.getLogger("rpc_client").setLevel(logging.INFO)


def load_strategy(path: Path, api: StrategyApi) -> types.ModuleType:
    """Execute the strategy file in a module that has jqtrade's names; its folder goes on sys.path."""
    path = path.resolve()
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunnerExit(EXIT_USAGE, f"cannot read the strategy file {path}: {exc}") from None
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    mod = types.ModuleType(path.stem)
    mod.__file__ = str(path)
    mod.__dict__.update(api.namespace())
    code = compile(source, str(path), "exec")
    exec(code, mod.__dict__)  # noqa: S102 - running the user's strategy is the point
    return mod


class _HubXtdata:
    """xtdata's ``get_trading_dates`` answered by the hub (MiniQMT's own calendar on a live hub)."""

    def __init__(self, gateway: RpcGateway) -> None:
        self._gw = gateway

    def get_trading_dates(self, market: str, start_time: str = "", end_time: str = "", count: int = -1) -> Any:
        return self._gw.call("get_trading_dates", market=market, start_time=start_time, end_time=end_time,
                             count=count)


class Runner:
    """Everything one strategy process holds; ``run()`` returns the exit code."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.stop = threading.Event()
        self.gateway: RpcGateway | None = None
        self._status_clock: tuple[dict[str, Any], float] | None = None
        self._interrupts = 0

    # ------------------------------------------------------------- clock
    def _clock_sample(self) -> tuple[dict[str, Any], float] | None:
        hb = self.gateway.last_heartbeat if self.gateway else None
        if hb is not None:
            data = hb.payload.get("data") if isinstance(hb.payload.get("data"), dict) else hb.payload
            if isinstance(data.get("clock"), dict):
                return data["clock"], hb.received_monotonic
        return self._status_clock

    # ------------------------------------------------------------- signals and stop requests
    def _on_signal(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self._interrupts += 1
        if self._interrupts > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info("stop requested (signal %s): the running function finishes first", signum)
        self.stop.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGINT, self._on_signal)
        for name in ("SIGTERM", "SIGBREAK"):  # SIGBREAK: CTRL_BREAK_EVENT on Windows
            sig = getattr(signal, name, None)
            if sig is not None:
                signal.signal(sig, self._on_signal)

    def _poll_stop(self) -> None:
        while not self.stop.wait(STOP_POLL):
            if tasks.stop_requested(self.s.data_dir, self.s.name):
                log.info("stop requested (hub stop): the running function finishes first")
                self.stop.set()

    # ------------------------------------------------------------- the run
    def run(self) -> int:
        s = self.s
        self._install_signals()
        entry = tasks.TaskEntry(name=s.name, pid=os.getpid(), started=time.time(), code=str(s.code.resolve()),
                                hub=s.rpc, log=str(Path(s.out).expanduser().resolve()) if s.out else "",
                                state_path=str(tasks.state_path(s.data_dir, s.name)), argv=list(sys.argv))
        try:
            tasks.register(s.data_dir, entry)
        except tasks.TaskExists as exc:
            raise RunnerExit(EXIT_USAGE, str(exc)) from None
        try:
            return self._run()
        finally:
            tasks.unregister(s.data_dir, s.name, os.getpid())

    def _run(self) -> int:
        s = self.s
        gw = self.gateway = RpcGateway(s.rpc, s.pub or None, timeout=s.timeout, curve_dir=s.curve_dir or None,
                                       instance=tasks.instance_id(s.data_dir, s.name))
        try:
            hello = self._connect(gw)
        except HubError as exc:
            if exc.code == ErrorCode.NAME_TAKEN:
                raise RunnerExit(EXIT_USAGE, f"the hub at {s.rpc} already has a client named {s.name!r}: "
                                             f"pick another -n") from None
            if exc.code in (ErrorCode.TIMEOUT, ErrorCode.CLOSED):
                raise RunnerExit(EXIT_UNREACHABLE, exc.message) from None
            raise RunnerExit(EXIT_USAGE, f"the hub refused the session ({exc.code}): {exc.message}") from None
        try:
            return self._session(gw, hello)
        finally:
            gw.close()

    def _connect(self, gw: RpcGateway) -> dict[str, Any]:
        """Open the session; with ``wait_for_hub`` keep trying that long for a hub that is not up yet."""
        deadline = time.monotonic() + self.s.wait_for_hub
        log.info("connecting to the hub at %s as %s", self.s.rpc, self.s.name)
        while True:
            left = deadline - time.monotonic()
            try:  # the hello waits in the socket until a hub binds: it is answered as soon as one is up
                return gw.connect(strategy=self.s.name, timeout=max(1.0, min(self.s.timeout, left)))
            except HubError as exc:
                if exc.code not in (ErrorCode.TIMEOUT, ErrorCode.CLOSED) or time.monotonic() >= deadline \
                        or self.stop.is_set():
                    raise
                log.info("no hub at %s yet; trying again (wait_for_hub %gs)", self.s.rpc, self.s.wait_for_hub)

    def _session(self, gw: RpcGateway, hello: dict[str, Any]) -> int:
        s = self.s
        try:
            st = gw.status()
            if isinstance(st.get("clock"), dict):
                self._status_clock = (st["clock"], time.monotonic())
        except HubError as exc:
            log.debug("status failed: %s", exc)
        clock = HubClock(self._clock_sample)
        if clock.virtual:
            log.info("clock: the hub's simulated clock (speed %gx), now %s", clock.speed,
                     clock.now().strftime("%Y-%m-%d %H:%M:%S"))
        holidays = Path(s.holidays_file).expanduser() if s.holidays_file else s.data_dir / "holidays.toml"
        sources: list[Any] = [PackageSource(), FileSource(holidays)]
        if not clock.virtual:  # a real broker: its own trading dates first (past days; the package beyond)
            sources.insert(0, BrokerSource.from_xtdata(_HubXtdata(gw), name="broker (xtdata via the hub)"))
        else:  # the simulator trades Monday-Friday past the published years: the runner agrees with it
            sources.append(SimulatorWeekdays())
        calendar = TradingCalendar(sources, cache_path=s.data_dir / "calendar-cache.json")
        today = clock.now().date()
        try:
            calendar.is_trading_day(today)
        except CalendarCoverageError as exc:
            raise RunnerExit(EXIT_USAGE, f"trading calendar: {exc}") from None
        warning = calendar.coverage_warning(today)
        if warning:
            log.warning("trading calendar: %s", warning)

        api_holder: dict[str, StrategyApi] = {}

        def invoke(job: Any, when: Any) -> None:
            api = api_holder["api"]
            api.context.strategy_dt = when.replace(tzinfo=None)
            job.func(api.context)

        def on_halt(job: Any, n: int) -> None:
            api = api_holder["api"]
            api.halted = scheduler.halted
            try:  # the hub shows it in the monitor and refuses the strategy's orders there too
                gw.call("halt_self", reason=f"runner: {scheduler.halted}"[:200])
            except HubError as exc:
                log.warning("runner: the hub did not take the halt (%s: %s); the runner refuses new orders itself",
                            exc.code, exc.message)

        def on_fire(rec: dict[str, Any]) -> None:
            if rec["result"] == "missed":
                return  # logged by the scheduler with the count
            log.info("fire %s spec=%s scheduled=%s at=%s result=%s%s", rec["func"], rec["spec"], rec["scheduled"],
                     rec["at"], rec["result"], f" error={rec['error']}" if rec.get("error") else "")

        def on_resume() -> None:  # a new day: the runner's own halt ends (the hub's stays until an operator)
            api_holder["api"].halted = ""

        scheduler = Scheduler(clock, calendar, tasks.state_path(s.data_dir, s.name), invoke=invoke,
                              max_failures=s.max_failures, on_halt=on_halt, on_fire=on_fire, on_resume=on_resume)
        api = StrategyApi(gw, clock, scheduler, logging.getLogger(f"strategy.{s.name}"))
        account = str(hello.get("account_id") or gw.account_id or "")
        api.hub_account = account  # checked as soon as set_options(account_no=) is called
        api.options.misfire_grace = s.misfire_grace
        api.options.catch_up = s.catch_up
        api_holder["api"] = api

        def on_event(topic: str, payload: dict[str, Any]) -> None:
            if topic != Topic.HALT:
                return
            d = payload.get("data") if isinstance(payload.get("data"), dict) else {}
            if d.get("halted") is False and d.get("strategy") in (None, s.name) and (api.halted or scheduler.halted):
                log.info("runner: the hub resumed %s: new orders are accepted again", s.name)
                scheduler.resume()
                api.halted = ""

        gw.on_event = on_event
        if scheduler.halted:
            api.halted = scheduler.halted
            log.warning("runner: new orders stay halted from the last run: %s", scheduler.halted)
        try:
            mod = load_strategy(s.code, api)
            init = getattr(mod, "process_initialize", None)
            api.in_initialize = True
            try:
                if callable(init):
                    init(api.context)
                else:
                    log.warning("%s defines no process_initialize(context): nothing is scheduled", s.code)
            finally:
                api.in_initialize = False
        except RunnerExit:
            raise
        except AccountMismatch as exc:
            raise RunnerExit(EXIT_USAGE, f"{exc} (hub {s.rpc})") from None
        except (ScheduleError, StrategyError) as exc:
            raise RunnerExit(EXIT_STRATEGY, f"{s.code}: {exc}") from None
        except Exception:
            log.exception("loading %s or its process_initialize failed", s.code)
            raise RunnerExit(EXIT_STRATEGY, f"{s.code}: loading or process_initialize failed (traceback above)") from None
        if api.options.max_failures is not None:
            scheduler.max_failures = api.options.max_failures
        if api.options.account_no is not None and api.options.account_no != account:
            raise RunnerExit(EXIT_USAGE, f"set_options(account_no={api.options.account_no!r}) but the hub at {s.rpc} "
                                         f"trades account {account!r}: refusing to run, so this strategy never trades "
                                         f"on the wrong hub")
        if api.options.account_no is None and api.options.use_account:
            log.warning("set_options(account_no=...) not given: orders will be refused (the runner cannot check "
                        "this strategy trades the hub's account %r)", account)
        log.info("strategy %s (%s) on %s, account %s: %d job(s): %s", s.name, s.code, s.rpc, account,
                 len(scheduler.jobs), ", ".join(f"{j.name}@{j.spec}" for j in scheduler.jobs))
        tasks.mark_ready(s.data_dir, s.name, os.getpid())
        poller = threading.Thread(target=self._poll_stop, name="runner-stop-poll", daemon=True)
        poller.start()
        try:
            scheduler.run(self.stop)
        except CalendarCoverageError as exc:
            raise RunnerExit(EXIT_USAGE, f"trading calendar: {exc}") from None
        finally:
            self.stop.set()
        summary = scheduler.summary()
        log.info("strategy %s stopped: %d runs, %d failures, %d missed", s.name, summary["runs"],
                 summary["failures"], summary["missed"])
        return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    try:
        settings = load_settings(ns)
        apply_env(settings.env)
        setup_logging(settings.out, settings.debug)
        return Runner(settings).run()
    except RunnerExit as exc:
        root = logging.getLogger()
        if root.handlers:
            log.error("%s", exc.message)
        if not root.handlers or any(isinstance(h, logging.FileHandler) for h in root.handlers):
            print(f"runner: {exc.message}", file=sys.stderr)  # the person at the terminal sees it too
        return int(exc.code or 0)
    except KeyboardInterrupt:
        log.warning("interrupted twice: stopped without waiting for the running function")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
