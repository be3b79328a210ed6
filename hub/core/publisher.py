"""The publisher: journals an event (seq/sseq assigned there), then delivers it.

Journal first, deliver second: whatever a client has seen can always be replayed.

Where events go (docs/decisions.md, "Account events per session"):

* Journaled (account) events are pushed over the ROUTER call socket, one frame
  ``{"v": 1, "event": payload}``, to each session entitled to see them
  (`Sessions.entitled`): a strategy gets its own orders/trades/errors and the account's
  events, monitors and admins get everything. A peer that never said hello gets none.
  They never share the ticks' PUB high-water mark.
* Ticks and the public ``hub.heartbeat`` go on the PUB socket (not journaled, no seq); the
  ticks of a followed whole market as ``ticks.<market>`` batch frames (`publish_batch`).

The ROUTER drops what it cannot queue for a peer (its high-water mark, or the peer is
gone): each such drop is counted (`session_dropped`, and per session) and the client
recovers it by replay, because the heads in every `ping` reply (`sent_heads`) name the
last event of each stream handed to the sockets before that reply.

Group commit: while the journal has a transaction open (the loop's group commit), journaled
events wait in an outbox; `flush()` commits and then sends them, in order. Anything published
while the outbox is not empty (ticks, heartbeats) waits behind them, so the order on the wire
is the order of the calls. Events of a transaction that failed to commit are never sent.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import zmq

from rpc_client.protocol import batch_event, event, event_message, pack, ticks_topic

from hub.core.journal import Journal
from hub.core.sessions import Sessions


_MORE, _NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK), int(zmq.NOBLOCK)


class _Out(NamedTuple):
    """One message waiting for the journal's commit."""

    topic: str
    frame: bytes
    tx: int  # journal transaction it belongs to, 0: none
    journaled: bool  # True: to entitled sessions over the ROUTER; False: on the PUB
    stream: str | None = None
    sseq: int | None = None
    seq: int | None = None


class Publisher:
    def __init__(self, socket: zmq.Socket, journal: Journal, hub_id: str, *,
                 router: zmq.Socket | None = None, sessions: Sessions | None = None):
        self._socket = socket
        self._router = router
        self._sessions = sessions
        self.journal = journal
        self.hub_id = hub_id
        self.events = 0
        self.ticks = 0  # ticks published, one per code whether in its own frame or in a batch
        self.tick_batches = 0  # `ticks.<market>` frames
        self.dropped = 0  # PUB messages the socket refused (never in practice)
        self.session_events = 0  # account events handed to a session's ROUTER pipe
        self.session_dropped = 0  # ... and refused by the ROUTER (high-water mark, or the peer is gone)
        self.uncommitted = 0  # events never sent because their journal transaction failed
        #: the last sseq per stream (and seq) handed to the sockets: what a `ping` reply reports as heads
        self.sent_heads: dict[str, int] = dict(journal.heads)
        self.sent_seq: int = journal.last_seq
        self._out: list[_Out] = []
        self._topics: dict[str, bytes] = {}

    def _topic(self, topic: str) -> bytes:
        b = self._topics.get(topic)
        if b is None:
            b = topic.encode("utf-8")
            if len(self._topics) < 10000:
                self._topics[topic] = b
        return b

    def publish(self, topic: str, data: Any) -> dict[str, Any]:
        """Journal then deliver one event (at the next flush if a transaction is open); returns its payload."""
        ts = time.time()
        journal = self.journal
        rec = journal.append(topic, data, ts, self.hub_id)
        payload = event(rec.seq, self.hub_id, ts, topic, data, stream=rec.stream, sseq=rec.sseq)
        self.events += 1
        out = _Out(topic, pack(event_message(payload)), journal.tx if journal.in_tx else 0, True,
                   rec.stream, rec.sseq, rec.seq)
        if journal.in_tx or self._out:
            self._out.append(out)
        else:
            self._send(out)
        return payload

    def publish_unjournaled(self, topic: str, data: Any, **extra: Any) -> None:
        """A tick or the public heartbeat: on the PUB socket, to every subscriber of the topic."""
        payload = event(None, self.hub_id, time.time(), topic, data, stream=None, sseq=None, **extra)
        frame = pack(payload)
        if self._out:
            self._out.append(_Out(topic, frame, 0, False))
        else:
            self._pub(self._topic(topic), frame)

    def publish_batch(self, market: str, ticks: dict[str, Any], tseqs: dict[str, int]) -> None:
        """One `ticks.<market>` frame: {code: tick} of a whole market's followers, with each code's tseq."""
        frame = pack(batch_event(self.hub_id, time.time(), market, ticks, tseqs))
        topic = ticks_topic(market)
        self.ticks += len(ticks)
        self.tick_batches += 1
        if self._out:
            self._out.append(_Out(topic, frame, 0, False))
        else:
            self._pub(self._topic(topic), frame)

    def status_counters(self) -> dict[str, int]:
        return {"events": self.events, "ticks": self.ticks, "tick_batches": self.tick_batches,
                "dropped_events": self.dropped,
                "session_events": self.session_events, "dropped_session_events": self.session_dropped}

    @property
    def pending(self) -> bool:
        return bool(self._out)

    def flush(self) -> bool:
        """Commit the journal's open transaction, then send what waited for it. False if the commit failed."""
        committed = self.journal.commit()
        out, self._out = self._out, []
        rolled_back = self.journal.rolled_back
        for item in out:
            if item.tx and item.tx in rolled_back:
                self.uncommitted += 1
                continue
            self._send(item)
        return committed

    def heads_for(self, streams: list[str] | None) -> dict[str, int]:
        """Sent heads of these streams (None: all), for a `ping` reply."""
        heads = self.sent_heads
        if streams is None:
            return dict(heads)
        return {s: heads.get(s, 0) for s in streams}

    def _send(self, item: _Out) -> None:
        if not item.journaled:
            self._pub(self._topic(item.topic), item.frame)
            return
        if item.stream is not None and item.sseq is not None:
            self.sent_heads[item.stream] = item.sseq
        if item.seq is not None:
            self.sent_seq = item.seq
        if self._router is None or self._sessions is None:
            return
        # two plain sends, not send_multipart: an account-wide event goes to every session, and this
        # halves the Python cost per session. The ROUTER decides at the identity frame (full pipe or
        # unknown peer: it raises there and sends nothing); the payload part then always follows.
        send, frame = self._router.send, item.frame
        for session in self._sessions.entitled(item.topic):
            try:
                send(session.identity, _MORE)
                send(frame, _NOBLOCK)
                self.session_events += 1
            except zmq.ZMQError:  # EAGAIN: its queue is full; EHOSTUNREACH: it is gone. Replay recovers it.
                self.session_dropped += 1
                session.events_dropped += 1

    def _pub(self, topic: bytes, frame: bytes) -> None:
        try:
            self._socket.send_multipart([topic, frame], zmq.NOBLOCK)
        except zmq.Again:  # PUB never blocks in practice, but never let it stall the loop
            self.dropped += 1
