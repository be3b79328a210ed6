"""A VeighNa program trading A-shares with vnpy_xt's XtGateway through vnpy's MainEngine, written as
for MiniQMT (nothing hub-specific); run under ``python -m rpc_client.run`` it trades through the hub.

Prints one JSON line per step. After its first trades it prints ``{"step": "wait"}`` and reads a line
from stdin (the test restarts the hub meanwhile), then trades again. ``bars`` as argument: also ask
vnpy_xt's datafeed for daily and minute bars.
"""

import json
import sys
import threading
import time
from datetime import datetime, timedelta

from vnpy.event import Event, EventEngine
from vnpy.trader.constant import Direction, Exchange, Interval, Offset, OrderType, Status
from vnpy.trader.engine import MainEngine
from vnpy.trader.event import EVENT_ACCOUNT, EVENT_CONTRACT, EVENT_LOG, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, \
    EVENT_TRADE
from vnpy.trader.object import HistoryRequest, OrderRequest, SubscribeRequest
from vnpy_xt import Datafeed, XtGateway

SYMBOL = "600000.SSE"
lock = threading.Lock()
seen = {"contracts": set(), "ticks": [], "orders": {}, "trades": [], "account": None, "positions": {}, "logs": []}


def show(step, value=None):
    print(json.dumps({"step": step, "value": value}, ensure_ascii=False, default=str), flush=True)


def on_event(event: Event) -> None:
    d = event.data
    with lock:
        if event.type == EVENT_CONTRACT:
            seen["contracts"].add(d.vt_symbol)
        elif event.type.startswith(EVENT_TICK):
            seen["ticks"].append(d)
        elif event.type.startswith(EVENT_ORDER):
            seq = seen["orders"].setdefault(d.vt_orderid, [])
            if not seq or seq[-1] != d.status.name:
                seq.append(d.status.name)
        elif event.type.startswith(EVENT_TRADE):
            seen["trades"].append(d)
        elif event.type.startswith(EVENT_ACCOUNT):
            seen["account"] = d
        elif event.type.startswith(EVENT_POSITION):
            seen["positions"][d.vt_symbol] = d
        elif event.type == EVENT_LOG:
            seen["logs"].append(d.msg)


def wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with lock:
            if pred():
                return True
        time.sleep(0.05)
    return False


def order(main_engine, price, volume=100):
    req = OrderRequest(symbol="600000", exchange=Exchange.SSE, direction=Direction.LONG, type=OrderType.LIMIT,
                       volume=volume, price=price, offset=Offset.NONE, reference="vnpy_prog")
    return main_engine.send_order(req, "XT")


def trade_once(main_engine, label):
    tick = seen["ticks"][-1]
    vt = order(main_engine, round(tick.ask_price_1 + 0.05, 2), 100)
    ok = wait(lambda: seen["orders"].get(vt, [])[-1:] == [Status.ALLTRADED.name]
              and any(t.vt_orderid == vt for t in seen["trades"]), 30)
    show(label, {"vt_orderid": vt, "filled": ok, "statuses": seen["orders"].get(vt),
                 "trades": [(t.volume, t.price) for t in seen["trades"] if t.vt_orderid == vt]})
    return vt


event_engine = EventEngine()
for kind in (EVENT_CONTRACT, EVENT_TICK, EVENT_ORDER, EVENT_TRADE, EVENT_ACCOUNT, EVENT_POSITION, EVENT_LOG):
    event_engine.register(kind, on_event)
main_engine = MainEngine(event_engine)
main_engine.add_gateway(XtGateway)
main_engine.connect({"token": "", "股票市场": "是", "期货市场": "否", "期权市场": "否", "仿真交易": "是",
                     "账号类型": "股票", "QMT路径": r"D:\国金QMT交易端模拟", "资金账号": "1000000365"}, "XT")

show("contracts", {"loaded": wait(lambda: SYMBOL in seen["contracts"] and "510300.SSE" in seen["contracts"], 60),
                   "count": len(seen["contracts"]), "sample": sorted(seen["contracts"])[:5]})
main_engine.subscribe(SubscribeRequest(symbol="600000", exchange=Exchange.SSE), "XT")
show("tick", {"arrived": wait(lambda: seen["ticks"], 30),
              "last": seen["ticks"][-1].last_price if seen["ticks"] else None})
wait(lambda: any("交易推送订阅成功" in m for m in seen["logs"]), 30)

trade_once(main_engine, "limit_order")

rest = order(main_engine, round(seen["ticks"][-1].limit_down + 0.05, 2), 100)
resting = wait(lambda: seen["orders"].get(rest, [])[-1:] == [Status.NOTTRADED.name], 20)
main_engine.cancel_order(main_engine.get_order(rest).create_cancel_request(), "XT")
cancelled = wait(lambda: seen["orders"].get(rest, [])[-1:] == [Status.CANCELLED.name], 20)
show("cancel", {"resting": resting, "cancelled": cancelled, "statuses": seen["orders"].get(rest)})

# account and positions come from the gateway's own timer queries (every few seconds)
time.sleep(0.5)
with lock:
    seen["account"] = None
    seen["positions"].clear()
wait(lambda: seen["account"] is not None and SYMBOL in seen["positions"], 20)
with lock:
    acc, pos = seen["account"], seen["positions"].get(SYMBOL)
show("account", {"accountid": acc.accountid, "balance": acc.balance, "available": acc.available,
                 "frozen": acc.frozen} if acc else None)
show("position", {"volume": pos.volume, "yd_volume": pos.yd_volume, "price": pos.price} if pos else None)

show("wait")
sys.stdin.readline()  # the hub is restarted meanwhile
trade_once(main_engine, "after_restart")
show("reconnect_logs", [m for m in seen["logs"] if "交易接口" in m])

if "bars" in sys.argv[1:]:
    feed = Datafeed()
    end = datetime.now()

    def bars(interval, days):
        req = HistoryRequest(symbol="600000", exchange=Exchange.SSE, start=end - timedelta(days=days), end=end,
                             interval=interval)
        return feed.query_bar_history(req, output=lambda msg: show("feed", msg))

    daily, minute = bars(Interval.DAILY, 30), bars(Interval.MINUTE, 3)
    show("bars", {"daily": len(daily or []), "minute": len(minute or []),
                  "daily_last": [daily[-1].datetime, daily[-1].close_price] if daily else None,
                  "minute_first": [minute[0].datetime, minute[0].open_price] if minute else None})

show("qt_loaded", any(m.startswith(("PySide6", "PyQt")) for m in sys.modules))
main_engine.close()
show("done")
