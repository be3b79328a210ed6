"""A fake of the monitor's link to the hub: the results a hub would give, without sockets.

Used to test the feed's reconnect logic and the CLI's messages and exit codes; the
end-to-end tests run the real hub.
"""

from __future__ import annotations

from typing import Any

from rpc_client.protocol import METHODS, ErrorCode, HubError, Role


class FakeHub:
    def __init__(self, token: str = "s3cret"):
        self.up = True
        self.token = token
        self.calls: list[tuple[str, str, dict]] = []  # (role, method, params)
        self.results: dict[str, Any] = {
            "status": {"hub_id": "h-1", "account_id": "SIM0001", "uptime": 5.0,
                       "broker": {"state": "up", "since": 1.0, "reason": ""},
                       "halted": {"all": False, "reason": "", "strategies": {}}},
            "clients": [{"strategy": "alpha", "role": "strategy", "connected_at": 1.0, "last_heard_age": 0.2}],
            "query_stock_orders": [], "query_stock_trades": [], "query_stock_positions": [],
            "query_stock_asset": {"account_id": "SIM0001", "total_asset": 1e6, "cash": 1e6, "frozen_cash": 0.0,
                                  "market_value": 0.0},
            "get_full_tick": {}, "halt": {"halted": True, "cancelled": [11, 12]}, "resume": {"halted": False},
            "cancel_all": {"cancelled": [11]},
        }
        self.links: list[FakeLink] = []

    def link(self, rpc: str, pub: str, *, role: str = Role.MONITOR, token: str = "", timeout: float = 3.0,
             **_: Any) -> "FakeLink":
        lk = FakeLink(self, rpc, role, token)
        lk.pub = pub
        self.links.append(lk)
        return lk


class FakeLink:
    def __init__(self, hub: FakeHub, rpc: str, role: str, token: str):
        self.hub, self.rpc, self.role, self.token = hub, rpc, role, token
        self.on_event = self.on_connected = self.on_disconnected = None
        self.closed = False

    def connect(self) -> Any:
        if not self.hub.up:
            raise HubError(ErrorCode.TIMEOUT, f"no reply to 'hello' from {self.rpc}")
        if self.role == Role.ADMIN and self.token != self.hub.token:
            raise HubError(ErrorCode.FORBIDDEN, "wrong admin token")
        return {"hub_id": self.hub.results["status"]["hub_id"], "account_id": "SIM0001"}

    def call(self, method: str, **params: Any) -> Any:
        if not self.hub.up:
            raise HubError(ErrorCode.TIMEOUT, f"no reply to '{method}'")
        if self.role not in METHODS[method].roles:
            raise HubError(ErrorCode.FORBIDDEN, f"role '{self.role}' may not call '{method}'")
        METHODS[method].validate(params)
        self.hub.calls.append((self.role, method, params))
        return self.hub.results[method]

    def close(self) -> None:
        self.closed = True
