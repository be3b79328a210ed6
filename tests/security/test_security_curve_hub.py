"""CurveZMQ on (127.0.0.1 only): authorised clients trade and get events; everyone else gets nothing."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
import zmq

from security_helpers import FAST, wait_for

from hub import security
from rpc_client import CurveKeys, ErrorCode, HubError, RpcGateway
from rpc_client.protocol import pack, request
from rpc_client.security import load_cert

pytestmark = pytest.mark.timeout(90)


def _stranger(curve_dir) -> CurveKeys:
    """A well-formed keypair for the right hub that nobody authorised."""
    public, secret = zmq.curve_keypair()
    return CurveKeys(load_cert(curve_dir / security.SERVER_KEY)[0], public, secret, name="stranger")


class Seen:
    def __init__(self):
        self.lock = threading.Lock()
        self.orders, self.trades, self.topics = [], [], []

    def attach(self, gw: RpcGateway) -> None:
        gw.on_stock_order = lambda o: self._add(self.orders, (o.order_id, o.order_status))
        gw.on_stock_trade = lambda t: self._add(self.trades, (t.order_id, t.traded_volume))
        gw.on_event = lambda topic, payload: self._add(self.topics, topic)

    def _add(self, where, item):
        with self.lock:
            where.append(item)


def _trade(gw: RpcGateway, seen: Seen, volume: int = 100) -> int:
    oid = gw.order_stock("600000.SH", 23, volume, 11, 10.5)
    assert oid > 0
    assert wait_for(lambda: (oid, volume) in seen.trades and (oid, 56) in seen.orders, 10), (seen.orders, seen.trades)
    return oid


def test_authorised_client_trades_and_receives_its_events(curve_hub, client_dirs):
    cfg = curve_hub.config
    seen = Seen()
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve_dir=client_dirs["alpha"], **FAST) as gw:
        seen.attach(gw)
        hello = gw.connect(strategy="alpha")
        assert hello["hub_id"] == curve_hub.hub_id
        _trade(gw, seen)
        assert wait_for(lambda: "hub.heartbeat" in seen.topics, 5)  # events arrive over the CURVE PUB
        status = gw.call("status")
        assert status["security"]["curve"] is True and status["security"]["authorized_clients"] == 2
        assert status["counters"]["auth_allowed"] >= 2  # its DEALER and its SUB


def test_keys_can_be_given_as_curve_keys(curve_hub, client_dirs):
    keys = CurveKeys.from_dir(client_dirs["ops"])
    cfg = curve_hub.config
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve=CurveKeys(keys.server_public, keys.client_public,
                                                                 keys.client_secret), **FAST) as gw:
        gw.connect(strategy="with-keys")
        assert gw.query_stock_asset().account_id


@pytest.mark.parametrize("who", ["no keys", "unknown keypair", "wrong server key"])
def test_unauthorised_client_gets_no_reply_and_no_event_while_the_hub_serves_others(curve_hub, client_dirs,
                                                                                     curve_dir, who):
    cfg = curve_hub.config
    seen = Seen()
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve_dir=client_dirs["alpha"], **FAST) as good:
        seen.attach(good)
        good.connect(strategy="alpha")
        if who == "no keys":
            curve = None
        elif who == "unknown keypair":
            curve = _stranger(curve_dir)
        else:  # an authorised keypair, but for another hub's key
            mine = CurveKeys.from_dir(client_dirs["ops"])
            curve = CurveKeys(zmq.curve_keypair()[0], mine.client_public, mine.client_secret)
        bad = RpcGateway(cfg.rpc, cfg.pub, timeout=1, curve=curve, **FAST)
        bad_topics: list[str] = []
        bad.on_event = lambda topic, payload: bad_topics.append(topic)
        try:
            with pytest.raises(HubError) as info:
                bad.connect(strategy="intruder")
            assert info.value.code == ErrorCode.TIMEOUT
            assert "CurveZMQ" in info.value.message or "QMT_HUB_CURVE" in info.value.message
        finally:
            bad.close()
        assert bad_topics == []
        # the authorised client is still served, orders and events alike
        _trade(good, seen)
        assert good.call("status")["clients"] == 1  # the intruder never had a session
    if who == "unknown keypair":
        assert curve_hub.curve.counters()["auth_denied"] >= 1


def test_raw_sockets_without_keys_receive_nothing(curve_hub, client_dirs):
    """Below the client library: a plain DEALER gets no reply, a plain SUB gets no event (not even heartbeats),
    while a CURVE SUB with an authorised key gets heartbeats."""
    cfg = curve_hub.config
    ctx = zmq.Context()
    try:
        dealer = ctx.socket(zmq.DEALER)
        dealer.linger = 0
        dealer.connect(cfg.rpc)
        dealer.send(pack(request(1, "status", {})))
        plain_sub = ctx.socket(zmq.SUB)
        plain_sub.linger = 0
        plain_sub.subscribe(b"")
        plain_sub.connect(cfg.pub)
        good_sub = ctx.socket(zmq.SUB)
        good_sub.linger = 0
        good_sub.subscribe(b"")
        CurveKeys.from_dir(client_dirs["alpha"]).apply(good_sub)
        good_sub.connect(cfg.pub)
        assert good_sub.poll(5000), "the authorised SUB got no heartbeat"
        time.sleep(0.5)  # several heartbeats (0.2 s) later
        assert not dealer.poll(100) and not plain_sub.poll(100)
    finally:
        ctx.destroy(0)


def test_dropin_xttrader_uses_QMT_HUB_CURVE(curve_hub, client_dirs, monkeypatch):
    from rpc_client.xttrader import XtQuantTrader

    cfg = curve_hub.config
    monkeypatch.setenv("QMT_HUB", cfg.rpc)
    monkeypatch.setenv("QMT_HUB_PUB", cfg.pub)
    monkeypatch.setenv("QMT_HUB_CURVE", str(client_dirs["alpha"]))
    trader = XtQuantTrader(r"D:\qmt\userdata_mini", 123)
    try:
        trader.start()
        assert trader.connect() == 0
        assert trader._gw.curve.name == "alpha"
    finally:
        trader.stop()


def test_revocation_takes_effect_at_the_next_start(make_curve_hub, client_dirs, curve_dir):
    server = make_curve_hub()
    cfg = server.config
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve_dir=client_dirs["ops"], **FAST) as gw:
        gw.connect(strategy="ops")
    (curve_dir / security.AUTHORIZED / "ops.key").unlink()
    server.stop()
    assert server.wait(10)
    again = make_curve_hub(rpc=cfg.rpc, pub=cfg.pub)
    assert again.curve is not None and [k.name for k in again.curve.keys] == ["alpha"]
    revoked = RpcGateway(cfg.rpc, cfg.pub, timeout=1, curve_dir=client_dirs["ops"], **FAST)
    try:
        with pytest.raises(HubError) as info:
            revoked.connect(strategy="ops")
        assert info.value.code == ErrorCode.TIMEOUT
    finally:
        revoked.close()
    # and putting the key back (plus a restart) lets it in again
    shutil.copyfile(client_dirs["ops"] / "ops.key", curve_dir / security.AUTHORIZED / "ops.key")
    again.stop()
    assert again.wait(10)
    make_curve_hub(rpc=cfg.rpc, pub=cfg.pub)
    with RpcGateway(cfg.rpc, cfg.pub, timeout=5, curve_dir=client_dirs["ops"], **FAST) as gw:
        gw.connect(strategy="ops")


def test_no_authorised_key_means_nobody_gets_in(make_curve_hub, curve_dir, tmp_path):
    from security_helpers import make_keys

    make_keys(curve_dir)  # the hub's keypair only
    server = make_curve_hub()
    assert server.curve.keys == [] and server.running


@pytest.mark.parametrize("peer", ["null", "plain", "wrong server key", "wrong secret"])
def test_handshakes_failing_before_zap_are_counted_and_logged(curve_hub, client_dirs, peer, caplog):
    """Issue 9 item 12: NULL/PLAIN peers and CURVE peers with a wrong secret or server key are refused
    by libzmq before any ZAP request; each such refusal counts in auth_denied and is logged."""
    import logging

    caplog.set_level(logging.WARNING, logger="hub.security")
    cfg = curve_hub.config
    before = curve_hub.curve.counters()["auth_denied"]
    ctx = zmq.Context()
    try:
        dealer = ctx.socket(zmq.DEALER)
        dealer.linger = 0
        mine = CurveKeys.from_dir(client_dirs["alpha"])
        if peer == "plain":
            dealer.plain_username, dealer.plain_password = b"user", b"password"
        elif peer == "wrong server key":
            CurveKeys(zmq.curve_keypair()[0], mine.client_public, mine.client_secret).apply(dealer)
        elif peer == "wrong secret":  # an authorised public key without its secret
            dealer.curve_serverkey, dealer.curve_publickey = mine.server_public, mine.client_public
            dealer.curve_secretkey = zmq.curve_keypair()[1]
        dealer.connect(cfg.rpc)
        dealer.send(pack(request(1, "status", {})))
        assert wait_for(lambda: curve_hub.curve.counters()["auth_denied"] > before, 5), curve_hub.curve.counters()
        assert not dealer.poll(100)
    finally:
        ctx.destroy(0)
    counters = curve_hub.curve.counters()
    # libzmq reports a NULL/PLAIN greeting as a mechanism mismatch, or (when the peer's greeting and
    # the close race) as a failure without detail; a bad key is always a cryptographic failure
    reasons = ("mechanism_mismatch", "no_detail") if peer in ("null", "plain") else ("cryptographic",)
    assert sum(counters["auth_refusals"].get(r, 0) for r in reasons) >= 1, counters
    assert any("refused a connection on rpc" in r.getMessage() and any(x in r.getMessage() for x in reasons)
               for r in caplog.records)


def test_hub_start_with_curve_serves_metrics_through_its_own_watcher_key(tmp_path, client_dirs):
    """`hub start` with curve = true and [metrics]: the in-process watcher connects with a keypair the
    hub authorises in memory (no $QMT_HUB_CURVE needed), so /metrics and /healthz see the hub."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from security_helpers import free_port, loopback_endpoints

    rpc, pub = loopback_endpoints()
    listen = f"127.0.0.1:{free_port()}"
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'rpc = "{rpc}"\npub = "{pub}"\ndata_dir = "{(tmp_path / "hub").as_posix()}"\ncurve = true\n'
                   f'log_level = "WARNING"\n[metrics]\nlisten = "{listen}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QMT_HUB")}

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://{listen}{path}", timeout=3) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    proc = subprocess.Popen([sys.executable, "-m", "hub", "start", "--config", str(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: get("/healthz")[0] == 200 or proc.poll() is not None, 40, 0.2), get("/healthz")
        metrics = {s.name: s.value for f in text_string_to_metric_families(get("/metrics")[1]) for s in f.samples
                   if not s.labels}
        assert metrics["qmt_hub_up"] == 1.0 and metrics["qmt_hub_broker_up"] == 1.0
        with RpcGateway(rpc, pub, timeout=5, curve_dir=client_dirs["ops"], **FAST) as gw:
            gw.connect(strategy="ops")
            st = gw.status()
        assert st["security"]["authorized_clients"] == 2  # the operator's keys only (alpha, ops)
        assert st["observe"]["watching"] is True and st["observe"]["metrics"] == listen
        assert st["counters"]["auth_allowed"] >= 2  # the watcher's handshakes (ROUTER and PUB), then ours
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM) if os.name == "posix" else proc.terminate()
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=5)
    assert f"metrics http://{listen}/metrics" in out, (out, err)
    assert "QMT_HUB_CURVE" not in err and "Traceback" not in err, err
