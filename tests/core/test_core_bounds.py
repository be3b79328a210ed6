"""Issue 9's reproductions (items 1, 3-7, 10): frames that used to stop the hub, acknowledge
phantom orders, answer INTERNAL or fill memory now get their error code, and the hub carries on.

Each test here failed on the hub before the bounds and the reply boundary existed.
"""

from __future__ import annotations

import sqlite3
import time

import msgpack
import pytest
import zmq

from rpc_client import protocol as p
from rpc_client.protocol import pack, request

from core_helpers import RawClient

ORDER = {"stock_code": "600000.SH", "order_type": 23, "order_volume": 100, "price_type": 11, "price": 10.5}


def deep_array(levels: int) -> bytes:
    """msgpack bytes of [[[...nil...]]] `levels` deep (msgpack.packb itself refuses > 511)."""
    return b"\x91" * levels + b"\xc0"


def raw_map(items: list[tuple[str, bytes]]) -> bytes:
    """A msgpack map whose values are given already encoded (to splice in a deep value)."""
    assert len(items) < 16
    return bytes([0x80 | len(items)]) + b"".join(pack(k) + v for k, v in items)


def raw_request(req_id: int, method: str, params: bytes) -> bytes:
    return raw_map([("v", pack(1)), ("id", pack(req_id)), ("method", pack(method)), ("params", params)])


def reply_to(client: RawClient, frame: bytes, timeout: float = 5.0) -> dict:
    client.send_raw(frame)
    return client.recv_reply(timeout)


def assert_alive(server, client: RawClient) -> None:
    assert server.running, "the hub loop died"
    assert client.call("ping", timeout=5)["hub_id"] == server.hub_id


# ---- item 1: a deep value journaled, then replayed, stopped the hub for good -----------------

def test_deep_client_map_in_hello_is_refused_and_a_replay_still_works(hub, connect):
    vandal = connect(hub, subscribe=False)
    params = raw_map([("protocol", pack(1)), ("strategy", pack("deep")),
                      ("client", raw_map([("x", deep_array(1020))]))])
    reply = reply_to(vandal, raw_request(7, "hello", params))
    assert reply["ok"] is False and reply["error"]["code"] == "BAD_FRAME", reply
    assert reply["id"] == 7  # the id is still read when only the bounds are broken
    assert "nested deeper" in reply["error"]["message"]
    mon = connect(hub, subscribe=False)
    mon.hello("mon", role="monitor")
    result = mon.call("replay", {"after": 0})
    assert all(ev["data"].get("strategy") != "deep" for ev in result["events"] if ev["topic"] == "hub.client")
    assert_alive(hub, mon)


def test_a_journaled_event_that_cannot_be_encoded_is_skipped_in_replay(make_hub, connect, tmp_path):
    data_dir = tmp_path / "hub"
    first = make_hub(data_dir=data_dir)
    c = connect(first, subscribe=False)
    c.hello("alpha")
    c.call("bye")
    c.close()
    first.stop()
    assert first.wait(10)
    # an event as an older hub journaled it: nested ~1020 deep (decodes, cannot be encoded again)
    db = sqlite3.connect(str(first.config.journal_path))
    seq, day = db.execute("SELECT MAX(seq), MAX(day) FROM events").fetchone()
    sseq = db.execute("SELECT COALESCE(MAX(sseq), 0) FROM events WHERE stream = '@hub'").fetchone()[0]
    db.execute("INSERT INTO events (seq, stream, sseq, topic, ts, day, hub_id, data) VALUES (?,?,?,?,?,?,?,?)",
               (seq + 1, "@hub", sseq + 1, "hub.client", time.time(), day, "old", raw_map([("x", deep_array(1020))])))
    db.execute("INSERT INTO events (seq, stream, sseq, topic, ts, day, hub_id, data) VALUES (?,?,?,?,?,?,?,?)",
               (seq + 2, "@hub", sseq + 2, "hub.client", time.time(), day, "old", b"\xc1 not msgpack"))
    db.commit()
    db.close()
    second = make_hub(data_dir=data_dir)
    mon = connect(second, subscribe=False)
    mon.hello("mon", role="monitor")
    for _ in range(2):  # every monitor start replays: the hub must survive each one
        result = mon.call("replay", {"after": 0})
        seqs = [ev["seq"] for ev in result["events"]]
        assert seq + 1 not in seqs and seq + 2 not in seqs
        assert seqs and seqs[-1] > seq + 2  # the events after the bad ones are still there
    assert mon.call("status")["counters"]["replay_skipped"] == 4
    assert_alive(second, mon)


def test_a_reply_that_cannot_be_encoded_becomes_internal_and_the_loop_goes_on(hub, connect, monkeypatch):
    from hub.core import methods

    c = connect(hub, subscribe=False)
    c.hello("alpha")
    monkeypatch.setitem(methods.HANDLERS, "query_account_infos", lambda hub, call, p: [object()])
    err = c.error("query_account_infos")
    assert err["code"] == "INTERNAL" and len(err["message"]) < 300
    counters = c.call("status")["counters"]
    assert counters["encode_failures"] == 1 and counters["internal"] == 1
    assert_alive(hub, c)


# ---- items 3 and 4: values the broker cannot take were acknowledged or never answered ------------

@pytest.mark.parametrize("field, value", [
    ("order_type", 2 ** 63), ("order_type", 2 ** 64 - 1), ("price_type", 2 ** 63), ("order_type", -1),
    ("price", 1e308), ("price", 2 ** 63), ("order_volume", 2 ** 63), ("price", 1e6),
])
def test_order_values_outside_their_range_are_refused_not_acknowledged(hub, connect, field, value):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    err = c.error("order_stock", {**ORDER, field: value}, timeout=5)
    assert err["code"] == "INVALID_PARAMS" and field in err["message"], err
    assert c.call("query_stock_orders") == []
    assert c.call("order_stock", ORDER)["order_id"] > 0


# ---- item 5: INTERNAL replies ------------------------------------------------------------------

def test_non_ascii_admin_token_is_forbidden(hub, connect):
    c = connect(hub, subscribe=False)
    err = c.error("hello", {"protocol": 1, "strategy": "root", "role": "admin", "token": "pässwörd"})
    assert err["code"] == "FORBIDDEN", err


def test_replay_after_beyond_int64_is_invalid_params(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("mon", role="monitor")
    for after in (2 ** 63, 2 ** 64 - 1):
        err = c.error("replay", {"after": after})
        assert err["code"] == "INVALID_PARAMS" and "after" in err["message"], err


@pytest.mark.parametrize("levels", [12, 900])
def test_wrong_typed_deep_values_get_a_bounded_error_not_internal(hub, connect, levels):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    params = raw_map([("stock_code", deep_array(levels)), ("order_type", pack(23)), ("order_volume", pack(100)),
                      ("price_type", pack(11))])
    reply = reply_to(c, raw_request(3, "order_stock", params))
    expected = "INVALID_PARAMS" if levels < p.MAX_DEPTH else "BAD_FRAME"
    assert reply["error"]["code"] == expected and reply["id"] == 3, reply
    assert len(reply["error"]["message"]) < 300
    frame = raw_map([("v", deep_array(levels)), ("id", pack(4)), ("method", pack("ping")), ("params", pack({}))])
    reply = reply_to(c, frame)
    assert reply["error"]["code"] == "BAD_FRAME" and reply["id"] == 4, reply
    assert_alive(hub, c)


# ---- item 6: memory any client could exhaust ---------------------------------------------------

def test_ping_stats_are_capped_per_session(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    for i in range(20):
        c.call("ping", {"stats": {f"k{i}_{j}": j for j in range(500)}})
    session = hub.sessions.named("alpha")
    assert len(session.stats) <= p.FREE_MAP_KEYS
    c.call("ping", {"stats": {"missed_ticks": 5}})  # the documented counter is kept even now
    assert session.stats["missed_ticks"] == 5
    assert len(session.stats) <= p.FREE_MAP_KEYS + len(p.KNOWN_STATS)


def test_missed_ticks_is_kept_and_shown(hub, connect):
    c = connect(hub, subscribe=False)
    c.hello("alpha")
    c.call("ping", {"stats": {"missed_ticks": 7, "junk": "text", "nested": {"a": 1}}})
    mon = connect(hub, subscribe=False)
    mon.hello("mon", role="monitor")
    row = [r for r in mon.call("clients") if r["strategy"] == "alpha"][0]
    assert row["missed_ticks"] == 7
    assert "junk" not in hub.sessions.named("alpha").stats


def test_hello_client_map_is_truncated_before_it_is_journaled(hub, connect):
    journal = hub.config.journal_path
    before = journal.stat().st_size + sum(f.stat().st_size for f in journal.parent.glob(journal.name + "-wal"))
    for i in range(10):
        c = connect(hub, subscribe=False)
        big = {f"field{j}": "x" * 60000 for j in range(16)}  # ~960 kB, under the size limit
        c.hello(f"big{i}", client={**big, "pid": 42, "nested": [[1]]})
    mon = connect(hub, subscribe=False)
    mon.hello("mon", role="monitor")
    events = [ev for ev in mon.call("replay", {"after": 0})["events"] if ev["topic"] == "hub.client"
              and ev["data"]["event"] == "connected" and ev["data"]["strategy"].startswith("big")]
    assert len(events) == 10
    for ev in events:
        client = ev["data"]["client"]
        assert len(pack(client)) < 16 << 10
        assert client["pid"] == 42 and client["nested"] == "<list of 1>" and len(client["field0"]) == p.FREE_STR_LEN
    after = journal.stat().st_size + sum(f.stat().st_size for f in journal.parent.glob(journal.name + "-wal"))
    assert after - before < 2 << 20  # was ~20 MB for these 10 hellos


def test_bad_version_reply_does_not_echo_the_value(hub, connect):
    c = connect(hub, subscribe=False)
    for v in ("x" * 500_000, 2, 2 ** 64 - 1):
        c.send_raw(pack({"v": v, "id": 1, "method": "ping", "params": {}}))
        raw = c.dealer.recv() if c.dealer.poll(5000) else b""
        assert raw and len(raw) < 1024, len(raw)
        assert p.unpack(raw)["error"]["code"] in ("BAD_FRAME", "BAD_VERSION")


# ---- item 7: the envelope is strict --------------------------------------------------------------

@pytest.mark.parametrize("frame", [
    {"v": True, "id": 1, "method": "ping", "params": {}},
    {"v": 1.0, "id": 1, "method": "ping", "params": {}},
    {"v": "1", "id": 1, "method": "ping", "params": {}},
    {"v": 1, "id": 1, "method": "ping"},
    {"v": 1, "id": "x" * 200, "method": "ping", "params": {}},
    {"v": 1, "id": 2 ** 64 - 1, "method": "ping", "params": {}},
])
def test_lax_envelopes_are_bad_frames(hub, connect, frame):
    c = connect(hub, subscribe=False)
    reply = reply_to(c, msgpack.packb(frame, use_bin_type=True))
    assert reply["ok"] is False and reply["error"]["code"] == "BAD_FRAME", reply


def test_ext_types_and_odd_keys_are_bad_frames(hub, connect):
    c = connect(hub, subscribe=False)
    ts = msgpack.packb({"v": 1, "id": 1, "method": "ping", "params": {"stats": {"t": msgpack.Timestamp(1, 0)}}},
                       use_bin_type=True)
    assert reply_to(c, ts)["error"]["code"] == "BAD_FRAME"
    ext = msgpack.packb({"v": 1, "id": 1, "method": "ping", "params": msgpack.ExtType(5, b"abc")})
    assert reply_to(c, ext)["error"]["code"] == "BAD_FRAME"
    assert_alive(hub, c)


# ---- item 10: plain REQ clients -------------------------------------------------------------------

def test_a_req_client_gets_its_replies(hub):
    ctx = zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.setsockopt(zmq.RCVTIMEO, 5000)
    req.connect(hub.config.rpc)
    try:
        req.send(pack(request(1, "ping")))
        assert p.unpack(req.recv())["result"]["hub_id"] == hub.hub_id
        req.send(pack(request(2, "hello", {"protocol": 1, "strategy": "req-client"})))
        assert p.unpack(req.recv())["result"]["strategy"] == "req-client"
        req.send(pack(request(3, "order_stock", ORDER)))
        reply = p.unpack(req.recv())
        assert reply["id"] == 3 and reply["result"]["order_id"] > 0, reply
        req.send(b"\xc1 garbage")
        assert p.unpack(req.recv())["error"]["code"] == "BAD_FRAME"
    finally:
        req.close(0)


# ---- found by the fuzz harness ---------------------------------------------------------------------

def test_cancel_by_an_empty_sysid_is_refused(hub, connect):
    """Rejected orders have no order_sysid (''): a cancel by '' matched whichever such order the hub's
    book and the broker each found first (not the same one), and the caller waited order_timeout for a
    reply that never matched (fuzz: 'cancel response for order 10 does not match the cancel of 2')."""
    alpha = connect(hub, subscribe=False)
    alpha.hello("alpha")
    beta = connect(hub, subscribe=False)
    beta.hello("beta")
    for client in (beta, alpha):
        client.call("order_stock", {**ORDER, "stock_code": "999999.SH"})  # unknown code: a junk order
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (alpha.call("query_stock_orders") and beta.call("query_stock_orders")):
        time.sleep(0.05)
    assert alpha.call("query_stock_orders")[0]["order_sysid"] == ""
    for sysid in ("", "   "):
        err = alpha.error("cancel_order_stock_sysid", {"market": 0, "order_sysid": sysid}, timeout=3)
        assert err["code"] == "INVALID_PARAMS" and "order_sysid" in err["message"], err
