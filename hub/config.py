"""Hub configuration: one dataclass, loaded from TOML, overridden by CLI flags.

Precedence (lowest to highest): built-in defaults < the TOML file < explicit CLI flags.
Every key is documented in docs/configuration.md. An unknown key in the file is an
error that names the key (a typo must never be silently ignored in a trading system).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from hub.exposure import exposure_problem
from rpc_client.endpoints import DEFAULT_DATA_DIR
from rpc_client.protocol import CLIENT_DEAD_AFTER, DEFAULT_PUB_ENDPOINT, DEFAULT_RPC_ENDPOINT, HEARTBEAT_INTERVAL

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

BROKERS = ("sim", "qmt")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Account used by the simulated broker when none is configured.
DEFAULT_SIM_ACCOUNT = "SIM0001"


class ConfigError(ValueError):
    """The configuration is invalid; the message says which key and why."""


@dataclass
class HubConfig:
    broker: str = "sim"  # "sim" (in-process simulated MiniQMT) or "qmt" (real MiniQMT via xtquant)
    qmt_path: str = ""  # MiniQMT's userdata_mini folder (broker = qmt)
    account: str = ""  # the brokerage account id; sim: DEFAULT_SIM_ACCOUNT when empty
    account_type: str = "STOCK"
    session_id: int = 0  # xtquant session id; 0 = pick a fresh random one at every (re)connect
    rpc: str = DEFAULT_RPC_ENDPOINT
    pub: str = DEFAULT_PUB_ENDPOINT
    data_dir: Path = DEFAULT_DATA_DIR
    log_level: str = "INFO"
    heartbeat_interval: float = HEARTBEAT_INTERVAL
    client_dead_after: float = CLIENT_DEAD_AFTER
    order_timeout: float = 10.0  # seconds to wait for the broker's async order/cancel response
    reconnect_interval: float = 5.0  # seconds between broker reconnect attempts
    reconnect_max_attempts: int = 0  # broker reconnect attempts before giving up; 0 = forever
    reconnect_max_interval: float = 60.0  # the longest wait between failed broker reconnect attempts (backoff)
    reconcile_interval: float = 0.0  # seconds between periodic broker reconciles; 0 = only after (re)connect
    marketdata_timeout: float = 30.0  # seconds a market-data request may take at the source
    marketdata_download_timeout: float = 600.0  # the same for download_history_data & co.
    keep_days: int = 30  # trading days of events and order requests the journal keeps; 0 = all
    pub_hwm: int = 10000  # PUB send high-water mark: messages queued per subscriber before it drops
    sim_endpoint: str = ""  # broker = sim: tcp:// endpoint of a `hub sim` process (else in-process)
    sim: dict[str, Any] = field(default_factory=dict)  # passed to hub.sim.SimConfig.from_dict
    curve: bool = False  # CurveZMQ: encrypt, and answer only clients whose key is in <curve_dir>/authorized
    curve_dir: str = ""  # keys folder; "" = <data_dir>/curve
    allow_insecure_remote: bool = False  # listen beyond loopback WITHOUT curve (refused unless set)
    risk: dict[str, Any] = field(default_factory=dict)  # [risk]: hub.risk.config.parse_settings (docs/risk.md)
    strategies: dict[str, Any] = field(default_factory=dict)  # [strategies.NAME]: allotments and limits
    alerts: dict[str, Any] = field(default_factory=dict)  # [alerts]: hub.alerts.config.AlertsConfig (webhooks)
    runner: dict[str, Any] = field(default_factory=dict)  # [runner]: read by `hub run`'s runner (docs/runner.md)
    metrics: dict[str, Any] = field(default_factory=dict)  # [metrics]: hub.observe.metrics.MetricsConfig

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser()

    # ------------------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite"

    @property
    def token_path(self) -> Path:
        return self.data_dir / "admin.token"

    @property
    def curve_path(self) -> Path:
        return Path(self.curve_dir).expanduser() if self.curve_dir else self.data_dir / "curve"

    @property
    def sim_dir(self) -> Path:
        return self.data_dir / "sim"

    @property
    def account_id(self) -> str:
        if self.account:
            return self.account
        return DEFAULT_SIM_ACCOUNT if self.broker == "sim" else ""

    # ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> "HubConfig":
        return cls().merged(values, source)

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
             check_exposure: bool = True) -> "HubConfig":
        """Defaults, then the TOML file at `path` (if given), then `overrides` whose value is not None.

        `check_exposure=False` skips the exposure rule (for tools that only read paths, e.g. `hub keys`)."""
        cfg = cls()
        if path is not None:
            p = Path(path).expanduser()
            try:
                with p.open("rb") as fh:
                    data = tomllib.load(fh)
            except FileNotFoundError:
                raise ConfigError(f"config file {p} does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
            # Allow either top-level keys or a [hub] table (sim settings in [sim]).
            if "hub" in data and isinstance(data["hub"], dict):
                hub_part = dict(data.pop("hub"))
                hub_part.update(data)
                data = hub_part
            given = {k: v for k, v in (overrides or {}).items() if v is not None}
            # a file may rely on a flag for the exposure rule (rpc in the file, --curve given): check once, at the end
            cfg = cfg.merged(data, str(p), final=check_exposure and not given)
        if overrides:
            cfg = cfg.merged({k: v for k, v in overrides.items() if v is not None}, "command line",
                             final=check_exposure)
        return cfg

    def merged(self, values: Mapping[str, Any], source: str = "config", final: bool = True) -> "HubConfig":
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key '{key}' (known keys: {', '.join(sorted(known))})")
            changes[key] = _coerce(key, value, getattr(self, key), source)
        cfg = replace(self, **changes)
        cfg.validate(source, final=final)
        return cfg

    def validate(self, source: str = "config", final: bool = True) -> None:
        """Raise ConfigError on a bad value. `final`: also the exposure rule (a non-loopback endpoint
        needs curve or allow_insecure_remote; see hub/exposure.py), which concerns the whole config."""
        if self.broker not in BROKERS:
            raise ConfigError(f"{source}: broker must be one of {', '.join(BROKERS)}, got {self.broker!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"{source}: log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        self.log_level = self.log_level.upper()
        for name in ("rpc", "pub"):
            ep = getattr(self, name)
            if not ep.startswith("tcp://"):
                raise ConfigError(f"{source}: {name} must be a tcp:// endpoint (ipc:// does not work on Windows), "
                                  f"got {ep!r}")
        if self.rpc == self.pub:
            raise ConfigError(f"{source}: rpc and pub must be different endpoints, both are {self.rpc}")
        for name in ("heartbeat_interval", "client_dead_after", "order_timeout", "reconnect_max_interval",
                     "reconnect_interval",
                     "marketdata_timeout", "marketdata_download_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{source}: {name} must be > 0, got {getattr(self, name)}")
        if self.reconcile_interval < 0:
            raise ConfigError(f"{source}: reconcile_interval must be >= 0")
        for name in ("reconnect_max_attempts", "keep_days"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{source}: {name} must be >= 0 (0 = {'forever' if name[0] == 'r' else 'all'})")
        if self.pub_hwm < 100:
            raise ConfigError(f"{source}: pub_hwm must be >= 100, got {self.pub_hwm}")
        if self.sim_endpoint and not self.sim_endpoint.startswith("tcp://"):
            raise ConfigError(f"{source}: sim_endpoint must be a tcp:// endpoint, got {self.sim_endpoint!r}")
        if self.sim_endpoint and self.broker != "sim":
            raise ConfigError(f"{source}: sim_endpoint needs broker = \"sim\"")
        if self.session_id < 0:
            raise ConfigError(f"{source}: session_id must be >= 0")
        from hub.risk.config import RiskConfigError, parse as parse_risk

        try:
            parse_risk(self.risk, self.strategies)
        except RiskConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        from hub.alerts.config import AlertsConfig, AlertsConfigError
        from hub.observe.metrics_config import MetricsConfig

        try:
            AlertsConfig.parse(self.alerts)
            MetricsConfig.parse(self.metrics)
        except (AlertsConfigError, ValueError) as exc:
            raise ConfigError(f"{source}: {exc}") from None
        if final:
            problem = exposure_problem(self.rpc, self.pub, curve=self.curve, allow_insecure=self.allow_insecure_remote)
            if problem:
                raise ConfigError(f"{source}: {problem}")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["data_dir"] = str(self.data_dir)
        return out


def _coerce(key: str, value: Any, current: Any, source: str) -> Any:
    if key == "curve_dir":
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{source}: curve_dir must be a path string, got {type(value).__name__}")
        return str(value)
    if key == "data_dir":
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{source}: data_dir must be a path string, got {type(value).__name__}")
        return Path(value).expanduser()
    if key in ("sim", "risk", "strategies", "alerts", "metrics"):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key} must be a table, got {type(value).__name__}")
        return dict(value)
    if isinstance(current, bool) or isinstance(value, bool):
        if not isinstance(value, bool) or not isinstance(current, bool):
            raise ConfigError(f"{source}: {key} must be {type(current).__name__}, got {value!r}")
        return value
    if isinstance(current, float):
        if not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {key} must be a number, got {value!r}")
        return float(value)
    if isinstance(current, int):
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{source}: {key} must be an integer, got {value!r}")
        return value
    if isinstance(current, str):
        if not isinstance(value, (str, int)):
            raise ConfigError(f"{source}: {key} must be a string, got {value!r}")
        return str(value)
    return value
