"""Watching a hub from the outside, for the days nobody watches it: `watcher` (a monitor-role client
that turns the hub's events into alerts and keeps the latest status), `metrics` (Prometheus and
`/healthz` over that status). Both are clients of the hub: nothing here runs on its loop.
"""
