"""CurveZMQ keys on the client side: encryption and authentication to a hub started with ``curve = true``.

A hub with CurveZMQ on answers only clients whose public key is on its allow-list
(``<curve_dir>/authorized/``); everyone else gets no reply and no event. The hub's
operator creates a client keypair with ``hub keys add-client NAME``, which writes a
folder holding ``server.key`` (the hub's public key) and ``NAME.key`` / ``NAME.key_secret``
(the client's keypair). Copy that folder to the strategy's machine, then either

* set ``QMT_HUB_CURVE=<that folder>`` (the drop-in ``rpc_client.xttrader`` / ``xtdata``,
  ``RpcGateway()`` and the ``hub`` CLI all read it), or
* pass ``RpcGateway(..., curve_dir=<folder>)``, or the keys themselves with
  ``RpcGateway(..., curve=CurveKeys(server_public=..., client_public=..., client_secret=...))``.

Cert files are pyzmq's (``zmq.auth.create_certificates`` format); they are read with
``zmq.auth.load_certificate``. Nothing here imports ``hub``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from zmq.auth import load_certificate
from zmq.utils import z85

#: Folder holding ``server.key`` and one client keypair (``NAME.key`` + ``NAME.key_secret``).
ENV_CURVE = "QMT_HUB_CURVE"
SERVER_KEY = "server.key"
SERVER_SECRET = "server.key_secret"


class CurveKeyError(ValueError):
    """The CurveZMQ keys could not be loaded; the message says which file and why."""


def _key(value: bytes | str, what: str) -> bytes:
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    if len(raw) != 40:
        raise CurveKeyError(f"{what} must be a 40-character Z85 CurveZMQ key, got {len(raw)} characters")
    try:
        if len(z85.decode(raw)) != 32:
            raise ValueError
    except Exception:  # noqa: BLE001 - any decode failure means the same thing
        raise CurveKeyError(f"{what} is not a valid Z85 CurveZMQ key") from None
    return raw


@dataclass(frozen=True)
class CurveKeys:
    """The three keys a client needs (Z85 text, 40 characters each, as ``zmq.curve_keypair()`` gives them)."""

    server_public: bytes
    client_public: bytes
    client_secret: bytes
    name: str = ""  # the keypair's name (file stem), for messages only

    def __post_init__(self) -> None:
        object.__setattr__(self, "server_public", _key(self.server_public, "server_public"))
        object.__setattr__(self, "client_public", _key(self.client_public, "client_public"))
        object.__setattr__(self, "client_secret", _key(self.client_secret, "client_secret"))
        if zmq.curve_public(self.client_secret) != self.client_public:
            raise CurveKeyError("client_public does not belong to client_secret (not one keypair)")

    def __repr__(self) -> str:  # never print the secret
        return (f"CurveKeys(name={self.name!r}, server_public={self.server_public.decode()!r}, "
                f"client_public={self.client_public.decode()!r})")

    def apply(self, sock: zmq.Socket) -> None:
        """Make `sock` a CURVE client of the hub; call before ``connect``."""
        sock.curve_secretkey = self.client_secret
        sock.curve_publickey = self.client_public
        sock.curve_serverkey = self.server_public

    @classmethod
    def from_dir(cls, folder: str | os.PathLike[str], name: str | None = None) -> "CurveKeys":
        """Keys from a folder made by ``hub keys add-client``: ``server.key`` plus one client keypair.

        With `name`, the keypair ``NAME.key_secret``; without, the only ``*.key_secret`` in the
        folder other than ``server.key_secret``.
        """
        d = Path(folder).expanduser()
        if not d.is_dir():
            raise CurveKeyError(f"CurveZMQ key folder {d} does not exist (made by `hub keys add-client NAME`)")
        server = d / SERVER_KEY
        if not server.is_file():
            raise CurveKeyError(f"{server} is missing: the hub's public key (copy it from the hub's curve folder, "
                                f"or use the folder `hub keys add-client` wrote)")
        if name:
            secret = d / f"{name}.key_secret"
            if not secret.is_file():
                raise CurveKeyError(f"{secret} is missing (the client keypair {name!r})")
        else:
            found = sorted(p for p in d.glob("*.key_secret") if p.name != SERVER_SECRET)
            if not found:
                raise CurveKeyError(f"no client keypair (NAME.key_secret) in {d}: create one on the hub's machine "
                                    f"with `hub keys add-client NAME` and copy its folder here")
            if len(found) > 1:
                raise CurveKeyError(f"several client keypairs in {d} ({', '.join(p.name for p in found)}): keep "
                                    f"one per folder")
            secret = found[0]
        server_public = load_cert(server)[0]
        client_public, client_secret = load_cert(secret)
        if client_secret is None:
            raise CurveKeyError(f"{secret} holds no secret key")
        return cls(server_public, client_public, client_secret, name=secret.name[: -len(".key_secret")])


def load_cert(path: Path) -> tuple[bytes, bytes | None]:
    try:
        return load_certificate(path)
    except (OSError, ValueError) as exc:
        raise CurveKeyError(f"cannot read the CurveZMQ certificate {path}: {exc}") from None


def resolve_curve(curve: CurveKeys | None = None, curve_dir: str | os.PathLike[str] | None = None,
                  env: Any = None) -> CurveKeys | None:
    """The keys to use: `curve`, else the folder `curve_dir`, else ``$QMT_HUB_CURVE``, else None (no CurveZMQ)."""
    if curve is not None:
        if not isinstance(curve, CurveKeys):
            raise TypeError(f"curve must be a CurveKeys, got {type(curve).__name__}")
        return curve
    if curve_dir:
        return CurveKeys.from_dir(curve_dir)
    folder = (os.environ if env is None else env).get(ENV_CURVE, "").strip()
    if folder:
        try:
            return CurveKeys.from_dir(folder)
        except CurveKeyError as exc:
            raise CurveKeyError(f"${ENV_CURVE}: {exc}") from None
    return None
