"""`hub relay`: one subscription to the hub's PUB for a whole strategy machine, republished locally.

    hub machine                         strategy machine
    hub PUB tcp://10.0.0.5:5556  --->  XSUB (CurveZMQ client)  ->  XPUB tcp://127.0.0.1:5556
                                                                  ^ local strategies' SUB sockets

ZeroMQ's own proxy (`zmq.proxy(xpub, xsub)`) forwards the local subscriptions upstream, so only
the topics local strategies asked for cross the network, once, however many local strategies want
them. Calls (and replay, and each strategy's own account events, which the hub sends over the call
socket) still go straight to the hub's ROUTER: point strategies at the hub for `rpc` and at the
relay for `pub` (`QMT_HUB=tcp://10.0.0.5:5555 QMT_HUB_PUB=tcp://127.0.0.1:5556`).

The relay binds loopback only (its own strategies are on this machine); the hub side uses the
client keys of `--curve-dir` / $QMT_HUB_CURVE. ZeroMQ reconnects the XSUB by itself when the link
drops and re-sends the subscriptions; strategies see a heartbeat gap and replay as usual.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import zmq

from hub.exposure import is_loopback_endpoint

log = logging.getLogger("hub.relay")


class RelayError(RuntimeError):
    """The relay cannot run as asked; the message says why."""


class Relay:
    """XSUB connected to `upstream` (the hub's PUB), XPUB bound at `listen`, a proxy thread between them."""

    def __init__(self, upstream: str, listen: str, curve: Any = None, hwm: int = 100000):
        if not is_loopback_endpoint(listen):
            raise RelayError(f"the relay listens on loopback only (its strategies run on this machine), got {listen}")
        if not upstream.startswith("tcp://"):
            raise RelayError(f"the hub's event endpoint must be tcp://host:port, got {upstream!r}")
        if curve is None and not is_loopback_endpoint(upstream):
            log.warning("relay: %s is another machine and no CurveZMQ keys were given: a hub with CurveZMQ on "
                        "will refuse this relay", upstream)
        self.upstream, self.listen, self.curve, self.hwm = upstream, listen, curve, hwm
        self._ctx = zmq.Context()
        self._thread: threading.Thread | None = None
        self.address = listen

    def start(self) -> "Relay":
        ctx = self._ctx
        xsub = ctx.socket(zmq.XSUB)
        xpub = ctx.socket(zmq.XPUB)
        ctl = ctx.socket(zmq.PAIR)
        for s in (xsub, xpub):
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVHWM, self.hwm)
            s.setsockopt(zmq.SNDHWM, self.hwm)
        if self.curve is not None:
            self.curve.apply(xsub)
        try:
            xpub.bind(self.listen)
        except zmq.ZMQError as exc:
            for s in (xsub, xpub, ctl):
                s.close(0)
            raise RelayError(f"cannot listen on {self.listen}: {exc}") from None
        if self.listen.endswith(":0"):
            self.address = xpub.getsockopt_string(zmq.LAST_ENDPOINT)
        xsub.connect(self.upstream)
        ctl_addr = f"inproc://relay-ctl-{id(self)}"
        ctl.bind(ctl_addr)
        self._ctl_addr = ctl_addr

        def run() -> None:
            try:
                zmq.proxy_steerable(xpub, xsub, None, ctl)
            except zmq.ContextTerminated:
                pass
            except zmq.ZMQError as exc:
                if exc.errno != zmq.ETERM:
                    log.exception("relay: proxy stopped")
            finally:
                for s in (xsub, xpub, ctl):
                    s.close(0)

        self._thread = threading.Thread(target=run, name="hub-relay", daemon=True)
        self._thread.start()
        log.info("relay: %s -> %s", self.upstream, self.address)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            cmd = self._ctx.socket(zmq.PAIR)
            cmd.setsockopt(zmq.LINGER, 0)
            cmd.connect(self._ctl_addr)
            cmd.send(b"TERMINATE")
            self._thread.join(5)
            cmd.close(0)
            self._thread = None
        self._ctx.term()

    def __enter__(self) -> "Relay":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
