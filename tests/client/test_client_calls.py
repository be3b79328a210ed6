"""The call table on its own: ids, late replies, deadlines and retries, what a reconnect resends."""

from __future__ import annotations

from concurrent.futures import Future

from rpc_client import protocol as P
from rpc_client.calls import CallTable, PendingCall, resendable
from rpc_client.protocol import ErrorCode, HubError


def user(method: str, timeout: float = 1.0, retries: int = 0) -> PendingCall:
    return PendingCall(method, {}, timeout, deadline=100.0 + timeout, future=Future(), retries=retries)


def test_every_attempt_id_maps_to_the_call_so_a_late_reply_is_accepted():
    table = CallTable()
    call = user("query_stock_asset")
    first = table.next_id()
    table.sent(call, first, conn=1)
    second = table.next_id()
    table.sent(call, second, conn=1)
    assert first != second and table.get(first) is call and table.get(second) is call
    assert call.attempts == 2 and len(table) == 2
    table.succeed(call, {"cash": 1.0})
    assert call.future.result(0) == {"cash": 1.0} and table.get(first) is None and table.get(second) is None
    table.fail(call, HubError(ErrorCode.TIMEOUT, "late"))  # a call ends once
    assert call.future.result(0) == {"cash": 1.0}


def test_unknown_and_unhashable_reply_ids_match_nothing():
    table = CallTable()
    assert table.get(7) is None and table.get(["not", "hashable"]) is None and table.get(True) is None


def test_due_retries_then_expires():
    table = CallTable()
    call = user("order_stock", timeout=1.0, retries=1)
    table.sent(call, table.next_id(), conn=1)
    assert table.due(100.5) == ([], [])
    resend, expired = table.due(101.0)
    assert resend == [call] and expired == [] and call.deadline == 102.0 and call.retries == 0
    resend, expired = table.due(102.0)
    assert resend == [] and expired == [call]


def test_a_waiting_call_with_retries_is_not_sent_twice_and_leaves_the_queue_when_it_expires():
    table = CallTable()
    call = user("query_stock_asset", timeout=1.0, retries=1)
    table.waiting.append(call)
    assert table.due(101.0) == ([], [])  # it gets its new deadline, but waits for the connection
    assert table.due(102.0) == ([], [call]) and not table.waiting


def test_a_reconnect_resends_what_is_safe_and_fails_what_is_not():
    table = CallTable()
    query, cancel, order = user("query_stock_orders"), user("cancel_order_stock"), user("order_stock")
    internal = PendingCall("replay", {}, 1.0, 101.0, handler=lambda ok, r: None)
    quote = PendingCall("subscribe_quote", {}, 1.0, 101.0, handler=lambda ok, r: None, keep=True)
    early = user("status")
    table.waiting.append(early)
    for c in (query, cancel, order, internal, quote):
        table.sent(c, table.next_id(), conn=1)
    failed = table.on_reconnect()
    assert failed == [cancel]
    assert list(table.waiting) == [query, order, quote, early]  # in their order, before what already waited
    assert all(c.conn == -1 for c in (query, order, quote)) and len(table) == 0
    assert table.take_waiting() == [query, order, quote, early] and not table.waiting


def test_resend_safety_is_a_field_of_each_method_in_the_protocol_table():
    assert not any(resendable(m) for m in ("cancel_order_stock", "cancel_order_stock_sysid", "halt", "resume",
                                           "cancel_all", "bye"))
    assert all(resendable(m) for m in ("order_stock", "hello", "ping", "replay", "query_stock_orders", "status"))
    assert {m for m, spec in P.METHODS.items() if not spec.resendable} == \
        {m for m in P.METHODS if not resendable(m)}
    assert resendable("a_method_the_table_does_not_know")


def test_internal_calls_report_to_their_handler():
    seen = []
    table = CallTable()
    call = PendingCall("ping", {}, 1.0, 101.0, handler=lambda ok, r: seen.append((ok, r)))
    table.sent(call, table.next_id(), conn=1)
    err = HubError(ErrorCode.TIMEOUT, "no pong")
    table.fail(call, err)
    assert seen == [(False, err)] and call.done
