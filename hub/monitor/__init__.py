"""The rich terminal monitor: a read-only client of the hub.

    state   MonitorState, fed by events and queries (no I/O)
    render  pure functions: state snapshot -> rich renderables
    feed    the loop: RpcGateway events + periodic queries -> state, painted with rich.live.Live
    labels  readable names for xtquant codes (zh / en)

Imports `rpc_client` and `rich` only, never `hub.core` or `hub.sim`: the monitor may run on
another machine than the hub.
"""
