"""The inbox on its own: commands in order, a wake-up on the PULL, nothing accepted after close."""

from __future__ import annotations

import zmq

from rpc_client.inbox import Inbox


def test_commands_arrive_in_order_with_a_wake_up_and_none_after_close():
    ctx = zmq.Context()
    try:
        box = Inbox(ctx, "t1")
        assert box.put(("call", 1)) and box.put(("call", 2))
        assert box.pull.poll(1000)  # the socket thread's poll wakes
        assert box.take(woken=True) == [("call", 1), ("call", 2)]
        assert not box.pull.poll(0) and box.take(woken=False) == []
        assert box.put(("close",))
        assert box.close() == [("close",)]  # raced with the close: handed back to be failed
        assert not box.put(("call", 3))  # refused: the caller fails it
    finally:
        ctx.term()
