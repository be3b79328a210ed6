# -*- coding: utf-8 -*-
# A jqtrade strategy for the runner tests: a function that raises every minute, one that keeps
# working (and orders after the halt), a slow one to stop in the middle of, and a helper module
# imported from this folder (the strategy's folder is on sys.path).
import os
import time

import other_helper


def process_initialize(context):
    set_options(account_no="1234567", max_failures=3, order_dir="C:/ignored")
    run_daily(boom, "every_minute")
    run_daily(fine, "every_minute")
    run_daily(slow, "13:30")
    log.info("helper says %s", other_helper.greeting())


def boom(context):
    raise ValueError("boom at %s" % context.strategy_dt)


def fine(context):
    log.info("fine at %s", context.strategy_dt)
    if context.strategy_dt.strftime("%H:%M") == "09:40":
        oid = order("600000.XSHG", 100, LimitOrderStyle(10.2))
        (o,) = get_orders(order_id=oid)
        log.info("after the halt: order %s status=%s err=%s", oid, o.status, o.err_msg)


def slow(context):
    # runs until the test lets it go (after its stop request was seen), at most 60 s
    log.info("slow start")
    release, t0 = os.environ.get("SLOW_RELEASE", ""), time.monotonic()
    while release and not os.path.exists(release) and time.monotonic() - t0 < 60:
        time.sleep(0.05)
    log.info("slow end")
