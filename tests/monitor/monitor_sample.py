"""A synthetic hub state: three trading strategies, a rejected order, a halted strategy."""

from __future__ import annotations

from hub.monitor.state import MonitorState

NOW = 1_763_700_000.0  # fixed clock for rendering


def ev(topic: str, data: dict, seq: int | None = None, hub_id: str = "h-1a2b3c", ts: float = NOW - 5) -> dict:
    return {"seq": seq, "ts": ts, "hub_id": hub_id, "topic": topic, "data": data}


def order(oid: int, owner: str, code: str, status: int, vol: int = 100, traded: int = 0, side: int = 23,
          price: float = 10.0, t: float = NOW - 60, msg: str = "") -> dict:
    return {"order_id": oid, "owner": owner, "strategy_name": owner, "stock_code": code, "order_type": side,
            "order_volume": vol, "traded_volume": traded, "price": price, "order_status": status,
            "status_msg": msg, "order_time": int(t), "account_id": "88001234"}


def sample_state() -> MonitorState:
    s = MonitorState(rpc="tcp://127.0.0.1:5555", pub="tcp://127.0.0.1:5556")
    now = NOW
    s.set_connected(now - 100)
    s.apply_status({
        "hub_id": "h-1a2b3c", "account_id": "88001234", "version": "0.1.0", "uptime": 3725.0,
        "broker": {"state": "up", "since": now - 3700, "reason": ""},
        "halted": {"all": False, "reason": "", "strategies": {"gamma": "too many rejects"}},
        "last_seq": 42, "clients": 4,
        "counters": {"requests": 1000, "bad_frames": 0, "errors": {"HALTED": 2}},
        "rates": {"requests_per_s": 12.5, "events_per_s": 3.0, "ticks_per_s": 150.0},
        "latency_ms": {"p50": 0.42, "p99": 2.5},
    }, now)
    s.apply_clients([
        {"strategy": "alpha", "role": "strategy", "connected_at": now - 3000, "last_heard_age": 0.3,
         "open_orders": 1, "orders_today": 3, "fills_today": 2, "rejects_today": 0, "halted": False,
         "missed_ticks": 0},
        {"strategy": "beta", "role": "strategy", "connected_at": now - 2000, "last_heard_age": 0.8,
         "open_orders": 0, "orders_today": 1, "fills_today": 0, "rejects_today": 1, "halted": False,
         "missed_ticks": 17},
        {"strategy": "gamma", "role": "strategy", "connected_at": now - 1000, "last_heard_age": 0.5,
         "open_orders": 0, "orders_today": 1, "fills_today": 1, "rejects_today": 0, "halted": "too many rejects",
         "missed_ticks": 0},
        {"strategy": "monitor-4242", "role": "monitor", "connected_at": now - 100, "last_heard_age": 0.1},
    ], now)
    s.apply_asset({"account_id": "88001234", "total_asset": 1_000_000.0, "cash": 897_000.0,
                   "frozen_cash": 1_000.0, "market_value": 102_000.0})
    s.apply_positions([
        {"stock_code": "600000.SH", "volume": 5000, "can_use_volume": 3000, "avg_price": 10.0,
         "market_value": 51_000.0, "yesterday_volume": 3000},
        {"stock_code": "000001.SZ", "volume": 4000, "can_use_volume": 4000, "avg_price": 12.0,
         "market_value": 51_000.0, "yesterday_volume": 4000},
    ])
    s.apply_orders([
        order(101, "alpha", "600000.SH", 56, vol=2000, traded=2000, t=now - 300),
        order(102, "alpha", "600000.SH", 50, vol=500, t=now - 200, price=10.1),
        order(103, "gamma", "000001.SZ", 56, vol=100, traded=100, side=24, t=now - 150, price=12.8),
    ])
    s.apply_trades([
        {"traded_id": "T1", "order_id": 101, "owner": "alpha", "stock_code": "600000.SH", "order_type": 23,
         "traded_price": 10.0, "traded_volume": 2000, "traded_amount": 20_000.0, "traded_time": int(now - 299)},
        {"traded_id": "T2", "order_id": 103, "owner": "gamma", "stock_code": "000001.SZ", "order_type": 24,
         "traded_price": 12.8, "traded_volume": 100, "traded_amount": 1280.0, "traded_time": int(now - 149)},
    ])
    # a broker rejection arrives as an order event (status 57) and an error event
    s.apply_event("order.beta", ev("order.beta", order(104, "beta", "000001.SZ", 57, vol=100, t=now - 50,
                                                          msg="可用资金不足")), now - 50)
    s.apply_event("error.beta", ev("error.beta", {"order_id": 104, "error_id": -61, "error_msg": "可用资金不足",
                                                  "kind": "order"}), now - 50)
    s.apply_event("hub.halt", ev("hub.halt", {"strategy": "gamma", "halted": True, "reason": "too many rejects"}),
                  now - 40)
    s.apply_ticks({"600000.SH": {"lastPrice": 10.2, "lastClose": 10.1},
                   "000001.SZ": {"lastPrice": 12.75, "lastClose": 12.6}})
    return s
