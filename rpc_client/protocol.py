"""The qmt-hub wire protocol: the one definition shared by the hub and every client.

Why one module: the hub and the client library must never disagree on a method
name, a parameter, a topic or an error code. Both import these tables; the hub
validates every request against them and `docs/protocol.md` documents them (a
test keeps the document and these tables in step).

Transport (see docs/protocol.md for the full text):

* Calls: client DEALER -> hub ROUTER, one frame per message, a msgpack map.
  Request ``{v, id, method, params}``; reply ``{v, id, ok: true, result}`` or
  ``{v, id, ok: false, error: {code, message, data}}``.
* Events: hub PUB -> client SUB, two frames ``[topic, msgpack payload]``.

No pickle anywhere: msgpack with ``raw=False`` and ``strict_map_key=False`` only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import msgpack

from rpc_client.xt import is_market

PROTOCOL_VERSION = 1

DEFAULT_RPC_ENDPOINT = "tcp://127.0.0.1:5555"
DEFAULT_PUB_ENDPOINT = "tcp://127.0.0.1:5556"

#: Largest request the hub will read and answer with an error (bytes).
MAX_MESSAGE_SIZE = 1 << 20
#: Hard limit set as ZMQ_MAXMSGSIZE on the hub's ROUTER: a peer sending more is
#: disconnected by libzmq before the message is ever buffered (memory safety).
HARD_MESSAGE_SIZE = 8 << 20

HEARTBEAT_INTERVAL = 1.0  # seconds between hub.heartbeat events and client pings
HUB_DEAD_AFTER = 3.0  # a client declares the hub dead after this much silence
CLIENT_DEAD_AFTER = 10.0  # default: the hub frees a silent client's session

#: Strategy names appear in topics and in order_strategy stamps, so keep them plain.
STRATEGY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")
#: Owner recorded for orders the hub did not place (e.g. typed into the QMT terminal).
EXTERNAL_OWNER = "_external"
#: Prefix of the hub's owner tag stamped into order_remark (<= 24 ASCII chars).
REMARK_TAG_PREFIX = "qh"
MAX_CLIENT_ORDER_ID_LEN = 48


# --------------------------------------------------------------------------
# msgpack framing
# --------------------------------------------------------------------------

def pack(obj: Any) -> bytes:
    """Encode one message. Only plain types travel: no objects, no pickle."""
    return msgpack.packb(obj, use_bin_type=True)


def packer() -> Callable[[Any], bytes]:
    """`pack` for one thread that packs often (the risk stage's journal records): a Packer of its own,
    kept (a Packer is not thread-safe, so `pack` itself makes none)."""
    return msgpack.Packer(use_bin_type=True).pack


def unpack(data: bytes) -> Any:
    """Decode one message; raises ValueError on anything that is not msgpack."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ValueError(f"not a msgpack message: {exc}") from None


# --------------------------------------------------------------------------
# Bounds on everything a peer controls (docs/guarantees.md "Bounds")
# --------------------------------------------------------------------------
# Why here: a value the hub accepts is stored, journaled, replayed and encoded again, deeper,
# inside replies. Anything without a bound at the door can stop the loop later (a nested value
# that can no longer be encoded), fill memory or the journal, or overflow SQLite's int64.

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
#: Deepest nesting of maps and lists in a request (the envelope itself is level 1; the
#: deepest legitimate request, a `hello` with a `client` map, needs 3).
MAX_DEPTH = 16
#: Longest string or bin anywhere in a request (bytes, as msgpack counts them).
MAX_STR_BYTES = 64 << 10
#: Most entries of one map / items of one list in a request (`codes` lists need up to 10,000).
MAX_MAP_LEN = 4096
MAX_ARRAY_LEN = 16384
#: Longest string a str parameter takes unless the table says otherwise.
MAX_PARAM_STR = 256
#: A request id: an int inside int64, or a string of at most this many characters.
MAX_ID_LEN = 128
#: Error messages quote at most this many characters of a value a peer sent.
PREVIEW_LEN = 40
#: Free-form maps (`hello.client`, `ping.stats`): at most this many keys, keys and string
#: values cut to these lengths, nested values replaced by a short description. What is
#: stored in a session and journaled in `hub.client` is the truncated map.
FREE_MAP_KEYS = 32
#: The `ping.stats` counters the hub shows (`clients`); kept even in a session whose stats are full.
KNOWN_STATS = ("missed_ticks",)
FREE_KEY_LEN = 64
FREE_STR_LEN = 256
#: A-share orders: the largest single order any board allows is 1,000,000 shares (bonds
#: 1,000,000 lots); prices stay below 10,000 CNY. The bounds leave ten times that and keep
#: ``price * 100``, ``price * volume`` and every count far inside float and int64 range.
MAX_ORDER_VOLUME = 10_000_000
MAX_PRICE = 100_000.0
#: Allotments and transfers between sleeves (CNY, shares): far above any one account.
MAX_CASH = 1e13
MAX_HOLDING = 10 ** 12
#: xtconstant order types end at 1172 and price types below 100 today.
MAX_ORDER_TYPE = 9_999
MAX_PRICE_TYPE = 9_999
#: xtquant order ids and markets: positive int32 in practice; int64 is what SQLite stores.
MAX_MARKET = 9_999

_SCALARS = (type(None), bool, int, float, str, bytes)


def preview(value: Any, limit: int = PREVIEW_LEN) -> str:
    """A bounded, never-failing description of a value a peer sent, for error messages.

    ``repr`` of a peer's value is neither bounded (a 1 MB string) nor safe (a value nested a
    thousand levels deep recurses), so messages quote only this.
    """
    try:
        if isinstance(value, (str, bytes, bytearray)):
            text = repr(value[:limit])  # escapes can make the text of `limit` characters 4x longer
            return text[:limit + 3] + ("..." if len(value) > limit or len(text) > limit + 3 else "")
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return repr(value)[:limit]
        if isinstance(value, int):
            return str(value) if value.bit_length() <= 128 else f"<int of {value.bit_length()} bits>"
        if isinstance(value, (dict, list, tuple)):
            return f"<{type(value).__name__} of {len(value)}>"
        return f"<{type(value).__name__}>"
    except Exception:  # noqa: BLE001 - a description must never fail
        return "<value>"


def check_bounds(obj: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a decoded value breaks the bounds (depth, types, int range), or None.

    Iterative, so a deep value cannot recurse; lengths are already bounded by the decoder.
    Only plain msgpack types pass (no ext types, no timestamps).
    """
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        kind = type(value)
        if kind is dict or kind is list:
            if depth > max_depth:
                return f"a value is nested deeper than {max_depth} levels"
            if kind is dict:
                for key, item in value.items():
                    if type(key) not in _SCALARS:
                        return f"a map key has type {type(key).__name__}"
                    stack.append((key, depth + 1))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif kind not in _SCALARS:
            return f"a value has type {kind.__name__} (only nil, bool, int, float, str, bin, array, map travel)"
    return None


class DecodeError(ValueError):
    """A request that is not msgpack or breaks the bounds; `req_id` is its id when that could be read."""

    def __init__(self, message: str, req_id: int | str | None = None):
        super().__init__(message)
        self.req_id = req_id


def decode_request(data: bytes) -> Any:
    """Decode a request under the bounds; raises DecodeError saying which bound (-> BAD_FRAME)."""
    try:
        msg = msgpack.unpackb(data, raw=False, strict_map_key=False, max_str_len=MAX_STR_BYTES,
                              max_bin_len=MAX_STR_BYTES, max_array_len=MAX_ARRAY_LEN, max_map_len=MAX_MAP_LEN,
                              max_ext_len=0)
    except Exception as exc:  # msgpack raises several unrelated types
        raise DecodeError(f"not a msgpack message within the bounds: {preview(str(exc), 120)}") from None
    problem = check_bounds(msg)
    if problem:
        raise DecodeError(f"{problem} (see MAX_DEPTH and the bounds in docs/guarantees.md)", request_id(msg))
    return msg


def bounded_map(value: Mapping[Any, Any], numbers_only: bool = False, max_keys: int = FREE_MAP_KEYS) -> dict[str, Any]:
    """A free-form map cut to the bounds: <= max_keys keys, short keys and strings, no nesting.

    Nested maps and lists become a short description; with `numbers_only` (counters) anything
    but an int or a float is dropped. When something was cut, ``_truncated`` says how much.
    """
    out: dict[str, Any] = {}
    cut = 0
    for key, item in value.items():
        if len(out) >= max_keys:
            cut += 1
            continue
        name = key if isinstance(key, str) else preview(key)
        if len(name) > FREE_KEY_LEN:
            name, cut = name[:FREE_KEY_LEN], cut + 1
        if isinstance(item, bool) or item is None:
            kept: Any = item
        elif isinstance(item, int):
            kept = item if INT64_MIN <= item <= INT64_MAX else None
        elif isinstance(item, float):
            kept = item if math.isfinite(item) else None
        elif isinstance(item, str):
            kept = item[:FREE_STR_LEN]
            cut += len(item) > FREE_STR_LEN
        else:
            kept, cut = preview(item), cut + 1
        if numbers_only and (isinstance(kept, bool) or not isinstance(kept, (int, float))):
            cut += 1
            continue
        out[name] = kept
    if cut:
        out["_truncated"] = cut
    return out


# --------------------------------------------------------------------------
# Error codes (a fixed table: strings on the wire, exceptions in Python)
# --------------------------------------------------------------------------

class ErrorCode:
    """Every error code the hub can put on the wire, with its meaning."""

    BAD_FRAME = "BAD_FRAME"
    BAD_VERSION = "BAD_VERSION"
    TOO_LARGE = "TOO_LARGE"
    UNKNOWN_METHOD = "UNKNOWN_METHOD"
    INVALID_PARAMS = "INVALID_PARAMS"
    NO_SESSION = "NO_SESSION"
    NAME_TAKEN = "NAME_TAKEN"
    FORBIDDEN = "FORBIDDEN"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_OWNER = "NOT_OWNER"
    BROKER_DOWN = "BROKER_DOWN"
    BROKER_ERROR = "BROKER_ERROR"
    HALTED = "HALTED"
    RISK_REJECTED = "RISK_REJECTED"
    RATE_LIMITED = "RATE_LIMITED"
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
    REPLAY_UNAVAILABLE = "REPLAY_UNAVAILABLE"
    INTERNAL = "INTERNAL"
    # Raised only on the client side, never sent by the hub:
    TIMEOUT = "TIMEOUT"
    CLOSED = "CLOSED"


ERROR_DESCRIPTIONS: dict[str, str] = {
    ErrorCode.BAD_FRAME: "the message is not a msgpack map with v, id, method and params",
    ErrorCode.BAD_VERSION: "the client speaks another protocol version than the hub",
    ErrorCode.TOO_LARGE: "the message is larger than MAX_MESSAGE_SIZE",
    ErrorCode.UNKNOWN_METHOD: "no such method",
    ErrorCode.INVALID_PARAMS: "a parameter is missing, of the wrong type or out of range",
    ErrorCode.NO_SESSION: "call `hello` first (or again: the hub restarted or dropped a silent client)",
    ErrorCode.NAME_TAKEN: "another connected client already uses this strategy name",
    ErrorCode.FORBIDDEN: "the caller's role may not call this method (or the admin token is wrong)",
    ErrorCode.UNKNOWN_ORDER: "no order with this id in today's book",
    ErrorCode.NOT_OWNER: "the order belongs to another strategy",
    ErrorCode.BROKER_DOWN: "the broker connection is down; nothing was sent",
    ErrorCode.BROKER_ERROR: "the broker refused the call (returned -1)",
    ErrorCode.HALTED: "new orders are halted for this strategy or the whole hub",
    ErrorCode.RISK_REJECTED: "a pre-trade risk limit refused the order",
    ErrorCode.RATE_LIMITED: "too many orders or cancels per second",
    ErrorCode.UNKNOWN_OUTCOME: "the hub cannot tell whether the broker received the order; query before retrying",
    ErrorCode.REPLAY_UNAVAILABLE: "the requested events are older than the journal keeps",
    ErrorCode.INTERNAL: "the hub failed while handling the call (a bug); the hub carries on",
    ErrorCode.TIMEOUT: "no reply within the timeout (client side)",
    ErrorCode.CLOSED: "the client was closed (client side)",
}

WIRE_ERROR_CODES = tuple(c for c in ERROR_DESCRIPTIONS if c not in (ErrorCode.TIMEOUT, ErrorCode.CLOSED))


class HubError(Exception):
    """An error reply from the hub (or a client-side failure with the same shape)."""

    def __init__(self, code: str, message: str, data: Mapping[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = dict(data or {})

    def to_wire(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data or None}

    @classmethod
    def from_wire(cls, error: Mapping[str, Any]) -> "HubError":
        return cls(str(error.get("code", ErrorCode.INTERNAL)), str(error.get("message", "")), error.get("data") or {})


# --------------------------------------------------------------------------
# Envelopes: built by these helpers only
# --------------------------------------------------------------------------

def request(req_id: int | str, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": req_id, "method": method, "params": dict(params or {})}


def ok(req_id: Any, result: Any = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": req_id, "ok": True, "result": result}


def error(req_id: Any, code: str, message: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": req_id, "ok": False,
            "error": {"code": code, "message": message, "data": dict(data) if data else None}}


def request_id(msg: Any) -> int | str | None:
    """The request's id if it is a valid one (an int inside int64 or a short string), else None."""
    req_id = msg.get("id") if isinstance(msg, dict) else None
    if isinstance(req_id, bool):
        return None
    if isinstance(req_id, int):
        return req_id if INT64_MIN <= req_id <= INT64_MAX else None
    if isinstance(req_id, str):
        return req_id if len(req_id) <= MAX_ID_LEN else None
    return None


def check_envelope(msg: Any) -> tuple[str, Any]:
    """(method, params) of a decoded request, or HubError BAD_FRAME / BAD_VERSION.

    Strict on purpose: `v` is the int 1 (not true, not 1.0), `id` an int or a short string,
    `method` a string, and `params` present (a map; its contents are the method's business).
    """
    if not isinstance(msg, dict):
        raise HubError(ErrorCode.BAD_FRAME, f"a request must be a map, got {type(msg).__name__}")
    missing = [k for k in ("v", "id", "method", "params") if k not in msg]
    if missing or request_id(msg) is None or not isinstance(msg.get("method"), str):
        raise HubError(ErrorCode.BAD_FRAME, f"a request needs v (int), id (int or str of at most {MAX_ID_LEN} "
                                            f"characters), method (str) and params (map)"
                       + (f"; missing {', '.join(missing)}" if missing else ""))
    version = msg["v"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise HubError(ErrorCode.BAD_FRAME, f"v must be an int, got {type(version).__name__} {preview(version)}")
    if version != PROTOCOL_VERSION:
        raise HubError(ErrorCode.BAD_VERSION, f"this hub speaks protocol {PROTOCOL_VERSION}, "
                                              f"the request says {preview(version)}")
    method = msg["method"]
    if len(method) > 64:
        raise HubError(ErrorCode.UNKNOWN_METHOD, f"no method {preview(method)}", {"method": method[:PREVIEW_LEN]})
    return method, msg["params"]


def event_message(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An account event pushed to a session over the call socket: ``{v, event: <event payload>}``.

    It has no ``id``: a client tells it from a reply by its ``event`` key. The payload is the
    same map a ``replay`` result lists, so one function handles both."""
    return {"v": PROTOCOL_VERSION, "event": payload}


def event_of(msg: Any) -> dict[str, Any] | None:
    """The event payload if a message from the call socket is a pushed event, else None (a reply)."""
    if isinstance(msg, dict) and "id" not in msg:
        ev = msg.get("event")
        if isinstance(ev, dict):
            return ev
    return None


# --------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------

class Role:
    STRATEGY = "strategy"  # trades, sees its own orders and the account
    MONITOR = "monitor"  # read-only, sees everything
    ADMIN = "admin"  # monitor + operator actions (halt/resume/cancel-all); needs the hub's token


ROLES = (Role.STRATEGY, Role.MONITOR, Role.ADMIN)
READERS = ROLES  # every role may read
TRADERS = (Role.STRATEGY,)
ADMINS = (Role.ADMIN,)


# --------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------

_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One parameter of a method: its type(s), whether required, its bounds and a check.

    Every value is bounded here, whatever `check` says: ints inside [lo, hi] (default: SQLite's
    int64), floats finite and inside [lo, hi], strings and lists at most `max_len` long, maps
    passed through `clean` (which truncates free-form maps before anything stores them).
    """

    name: str
    types: tuple[type, ...]
    required: bool = True
    default: Any = None
    check: Callable[[Any], str | None] | None = None  # returns a complaint or None
    doc: str = ""
    lo: float | None = None  # inclusive bounds of an int or float value
    hi: float | None = None
    max_len: int | None = None  # of a str or list; default MAX_PARAM_STR for str, MAX_ARRAY_LEN for list
    clean: Callable[[Any], Any] | None = None  # applied to a valid value (bounded_map for free-form maps)

    def bounds(self) -> tuple[float, float]:
        """The [lo, hi] range an int or float value of this parameter must lie in."""
        if float in self.types:
            return (self.lo if self.lo is not None else -MAX_PRICE, self.hi if self.hi is not None else MAX_PRICE)
        return (self.lo if self.lo is not None else INT64_MIN, self.hi if self.hi is not None else INT64_MAX)

    def length_limit(self) -> int | None:
        if self.max_len is not None:
            return self.max_len
        if str in self.types:
            return MAX_PARAM_STR
        if list in self.types:
            return MAX_ARRAY_LEN
        return None

    def _fail(self, message: str) -> HubError:
        return HubError(ErrorCode.INVALID_PARAMS, f"parameter '{self.name}' {message}", {"param": self.name})

    def validate(self, params: Mapping[str, Any]) -> Any:
        value = params.get(self.name, _MISSING)
        if value is _MISSING or value is None:
            if self.required:
                raise HubError(ErrorCode.INVALID_PARAMS, f"missing parameter '{self.name}'", {"param": self.name})
            return self.default
        # bool is an int in Python; never accept it where a number is meant
        if isinstance(value, bool) and bool not in self.types:
            ok_type = False
        elif float in self.types and isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise self._fail(f"must be a finite number within the bounds, got {preview(value)}")
            value = float(value)
            ok_type = True
        else:
            ok_type = isinstance(value, self.types)
        if not ok_type:
            names = " or ".join(t.__name__ for t in self.types)
            raise self._fail(f"must be {names}, got {type(value).__name__} {preview(value)}")
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            if isinstance(value, float) and not math.isfinite(value):
                raise self._fail(f"must be a finite number, got {preview(value)}")
            lo, hi = self.bounds()
            if not lo <= value <= hi:
                raise self._fail(f"must be between {lo:g} and {hi:g}, got {preview(value)}"
                                 if isinstance(value, float) else
                                 f"must be between {lo} and {hi}, got {preview(value)}")
        limit = self.length_limit()
        if limit is not None and isinstance(value, (str, list)) and len(value) > limit:
            raise self._fail(f"must be at most {limit} {'characters' if isinstance(value, str) else 'items'} "
                             f"long, got {len(value)}")
        if self.check is not None:
            complaint = self.check(value)
            if complaint:
                raise self._fail(complaint)
        return self.clean(value) if self.clean is not None else value


def _positive(v: Any) -> str | None:
    return None if v > 0 else f"must be > 0, got {preview(v)}"


def _finite_non_negative(v: float) -> str | None:
    if math.isnan(v) or math.isinf(v):
        return f"must be a finite number, got {preview(v)}"
    return None if v >= 0 else f"must be >= 0, got {preview(v)}"


def _stock_code(v: str) -> str | None:
    if re.fullmatch(r"[0-9A-Za-z]{1,12}\.[A-Z]{2,4}", v):
        return None
    return f"must look like '600000.SH', got {preview(v)}"


def _strategy_name(v: str) -> str | None:
    return None if STRATEGY_NAME_RE.match(v) else "must be 1-32 letters, digits, '_' or '-', starting with a letter or digit"


def _sleeve_name(v: str) -> str | None:
    """A strategy name, or `_external` (the unallotted pool)."""
    return None if v == EXTERNAL_OWNER else _strategy_name(v)


def _client_order_id(v: str) -> str | None:
    if not v or len(v) > MAX_CLIENT_ORDER_ID_LEN:
        return f"must be 1-{MAX_CLIENT_ORDER_ID_LEN} characters"
    return None


def _role(v: str) -> str | None:
    return None if v in ROLES else f"must be one of {', '.join(ROLES)}"


def _code_list(v: list) -> str | None:
    if not v:
        return "must not be empty"
    if len(v) > 10000:
        return "must hold at most 10000 codes"
    for code in v:
        if not isinstance(code, str) or (_stock_code(code) and not is_market(code)):
            return f"must hold codes like '600000.SH' (or markets 'SH', 'SZ', 'BJ'), got {preview(code)}"
    return None


def _sysid(v: str) -> str | None:
    # orders the broker rejected have no sysid (''): a cancel by '' would match an arbitrary one of them
    return None if v.strip() else "must not be empty (orders the broker rejected have no order_sysid)"


def _remark(v: str) -> str | None:
    return None if len(v) <= 64 else "must be at most 64 characters"


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Method:
    name: str
    roles: tuple[str, ...]
    params: tuple[Param, ...] = ()
    doc: str = ""
    result: str = ""
    needs_session: bool = True
    #: safe to send again on a new connection when the one it went out on was lost before the reply
    #: (queries, session calls; order_stock is idempotent through its client_order_id). False: a
    #: repeat could act twice (a cancel, a transfer), so the client fails the call as of unknown outcome
    resendable: bool = True

    def validate(self, params: Any) -> dict[str, Any]:
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise HubError(ErrorCode.INVALID_PARAMS, f"params must be a map, got {type(params).__name__}")
        known = {p.name for p in self.params}
        unknown = [k for k in params if k not in known]
        if unknown:
            # names quoted bounded: at most 10 of them, each a short preview
            names = sorted((k if isinstance(k, str) and len(k) <= PREVIEW_LEN else preview(k)) for k in unknown[:10])
            more = f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else ""
            raise HubError(ErrorCode.INVALID_PARAMS,
                           f"unknown parameter(s) {', '.join(names)}{more} for {self.name}", {"params": names})
        return {p.name: p.validate(params) for p in self.params}


P = Param
_STOCK = P("stock_code", (str,), check=_stock_code, doc="security code, e.g. '600000.SH'")
_ORDER_ID = P("order_id", (int,), check=_positive, doc="the broker's order id", lo=1)

# ---- market data (hub/marketdata; docs/protocol.md "Market data") ----

#: bar periods and 'tick' that get_bars serves (rpc_client.bars.PERIODS)
MD_PERIODS = ("1m", "5m", "15m", "30m", "1h", "60m", "1d", "1w", "1mon", "tick")
MD_DIVIDEND_TYPES = ("none", "front", "back", "front_ratio", "back_ratio")
#: most codes in one market-data request (the client splits longer lists)
MD_MAX_CODES = 500
#: most rows one reply page carries; more rows come with `more` and a `cursor` for next_page
MD_PAGE_ROWS = 4000
#: most rows (bars or ticks over all codes) one get_bars request may produce: the hub holds a
#: result while its pages are fetched, so this bounds its memory (rpc_client.xtdata splits a
#: larger request by codes on its own)
MD_MAX_ROWS = 250_000


def _md_codes(v: list) -> str | None:
    if not v:
        return "must not be empty"
    if len(v) > MD_MAX_CODES:
        return f"must hold at most {MD_MAX_CODES} codes (split longer lists)"
    for code in v:
        if not isinstance(code, str) or _stock_code(code):
            return f"must hold codes like '600000.SH', got {code!r:.40}"
    return None


def _md_time(v: str) -> str | None:
    if v and not re.fullmatch(r"\d{8}(\d{6})?", v):
        return f"must be '', 'YYYYMMDD' or 'YYYYMMDDhhmmss', got {v!r:.40}"
    return None


def _md_count(v: int) -> str | None:
    return None if -1 <= v <= MD_MAX_ROWS else f"must be -1 (all), 0 or a count up to {MD_MAX_ROWS}, got {v}"


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}, got {v!r:.40}"
    return check


def _short_text(limit: int) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        return None if len(v) <= limit else f"must be at most {limit} characters"
    return check


def _name_list(limit: int, each: int) -> Callable[[list], str | None]:
    def check(v: list) -> str | None:
        if len(v) > limit:
            return f"must hold at most {limit} names"
        for x in v:
            if not isinstance(x, str) or not x or len(x) > each:
                return f"must hold names of 1-{each} characters, got {x!r:.40}"
        return None
    return check


def _market(v: str) -> str | None:
    return None if re.fullmatch(r"[A-Z]{2,6}", v) else f"must be a market like 'SH' or 'SZ', got {v!r:.40}"


def _cursor(v: str) -> str | None:
    return None if re.fullmatch(r"[0-9a-f]{8,64}", v) else "must be a cursor returned by the hub"


_MD_START = P("start_time", (str,), required=False, default="", check=_md_time, max_len=14,
              doc="'' (earliest), 'YYYYMMDD' or 'YYYYMMDDhhmmss'")
_MD_END = P("end_time", (str,), required=False, default="", check=_md_time, max_len=14,
            doc="'' (latest), 'YYYYMMDD' or 'YYYYMMDDhhmmss'")
_MD_CODES = P("codes", (list,), check=_md_codes, max_len=MD_MAX_CODES, doc=f"security codes, at most {MD_MAX_CODES}")
_MD_TABLES = P("tables", (list,), required=False, default=[], check=_name_list(32, 32), max_len=32,
               doc="financial tables ('Balance', 'Income', ...); [] for all")
_MD_COUNT = P("count", (int,), required=False, default=-1, check=_md_count, lo=-1, hi=MD_MAX_ROWS,
              doc="-1 all, n the last n in the range")

MD_METHODS = [
    Method("get_bars", READERS, (
        _MD_CODES,
        P("period", (str,), required=False, default="1d", check=_one_of(MD_PERIODS), max_len=8),
        _MD_START, _MD_END, _MD_COUNT,
        P("dividend_type", (str,), required=False, default="none", check=_one_of(MD_DIVIDEND_TYPES), max_len=16),
        P("fill_data", (bool,), required=False, default=True),
    ), "Bars (or, period 'tick', ticks) per code, as xtdata.get_market_data_ex reads them; "
       f"at most {MD_PAGE_ROWS} rows a page.",
        "{data: {code: {field: [values]}}, more, cursor}"),
    Method("next_page", READERS, (
        P("cursor", (str,), check=_cursor, max_len=64, doc="the cursor of the previous page"),
    ), "The next page of a paged market-data result (same caller, within 5 minutes).",
        "{data, more, cursor}"),
    Method("download_history_data", READERS, (
        _MD_CODES,
        P("period", (str,), check=_one_of(MD_PERIODS), max_len=8),
        _MD_START, _MD_END,
        P("incrementally", (bool,), required=False, default=None),
    ), "Have the source fetch history (xtdata.download_history_data2); the simulator has it already.",
        "{code: {}}"),
    Method("get_instrument_detail", READERS, (
        _MD_CODES,
        P("iscomplete", (bool,), required=False, default=False),
    ), "xtdata.get_instrument_detail per code (null for an unknown code); cached for the day.",
        "{code: detail | null}"),
    Method("get_instrument_type", READERS, (
        P("stock_code", (str,), check=_stock_code, max_len=24),
        P("variety_list", (list,), required=False, default=None, check=_name_list(32, 32), max_len=32),
    ), "xtdata.get_instrument_type.", "{type: bool}"),
    Method("get_sector_list", READERS, (), "xtdata.get_sector_list.", "[sector name]"),
    Method("get_stock_list_in_sector", READERS, (
        P("sector", (str,), check=_short_text(64), max_len=64),
        P("real_timetag", (int,), required=False, default=-1, lo=-1, hi=4_102_444_800_000,
          doc="-1 latest, or ms of a past day"),
    ), "xtdata.get_stock_list_in_sector.", "[code]"),
    Method("download_sector_data", READERS, (), "xtdata.download_sector_data.", "{}"),
    Method("get_trading_dates", READERS, (
        P("market", (str,), check=_market, max_len=6), _MD_START, _MD_END, _MD_COUNT,
    ), "xtdata.get_trading_dates: ms of 00:00 Beijing per trading day.", "[int]"),
    Method("get_trading_calendar", READERS, (
        P("market", (str,), check=_market, max_len=6), _MD_START, _MD_END,
    ), "xtdata.get_trading_calendar: 'YYYYMMDD' per trading day, future ones included.", "[str]"),
    Method("get_divid_factors", READERS, (
        P("stock_code", (str,), check=_stock_code, max_len=24), _MD_START, _MD_END,
    ), "xtdata.get_divid_factors as a frame in split form.", "{index, columns, data}"),
    Method("download_financial_data", READERS, (
        _MD_CODES, _MD_TABLES, _MD_START, _MD_END,
    ), "xtdata.download_financial_data.", "{}"),
    Method("get_financial_data", READERS, (
        _MD_CODES, _MD_TABLES, _MD_START, _MD_END,
        P("report_type", (str,), required=False, default="report_time",
          check=_one_of(("report_time", "announce_time")), max_len=16),
    ), "xtdata.get_financial_data: frames in split form per code and table.",
        "{code: {table: {index, columns, data}}}"),
]


METHODS: dict[str, Method] = {m.name: m for m in [
    # ---- session ----
    Method("hello", ROLES, (
        P("protocol", (int,), doc="protocol version the client speaks", lo=0, hi=65535),
        P("strategy", (str,), check=_strategy_name, doc="strategy (or client) name, unique among connected clients"),
        P("role", (str,), required=False, default=Role.STRATEGY, check=_role),
        P("token", (str,), required=False, default="", doc="admin token (role admin only)"),
        P("cancel_on_disconnect", (bool,), required=False, default=False,
          doc="cancel this strategy's open orders when its session is lost"),
        P("instance", (str,), required=False, default="", max_len=64,
          doc="random id of the client object; a hello with the same name and instance takes over the old session"),
        P("client", (dict,), required=False, default={}, clean=bounded_map,
          doc=f"free-form client info: pid, host, version (cut to {FREE_MAP_KEYS} keys, strings to "
              f"{FREE_STR_LEN} characters, no nesting)"),
        P("events", (bool,), required=False, default=True,
          doc="false: push no account events to this session (a data-only client); replay still works"),
    ), "Open a session. Must be the first call.",
        "{hub_id, session, account_id, role, strategy, last_seq, heads, broker, heartbeat_interval, "
        "client_dead_after, max_message_size, server_time}", needs_session=False),
    Method("bye", ROLES, (), "Close the session; frees the name and quote subscriptions.", "{}", resendable=False),
    Method("ping", ROLES, (
        P("stats", (dict,), required=False, default={}, clean=lambda v: bounded_map(v, numbers_only=True),
          doc=f"client-side counters the hub shows to monitors, e.g. {{missed_ticks: int}} (numbers only; "
              f"a session keeps at most {FREE_MAP_KEYS} keys)"),
    ), "Client heartbeat; any call also counts. Answers without a session too (`session` says which); "
       "`heads`/`last_seq`: the caller's streams as already sent to it.",
        "{server_time, hub_id, session, last_seq, heads}", needs_session=False),
    # ---- trading ----
    Method("order_stock", TRADERS, (
        P("stock_code", (str,), check=_stock_code),
        P("order_type", (int,), doc="xtconstant.STOCK_BUY (23) or STOCK_SELL (24)", lo=0, hi=MAX_ORDER_TYPE),
        P("order_volume", (int,), check=_positive, lo=1, hi=MAX_ORDER_VOLUME),
        P("price_type", (int,), doc="xtconstant price type, e.g. FIX_PRICE (11)", lo=0, hi=MAX_PRICE_TYPE),
        P("price", (float,), required=False, default=0.0, check=_finite_non_negative, lo=0.0, hi=MAX_PRICE),
        P("order_remark", (str,), required=False, default="", check=_remark, max_len=64,
          doc="kept by the hub and shown back to the owner; the broker sees the hub's owner tag"),
        P("strategy_name", (str,), required=False, default=None, check=_remark, max_len=64,
          doc="the caller's own label (xtquant's argument), shown back in its records as given; "
              "not given: records show the owning strategy's name"),
        P("client_order_id", (str,), required=False, default=None, check=_client_order_id,
          max_len=MAX_CLIENT_ORDER_ID_LEN,
          doc="idempotency key: a repeat returns the first result and never reaches the broker again"),
    ), "Place an order for the calling strategy. Replies once the broker has assigned an order id.",
        "{order_id, client_order_id, duplicate}"),
    Method("cancel_order_stock", TRADERS, (_ORDER_ID,),
           "Cancel one of the caller's orders. Replies with the broker's cancel result: 0 accepted, "
           "non-zero refused (error_msg says why; an error.<strategy> event of kind cancel follows).",
           "{cancel_result, order_id, error_msg}", resendable=False),
    Method("cancel_order_stock_sysid", TRADERS, (
        P("market", (int,), lo=0, hi=MAX_MARKET), P("order_sysid", (str,), max_len=64, check=_sysid),
    ), "Cancel one of the caller's orders by the counter's contract number.",
        "{cancel_result, order_id, error_msg}", resendable=False),
    # ---- queries (answered from the hub's book) ----
    Method("query_stock_asset", READERS, (), "The account's asset.", "XtAsset map"),
    Method("query_stock_order", READERS, (_ORDER_ID,), "One order (own orders only for strategies).", "XtOrder map"),
    Method("query_stock_orders", READERS, (
        P("cancelable_only", (bool,), required=False, default=False),
        P("strategy", (str,), required=False, default=None, doc="monitor/admin only: filter by owner",
          max_len=32),
    ), "Today's orders: a strategy's own, or all for monitors.", "[XtOrder map]"),
    Method("query_stock_trades", READERS, (
        P("strategy", (str,), required=False, default=None, doc="monitor/admin only: filter by owner",
          max_len=32),
    ), "Today's trades: a strategy's own, or all for monitors.", "[XtTrade map]"),
    Method("query_stock_positions", READERS, (), "The account's positions.", "[XtPosition map]"),
    Method("query_stock_position", READERS, (_STOCK,), "One position, or null.", "XtPosition map | null"),
    Method("query_account_status", READERS, (), "Account status list.", "[XtAccountStatus map]"),
    Method("query_account_infos", READERS, (), "Account info list.", "[XtAccountInfo map]"),
    # ---- quotes ----
    Method("subscribe_quote", READERS, (
        P("codes", (list,), check=_code_list),
    ), "Receive tick.<code> events for these codes.", "{codes}"),
    Method("subscribe_whole_quote", READERS, (
        P("codes", (list,), check=_code_list, doc="markets ('SH', 'SZ', 'BJ') or codes"),
    ), "Whole-market ticks for these markets or codes.", "{codes}"),
    Method("unsubscribe_quote", READERS, (
        P("codes", (list,), check=_code_list),
    ), "Stop receiving these codes (or markets).", "{codes}"),
    Method("get_full_tick", READERS, (
        P("codes", (list,), check=_code_list),
    ), "Latest full tick per code, as xtdata.get_full_tick.", "{code: tick}"),
    # ---- event stream ----
    Method("replay", READERS, (
        P("stream", (str,), required=False, default=None, max_len=64,
          doc="a stream name (own strategy name or '@account'); omitted: every event the caller may see"),
        P("after", (int,), doc="replay events with sseq > after (stream given) or seq > after (no stream)",
          lo=0),
        P("limit", (int,), required=False, default=1000, check=_positive, lo=1),
    ), "Journaled events after a point, in order (FIX resend request / zguide Clone).",
        "{events: [event], head, more}"),
    # ---- hub state ----
    Method("status", READERS, (), "Hub state: hub_id, account, broker state, uptime, counters.",
           "{hub_id, account_id, broker, halted, uptime, last_seq, clients, counters, ...}",
           needs_session=False),
    Method("clients", (Role.MONITOR, Role.ADMIN), (), "Connected clients and their counters.", "[client map]"),
    # ---- operator actions ----
    Method("halt", ADMINS, (
        P("strategy", (str,), required=False, default=None, check=_strategy_name),
        P("cancel_open", (bool,), required=False, default=False),
        P("reason", (str,), required=False, default="halted by operator"),
    ), "Block new orders for one strategy or all.", "{halted, cancelled}", resendable=False),
    Method("halt_self", TRADERS, (
        P("reason", (str,), max_len=200, doc="shown to the operator and the monitor"),
    ), "Block the caller's own new orders (the runner does it after repeated failures); an operator resumes.",
        "{halted}", resendable=False),
    Method("resume", ADMINS, (
        P("strategy", (str,), required=False, default=None, check=_strategy_name),
    ), "Undo halt.", "{halted}", resendable=False),
    Method("cancel_all", ADMINS, (
        P("strategy", (str,), required=False, default=None, check=_strategy_name),
    ), "Cancel every open order (of one strategy or all).", "{cancelled}", resendable=False),
    # ---- sleeves and risk (docs/risk.md) ----
    Method("sleeves", READERS, (
        P("strategy", (str,), required=False, default=None, check=_strategy_name,
          doc="monitor/admin: one sleeve; a strategy always gets its own"),
    ), "Each sleeve and the pool: cash, reserved, positions, P&L, limit use.", "[sleeve map]"),
    Method("allot", ADMINS, (
        P("strategy", (str,), check=_strategy_name),
        P("cash", (float,), required=False, default=None, lo=-MAX_CASH, hi=MAX_CASH,
          doc="CNY from the pool (negative: back to it)"),
        P("stock_code", (str,), required=False, default=None, check=_stock_code),
        P("volume", (int,), required=False, default=0, lo=-MAX_HOLDING, hi=MAX_HOLDING,
          doc="shares from the pool (negative: back to it)"),
    ), "Move cash and/or shares from the unallotted pool to a strategy's sleeve (journaled).", "{record}",
       resendable=False),
    Method("transfer", ADMINS, (
        P("src", (str,), check=_sleeve_name), P("dst", (str,), check=_sleeve_name),
        P("cash", (float,), required=False, default=None, lo=-MAX_CASH, hi=MAX_CASH),
        P("stock_code", (str,), required=False, default=None, check=_stock_code),
        P("volume", (int,), required=False, default=0, lo=-MAX_HOLDING, hi=MAX_HOLDING),
    ), "Move cash and/or shares between two sleeves (journaled).", "{record}",
       resendable=False),
    Method("set_limits", ADMINS, (
        P("strategy", (str,), check=_strategy_name),
        P("limits", (dict,), check=lambda v: None if len(v) <= 16 else "must hold at most 16 keys",
          doc="{key: value} of [strategies.NAME] limit keys (not cash/positions)"),
    ), "Change a strategy's limits at run time (journaled, effective for the next order).", "{limits}"),
    Method("reconcile", ADMINS, (),
           "Reconcile the book and every sleeve with the broker now; differences go to the pool.",
           "{ok, checked_at, cash, positions, booked, booked_today, external_trades, pending}"),
]}
#: `check_order`: the same parameters as `order_stock` (and the same bounds), nothing is sent.
METHODS["check_order"] = Method(
    "check_order", TRADERS, METHODS["order_stock"].params,
    "What the pre-trade checks would say about this order now; nothing is reserved, counted or sent.",
    "{ok, code, check, limit, value, strategy, message, reserve_cash, notional}")
METHODS.update({m.name: m for m in MD_METHODS})


# --------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------

class Topic:
    """PUB topics. Per-strategy topics end in the strategy name; compare exactly."""

    ORDER = "order"  # order.<strategy>     XtOrder map (+ client_order_id)
    TRADE = "trade"  # trade.<strategy>     XtTrade map (+ client_order_id)
    ERROR = "error"  # error.<strategy>     XtOrderError / XtCancelError map (+ kind)
    POSITION = "position"  # XtPosition map
    ASSET = "asset"  # XtAsset map
    ACCOUNT = "account"  # XtAccountStatus map
    TICK = "tick"  # tick.<code>   xtdata tick dict (not journaled)
    TICKS = "ticks"  # ticks.<market>  a batch {code: tick} of one market for its whole-market subscribers
    HEARTBEAT = "hub.heartbeat"  # hub liveness, last seq, broker state (not journaled)
    BROKER = "hub.broker"  # broker up/down/reconnecting
    HALT = "hub.halt"  # halts and resumes
    RISK = "hub.risk"  # risk refusals, allotments, limit changes, reconciliation (monitors)
    CLIENT = "hub.client"  # client connected / disconnected / cancel-on-disconnect


#: Topics with a per-strategy suffix.
OWNED_TOPICS = (Topic.ORDER, Topic.TRADE, Topic.ERROR)
#: Account-wide journaled topics every strategy receives.
SHARED_TOPICS = (Topic.POSITION, Topic.ASSET, Topic.ACCOUNT, Topic.BROKER, Topic.HALT)
#: Topics that carry no seq and are never journaled.
UNJOURNALED_TOPICS = (Topic.TICK, Topic.TICKS, Topic.HEARTBEAT)
#: Journaled topics seen only by monitors/admins.
MONITOR_TOPICS = (Topic.CLIENT, Topic.RISK)

ALL_TOPICS = OWNED_TOPICS + SHARED_TOPICS + UNJOURNALED_TOPICS + MONITOR_TOPICS


def owned_topic(kind: str, strategy: str) -> str:
    return f"{kind}.{strategy}"


def tick_topic(code: str) -> str:
    return f"{Topic.TICK}.{code}"


# Whole-market batches (docs/protocol.md "Events", docs/decisions.md "Whole-market snapshots as
# batched frames"). The ticks of codes a session follows through a whole-market subscription
# (`subscribe_whole_quote` with 'SH', 'SZ' or 'BJ') come as batch frames on `ticks.<market>`:
# data {code: tick} (the latest tick of each, every code at most once per frame), `tseq`
# {code: n} (the same per-code counter as `tick.<code>`). A code someone follows by itself
# (`subscribe_quote`, or `subscribe_whole_quote` naming the code) also comes as `tick.<code>`,
# with the same tseq as in the batch.

#: most codes in one batch frame: ~7.5 KB of msgpack for xtdata's ticks. Small because the PUB's
#: high-water mark counts messages (`pub_hwm`, 10,000): a subscriber that stops reading holds at
#: most pub_hwm frames in the hub, ~75 MB at this size (~1.9 GB at 500 codes), while packing and
#: decoding cost the same per tick from 20 codes a frame up (docs/decisions.md). A 5,500-code
#: snapshot is 275 frames instead of 5,500.
TICK_BATCH_MAX = 20


def ticks_topic(market: str) -> str:
    """The batch topic of a whole market: 'SH' -> 'ticks.SH'."""
    return f"{Topic.TICKS}.{market}"


def market_of(code: str) -> str:
    """'600000.SH' -> 'SH' (the code's suffix)."""
    return code.rpartition(".")[2]


def batch_event(hub_id: str, ts: float, market: str, ticks: dict[str, Any], tseqs: dict[str, int]) -> dict[str, Any]:
    """The payload of one `ticks.<market>` frame: {seq, ts, hub_id, topic, data: {code: tick}, tseq: {code: n}}."""
    return {"seq": None, "ts": ts, "hub_id": hub_id, "topic": ticks_topic(market), "data": ticks, "tseq": tseqs}


def batch_ticks(payload: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(code, tick, tseq) of a `ticks.<market>` payload, in frame order; malformed entries skipped."""
    data, tseqs = payload.get("data"), payload.get("tseq")
    if not isinstance(data, dict):
        return []
    if not isinstance(tseqs, dict):
        tseqs = {}
    return [(code, tick, tseqs.get(code)) for code, tick in data.items()
            if isinstance(code, str) and isinstance(tick, dict)]


def split_topic(topic: str) -> tuple[str, str | None]:
    """'order.alpha' -> ('order', 'alpha'); 'asset' -> ('asset', None); 'tick.600000.SH' -> ('tick', code);
    'ticks.SH' -> ('ticks', 'SH')."""
    for kind in OWNED_TOPICS + (Topic.TICK, Topic.TICKS):
        if topic.startswith(kind + "."):
            return kind, topic[len(kind) + 1:]
    return topic, None


#: Stream of account-wide events (position, asset, account, broker, halt): every client follows it.
ACCOUNT_STREAM = "@account"
#: Stream of hub bookkeeping events only monitors see (client connects, cancel-on-disconnect).
HUB_STREAM = "@hub"


# --------------------------------------------------------------------------
# Records and event payloads: the fields a client reads (docs/protocol.md "Records", "Events")
# --------------------------------------------------------------------------

#: The key fields of each record the hub sends (query results, event `data`), with xtquant's
#: attribute names; every record may carry more (the hub adds `client_order_id`, `owner` ...).
#: `rpc_client.records` declares the same fields (a test holds them together).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "XtAsset": ("account_type", "account_id", "cash", "frozen_cash", "market_value", "total_asset",
                "fetch_balance"),
    "XtOrder": ("account_type", "account_id", "stock_code", "order_id", "order_sysid", "order_time", "order_type",
                "order_volume", "price_type", "price", "traded_volume", "traded_price", "order_status",
                "status_msg", "strategy_name", "order_remark", "direction", "offset_flag", "secu_account",
                "instrument_name"),
    "XtTrade": ("account_type", "account_id", "order_type", "stock_code", "traded_id", "traded_time",
                "traded_price", "traded_volume", "traded_amount", "order_id", "order_sysid", "strategy_name",
                "order_remark", "direction", "offset_flag", "commission", "secu_account", "instrument_name"),
    "XtPosition": ("account_type", "account_id", "stock_code", "volume", "can_use_volume", "open_price",
                   "market_value", "frozen_volume", "on_road_volume", "yesterday_volume", "avg_price", "direction",
                   "last_price", "profit_rate", "secu_account", "instrument_name"),
    "XtOrderError": ("account_type", "account_id", "order_id", "error_id", "error_msg", "strategy_name",
                     "order_remark"),
    "XtCancelError": ("account_type", "account_id", "order_id", "market", "order_sysid", "error_id", "error_msg"),
    "XtAccountStatus": ("account_type", "account_id", "status"),
    "XtAccountInfo": ("account_type", "account_id", "broker_type", "platform_id", "account_classification",
                      "login_status"),
    #: xtdata's tick dict (`tick.<code>` data, `get_full_tick` values); prices in yuan, `volume` in lots
    #: (100 shares), `pvolume` in shares, `time` epoch ms, five levels in the ask/bid lists
    "tick": ("time", "lastPrice", "open", "high", "low", "lastClose", "amount", "volume", "pvolume",
             "stockStatus", "askPrice", "bidPrice", "askVol", "bidVol"),
}


@dataclass(frozen=True)
class EventSpec:
    """One event topic: its stream, whether it is journaled, and the fields of its `data`."""

    kind: str  # the topic (owned topics without the `.<strategy>` suffix)
    stream: str  # "owner", ACCOUNT_STREAM, HUB_STREAM or "-" (not journaled)
    journaled: bool
    records: tuple[str, ...] = ()  # RECORD_FIELDS names the data is (one of)
    fields: tuple[str, ...] = ()  # data keys beyond the record's (or all of them when no record)
    payload: tuple[str, ...] = ()  # keys the payload adds beside seq, stream, sseq, ts, hub_id, topic, data
    doc: str = ""


#: The fields every event payload has (None for the sequencing ones of unjournaled topics).
PAYLOAD_FIELDS = ("seq", "stream", "sseq", "ts", "hub_id", "topic", "data")

_OWNED_EXTRA = ("client_order_id", "owner", "owner_tag")
EVENTS: dict[str, EventSpec] = {e.kind: e for e in [
    EventSpec(Topic.ORDER, "owner", True, ("XtOrder",), _OWNED_EXTRA),
    EventSpec(Topic.TRADE, "owner", True, ("XtTrade",), _OWNED_EXTRA),
    EventSpec(Topic.ERROR, "owner", True, ("XtOrderError", "XtCancelError"), ("kind", "client_order_id", "owner"),
              doc="kind: 'order' (on_order_error) or 'cancel' (on_cancel_error)"),
    EventSpec(Topic.POSITION, ACCOUNT_STREAM, True, ("XtPosition",)),
    EventSpec(Topic.ASSET, ACCOUNT_STREAM, True, ("XtAsset",)),
    EventSpec(Topic.ACCOUNT, ACCOUNT_STREAM, True, ("XtAccountStatus",)),
    EventSpec(Topic.BROKER, ACCOUNT_STREAM, True, (), ("state", "since", "reason"),
              doc="state: 'up', 'down' or 'reconnecting'"),
    EventSpec(Topic.HALT, ACCOUNT_STREAM, True, (), ("strategy", "halted", "reason"),
              doc="strategy null: the whole hub"),
    EventSpec(Topic.RISK, HUB_STREAM, True, (), ("event", "strategy")),
    EventSpec(Topic.CLIENT, HUB_STREAM, True, (), ("strategy", "role", "event", "reason", "session", "cancelled"),
              doc="event: connected, disconnected, timed_out or taken_over; `client` on connected"),
    EventSpec(Topic.TICK, "-", False, ("tick",), (), ("code", "tseq"), doc="on the PUB"),
    EventSpec(Topic.TICKS, "-", False, ("tick",), (), ("tseq",),
              doc=f"on the PUB; data {{code: tick}} of one market, at most {TICK_BATCH_MAX} codes; "
                  "tseq {code: n}"),
    EventSpec(Topic.HEARTBEAT, "-", False, (), ("last_seq", "broker", "halted", "uptime", "clients", "clock"),
              doc="on the PUB; broker: the state string, halted: the global flag, clients: a count"),
]}


def stream_of(topic: str) -> str:
    """The stream a journaled topic belongs to: the owner's name, '@account' or '@hub'.

    Every journaled event carries a global ``seq`` and a per-stream ``sseq`` that
    counts 1, 2, 3... without holes, so a strategy (which sees only its own stream
    and the account stream) can detect a lost event the moment the next one arrives.
    """
    kind, owner = split_topic(topic)
    if kind in OWNED_TOPICS:
        return owner or EXTERNAL_OWNER
    if kind in MONITOR_TOPICS:
        return HUB_STREAM
    return ACCOUNT_STREAM


def event(seq: int | None, hub_id: str, ts: float, topic: str, data: Any, **extra: Any) -> dict[str, Any]:
    """Event payload: {seq, sseq, stream, ts, hub_id, topic, data, ...}.

    seq/sseq/stream are None for unjournaled topics (ticks carry their own per-code
    ``tseq``; heartbeats carry ``last_seq`` and stream ``heads``).
    """
    payload = {"seq": seq, "ts": ts, "hub_id": hub_id, "topic": topic, "data": data}
    payload.update(extra)
    return payload


def streams_for(role: str, strategy: str) -> list[str] | None:
    """Streams a client follows; None means every stream (monitors follow the global seq)."""
    if role in (Role.MONITOR, Role.ADMIN):
        return None
    return [strategy, ACCOUNT_STREAM]


def visible_to(topic: str, role: str, strategy: str) -> bool:
    """Whether a client may see a journaled event on this topic (used by replay and the gateway)."""
    if role in (Role.MONITOR, Role.ADMIN):
        return True
    kind, owner = split_topic(topic)
    if kind in OWNED_TOPICS:
        return owner == strategy
    return kind in SHARED_TOPICS


def iter_method_names() -> Iterable[str]:
    return METHODS.keys()


__all__ = [
    "PROTOCOL_VERSION", "DEFAULT_RPC_ENDPOINT", "DEFAULT_PUB_ENDPOINT", "MAX_MESSAGE_SIZE", "HARD_MESSAGE_SIZE",
    "HEARTBEAT_INTERVAL", "HUB_DEAD_AFTER", "CLIENT_DEAD_AFTER", "STRATEGY_NAME_RE", "EXTERNAL_OWNER",
    "REMARK_TAG_PREFIX", "pack", "unpack", "ErrorCode", "ERROR_DESCRIPTIONS", "WIRE_ERROR_CODES", "HubError",
    "request", "ok", "error", "event_message", "event_of", "RECORD_FIELDS", "EventSpec", "EVENTS", "PAYLOAD_FIELDS", "Role", "ROLES", "Param", "Method", "METHODS", "Topic", "OWNED_TOPICS",
    "SHARED_TOPICS", "UNJOURNALED_TOPICS", "MONITOR_TOPICS", "ALL_TOPICS", "owned_topic", "tick_topic",
    "ticks_topic", "market_of", "batch_event", "batch_ticks", "TICK_BATCH_MAX", "split_topic", "event", "visible_to", "ACCOUNT_STREAM", "HUB_STREAM", "stream_of",
    "streams_for", "MD_PERIODS", "MD_DIVIDEND_TYPES", "MD_MAX_CODES", "MD_PAGE_ROWS",
    "MD_MAX_ROWS", "MD_METHODS", "INT64_MIN", "INT64_MAX", "MAX_DEPTH", "MAX_STR_BYTES", "MAX_MAP_LEN", "MAX_ARRAY_LEN",
    "MAX_PARAM_STR", "MAX_ID_LEN", "PREVIEW_LEN", "FREE_MAP_KEYS", "KNOWN_STATS", "FREE_KEY_LEN", "FREE_STR_LEN",
    "MAX_ORDER_VOLUME", "MAX_PRICE", "MAX_ORDER_TYPE", "MAX_PRICE_TYPE", "MAX_MARKET", "preview",
    "check_bounds", "decode_request", "DecodeError", "bounded_map", "request_id", "check_envelope",
]
