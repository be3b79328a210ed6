"""Client sessions: hello, roles, unique names, instance takeover, last-heard, timeouts.

A session is keyed by the ZeroMQ routing id of the client's DEALER. The strategy name
is unique among connected sessions; a hello that carries the same `instance` as the
session holding the name takes that session over at once (a reconnecting client).
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rpc_client.protocol import (FREE_MAP_KEYS, KNOWN_STATS, OWNED_TOPICS, SHARED_TOPICS, ErrorCode, HubError,
                                 Role, split_topic)


@dataclass
class Session:
    identity: bytes
    name: str
    role: str
    instance: str = ""
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    connected_at: float = field(default_factory=time.time)
    last_heard: float = field(default_factory=time.monotonic)
    cancel_on_disconnect: bool = False
    client: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    dropped: int = 0  # replies the ROUTER could not deliver to this client
    events_dropped: int = 0  # account events the ROUTER could not deliver (recovered by the client's replay)
    requests: int = 0
    events: bool = True  # hello `events`: False for data-only clients, which get no account event pushed

    def touch(self) -> None:
        self.last_heard = time.monotonic()

    def merge_stats(self, stats: dict[str, Any]) -> None:
        """Merge a ping's (already bounded) counters: known keys update, new keys only while the
        session holds fewer than FREE_MAP_KEYS (the documented KNOWN_STATS always), so no client
        can grow the hub's memory with pings."""
        for key, value in stats.items():
            if key in self.stats or key in KNOWN_STATS or len(self.stats) < FREE_MAP_KEYS:
                self.stats[key] = value

    @property
    def reads_all(self) -> bool:
        return self.role in (Role.MONITOR, Role.ADMIN)


class Sessions:
    def __init__(self, token: str):
        self._token = token
        self.by_identity: dict[bytes, Session] = {}
        self.by_name: dict[str, Session] = {}
        self._readers: dict[bytes, Session] = {}  # monitors and admins: they see every account event

    def __len__(self) -> int:
        return len(self.by_identity)

    def get(self, identity: bytes) -> Session | None:
        return self.by_identity.get(identity)

    def named(self, name: str) -> Session | None:
        return self.by_name.get(name)

    def hello(self, identity: bytes, params: dict[str, Any]) -> tuple[Session, list[Session]]:
        """Open a session. Returns (new session, sessions it replaced). Raises HubError."""
        name, role, instance = params["strategy"], params["role"], params["instance"] or ""
        # compared as bytes: hmac.compare_digest refuses non-ASCII str (a TypeError, not a refusal)
        if role == Role.ADMIN and not hmac.compare_digest(str(params.get("token") or "").encode("utf-8", "replace"),
                                                          self._token.encode("utf-8", "replace")):
            raise HubError(ErrorCode.FORBIDDEN, "role 'admin' needs the hub's admin token (the admin.token file "
                                                "in the hub's data dir); the token given is missing or wrong")
        replaced: list[Session] = []
        holder = self.by_name.get(name)
        if holder is not None and holder.identity != identity:
            if instance and holder.instance == instance:
                replaced.append(holder)  # the same client object reconnected: take over
            else:
                age = time.monotonic() - holder.last_heard
                raise HubError(ErrorCode.NAME_TAKEN,
                               f"strategy name '{name}' is used by another connected client "
                               f"(role {holder.role}, last heard {age:.1f}s ago); pick another name, or, if that "
                               f"process is gone, wait until the hub frees the name after its silence timeout",
                               {"strategy": name, "last_heard_s": round(age, 1)})
        mine = self.by_identity.get(identity)
        if mine is not None:
            replaced.append(mine)  # a second hello on the same connection replaces the first
        for old in replaced:
            self.remove(old)
        session = Session(identity=identity, name=name, role=role, instance=instance,
                          cancel_on_disconnect=params["cancel_on_disconnect"], client=dict(params["client"] or {}),
                          events=params.get("events", True) is not False)
        self.by_identity[identity] = session
        self.by_name[name] = session
        if session.reads_all:
            self._readers[identity] = session
        return session, replaced

    def remove(self, session: Session) -> None:
        if self.by_identity.get(session.identity) is session:
            del self.by_identity[session.identity]
        if self.by_name.get(session.name) is session:
            del self.by_name[session.name]
        if self._readers.get(session.identity) is session:
            del self._readers[session.identity]

    def entitled(self, topic: str) -> list[Session]:
        """The sessions a journaled event on `topic` is pushed to: the same rule as `protocol.visible_to`
        (a strategy: its own order/trade/error topics and the account-wide ones; monitors and admins:
        everything), over indexes, so an owned event costs its owner and the readers, not every session."""
        kind, owner = split_topic(topic)
        if kind in SHARED_TOPICS:
            return [s for s in self.by_identity.values() if s.events]
        out = [s for s in self._readers.values() if s.events]
        if kind in OWNED_TOPICS:
            mine = self.by_name.get(owner or "")
            if mine is not None and mine.role == Role.STRATEGY and mine.events:
                out.append(mine)
        return out

    def silent(self, older_than: float) -> list[Session]:
        now = time.monotonic()
        return [s for s in self.by_identity.values() if now - s.last_heard > older_than]

    def all(self) -> list[Session]:
        return list(self.by_identity.values())


def load_or_create_token(path: Path) -> str:
    """The admin token: random, made at first start, kept in a file only the owner may read."""
    path = Path(path)
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(str(path), flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    try:
        os.chmod(path, 0o600)  # where the OS supports it (on Windows this only sets read-only bits)
    except OSError:
        pass
    return token
