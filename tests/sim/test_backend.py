"""The simulator's backend contract (hub.sim.backend) holds for both backends, and the wire serves it."""

from __future__ import annotations

import inspect

import pytest

from hub import sim
from hub.sim import wire
from hub.sim.backend import BACKEND_CALLS, ExchangeBackend, TraderSink
from hub.sim.exchange import SimExchange
from hub.sim.remote import RemoteExchange, RemoteSimXtData, RemoteXtQuantTrader
from hub.sim.server import _RemoteSession
from hub.sim.trader import XtQuantTrader
from hub.sim.xtdata import SimXtData, open_xtdata


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)[1:]


@pytest.mark.parametrize("backend", [SimExchange, RemoteExchange])
@pytest.mark.parametrize("name", BACKEND_CALLS)
def test_both_backends_offer_every_call_of_the_contract(backend, name):
    assert _params(getattr(backend, name)) == _params(getattr(ExchangeBackend, name)), name


def test_the_contract_is_the_calls_the_trader_makes():
    assert len(BACKEND_CALLS) == 18 and "place_order" in BACKEND_CALLS and "settle" in BACKEND_CALLS
    assert not hasattr(XtQuantTrader, "__new__") or XtQuantTrader.__new__ is object.__new__


def test_wire_methods_are_derived_from_the_contract():
    assert set(wire.METHODS) == (set(BACKEND_CALLS) - wire.LOCAL_CALLS) | {"ping"}
    assert wire.METHODS["place_order"] is True and wire.METHODS["asset"] is False
    assert wire.ATTACHED_ONLY <= set(wire.METHODS)
    assert wire.unpack(wire.pack({"a": [1, 2.5, "x", b"\x00"], "b": None})) == {"a": [1, 2.5, "x", b"\x00"],
                                                                                 "b": None}
    assert wire.unpack(wire.pack({"v": object})) == {"v": str(object)}  # a value msgpack lacks: its str


def test_sessions_are_trader_sinks():
    assert issubclass(XtQuantTrader, TraderSink) and issubclass(_RemoteSession, TraderSink)
    assert not hasattr(XtQuantTrader, "_sim_push")


def test_a_tcp_path_gives_the_same_trader_class_on_the_remote_backend(sim_path):
    remote = sim.XtQuantTrader("tcp://127.0.0.1:1", 7)  # nothing listens: connect() would fail, no wait here
    local = sim.XtQuantTrader(str(sim_path), 8)
    try:
        assert type(remote) is XtQuantTrader and type(local) is XtQuantTrader
        assert isinstance(remote.exchange, RemoteExchange) and isinstance(local.exchange, SimExchange)
        assert isinstance(remote, RemoteXtQuantTrader) and not isinstance(local, RemoteXtQuantTrader)
        with pytest.raises(TypeError):
            RemoteXtQuantTrader("tcp://127.0.0.1:1", 9)
    finally:
        remote.stop()
        local.stop()


def test_open_xtdata_picks_the_quote_backend(sim_path):
    assert sim.SimXtData is open_xtdata
    local = open_xtdata(str(sim_path))
    remote = open_xtdata("tcp://127.0.0.1:1")
    try:
        assert type(local) is SimXtData and type(remote) is RemoteSimXtData
    finally:
        local.close()
        remote.close()
