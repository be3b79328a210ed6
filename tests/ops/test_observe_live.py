"""The watcher, the alert rules and the metrics endpoint against a real hub on the simulator."""

from __future__ import annotations

import functools
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.alerts.config import AlertsConfig
from hub.alerts.rules import daily_summary_text
from hub.config import HubConfig
from hub.core import HubServer
from hub.core.journal import events_of_day
from hub.monitor.link import HubLink
from hub.observe.metrics_config import MetricsConfig
from hub.observe.run import start_observers
from rpc_client import RpcGateway
from rpc_client.protocol import Role
from webhook_server import WebhookServer, free_port
from stand_ins import DroppingRouter, wait_until

BUY, SELL, FIX = 23, 24, 11


def _hub(tmp_path: Path) -> HubServer:
    cfg = HubConfig.from_dict({"rpc": f"tcp://127.0.0.1:{free_port()}", "pub": f"tcp://127.0.0.1:{free_port()}",
                               "data_dir": tmp_path / "hub", "heartbeat_interval": 0.2, "account": "1000000365"})
    return HubServer(cfg).start()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


_wait = functools.partial(wait_until, timeout=10.0)


@pytest.fixture
def hub_and_observers(tmp_path):
    server = _hub(tmp_path)
    made = []

    def observe(webhook_url: str, **alerts):
        obs = start_observers(server.config.rpc, server.config.pub,
                              AlertsConfig.parse({"targets": [{"kind": "webhook", "url": webhook_url,
                                                               "min_level": "info"}], "retries": 0,
                                                  "timeout": 1, "daily_summary_at": "", **alerts}),
                              MetricsConfig.parse({"listen": f"127.0.0.1:{free_port()}"}),
                              account=server.account_id, status_every=0.3)
        server.status_sources["observe"] = obs.counters
        made.append(obs)
        return obs

    yield server, observe
    for obs in made:
        obs.stop(stopping_alert=False)
    server.stop()
    assert server.wait(10)


def test_metrics_equal_the_hubs_counters_and_health(hub_and_observers):
    server, observe = hub_and_observers
    with WebhookServer("webhook") as hook:
        obs = observe(hook.url)
        with RpcGateway(server.config.rpc, server.config.pub, timeout=5) as gw:
            gw.connect(strategy="alpha")
            # alpha's pushed account events are lost on the wire while it orders (it replays them)
            router = DroppingRouter(server.publisher._router, server.sessions.named("alpha").identity)
            server.publisher._router = router
            ids = [gw.order_stock("600000.SH", BUY, 100, FIX, 10.0 + i * 0.01) for i in range(3)]
            assert all(i > 0 for i in ids)
            assert _wait(lambda: server.journal.heads.get("alpha", 0) >= 3)  # each order's report journaled
            router.dropping = False
            assert router.dropped >= 3
            status = server.status()

            def alpha_row() -> dict:
                return next((c for c in obs.watcher.snapshot()[1] if c.get("strategy") == "alpha"), {})
            assert _wait(lambda: obs.watcher.snapshot()[0].get("counters", {}).get("orders") == 3)
            assert _wait(lambda: alpha_row().get("events_dropped") == router.dropped)
            code, text = _get(f"http://{obs.metrics.address}/metrics")
        assert code == 200
        m = _samples(text)
        assert m[("qmt_hub_orders_total", ())] == status["counters"]["orders"] == 3
        assert m[("qmt_hub_method_requests_total", (("method", "order_stock"),))] == 3
        assert m[("qmt_hub_broker_up", ())] == 1.0 and m[("qmt_hub_up", ())] == 1.0
        assert m[("qmt_hub_strategy_orders_today", (("role", "strategy"), ("strategy", "alpha")))] == 3
        assert m[("qmt_hub_events_published_total", ())] >= 3
        # events dropped per session: alpha's, as the hub counted them; the watcher (a monitor) lost none
        alpha = (("role", "strategy"), ("strategy", "alpha"))
        assert m[("qmt_hub_session_events_dropped_total", alpha)] == router.dropped
        assert m[("qmt_hub_session_events_dropped_total", (("role", "monitor"), ("strategy", "hub-watch")))] == 0
        assert m[("qmt_hub_session_events_dropped_all_total", ())] == router.dropped
        assert m[("qmt_hub_session_replies_dropped_total", alpha)] == 0
        # call latency per method, a real histogram: the 3 orders exactly (the watcher places none)
        order = (("method", "order_stock"),)
        assert m[("qmt_hub_call_latency_seconds_count", order)] == 3
        assert m[("qmt_hub_call_latency_seconds_bucket", (("le", "+Inf"), *order))] == 3
        assert sum(status["histograms"]["call_latency"]["order_stock"]["counts"]) == 3  # the hub's own figure
        assert 0 < m[("qmt_hub_call_latency_seconds_sum", order)] < 30
        les = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                     if k[0] == "qmt_hub_call_latency_seconds_bucket" and dict(k[1])["method"] == "order_stock")
        assert [v for _, v in les] == sorted(v for _, v in les)  # cumulative
        assert m[("qmt_hub_call_latency_seconds_count", (("method", "hello"),))] >= 2  # alpha's and the watcher's
        # journal commits: one per order request (its own commit before the broker call), and group commits
        assert m[("qmt_hub_journal_commit_seconds_count", (("path", "order"),))] == 3
        assert m[("qmt_hub_journal_commit_seconds_count", (("path", "group"),))] > 0
        assert m[("qmt_hub_journal_commit_seconds_sum", (("path", "group"),))] > 0
        code, body = _get(f"http://{obs.metrics.address}/healthz")
        assert code == 200 and body.strip() == "ok"
        assert _wait(lambda: any(p["body"]["kind"] == "hub_started" for p in hook.posts))
        # the hub's own status shows the alert counters
        assert server.status()["observe"]["alerts"]["sent"] >= 1
    server.stop()
    assert _wait(lambda: _get(f"http://{obs.metrics.address}/healthz")[0] == 503, timeout=15)


def test_halt_alert_and_daily_summary_equal_the_journal(hub_and_observers, tmp_path):
    server, observe = hub_and_observers
    with WebhookServer("webhook") as hook:
        obs = observe(hook.url)
        with RpcGateway(server.config.rpc, server.config.pub, timeout=5) as gw:
            gw.connect(strategy="alpha")
            for i in range(4):
                gw.order_stock("600000.SH", BUY, 100, FIX, 11.0)  # above the market (ref 10.20), under limit-up: fills
            token = (server.config.data_dir / "admin.token").read_text().strip()
            admin = HubLink(server.config.rpc, server.config.pub, role=Role.ADMIN, token=token, timeout=5)
            admin.connect()
            admin.call("halt", strategy="alpha", reason="drill")
            admin.close()
            assert _wait(lambda: any(p["body"]["kind"] == "halt" and "drill" in p["body"]["text"]
                                     for p in hook.posts))
            assert _wait(lambda: len(gw.query_stock_trades()) >= 1, timeout=15)
            time.sleep(0.5)
            figures = obs.watcher.day_summary()
        trades = [e["data"] for e in events_of_day(server.config.journal_path, server.day)
                  if e["topic"].startswith("trade.alpha")]
        orders = {e["data"]["order_id"] for e in events_of_day(server.config.journal_path, server.day)
                  if e["topic"].startswith("order.alpha")}
        assert trades, "the orders above the market filled"
        alpha = figures["alpha"]
        assert alpha["orders"] == len(orders) == 4
        assert alpha["fills"] == len(trades)
        assert alpha["turnover"] == round(sum(t["traded_amount"] for t in trades), 2)
        assert alpha["fees"] == round(sum(t["commission"] for t in trades), 2)



def test_daily_summary_pnl_equals_the_sleeves_and_the_journal(hub_and_observers):
    """A round trip in a T+0 convertible bond (bought, then all sold the same day): the summary's P&L for the
    strategy is what its sleeve says (realized, fees included; nothing left floating), and that is what the
    journal's trades add up to."""
    server, observe = hub_and_observers
    bond = "113050.SH"  # reference price 120.000, lots of 10, T+0
    with WebhookServer("webhook") as hook:
        obs = observe(hook.url)
        with RpcGateway(server.config.rpc, server.config.pub, timeout=5) as gw:
            gw.connect(strategy="alpha")

            def filled(side: int) -> int:
                return sum(t.traded_volume for t in gw.query_stock_trades() if t.order_type == side)
            assert gw.order_stock(bond, BUY, 30, FIX, 125.0) > 0  # above the market: fills
            assert _wait(lambda: filled(BUY) == 30, timeout=15)
            assert gw.order_stock(bond, SELL, 30, FIX, 115.0) > 0  # below the market: fills
            assert _wait(lambda: filled(SELL) == 30, timeout=15)
            monitor = HubLink(server.config.rpc, server.config.pub, role=Role.MONITOR, timeout=5)
            monitor.connect()
            try:
                assert _wait(lambda: _sleeve(monitor, "alpha").get("realized_pnl") not in (None, 0.0))
                sleeve = _sleeve(monitor, "alpha")
            finally:
                monitor.close()
            figures = obs.watcher.day_summary()
        trades = [e["data"] for e in events_of_day(server.config.journal_path, server.day)
                  if e["topic"].startswith("trade.alpha")]
    assert sleeve["positions"] == [] and sleeve["floating_pnl"] == 0.0  # flat: all of the P&L is realized
    buys = [t for t in trades if t["order_type"] == BUY]
    sells = [t for t in trades if t["order_type"] == SELL]
    assert sum(t["traded_volume"] for t in buys) == sum(t["traded_volume"] for t in sells) == 30
    journal_pnl = round(sum(t["traded_amount"] - t["commission"] for t in sells)
                        - sum(t["traded_amount"] + t["commission"] for t in buys), 2)
    assert journal_pnl < 0  # bought high, sold low, paid fees: a loss, so a wrong sign shows
    assert sleeve["realized_pnl"] == pytest.approx(journal_pnl, abs=0.005)
    alpha = figures["alpha"]
    assert alpha["pnl"] == pytest.approx(sleeve["realized_pnl"], abs=0.005)
    assert alpha["pnl"] == pytest.approx(journal_pnl, abs=0.005)
    assert alpha["fees"] == round(sum(t["commission"] for t in trades), 2) == sleeve["fees"]
    assert alpha["orders"] == 2 and alpha["fills"] == len(trades)
    assert f"alpha: 2 orders, {len(trades)} fills" in daily_summary_text(figures)
    assert f"P&L {alpha['pnl']:,.2f}" in daily_summary_text(figures)


def _sleeve(link: HubLink, strategy: str) -> dict:
    from hub.monitor.link import as_dict

    rows = [as_dict(r) for r in link.call("sleeves") or []]
    return next((r for r in rows if r.get("strategy") == strategy), {})

def test_a_dead_webhook_never_delays_an_order(hub_and_observers):
    server, observe = hub_and_observers
    with WebhookServer("webhook", mode="hang", hang=20) as hook:
        obs = observe(hook.url)
        token = (server.config.data_dir / "admin.token").read_text().strip()
        admin = HubLink(server.config.rpc, server.config.pub, role=Role.ADMIN, token=token, timeout=5)
        admin.connect()
        with RpcGateway(server.config.rpc, server.config.pub, timeout=5) as gw:
            gw.connect(strategy="alpha")
            acks = []
            for i in range(10):
                admin.call("halt", strategy="beta", reason=f"storm {i}")  # alerts pile up at the hanging target
                admin.call("resume", strategy="beta")
                t0 = time.perf_counter()
                assert gw.order_stock("600000.SH", BUY, 100, FIX, 10.0) > 0
                acks.append(time.perf_counter() - t0)
        admin.close()
        assert max(acks) < 1.0, acks
        assert len(hook.posts) <= 2  # the one thread is stuck on the first message(s), nothing else waits
        assert obs.sender.counters()["submitted"] >= 10


def test_collector_exports_the_risk_guard_and_the_sleeves():
    """The rate guard's use, refusals per check and each sleeve's money, from the hub's status and `sleeves`."""
    import time as _time

    from prometheus_client import CollectorRegistry, generate_latest

    from hub.observe.metrics import HubCollector

    status = {"broker": {"state": "up"}, "counters": {"orders": 7},
              "risk": {"rate": {"per_second": 3, "peak_per_second": 12, "per_day": 250, "peak_per_day": 250,
                                "limit_per_second": 200, "limit_per_day": 18000},
                       "refusals": {"sleeve_cash": 2, "self_trade": 1}}}
    sleeves = [{"strategy": "alpha", "cash": 1000.5, "market_value": 2040.0, "realized_pnl": -5.0,
                "floating_pnl": 12.25, "fees": 5.0}, {"strategy": "_pool", "pool": True, "cash": 5e5}]
    registry = CollectorRegistry()
    registry.register(HubCollector(lambda: (status, [], _time.time()), sleeves=lambda: sleeves))
    m = _samples(generate_latest(registry).decode())
    assert m[("qmt_hub_risk_actions_today", ())] == 250 and m[("qmt_hub_risk_actions_peak_per_second", ())] == 12
    assert m[("qmt_hub_risk_actions_limit_per_day", ())] == 18000
    assert m[("qmt_hub_risk_refusals_total", (("check", "sleeve_cash"),))] == 2
    assert m[("qmt_hub_strategy_floating_pnl", (("strategy", "alpha"),))] == 12.25
    assert m[("qmt_hub_strategy_cash", (("strategy", "_pool"),))] == 5e5
    assert m[("qmt_hub_orders_total", ())] == 7
