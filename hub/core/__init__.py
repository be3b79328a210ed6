"""The hub core: one event loop owning the ROUTER, the PUB and the broker mailbox.

    from hub.config import HubConfig
    from hub.core import HubServer
    server = HubServer(HubConfig(rpc=..., pub=..., data_dir=...)).start()
    ...
    server.stop()
"""

from hub.core.server import HubServer, HubStartError

__all__ = ["HubServer", "HubStartError"]
