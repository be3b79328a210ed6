"""The journal is bounded (keep_days), keeps its sequence across pruning, and exports a day."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import pytest

from faults import ROOT, read_jsonl, tcp, wait_for

from hub.config import HubConfig
from hub.core import HubServer
from hub.core.journal import Journal, trading_day
from rpc_client import RpcGateway
from rpc_client.protocol import ErrorCode, HubError

pytestmark = pytest.mark.timeout(60)
DAY = 86400.0


def test_prune_keeps_the_newest_days_and_never_reuses_a_sequence_number(tmp_path):
    j = Journal(tmp_path / "journal.sqlite")
    now = time.time()
    for days_ago in (3, 2, 1):
        j.append("order.alpha", {"order_id": days_ago}, now - days_ago * DAY, "h1")
        j.append("asset", {"cash": days_ago}, now - days_ago * DAY, "h1")
    assert j.prune(0) == 0 and j.prune(5) == 0  # 0 = keep everything; fewer days than kept
    assert j.prune(2) == 2  # the oldest of three days goes
    assert j.days() == [trading_day(now - 2 * DAY), trading_day(now - DAY)]
    for stream, after in (("alpha", 0), (None, 0)):
        with pytest.raises(HubError) as info:
            j.replay(stream, after, 100)
        assert info.value.code == ErrorCode.REPLAY_UNAVAILABLE
    events, head, more = j.replay("alpha", 1, 100)
    assert [e["sseq"] for e in events] == [2, 3] and head == 3 and not more
    j.close()
    # a restart: heads and seq carry on, pruned replay still refused
    j = Journal(tmp_path / "journal.sqlite")
    assert j.last_seq == 6 and j.heads == {"alpha": 3, "@account": 3}
    rec = j.append("order.alpha", {}, now, "h2")
    assert (rec.seq, rec.sseq) == (7, 4)
    with pytest.raises(HubError):
        j.replay("alpha", 0, 100)
    assert [e["sseq"] for e in j.replay("alpha", 1, 100)[0]] == [2, 3, 4]
    assert j.prune(1) == 4 and j.prune(1) == 0  # only today's event stays
    j.close()


def test_hub_prunes_at_start_and_a_client_asking_for_pruned_events_gets_replay_unavailable(tmp_path):
    data = tmp_path / "hub"
    data.mkdir()
    j = Journal(data / "journal.sqlite")
    j.append("order.old", {"order_id": 1}, time.time() - 10 * DAY, "gone")
    j.append("order.old", {"order_id": 2}, time.time() - 9 * DAY, "gone")
    j.close()
    rpc, pub = tcp(), tcp()
    hub = HubServer(HubConfig.from_dict({"rpc": rpc, "pub": pub, "data_dir": str(data), "keep_days": 1,
                                         "sim": {"auto_tick": False}})).start()
    gw = RpcGateway(rpc, pub, timeout=3)
    try:
        gw.connect("old", resume_from={"old": 0}, timeout=5)  # asks for everything since sseq 0
        with pytest.raises(HubError) as info:
            gw.call("replay", stream="old", after=0)
        assert info.value.code == ErrorCode.REPLAY_UNAVAILABLE
        assert gw.call("replay", stream="old", after=2)["events"] == []
        assert hub.journal.heads["old"] == 2  # the stream continues at 3
        assert gw.stats()["lost_events"] == 1  # the client reported the hole it could not fill
    finally:
        gw.close()
        hub.stop()
        assert hub.wait(10)


def test_journal_export_csv_and_jsonl_while_the_hub_runs(procs, tmp_path):
    rpc, pub = tcp(), tcp()
    data = tmp_path / "hub"
    procs.hub(rpc, pub, data, {"sim": {"auto_tick": False}})
    out = tmp_path / "x.jsonl"
    p = procs.strategy(rpc, pub, "exp", out, "--orders", "4")
    wait_for(lambda: sum(r["k"] == "event" and r["stream"] == "exp" for r in read_jsonl(out)) >= 6, 20,
             "orders and fills")
    day = time.strftime("%Y-%m-%d")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hub", "journal", "export", *args], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=30)

    r = run("--day", day, "--format", "jsonl", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    seqs = [x["seq"] for x in rows]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    mine = [x for x in rows if x["stream"] == "exp"]
    assert {x["topic"] for x in mine} == {"order.exp", "trade.exp"}
    assert all(x["data"]["owner"] == "exp" for x in mine)
    csv_out = tmp_path / "day.csv"
    r = run("--day", day, "--format", "csv", "--out", str(csv_out), "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    with open(csv_out, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [int(x["seq"]) for x in table][: len(seqs)] == seqs
    assert json.loads(table[0]["data"]) == rows[0]["data"]
    assert run("--day", "yesterday", "--data-dir", str(data)).returncode == 2
    assert run("--day", day, "--data-dir", str(tmp_path / "nothing")).returncode == 1
    out.with_name(out.name + ".stop").touch()
    assert p.popen.wait(15) == 0
