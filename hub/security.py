"""Who may talk to the hub: loopback by default, CurveZMQ with an allow-list for other hosts.

* `exposure_problem(cfg)`: the refusal to listen on a non-loopback address without CurveZMQ
  (unless `allow_insecure_remote`), the rule itself in the leaf `hub/exposure.py`; checked by
  `HubConfig.validate` and again by the server before it opens any socket.
* Cert files: `create_keypair` writes pyzmq's `zmq.auth.create_certificates` format
  (`NAME.key` public, `NAME.key_secret` secret), the secret file created readable by the user
  only where the OS supports it. Layout of `curve_dir` (default `<data_dir>/curve`)::

      server.key  server.key_secret     the hub's keypair (`hub keys init`)
      authorized/NAME.key               allow-list: one public key per client (`hub keys add-client`)
      clients/NAME/                     what `hub keys add-client` hands out: server.key, NAME.key(_secret)

* `CurveServer`: the hub's keys plus a `zmq.auth.thread.ThreadAuthenticator` on the hub's
  context whose allow-list is `authorized/`, read once when the hub starts (removing a file
  revokes that client at the next start), plus the in-memory keypair of the hub's own watcher
  (`own_client`).

Imports no `hub.core` module; `hub.config` does not import it (both import `hub.exposure`).
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from hub import exposure
from hub.exposure import endpoint_host, is_loopback_endpoint  # noqa: F401 (re-exported)
from rpc_client.security import (SERVER_KEY, SERVER_SECRET, CurveKeyError, CurveKeys,  # noqa: F401 (re-exported)
                                 load_cert)

if TYPE_CHECKING:  # pragma: no cover
    from hub.config import HubConfig

log = logging.getLogger("hub.security")

AUTHORIZED = "authorized"
CLIENTS = "clients"
SERVER_NAME = "server"
#: ZAP domain of the hub's sockets; the authenticator checks keys for this domain.
ZAP_DOMAIN = b"qmt-hub"
#: Client key names: also file names, on every OS.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# ----------------------------------------------------------------------------- loopback check (hub/exposure.py)

def remote_endpoints(cfg: "HubConfig") -> list[tuple[str, str]]:
    """[(what, endpoint)] of the hub's endpoints reachable from other hosts."""
    return exposure.remote_endpoints(cfg.rpc, cfg.pub)


def exposure_problem(cfg: "HubConfig") -> str | None:
    """Why the hub must not listen as configured, or None when it may (the rule: hub/exposure.py)."""
    return exposure.exposure_problem(cfg.rpc, cfg.pub, curve=cfg.curve, allow_insecure=cfg.allow_insecure_remote)


def insecure_warning(cfg: "HubConfig") -> str:
    """The loud warning for a hub listening beyond loopback without CurveZMQ; '' when there is none."""
    remote = remote_endpoints(cfg)
    if not remote or cfg.curve:
        return ""
    where = ", ".join(ep for _, ep in remote)
    return (f"INSECURE: listening on {where} without CurveZMQ (allow_insecure_remote = true): anyone who can "
            f"reach it can trade on this account, and all traffic is clear text")


def summary(cfg: "HubConfig", authorized: int | None = None) -> dict[str, Any]:
    """The `security` part of the hub's status."""
    return {"curve": bool(cfg.curve), "curve_dir": str(cfg.curve_path) if cfg.curve else None,
            "authorized_clients": authorized if cfg.curve else None,
            "remote": bool(remote_endpoints(cfg)), "allow_insecure_remote": bool(cfg.allow_insecure_remote),
            "warning": insecure_warning(cfg)}


# ----------------------------------------------------------------------------- cert files

def _private_file(path: Path, text: str) -> None:
    """Write `path` readable by its owner only (mode 0600 where the OS has it; Windows ignores the bits)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(text.encode("utf-8"))
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - a file system without permission bits
        pass


def _cert_text(public: bytes, secret: bytes | None, name: str) -> str:
    now = datetime.datetime.now().replace(microsecond=0)
    kind = "**Secret**" if secret else "Public"
    lines = [f"#   ****  Generated on {now} by qmt-hub  ****", f"#   ZeroMQ CURVE {kind} Certificate"]
    if secret:
        lines.append("#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.")
    lines += ["", "metadata", f"    name = \"{name}\"", "curve", f"    public-key = \"{public.decode('ascii')}\""]
    if secret:
        lines.append(f"    secret-key = \"{secret.decode('ascii')}\"")
    return "\n".join(lines) + "\n"


def write_public(path: Path, public: bytes, name: str) -> Path:
    path.write_text(_cert_text(public, None, name), encoding="utf-8")
    return path


def create_keypair(folder: Path, name: str) -> tuple[Path, Path]:
    """A fresh keypair as `folder/NAME.key` (public) and `folder/NAME.key_secret` (owner-only)."""
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.curve_keypair()
    pub_path = write_public(folder / f"{name}.key", public, name)
    sec_path = folder / f"{name}.key_secret"
    _private_file(sec_path, _cert_text(public, secret, name))
    return pub_path, sec_path


def check_name(name: str) -> str:
    if not NAME_RE.match(name or "") or name == SERVER_NAME:
        raise CurveKeyError(f"bad client key name {name!r}: 1-64 letters, digits, '_', '-', '.', starting with a "
                            f"letter or digit, and not {SERVER_NAME!r}")
    return name


@dataclass
class AuthorizedKey:
    name: str
    public: bytes
    path: Path


def authorized_keys(curve_dir: Path) -> list[AuthorizedKey]:
    """The allow-list: every readable `authorized/*.key`; an unreadable file is logged and skipped."""
    folder = curve_dir / AUTHORIZED
    out: list[AuthorizedKey] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.key")):
        try:
            public, _ = load_cert(path)
        except CurveKeyError as exc:
            log.error("curve: ignoring %s: %s", path, exc)
            continue
        out.append(AuthorizedKey(path.stem, public, path))
    return out


def load_server_keys(curve_dir: Path) -> tuple[bytes, bytes]:
    secret_path = curve_dir / SERVER_SECRET
    if not secret_path.is_file():
        raise CurveKeyError(f"curve is on but the hub has no keypair: {secret_path} is missing. Create it with "
                            f"`hub keys init` (same --data-dir / --curve-dir as the hub).")
    public, secret = load_cert(secret_path)
    if not secret:
        raise CurveKeyError(f"{secret_path} holds no secret key")
    if zmq.curve_public(secret) != public:
        raise CurveKeyError(f"{secret_path}: the public key does not belong to the secret key")
    return public, secret


# ----------------------------------------------------------------------------- the hub's side

class _AllowList:
    """ZAP credentials provider: the key must be on the allow-list. Denials are counted and logged
    (each key at most once a minute: a refused client reconnects many times a second)."""

    LOG_EVERY = 60.0

    def __init__(self, keys: list[AuthorizedKey]):
        self.names = {k.public: k.name for k in keys}
        self.denied = 0
        self.allowed = 0
        self._logged: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def callback(self, domain: str, key: bytes) -> bool:  # noqa: ARG002 - zmq.auth's signature
        name = self.names.get(bytes(key))
        with self._lock:
            if name is not None:
                self.allowed += 1
                return True
            self.denied += 1
            now = time.monotonic()
            if now - self._logged.get(key, -1e9) >= self.LOG_EVERY:
                self._logged[key] = now
                log.warning("curve: refused a client whose key is not on the allow-list: %s (to let it in: copy "
                            "its public key file into authorized/ and restart the hub)", key.decode("ascii", "replace"))
        return False


def _handshake_reason(event: int, value: int) -> str:
    """A short name for a failed handshake, for the counters and the log."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "mechanism_mismatch"
        if value == zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "cryptographic"
        return "protocol"
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return f"zap_{value}"
    return "no_detail"


_HINTS = {
    "mechanism_mismatch": "a client without CurveZMQ (NULL or PLAIN) on this CURVE hub",
    "cryptographic": "a client with a wrong secret key or a wrong server key",
    "no_detail": "a peer that failed the handshake without a protocol error, often NULL/PLAIN on this CURVE hub",
}


class _HandshakeWatch:
    """Refusals ZAP never sees: libzmq rejects a NULL/PLAIN peer on a CURVE socket (mechanism
    mismatch) and a peer with a wrong secret or server key (the crypto box fails) before any ZAP
    request. A monitor socket per hub socket reports those handshake failures; each is counted
    (in `auth_denied`, with its reason) and logged at most once a minute per reason.

    The monitors are created on the socket's thread (`watch`, before bind); one thread reads them.
    ZAP denials (status 400) are counted by `_AllowList` already, so they are not counted twice.
    """

    EVENTS = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
              | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    LOG_EVERY = 60.0

    def __init__(self) -> None:
        self.failed = 0
        self.reasons: dict[str, int] = {}
        self._addrs: list[tuple[str, str]] = []
        self._logged: dict[str, tuple[float, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def watch(self, sock: zmq.Socket, what: str) -> None:
        addr = f"inproc://qmt-hub-handshakes-{id(self):x}-{len(self._addrs)}"
        sock.monitor(addr, self.EVENTS)
        with self._lock:
            self._addrs.append((addr, what))

    def start(self, ctx: zmq.Context) -> None:
        if self._thread is None and self._addrs:
            self._thread = threading.Thread(target=self._run, args=(ctx,), name="hub-handshake-watch", daemon=True)
            self._thread.start()

    def _run(self, ctx: zmq.Context) -> None:
        from zmq.utils.monitor import parse_monitor_message

        socks: dict[zmq.Socket, str] = {}
        poller = zmq.Poller()
        try:
            while not self._stop.is_set():
                with self._lock:
                    new = self._addrs[len(socks):]
                for addr, what in new:  # sockets watched after the thread started
                    pair = ctx.socket(zmq.PAIR)
                    pair.linger = 0
                    pair.connect(addr)
                    socks[pair] = what
                    poller.register(pair, zmq.POLLIN)
                if not socks:
                    self._stop.wait(0.05)
                    continue
                for pair, _ in poller.poll(200):
                    try:
                        msg = parse_monitor_message(pair.recv_multipart(zmq.NOBLOCK))
                    except zmq.ZMQError:
                        continue
                    self._count(socks[pair], int(msg["event"]), int(msg["value"]))
        except Exception:  # noqa: BLE001 - the watch must never take the hub down
            log.exception("curve: the handshake watch failed; failed handshakes are no longer counted")
        finally:
            for pair in socks:
                pair.close(0)

    def _count(self, what: str, event: int, value: int) -> None:
        if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH and value == 400:
            return  # a ZAP denial: _AllowList counted and logged it
        reason = _handshake_reason(event, value)
        with self._lock:
            self.failed += 1
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            now = time.monotonic()
            last, count = self._logged.get(reason, (-1e9, 0))
            if now - last < self.LOG_EVERY:
                self._logged[reason] = (last, count + 1)
                return
            self._logged[reason] = (now, 0)
        more = f" ({count} more since the last such line)" if count else ""
        log.warning("curve: refused a connection on %s: %s handshake failure (%s)%s", what, reason,
                    _HINTS.get(reason, "the peer does not speak CurveZMQ with an authorised key"), more)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None


class CurveServer:
    """The hub's CurveZMQ side: its keypair, the authenticator thread on its context, and the
    watch of handshakes that fail before ZAP is asked (counted in `auth_denied` too)."""

    def __init__(self, curve_dir: Path):
        self.curve_dir = curve_dir
        self.public, self.secret = load_server_keys(curve_dir)
        self.keys = authorized_keys(curve_dir)
        self.allow = _AllowList(self.keys)
        self.handshakes = _HandshakeWatch()
        self._auth: Any = None
        self._ctx: zmq.Context | None = None

    def start(self, ctx: zmq.Context) -> None:
        from zmq.auth.thread import ThreadAuthenticator

        auth = ThreadAuthenticator(ctx, log=logging.getLogger("hub.security.zap"))
        auth.start()
        auth.configure_curve_callback(domain=ZAP_DOMAIN.decode(), credentials_provider=self.allow)
        self._auth = auth
        self._ctx = ctx
        if not self.keys:
            log.warning("curve: no client key in %s: nobody can connect. Add one with `hub keys add-client NAME`.",
                        self.curve_dir / AUTHORIZED)
        else:
            log.info("curve: on; %d authorised client key(s): %s", len(self.keys), ", ".join(k.name for k in self.keys))

    def apply(self, sock: zmq.Socket, what: str = "") -> None:
        """Make `sock` a CURVE server checked by the authenticator, its failed handshakes watched;
        call before ``bind``, on the socket's thread."""
        sock.zap_domain = ZAP_DOMAIN
        sock.curve_secretkey = self.secret
        sock.curve_publickey = self.public
        sock.curve_server = True
        if self._ctx is not None:
            kind = {zmq.ROUTER: "rpc", zmq.PUB: "pub"}.get(sock.type, str(sock.type))
            self.handshakes.watch(sock, what or kind)
            self.handshakes.start(self._ctx)

    def stop(self) -> None:
        self.handshakes.stop()
        auth, self._auth = self._auth, None
        if auth is not None:
            try:
                auth.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping the ZAP authenticator failed")

    def own_client(self, name: str = "hub-watch") -> CurveKeys:
        """A client keypair for the hub's own companions (the in-process watcher behind `[alerts]` and
        `[metrics]`), made in memory and authorised for this process only.

        Why: the watcher is a client like any other and, with `curve = true`, needs a key on the
        allow-list; asking the operator for one (`$QMT_HUB_CURVE`) for a thread of the hub itself
        was a trap (metrics silently dark). The secret never touches the disk and dies with the
        process; `authorized_clients` in `status` still counts the operator's keys only.
        """
        public, secret = zmq.curve_keypair()
        self.allow.names[public] = f"_{name}"  # the ZAP thread reads this map; one assignment, no lock needed
        return CurveKeys(server_public=self.public, client_public=public, client_secret=secret, name=name)

    def counters(self) -> dict[str, Any]:
        """`auth_denied` counts every refusal: keys not on the allow-list (ZAP) and handshakes that
        failed before ZAP (NULL/PLAIN peers, wrong secret or server key), by reason in `auth_refusals`."""
        refusals = dict(self.handshakes.reasons)
        if self.allow.denied:
            refusals["not_on_allow_list"] = self.allow.denied
        return {"auth_allowed": self.allow.allowed, "auth_denied": self.allow.denied + self.handshakes.failed,
                "auth_refusals": refusals}
