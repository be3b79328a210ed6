"""The quote book on its own: SUB filters for codes and markets, refusals undone, missed ticks."""

from __future__ import annotations

from rpc_client.quotebook import QuoteBook


def test_subscribing_changes_only_the_filters_that_change():
    q = QuoteBook()
    assert q.change("sub", ["600000.SH"], whole=False) == (["600000.SH"], ["tick.600000.SH"], [])
    assert q.change("sub", ["600000.SH"], whole=False) == ([], [], [])  # again: nothing new
    # a market is its batch frames' filter; the code's own filter stays
    assert q.change("sub", ["SH"], whole=True) == (["SH"], ["ticks.SH"], [])
    assert q.wants("600000.SH") and q.wants("601398.SH") and not q.wants("000001.SZ")
    assert q.follows_market("SH") and not q.follows_market("SZ")
    assert q.change("unsub", ["SH"], whole=True) == ([], [], ["ticks.SH"])
    assert q.resubscribe() == [("subscribe_quote", {"codes": ["600000.SH"]})]


def test_a_refused_subscribe_is_forgotten():
    q = QuoteBook()
    q.change("sub", ["600000.SH"], whole=False)
    added, sub, _ = q.change("sub", ["000001.SZ", "600000.SH"], whole=False)
    assert added == ["000001.SZ"] and sub == ["tick.000001.SZ"]
    assert q.undo(added, whole=False) == ["tick.000001.SZ"]
    assert q.codes == {"600000.SH"} and q.prefixes() == ["tick.600000.SH"]


def test_missed_ticks_are_counted_from_tseq_jumps_and_a_restarted_hub_starts_over():
    q = QuoteBook()
    for tseq in (1, 2, 5, 6, 6, "junk", True):
        q.count("600000.SH", tseq)
    assert q.missed == {"600000.SH": 2} and q.missed_total == 2
    q.new_hub()
    q.count("600000.SH", 1)  # a new hub's counter: not a jump back
    q.count("600000.SH", 2)
    assert q.missed_total == 2


def test_the_same_tseq_again_is_a_duplicate_not_a_new_tick():
    """A code followed by itself and through its market comes in both frames with one tseq."""
    q = QuoteBook()
    assert q.fresh("600000.SH", 1) and not q.fresh("600000.SH", 1)
    assert q.fresh("600000.SH", 2) and not q.fresh("600000.SH", 2)
    assert q.fresh("600000.SH", 4) and q.missed == {"600000.SH": 1}
    assert q.fresh("600000.SH", None)  # no counter: nothing to compare, delivered
