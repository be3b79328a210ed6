"""rpc_client.security: loading and checking the client's CurveZMQ keys (no hub involved)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import zmq

from security_helpers import make_keys

from rpc_client import CurveKeyError, CurveKeys, RpcGateway
from rpc_client.security import resolve_curve

pytestmark = pytest.mark.timeout(30)


def test_keys_are_checked():
    pub, sec = zmq.curve_keypair()
    server = zmq.curve_keypair()[0]
    keys = CurveKeys(server.decode(), pub.decode(), sec.decode())  # str or bytes
    assert keys.client_public == pub and sec.decode() not in repr(keys)
    with pytest.raises(CurveKeyError, match="40-character"):
        CurveKeys(server, pub, sec[:-1])
    with pytest.raises(CurveKeyError, match="not one keypair"):
        CurveKeys(server, zmq.curve_keypair()[0], sec)
    with pytest.raises(CurveKeyError, match="not a valid Z85"):
        CurveKeys(server, pub, b"\x00" * 40)


def test_from_dir_errors(tmp_path):
    with pytest.raises(CurveKeyError, match="does not exist"):
        CurveKeys.from_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CurveKeyError, match="server.key is missing"):
        CurveKeys.from_dir(tmp_path / "empty")
    folders = make_keys(tmp_path / "curve", "a")
    folder = folders["a"]
    assert CurveKeys.from_dir(folder).name == "a" and CurveKeys.from_dir(folder, "a").name == "a"
    with pytest.raises(CurveKeyError, match="b.key_secret is missing"):
        CurveKeys.from_dir(folder, "b")
    (folder / "a.key_secret").rename(folder / "a.moved")
    with pytest.raises(CurveKeyError, match="no client keypair"):
        CurveKeys.from_dir(folder)
    (folder / "a.moved").rename(folder / "a.key_secret")
    (folder / "b.key_secret").write_bytes((folder / "a.key_secret").read_bytes())
    with pytest.raises(CurveKeyError, match="several client keypairs"):
        CurveKeys.from_dir(folder)


def test_resolve_order(tmp_path):
    folders = make_keys(tmp_path / "curve", "a", "b")
    given = CurveKeys.from_dir(folders["a"])
    env = {"QMT_HUB_CURVE": str(folders["b"])}
    assert resolve_curve(given, folders["b"], env=env) is given
    assert resolve_curve(None, folders["a"], env=env).name == "a"
    assert resolve_curve(None, None, env=env).name == "b"
    assert resolve_curve(None, None, env={}) is None
    with pytest.raises(CurveKeyError, match=r"\$QMT_HUB_CURVE"):
        resolve_curve(None, None, env={"QMT_HUB_CURVE": str(tmp_path / "nope")})


def test_gateway_fails_early_on_bad_keys(tmp_path, monkeypatch):
    with pytest.raises(CurveKeyError):
        RpcGateway("tcp://127.0.0.1:1", curve_dir=tmp_path / "nope")
    monkeypatch.setenv("QMT_HUB_CURVE", str(tmp_path / "nope"))
    with pytest.raises(CurveKeyError, match="QMT_HUB_CURVE"):
        RpcGateway("tcp://127.0.0.1:1")
    monkeypatch.delenv("QMT_HUB_CURVE")
    assert RpcGateway("tcp://127.0.0.1:1").curve is None


def test_rpc_client_does_not_import_hub():
    code = ("import sys, rpc_client, rpc_client.security, rpc_client.xttrader, rpc_client.xtdata; "
            "bad = [m for m in sys.modules if m == 'hub' or m.startswith('hub.')]; assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
