"""The fuzz harness: Hypothesis strategies driven by the protocol table, and the invariant checker.

Used by tests/fuzz/test_fuzz_hub.py (a bounded number of cases in CI) and by scripts/fuzz.py
(the long run against a hub process on the simulator). Why table-driven: every method and
parameter in `rpc_client.protocol.METHODS` is fuzzed, so a new one is covered with no new code.
A few parameter names get realistic valid values (`VALID_HINTS`: stock codes, strategy names)
so that valid orders reach the broker too; every other parameter gets values from its type and
bounds. Each case is a list of frames sent from one of four connections: one that never said
`hello`, and one per role (strategy, monitor, admin).

Invariants (checked per case, then at the end, see `Harness`):
  * the hub is alive (a callable given by the caller: thread running, or process not exited);
  * every frame gets exactly one reply, a msgpack map whose code, when not ok, is in the error
    table; never INTERNAL; error messages bounded;
  * every `ok` to an order is followed by that order's event (`order.*`) or an error event
    (`error.*`, on_order_error) within the order timeout (checked in the journal via `replay`,
    whatever socket events are delivered on);
  * a legitimate client placing an order each second keeps getting answers (`LegitClient`);
  * hub RSS and journal size within the bounds the caller states.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import msgpack
import zmq
from hypothesis import strategies as st

from rpc_client import protocol as P
from rpc_client.protocol import METHODS, ROLES, WIRE_ERROR_CODES, ErrorCode, pack, unpack

NO_SESSION_ROLE = "none"
CONNECTIONS = (NO_SESSION_ROLE,) + ROLES  # "before hello", then each role after hello
LONGEST_MESSAGE = 2048  # an error message longer than this breaks "messages quote a bounded prefix"

CODES = ["600000.SH", "000001.SZ", "510300.SH", "600519.SH", "300750.SZ", "999999.SH", "000000.BJ"]

# ---- values of every msgpack type ------------------------------------------------------------

MSGPACK_INTS = st.one_of(st.integers(-(1 << 63), (1 << 64) - 1), st.sampled_from(
    [0, -1, 1, (1 << 63) - 1, 1 << 63, -(1 << 63), (1 << 64) - 1, (1 << 31), -(1 << 31) - 1, 10 ** 18]))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 1.0, 0.0]))
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["", "\x00", "é" * 10, "😀", "x" * 300, "a" * 70_000]))
SCALARS = st.one_of(st.none(), st.booleans(), MSGPACK_INTS, FLOATS, TEXT, st.binary(max_size=40))
KEYS = st.one_of(st.text(max_size=12), st.integers(-5, 5), st.binary(max_size=4), st.none(), st.booleans())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(KEYS, inner, max_size=5)), max_leaves=8)
#: Strategy names (STRATEGY_NAME_RE) built directly: from_regex is several times slower to draw.
_NAME_HEAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
NAMES = st.builds(lambda head, tail: head + tail, st.sampled_from(_NAME_HEAD),
                  st.text(alphabet=_NAME_HEAD + "_-", max_size=12))


def deep_bytes(levels: int, kind: str, leaf: bytes) -> bytes:
    """msgpack bytes of a value nested `levels` deep (packb itself refuses more than 511)."""
    head = b"\x91" if kind == "array" else b"\x81\xa1k"
    return head * levels + leaf


DEEP = st.builds(deep_bytes, st.one_of(st.integers(1, 40), st.integers(500, 1100)),
                 st.sampled_from(["array", "map"]), st.sampled_from([b"\xc0", b"\x01", b"\xa1x", b"\x80"]))


def raw_map(items: list[tuple[Any, bytes]]) -> bytes:
    """A msgpack map whose values are already encoded (to splice a deep value in)."""
    out = bytearray()
    n = len(items)
    out += bytes([0x80 | n]) if n < 16 else b"\xde" + n.to_bytes(2, "big")
    for key, value in items:
        out += pack(key) + value
    return bytes(out)


def safe_pack(value: Any) -> bytes:
    try:
        return pack(value)
    except Exception:  # noqa: BLE001 - a generated value msgpack cannot carry: send nil instead
        return b"\xc0"


# ---- values for one parameter of the table -------------------------------------------------

#: Realistic valid values for a few names (so valid orders reach the broker); any other
#: parameter gets its valid values from its type and bounds alone.
VALID_HINTS: dict[str, Any] = {
    "stock_code": st.sampled_from(CODES),
    "codes": st.lists(st.sampled_from(CODES + ["SH", "SZ"]), min_size=1, max_size=4),
    "strategy": NAMES,
    "role": st.sampled_from(ROLES),
    "protocol": st.sampled_from([1, 1, 1, 0, 2]),
    "order_type": st.sampled_from([23, 24, 23, 24, 27, 0, P.MAX_ORDER_TYPE]),
    "price_type": st.sampled_from([5, 11, 11, 11, 42, 0, P.MAX_PRICE_TYPE]),
    "price": st.one_of(st.floats(5.0, 15.0), st.sampled_from([0.0, 10.0, 10.5, 9.99, P.MAX_PRICE])),
    "order_volume": st.sampled_from([100, 200, 1000, 1, 150, P.MAX_ORDER_VOLUME]),
    "client_order_id": st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=12),
}


def valid_for(param: P.Param) -> st.SearchStrategy:
    if param.name in VALID_HINTS:
        return VALID_HINTS[param.name]
    types = param.types
    if bool in types:
        return st.booleans()
    if float in types:
        lo, hi = param.bounds()
        return st.floats(max(lo, -1e6), min(hi, 1e6))
    if int in types:
        lo, hi = param.bounds()
        return st.integers(int(max(lo, -10 ** 6)), int(min(hi, 10 ** 6)))
    if str in types:
        return st.text(max_size=min(param.length_limit() or 32, 32))
    if list in types:
        return st.lists(st.text(max_size=12), max_size=4)
    if dict in types:
        return st.dictionaries(st.text(max_size=12), SCALARS, max_size=8)
    return VALUES


def extreme_for(param: P.Param) -> st.SearchStrategy:
    """Boundary and beyond-boundary values of the parameter's own type."""
    out: list[Any] = []
    types = param.types
    if float in types or int in types:
        lo, hi = param.bounds()
        for v in (lo, hi):
            if float in types:
                out += [float(v), math.nextafter(float(v), math.inf), math.nextafter(float(v), -math.inf)]
            else:
                out += [int(v), int(v) - 1, int(v) + 1]
        out += [0, -1, (1 << 63) - 1, 1 << 63, -(1 << 63), (1 << 64) - 1]
        if float in types:
            out += [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0]
    if str in types:
        limit = param.length_limit() or P.MAX_PARAM_STR
        out += ["", "x" * limit, "x" * (limit + 1), "é" * (limit + 1), "\x00", "😀" * 3, " ", "a" * 60_000]
    if list in types:
        out += [[], [None], [[[]]], ["600000.SH"] * 10_001, list(range(20))]
    if dict in types:
        out += [{}, {"k" * 70: "v" * 300}, {str(i): i for i in range(200)}, {"nested": {"a": {"b": [1, 2]}}}]
    if bool in types:
        out += [True, False]
    out = [v for v in out if not (isinstance(v, int) and not isinstance(v, bool)
                                  and not -(1 << 63) <= v <= (1 << 64) - 1)]
    return st.sampled_from(out or [None])


def wrong_type_for(param: P.Param) -> st.SearchStrategy:
    def wrong(v: Any) -> bool:
        if isinstance(v, bool):
            return bool not in param.types
        if isinstance(v, int) and float in param.types:
            return False
        return not isinstance(v, param.types)
    return VALUES.filter(wrong)


def value_for(param: P.Param) -> st.SearchStrategy:
    """One of: valid (most often, so calls get past validation), extreme, wrong type."""
    return st.one_of(valid_for(param), valid_for(param), extreme_for(param), wrong_type_for(param))


@st.composite
def params_for(draw: Any, method: P.Method) -> dict[str, Any]:
    """Params for a method: all valid, or valid but one parameter perturbed (omitted, extreme or of
    a wrong type: this reaches each check in turn), or every parameter random."""
    mode = draw(st.sampled_from(["valid", "one", "one", "chaos"]))
    names = [p.name for p in method.params]
    target = draw(st.sampled_from(names)) if names else None
    params: dict[str, Any] = {}
    for param in method.params:
        if mode == "chaos":
            choice = draw(st.integers(0, 9))
            if choice:
                params[param.name] = draw(value_for(param))
        elif mode == "one" and param.name == target:
            how = draw(st.sampled_from(["omit", "extreme", "extreme", "wrong"]))
            if how != "omit":
                params[param.name] = draw(extreme_for(param) if how == "extreme" else wrong_type_for(param))
        elif param.required or draw(st.booleans()):
            params[param.name] = draw(valid_for(param))
    if draw(st.integers(0, 19)) == 0:
        params[draw(st.text(max_size=10))] = draw(SCALARS)  # an unknown parameter
    return params


def _connection_for(method: P.Method) -> st.SearchStrategy:
    """Mostly a connection whose role may call the method (so calls get past the role check)."""
    return st.one_of(st.sampled_from(list(method.roles)), st.sampled_from(CONNECTIONS))


# ---- cases -----------------------------------------------------------------------------------

@dataclass
class Case:
    role: str
    frames: list[bytes]
    kind: str

    def __repr__(self) -> str:  # what Hypothesis prints for a failing case: bounded
        return f"Case({self.role}, {self.kind}, {[f[:200] for f in self.frames]!r})"


_ids = itertools.count(1)


@st.composite
def method_case(draw: Any) -> Case:
    name = draw(st.sampled_from(sorted(METHODS)))
    params = draw(params_for(METHODS[name]))
    req_id = draw(st.one_of(st.just(next(_ids)), st.just(next(_ids)), st.text(max_size=8)))
    frame = safe_pack({"v": P.PROTOCOL_VERSION, "id": req_id, "method": name, "params": params})
    return Case(draw(_connection_for(METHODS[name])), [frame], f"method:{name}")


@st.composite
def order_case(draw: Any) -> Case:
    """A valid order from the strategy connection (so the order path and its events are exercised)."""
    method = METHODS["order_stock"]
    params = {p.name: draw(valid_for(p)) for p in method.params if p.required or draw(st.booleans())}
    frame = safe_pack(P.request(next(_ids), "order_stock", params))
    return Case("strategy", [frame], "order")


@st.composite
def deep_param_case(draw: Any) -> Case:
    name = draw(st.sampled_from(sorted(METHODS)))
    method = METHODS[name]
    target = draw(st.sampled_from([p.name for p in method.params] or ["x"]))
    items = [(p.name, safe_pack(draw(valid_for(p)))) for p in method.params if p.name != target]
    params = raw_map(items + [(target, draw(DEEP))])
    frame = raw_map([("v", pack(1)), ("id", pack(next(_ids))), ("method", pack(name)), ("params", params)])
    return Case(draw(st.sampled_from(CONNECTIONS)), [frame], f"deep:{name}")


@st.composite
def envelope_case(draw: Any) -> Case:
    """Envelopes with each key missing, of the wrong type or extreme (v true / 1.0, huge ids ...)."""
    env: dict[str, Any] = {}
    for key, good in (("v", st.just(1)), ("id", st.integers(1, 10 ** 6)),
                      ("method", st.sampled_from(sorted(METHODS))), ("params", st.just({}))):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            continue
        env[key] = draw(good if choice > 2 else VALUES)
    return Case(draw(st.sampled_from(CONNECTIONS)), [safe_pack(env)], "envelope")


@st.composite
def raw_case(draw: Any) -> Case:
    kind = draw(st.sampled_from(["bytes", "value", "deep"]))
    if kind == "bytes":
        frame = draw(st.binary(max_size=300))
    elif kind == "value":
        frame = safe_pack(draw(VALUES))
    else:
        frame = draw(DEEP)
    return Case(draw(st.sampled_from(CONNECTIONS)), [frame], kind)


@st.composite
def framing_case(draw: Any) -> Case:
    """Multipart requests: REQ envelopes (echoed), extra frames (BAD_FRAME), and rarely one frame
    over MAX_MESSAGE_SIZE (TOO_LARGE; still under the hard limit, so it is answered)."""
    body = safe_pack(P.request(next(_ids), draw(st.sampled_from(["ping", "status", "query_stock_asset"]))))
    shape = draw(st.integers(0, 40))
    if shape == 0:
        frames = [b"\x00" * (P.MAX_MESSAGE_SIZE + 1)]
    elif shape < 14:
        frames = [b"", body]
    elif shape < 20:
        frames = [b"route", b"", body]
    elif shape < 30:
        frames = [body, draw(st.binary(max_size=20))]
    else:
        frames = [draw(st.binary(max_size=20)) for _ in range(draw(st.integers(2, 5)))] + [body]
    return Case(draw(st.sampled_from(CONNECTIONS)), frames, "framing")


def cases() -> st.SearchStrategy:
    """Every kind of case; method-driven cases most often (they reach the handlers)."""
    return st.one_of(method_case(), method_case(), method_case(), method_case(), order_case(), deep_param_case(),
                     envelope_case(), raw_case(), framing_case())


# ---- the harness -----------------------------------------------------------------------------

@dataclass
class Figures:
    cases: int = 0
    replies: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    internal: int = 0
    orders_acked: int = 0
    orders_without_event: int = 0
    slow_replies: int = 0  # answered, but later than Harness.REPLY_TIMEOUT
    violations: list[str] = field(default_factory=list)


class Harness:
    """Sends cases to a hub, one reply per case, and checks the invariants.

    `alive()` says whether the hub still runs; `strict` raises AssertionError at the first
    violation (for Hypothesis to shrink), otherwise violations are counted and kept.
    """

    REPLY_TIMEOUT = 5.0  # a reply slower than this (order: plus order_timeout) is counted as slow
    #: How long a reply may take before it counts as missing: market-data calls may take up to the
    #: hub's `marketdata_timeout` (30 s) at the source, downloads `marketdata_download_timeout`.
    SLOW_METHOD_LIMIT = 45.0
    DOWNLOAD_LIMIT = 620.0

    def __init__(self, rpc: str, token: str, alive: Callable[[], bool], order_timeout: float,
                 strict: bool = True, curve: Any = None):
        self.rpc, self.token, self.alive, self.order_timeout, self.strict = rpc, token, alive, order_timeout, strict
        self.ctx = zmq.Context()
        self.curve = curve
        self.figures = Figures()
        self.socks: dict[str, zmq.Socket] = {}
        self.names: dict[str, str] = {}
        self.acked: dict[int, float] = {}  # order_id -> when the ok came
        self.seen_orders: set[int] = set()
        self.after = 0
        self.in_flight: str | None = None  # the connection whose case awaits its reply
        self._next_check = time.monotonic() + 2.0
        for role in CONNECTIONS:
            self.socks[role] = self._dealer()
            if role != NO_SESSION_ROLE:
                self.names[role] = f"fz-{role[:3]}-{uuid.uuid4().hex[:6]}"
                self._hello(role)
        self.monitor = self._dealer()
        self._call(self.monitor, "hello", {"protocol": 1, "strategy": f"fz-watch-{uuid.uuid4().hex[:6]}",
                                           "role": "monitor"})
        self.after = self._call(self.monitor, "status", {})["last_seq"]

    # ---- sockets
    def _dealer(self) -> zmq.Socket:
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTING_ID, uuid.uuid4().bytes)
        if self.curve is not None:
            self.curve.apply(sock)
        sock.connect(self.rpc)
        return sock

    def _call(self, sock: zmq.Socket, method: str, params: dict[str, Any], timeout: float = 10.0) -> Any:
        req_id = f"h{next(_ids)}"
        sock.send(pack(P.request(req_id, method, params)))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sock.poll(100):
                reply = unpack(sock.recv_multipart()[-1])
                if reply.get("id") == req_id:
                    if not reply.get("ok"):
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
        raise TimeoutError(f"no reply to {method}")

    @staticmethod
    def _next_reply(sock: zmq.Socket, timeout: float) -> list[bytes] | None:
        """The next message that is not an account event the hub pushed to this session, or None."""
        deadline = time.monotonic() + timeout
        while sock.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            frames = sock.recv_multipart()
            try:
                pushed = P.event_of(unpack(frames[-1]))
            except ValueError:
                pushed = None
            if pushed is None:
                return frames
        return None

    def _hello(self, role: str) -> None:
        params = {"protocol": 1, "strategy": self.names[role], "role": role}
        if role == "admin":
            params["token"] = self.token
        self._call(self.socks[role], "hello", params)

    def _repair(self, role: str, msg: Any) -> None:
        """Undo what a fuzzed call changed for the harness: its session, a halt."""
        method = msg.get("method") if isinstance(msg, dict) else None
        if method in ("hello", "bye"):
            if role == NO_SESSION_ROLE:
                try:
                    self._call(self.socks[role], "bye", {})
                except RuntimeError:
                    pass
            else:
                self._hello(role)
        elif isinstance(method, str) and method.startswith("halt"):  # halt, halt_self: resume all
            self._call(self.socks["admin"], "resume", {})

    def violation(self, text: str) -> None:
        self.figures.violations.append(text)
        if self.strict:
            raise AssertionError(text)

    # ---- one case
    def check(self, case: Case) -> None:
        f = self.figures
        f.cases += 1
        f.by_kind[case.kind.split(":")[0]] = f.by_kind.get(case.kind.split(":")[0], 0) + 1
        sock = self.socks[case.role]
        try:
            msg = unpack(case.frames[-1]) if len(case.frames[-1]) < 1 << 16 else None
        except ValueError:
            msg = None
        self.in_flight = case.role
        sock.send_multipart(case.frames)
        name = msg.get("method") if isinstance(msg, dict) else None
        is_order = name == "order_stock"
        deferred = is_order or name in ("cancel_order_stock", "cancel_order_stock_sysid")  # wait for the broker
        timeout = self.REPLY_TIMEOUT + (self.order_timeout if deferred else 0)
        limit = self.DOWNLOAD_LIMIT if isinstance(name, str) and name.startswith("download_") else \
            max(timeout, self.SLOW_METHOD_LIMIT)
        t0 = time.monotonic()
        frames = self._next_reply(sock, limit)
        if frames is not None and time.monotonic() - t0 > timeout:
            f.slow_replies += 1
        if frames is None:
            if not self.alive():
                self.violation(f"the hub died on {case!r}")
            self.violation(f"no reply within {limit:g}s to {case!r}")
            return
        self.in_flight = None
        f.replies += 1
        try:
            reply = unpack(frames[-1])
        except ValueError:
            self.violation(f"a reply that is not msgpack to {case!r}")
            return
        if not isinstance(reply, dict) or reply.get("v") != 1 or not isinstance(reply.get("ok"), bool):
            self.violation(f"a reply that is not an envelope: {str(reply)[:200]} to {case!r}")
            return
        if reply["ok"]:
            code = "ok"
        else:
            err = reply.get("error") or {}
            code = err.get("code")
            if code not in WIRE_ERROR_CODES:
                self.violation(f"unknown error code {code!r} to {case!r}")
            if len(str(err.get("message", ""))) > LONGEST_MESSAGE:
                self.violation(f"an error message of {len(str(err.get('message')))} characters to {case!r}")
            if code == ErrorCode.INTERNAL:
                f.internal += 1
                self.violation(f"INTERNAL {err.get('message')!r:.300} to {case!r}")
        f.by_code[code] = f.by_code.get(code, 0) + 1
        extra = self._next_reply(sock, 0)
        if extra is not None:
            self.violation(f"a second reply to {case!r}: {extra[-1][:200]!r}")
        if reply["ok"] and is_order:
            order_id = (reply.get("result") or {}).get("order_id")
            duplicate = (reply.get("result") or {}).get("duplicate")
            if isinstance(order_id, int) and not duplicate:
                f.orders_acked += 1
                self.acked.setdefault(order_id, time.monotonic())
        if reply["ok"]:
            self._repair(case.role, msg)
        if not self.alive():
            self.violation(f"the hub died after {case!r}")
        if time.monotonic() >= self._next_check:
            self.check_orders()
            self._next_check = time.monotonic() + 2.0

    # ---- orders: each ok is followed by its event, in the journal
    def _read_events(self) -> None:
        while True:
            result = self._call(self.monitor, "replay", {"after": self.after, "limit": 5000})
            for ev in result["events"]:
                self.after = max(self.after, ev["seq"])
                topic = ev.get("topic", "")
                data = ev.get("data") or {}
                if (topic.startswith("order.") or topic.startswith("error.")) and isinstance(data, dict):
                    if isinstance(data.get("order_id"), int):
                        self.seen_orders.add(data["order_id"])
            if not result["more"]:
                return

    def check_orders(self, final: bool = False) -> None:
        self._read_events()
        now = time.monotonic()
        late = [oid for oid, t in self.acked.items() if oid not in self.seen_orders
                and (final or now - t > self.order_timeout + 1.0)]
        for oid in late:
            self.acked.pop(oid)
            self.figures.orders_without_event += 1
            self.violation(f"order {oid} was acknowledged but no order or error event followed within "
                           f"{self.order_timeout:g}s")
        for oid in [o for o in self.acked if o in self.seen_orders]:
            self.acked.pop(oid)

    def finish(self) -> Figures:
        """Wait out the order timeout, check the last acknowledgements and extra replies."""
        if self.in_flight is not None:  # a run interrupted between a send and its reply: take that reply
            self._next_reply(self.socks[self.in_flight], self.SLOW_METHOD_LIMIT + self.order_timeout)
            self.in_flight = None
        deadline = time.monotonic() + self.order_timeout + 1.0
        while self.acked and time.monotonic() < deadline:
            self._read_events()
            for oid in [o for o in self.acked if o in self.seen_orders]:
                self.acked.pop(oid)
            time.sleep(0.2)
        self.check_orders(final=True)
        for role, sock in self.socks.items():
            if self._next_reply(sock, 0.2) is not None:  # pushed account events do not count
                self.violation(f"an unanswered extra reply waiting on the {role} connection")
        if not self.alive():
            self.violation("the hub is not alive at the end")
        return self.figures

    def close(self) -> None:
        self.ctx.destroy(0)


class LegitClient:
    """A well-behaved strategy placing one order a second on its own connection meanwhile;
    it must get an answer to each within `answer_within` seconds."""

    def __init__(self, rpc: str, answer_within: float = 5.0, curve: Any = None, interval: float = 1.0):
        self.rpc, self.answer_within, self.curve, self.interval = rpc, answer_within, curve, interval
        self.orders = 0
        self.answered = 0
        self.unanswered = 0
        self.slowest = 0.0
        self.codes: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fuzz-legit-client", daemon=True)

    def start(self) -> "LegitClient":
        self._thread.start()
        return self

    def _run(self) -> None:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        if self.curve is not None:
            self.curve.apply(sock)
        sock.connect(self.rpc)
        ids = itertools.count(1)
        name = f"legit-{uuid.uuid4().hex[:6]}"

        def call(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
            req_id = next(ids)
            t0 = time.monotonic()
            sock.send(pack(P.request(req_id, method, params)))
            while time.monotonic() - t0 < self.answer_within:
                if sock.poll(50):
                    reply = unpack(sock.recv())
                    if reply.get("id") == req_id:
                        self.slowest = max(self.slowest, time.monotonic() - t0)
                        return reply
            return None

        try:
            call("hello", {"protocol": 1, "strategy": name})
            while not self._stop.wait(self.interval):
                self.orders += 1
                reply = call("order_stock", {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100,
                                             "price_type": 11, "price": 10.0})
                if reply is None:
                    self.unanswered += 1
                    continue
                self.answered += 1
                code = "ok" if reply["ok"] else reply["error"]["code"]
                self.codes[code] = self.codes.get(code, 0) + 1
                if code == ErrorCode.NO_SESSION:
                    call("hello", {"protocol": 1, "strategy": name})
        finally:
            ctx.destroy(0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.answer_within + 2)


def msgpack_version() -> str:
    return ".".join(map(str, msgpack.version))
