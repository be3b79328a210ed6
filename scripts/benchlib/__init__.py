"""Helpers of scripts/bench.py: process pool, raw pyzmq floors, hub cases, report.

Nothing here is imported by the hub or the client library; it is benchmark code only.
"""
