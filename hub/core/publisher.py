"""The publisher: journals an event (seq/sseq assigned there), then sends it on the PUB socket.

Journal first, publish second: whatever a client has seen can always be replayed.
Ticks and heartbeats are not journaled (no seq).

Group commit: while the journal has a transaction open (the loop's group commit), journaled
events wait in an outbox; `flush()` commits and then sends them, in order. Anything published
while the outbox is not empty (ticks, heartbeats) waits behind them, so the PUB order is the
order of the calls. Events of a transaction that failed to commit are never sent.
"""

from __future__ import annotations

import time
from typing import Any

import zmq

from rpc_client.protocol import event, pack

from hub.core.journal import Journal


class Publisher:
    def __init__(self, socket: zmq.Socket, journal: Journal, hub_id: str):
        self._socket = socket
        self.journal = journal
        self.hub_id = hub_id
        self.events = 0
        self.ticks = 0
        self.dropped = 0
        self.uncommitted = 0  # events never sent because their journal transaction failed
        self._out: list[tuple[bytes, bytes, int]] = []  # (topic, frame, journal tx or 0)
        self._topics: dict[str, bytes] = {}

    def _topic(self, topic: str) -> bytes:
        b = self._topics.get(topic)
        if b is None:
            b = topic.encode("utf-8")
            if len(self._topics) < 10000:
                self._topics[topic] = b
        return b

    def publish(self, topic: str, data: Any) -> dict[str, Any]:
        """Journal then publish one event (at the next flush if a transaction is open); returns its payload."""
        ts = time.time()
        journal = self.journal
        rec = journal.append(topic, data, ts, self.hub_id)
        payload = event(rec.seq, self.hub_id, ts, topic, data, stream=rec.stream, sseq=rec.sseq)
        self.events += 1
        if journal.in_tx or self._out:
            self._out.append((self._topic(topic), pack(payload), journal.tx if journal.in_tx else 0))
        else:
            self._send(self._topic(topic), pack(payload))
        return payload

    def publish_unjournaled(self, topic: str, data: Any, **extra: Any) -> None:
        payload = event(None, self.hub_id, time.time(), topic, data, stream=None, sseq=None, **extra)
        if self._out:
            self._out.append((self._topic(topic), pack(payload), 0))
        else:
            self._send(self._topic(topic), pack(payload))

    @property
    def pending(self) -> bool:
        return bool(self._out)

    def flush(self) -> bool:
        """Commit the journal's open transaction, then send what waited for it. False if the commit failed."""
        committed = self.journal.commit()
        out, self._out = self._out, []
        rolled_back = self.journal.rolled_back
        for topic, frame, tx in out:
            if tx and tx in rolled_back:
                self.uncommitted += 1
                continue
            self._send(topic, frame)
        return committed

    def _send(self, topic: bytes, frame: bytes) -> None:
        try:
            self._socket.send_multipart([topic, frame], zmq.NOBLOCK)
        except zmq.Again:  # PUB never blocks in practice, but never let it stall the loop
            self.dropped += 1
