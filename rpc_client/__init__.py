"""Client side of qmt-hub: what a strategy process installs and imports.

Imports nothing from `hub`. `rpc_client.protocol` is the one definition of the wire protocol.
"""

from rpc_client.protocol import ErrorCode, HubError, Role  # noqa: F401

__all__ = ["ErrorCode", "HubError", "Role"]
