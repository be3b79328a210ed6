def process_initialize(context):
    set_options(account_no="7654321")
    run_daily(lambda context: None, "open")
