"""The strategy runner: jqtrade's strategy API and scheduler on the hub (``hub run``).

Imports nothing from ``hub``: a strategy process needs only the client library.

* ``rpc_client.runner.api`` -- jqtrade's names (``order``, ``run_daily``, ``context.portfolio`` ...).
* ``rpc_client.runner.schedule`` -- run_daily times, misfire grace, catch-up, persisted fires.
* ``rpc_client.runner.clock`` -- wall clock in Shanghai, or the hub's simulated clock.
* ``rpc_client.runner.tasks`` -- the task registry behind ``hub tasks`` / ``hub stop``.
* ``rpc_client.runner.main`` -- the process: ``python -m rpc_client.runner STRATEGY.py -n NAME``.
"""
