"""hub.heartbeat reaches on_event (every role) and gw.last_heartbeat. Against the scripted fake hub."""

from __future__ import annotations

import threading
import time

import pytest

from client_helpers import wait_for
from rpc_client import Heartbeat


@pytest.mark.parametrize("role", ["strategy", "monitor"])
def test_heartbeats_reach_on_event_and_last_heartbeat(make_gw, fake_hub, role):
    beats: list[dict] = []
    threads: set[str] = set()

    def on_event(topic, payload):
        if topic == "hub.heartbeat":
            beats.append(payload)
            threads.add(threading.current_thread().name)

    gw = make_gw()
    gw.on_event = on_event
    assert gw.last_heartbeat is None
    gw.connect(strategy="hb-" + role, role=role)
    fake_hub.publish("order.alpha", {"order_id": 1})  # moves last_seq; the next heartbeat carries it
    assert wait_for(lambda: len(beats) >= 3 and beats[-1]["data"]["last_seq"] == 1, 3), beats[-3:]
    last = beats[-1]
    assert last["topic"] == "hub.heartbeat" and last["hub_id"] == fake_hub.hub_id
    assert last["data"]["broker"] == "up" and "heads" not in last["data"]  # public: it names no strategy
    assert isinstance(last, dict)  # the raw payload, no record conversion
    assert threads == {"rpc-client-callbacks"}

    hb = gw.last_heartbeat
    assert isinstance(hb, Heartbeat) and hb.payload["topic"] == "hub.heartbeat"
    assert hb.payload["hub_id"] == fake_hub.hub_id
    assert abs(hb.received_at - time.time()) < 1.0 and 0 <= hb.age() < 1.0
    # it keeps updating (the fake hub beats every 0.1 s)
    first = hb.received_monotonic
    assert wait_for(lambda: gw.last_heartbeat.received_monotonic > first, 2)


def test_heartbeats_without_account_events(make_gw, fake_hub):
    """follow_events=False (rpc_client.xtdata's mode) still sees the heartbeats."""
    beats = []
    gw = make_gw(follow_events=False)
    gw.on_event = lambda topic, payload: beats.append(topic)
    gw.connect(strategy="data-only", role="monitor")
    assert wait_for(lambda: beats.count("hub.heartbeat") >= 2, 3)
    assert set(beats) == {"hub.heartbeat"}
    assert gw.last_heartbeat is not None


def test_silent_hub_ages_the_last_heartbeat(make_gw, fake_hub):
    gw = make_gw(dead_after=5.0)
    gw.connect(strategy="alpha")
    assert wait_for(lambda: gw.last_heartbeat is not None, 2)
    fake_hub.silent = True
    time.sleep(0.4)
    assert gw.last_heartbeat.age() >= 0.3  # no new heartbeat while the hub is silent
    fake_hub.silent = False
    assert wait_for(lambda: gw.last_heartbeat.age() < 0.2, 2)
