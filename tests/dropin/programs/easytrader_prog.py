"""A user's easytrader program for MiniQMT, as easytrader's README writes it (nothing hub-specific):
run under ``python -m rpc_client.run``, it trades through the hub. Prints one JSON line per step.

    python easytrader_prog.py trade   # balance, position, buy, sell, market_buy/sell, a resting buy + cancel,
                                      # a second resting buy left open, today's entrusts and trades
    python easytrader_prog.py again   # (a new process) today's entrusts and trades, cancel the open order
"""

import json
import time
import sys

import easytrader


def show(step, value):
    print(json.dumps({"step": step, "value": value}, ensure_ascii=False, default=str), flush=True)


user = easytrader.use("miniqmt")
user.connect(r"D:\国金证券QMT交易端\userdata_mini", "1000000365")

if sys.argv[1] == "trade":
    show("balance", user.balance)
    show("position", user.position)
    show("buy", user.buy("600000", price=10.5, amount=200))
    show("sell", user.sell("000001", price=10.5, amount=100))
    show("market_buy", user.market_buy("000001", amount=100))
    show("market_sell", user.market_sell("600000", amount=100, ttype="最优五档即时成交剩余撤销"))
    rest = user.buy("600000", price=9.5, amount=100)
    show("rest", rest)
    show("cancel_entrust", user.cancel_entrust(rest["entrust_no"]))
    show("left_open", user.buy("600000", price=9.6, amount=100))
    show("today_entrusts", user.today_entrusts)
    show("today_trades", user.today_trades)
    show("position_after", user.position)
else:
    entrusts = user.today_entrusts
    show("today_entrusts", entrusts)
    show("today_trades", user.today_trades)
    open_no = [e["order_id"] for e in entrusts if e["order_status"] == 50]
    show("cancel_open", [user.cancel_entrust(no) for no in open_no])
    # a cancel is accepted at once and confirmed by the exchange a moment later, releasing the frozen
    # cash then: read the balance once the orders are final, as a careful user's script does
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
            e["order_status"] not in (53, 54, 56, 57) for e in user.today_entrusts if e["order_id"] in open_no):
        time.sleep(0.1)
    show("balance", user.balance)
