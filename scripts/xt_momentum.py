#coding=utf-8
"""A typical research-to-trade xtquant script, written for MiniQMT with nothing hub-specific:
history -> signal -> order.

Downloads daily bars for a handful of A-shares, ranks them by their 20-day return, and buys one lot
of the strongest at the ask. Run it unchanged through the hub:

    python -m rpc_client.run scripts/xt_momentum.py [--codes 600000.SH,000001.SZ,...] [--top 2]

(or ``hub run-xt scripts/xt_momentum.py``). Prints the ranking and the orders it placed.
"""
import argparse
import threading
import time

from xtquant import xtconstant, xtdata
from xtquant.xttrader import XtQuantTrader, XtQuantTraderCallback
from xtquant.xttype import StockAccount

parser = argparse.ArgumentParser()
parser.add_argument("--codes", default="", help="comma-separated codes (default: the first 8 of 沪深A股)")
parser.add_argument("--top", type=int, default=2)
parser.add_argument("--lookback", type=int, default=20)
parser.add_argument("--account", default="1000000365")
args = parser.parse_args()


_print_lock = threading.Lock()


def log(*words):
    """print from the main thread and the trader's callback thread without mixing lines"""
    with _print_lock:
        print(*words, flush=True)


class Callback(XtQuantTraderCallback):
    def on_stock_order(self, order):
        log("order", order.order_id, order.stock_code, order.order_status)

    def on_stock_trade(self, trade):
        log("trade", trade.order_id, trade.stock_code, trade.traded_volume, trade.traded_price)

    def on_order_error(self, order_error):
        log("order_error", order_error.order_id, order_error.error_msg)


# ---- research: history -> signal -------------------------------------------------------
codes = [c for c in args.codes.split(",") if c] or xtdata.get_stock_list_in_sector("沪深A股")[:8]
for code in codes:
    xtdata.download_history_data(code, period="1d", incrementally=True)
bars = xtdata.get_market_data_ex(["close"], codes, period="1d", count=args.lookback + 1)
momentum = {}
for code in codes:
    close = bars[code]["close"]
    if len(close) > args.lookback:
        momentum[code] = float(close.iloc[-1] / close.iloc[-1 - args.lookback] - 1)
ranked = sorted(momentum, key=momentum.get, reverse=True)
for code in ranked:
    log("momentum", code, round(momentum[code], 6))
picks = ranked[:args.top]

# ---- trade: buy one lot of each pick at the ask ------------------------------------------
trader = XtQuantTrader(r"D:\QMT\userdata_mini", int(time.time()) % 1000000, Callback())
acc = StockAccount(args.account)
trader.start()
if trader.connect() != 0 or trader.subscribe(acc) != 0:
    raise SystemExit("cannot connect to the trader")
ticks = xtdata.get_full_tick(picks)
for code in picks:
    detail = xtdata.get_instrument_detail(code)
    ask = ticks[code]["askPrice"][0] or ticks[code]["lastPrice"]
    price = min(round(ask + 2 * detail["PriceTick"], 2), detail["UpStopPrice"])
    order_id = trader.order_stock(acc, code, xtconstant.STOCK_BUY, 100, xtconstant.FIX_PRICE, price,
                                  "momentum", "top%d" % args.top)
    log("placed", code, order_id, price)
time.sleep(1)
for o in trader.query_stock_orders(acc) or []:
    log("status", o.order_id, o.stock_code, o.order_status, o.traded_volume)
trader.stop()
