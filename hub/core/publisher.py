"""The publisher: journals an event (seq/sseq assigned there), then sends it on the PUB socket.

Journal first, publish second: whatever a client has seen can always be replayed.
Ticks and heartbeats are not journaled (no seq).
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

    def publish(self, topic: str, data: Any) -> dict[str, Any]:
        """Journal then publish one event; returns its payload."""
        ts = time.time()
        rec = self.journal.append(topic, data, ts, self.hub_id)
        payload = event(rec.seq, self.hub_id, ts, topic, data, stream=rec.stream, sseq=rec.sseq)
        self._send(topic, payload)
        self.events += 1
        return payload

    def publish_unjournaled(self, topic: str, data: Any, **extra: Any) -> None:
        payload = event(None, self.hub_id, time.time(), topic, data, stream=None, sseq=None, **extra)
        self._send(topic, payload)

    def _send(self, topic: str, payload: dict[str, Any]) -> None:
        try:
            self._socket.send_multipart([topic.encode("utf-8"), pack(payload)], zmq.NOBLOCK)
        except zmq.Again:  # PUB never blocks in practice, but never let it stall the loop
            self.dropped += 1
