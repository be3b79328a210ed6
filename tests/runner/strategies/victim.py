# -*- coding: utf-8 -*-
import os


def process_initialize(context):
    set_options(account_no="1234567")
    run_daily(tick, "every_minute", grace=60)  # the runner's own keyword: a restart misses some
    log.info("env VICTIM_TAG=%s", os.environ.get("VICTIM_TAG"))


def tick(context):
    log.info("tick %s", context.strategy_dt)
