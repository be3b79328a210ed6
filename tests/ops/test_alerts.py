"""Alerts: each webhook kind's message and signature, the sender's retries, rate limits and de-duplication
against a loopback HTTP server standing in for the robot, and every rule's message."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import urllib.parse
from zoneinfo import ZoneInfo

import pytest

from hub.alerts.config import AlertsConfig, AlertsConfigError
from hub.alerts.rules import Alert, AlertRules, Level, daily_summary_text, summarize
from hub.alerts.sender import AlertSender
from webhook_server import WebhookServer

SH = ZoneInfo("Asia/Shanghai")


def _cfg(*targets: dict, **kw) -> AlertsConfig:
    return AlertsConfig.parse({"targets": list(targets), "retries": 0, "timeout": 2, "daily_summary_at": "", **kw})


def _at(day: str, hhmm: str) -> float:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SH).timestamp()


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu", "webhook"])
def test_each_kind_receives_its_own_message_shape(kind):
    with WebhookServer(kind) as server:
        sender = AlertSender(_cfg({"kind": kind, "url": server.url, "secret": "s3cret" if kind in ("dingtalk",
                                                                                                    "feishu") else ""}),
                             account="1000000365").start()
        assert sender.submit(Alert("broker_down", Level.CRITICAL, "broker DOWN", "down since 10:00:00", ts=1.0))
        assert sender.wait_idle(10)
        sender.stop()
        assert len(server.posts) == 1
        post = server.posts[0]
        body = post["body"]
        if kind in ("wecom", "dingtalk"):
            assert body["msgtype"] == "text"
            assert body["text"]["content"].startswith("[qmt-hub CRITICAL] broker DOWN (1000000365)\ndown since")
        elif kind == "feishu":
            assert body["msg_type"] == "text" and "broker DOWN" in body["content"]["text"]
            digest = hmac.new(f"{body['timestamp']}\ns3cret".encode(), b"", hashlib.sha256).digest()
            assert body["sign"] == base64.b64encode(digest).decode()
        else:
            assert body["kind"] == "broker_down" and body["level"] == "critical" and body["account"] == "1000000365"
        if kind == "dingtalk":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(post["path"]).query)
            ts, sign = q["timestamp"][0], q["sign"][0]
            digest = hmac.new(b"s3cret", f"{ts}\ns3cret".encode(), hashlib.sha256).digest()
            assert sign == base64.b64encode(digest).decode() and q["key"] == ["test"]
        assert sender.counters()["sent"] == 1 and sender.counters()["failed"] == 0


def test_refusals_and_errors_are_retried_then_counted_as_failures():
    with WebhookServer("wecom", mode="refuse") as refusing, WebhookServer("webhook", mode="error") as erroring:
        cfg = AlertsConfig.parse({"targets": [{"kind": "wecom", "url": refusing.url, "name": "wx"},
                                              {"kind": "webhook", "url": erroring.url, "name": "hook"}],
                                  "retries": 2, "timeout": 2})
        sender = AlertSender(cfg, sleep=lambda s: None).start()
        sender.submit(Alert("halt", Level.WARNING, "halted: alpha", "reason"))
        assert sender.wait_idle(10)
        sender.stop()
        assert len(refusing.posts) == 3 and len(erroring.posts) == 3  # 1 + 2 retries each
        c = sender.counters()
        assert c["failed"] == 2 and c["sent"] == 0
        assert "errcode 310000" in c["targets"]["wx"]["last_error"] and "HTTP 500" in c["targets"]["hook"]["last_error"]


def test_a_dead_target_never_blocks_the_caller():
    with WebhookServer("webhook", mode="hang", hang=5) as hanging:
        sender = AlertSender(_cfg({"kind": "webhook", "url": hanging.url}, timeout=1)).start()
        t0 = time.perf_counter()
        for i in range(50):
            sender.submit(Alert("halt", Level.WARNING, f"halted {i}", "x", key=str(i)))
        assert time.perf_counter() - t0 < 0.1  # 50 submissions while the target hangs
        sender.stop(timeout=0.5)


def test_unreachable_target_is_counted():
    sender = AlertSender(_cfg({"kind": "webhook", "url": "http://127.0.0.1:9/nothing-listens"})).start()
    sender.submit(Alert("halt", Level.WARNING, "halted", "x"))
    assert sender.wait_idle(10)
    sender.stop()
    c = sender.counters()
    assert c["failed"] == 1 and "Error" in c["targets"]["webhook#1"]["last_error"]


def test_same_key_within_repeat_after_is_sent_once_and_rate_limit_summarises():
    clock = [1000.0]
    with WebhookServer("webhook") as server:
        sender = AlertSender(_cfg({"kind": "webhook", "url": server.url}, repeat_after=300, max_per_minute=3),
                             clock=lambda: clock[0]).start()
        assert sender.submit(Alert("broker_down", Level.CRITICAL, "broker DOWN", "x", key="broker_down"))
        assert not sender.submit(Alert("broker_down", Level.CRITICAL, "broker DOWN", "x", key="broker_down"))
        for i in range(5):
            sender.submit(Alert("halt", Level.WARNING, f"halt {i}", "x", key=f"h{i}"))
        assert sender.wait_idle(10)
        assert len(server.posts) == 3 and sender.counters()["suppressed"] == 3
        clock[0] += 61
        sender.submit(Alert("halt", Level.WARNING, "halt later", "x", key="later"))
        assert sender.wait_idle(10)
        sender.stop()
    assert sender.counters()["deduplicated"] == 1
    assert "3 earlier alert(s) to this target were suppressed" in server.texts()[-1]


def test_min_level_and_event_filters():
    with WebhookServer("webhook") as critical_only, WebhookServer("webhook") as refusals:
        cfg = AlertsConfig.parse({"targets": [{"kind": "webhook", "url": critical_only.url, "min_level": "critical"},
                                              {"kind": "webhook", "url": refusals.url, "events": ["order_refused"],
                                               "min_level": "info"}], "retries": 0})
        sender = AlertSender(cfg).start()
        sender.submit(Alert("halt", Level.WARNING, "halted", "x"))
        sender.submit(Alert("broker_down", Level.CRITICAL, "down", "x"))
        sender.submit(Alert("order_refused", Level.WARNING, "refused", "x"))
        assert sender.wait_idle(10)
        sender.stop()
        assert [p["body"]["kind"] for p in critical_only.posts] == ["broker_down"]
        assert [p["body"]["kind"] for p in refusals.posts] == ["order_refused"]


def test_bad_config_is_refused_with_the_key():
    with pytest.raises(AlertsConfigError, match="unknown key"):
        AlertsConfig.parse({"target": []})
    with pytest.raises(AlertsConfigError, match=r"targets\[0\].kind"):
        AlertsConfig.parse({"targets": [{"kind": "slack", "url": "https://x"}]})
    with pytest.raises(AlertsConfigError, match="events: unknown event kind"):
        AlertsConfig.parse({"targets": [{"kind": "wecom", "url": "https://x", "events": ["boom"]}]})
    with pytest.raises(AlertsConfigError, match="deadman_at"):
        AlertsConfig.parse({"deadman_at": "9:15"})


# ---- rules ----------------------------------------------------------------------------------

def test_broker_down_only_after_the_grace_then_back():
    rules = AlertRules(broker_down_after=30)
    assert rules.on_event("hub.broker", {"data": {"state": "down", "since": 100.0, "reason": "link lost"}}, 100) == []
    assert rules.tick(120) == []
    [down] = rules.tick(131)
    assert down.kind == "broker_down" and down.level == Level.CRITICAL and "link lost" in down.text
    [back] = rules.on_event("hub.broker", {"data": {"state": "up"}}, 200)
    assert back.kind == "broker_up" and "100 s" in back.text


def test_a_flapping_broker_yields_a_handful_of_messages():
    """Down 40 s, up 5 s, for an hour: the rule fires each time, de-duplication and the rate limit keep it small."""
    rules = AlertRules(broker_down_after=30)
    clock = [0.0]
    with WebhookServer("webhook") as server:
        sender = AlertSender(_cfg({"kind": "webhook", "url": server.url}, repeat_after=300, max_per_minute=6),
                             clock=lambda: clock[0]).start()
        made = 0
        while clock[0] < 3600:
            for a in rules.on_event("hub.broker", {"data": {"state": "down", "since": clock[0]}}, clock[0]):
                made += 1
                sender.submit(a)
            clock[0] += 40
            for a in rules.tick(clock[0]):
                made += 1
                sender.submit(a)
            for a in rules.on_event("hub.broker", {"data": {"state": "up"}}, clock[0]):
                made += 1
                sender.submit(a)
            clock[0] += 5
        assert sender.wait_idle(10)
        sender.stop()
        assert made > 100  # the rules saw every flap
        assert len(server.posts) <= 2 * (3600 // 300 + 1)  # one down and one up per repeat window at most


def test_strategy_silent_with_open_orders_and_cancelled():
    rules = AlertRules()
    [a] = rules.on_event("hub.client", {"data": {"strategy": "alpha", "role": "strategy", "event": "timed_out",
                                                 "reason": "silent for more than 10s", "cancelled": [11, 12]}}, 1)
    assert a.kind == "strategy_silent" and "2 open order(s) cancelled" in a.text and "11" in a.text
    assert rules.on_event("hub.client", {"data": {"strategy": "beta", "role": "strategy", "event": "disconnected",
                                                  "reason": "bye", "cancelled": []}}, 2) == []
    assert rules.on_event("hub.client", {"data": {"strategy": "m", "role": "monitor", "event": "timed_out"}}, 3) == []


def test_halt_refused_order_risk_and_reconcile_messages():
    rules = AlertRules()
    [h] = rules.on_event("hub.halt", {"data": {"strategy": "gamma", "halted": True, "reason": "daily loss"}}, 1)
    assert h.kind == "halt" and "gamma" in h.title and "daily loss" in h.text
    [r] = rules.on_event("error.alpha", {"data": {"kind": "order", "order_id": 7, "stock_code": "600000.SH",
                                                  "error_msg": "资金不足"}}, 2)
    assert r.kind == "order_refused" and "资金不足" in r.text
    [rec] = rules.on_event("hub.risk", {"data": {"event": "reconciled", "booked": [
        {"to": "_pool", "code": "600000.SH", "volume": 300, "why": "broker holds more"}]}}, 3)
    assert rec.kind == "reconcile_difference" and "600000.SH: 300 booked to _pool" in rec.text
    assert rules.on_event("hub.risk", {"data": {"event": "refused", "check": "sleeve_cash"}}, 4) == []
    [g] = rules.guard_warnings(["account actions at 160/s, 80% of the 200/s guard"], 5)
    assert g.kind == "risk_guard" and "160/s" in g.text


def test_deadman_fires_on_a_trading_day_only_when_not_ready():
    rules = AlertRules(deadman_at="09:15", is_trading_day=lambda d: d.weekday() < 5)
    rules.hub_reachable(False)
    assert rules.tick(_at("2026-12-03", "09:14")) == []
    [a] = rules.tick(_at("2026-12-03", "09:15"))  # a Thursday
    assert a.kind == "deadman" and "hub is not reachable" in a.text
    assert rules.tick(_at("2026-12-03", "09:20")) == []  # once a day
    assert rules.tick(_at("2026-12-05", "09:16")) == []  # Saturday
    ready = AlertRules(deadman_at="09:15", is_trading_day=lambda d: True)
    ready.hub_reachable(True, broker_up=True)
    assert ready.tick(_at("2026-12-03", "09:15")) == []


def test_daily_summary_figures():
    orders = [{"owner": "alpha"}, {"owner": "alpha"}, {"owner": "beta"}]
    trades = [{"owner": "alpha", "traded_amount": 1050.0, "commission": 5.0},
              {"owner": "alpha", "traded_amount": 2100.5, "commission": 5.01}]
    figures = summarize(orders, trades, {"alpha": 12.5})
    assert figures == {"alpha": {"orders": 2, "fills": 2, "turnover": 3150.5, "fees": 10.01, "pnl": 12.5},
                       "beta": {"orders": 1, "fills": 0, "turnover": 0.0, "fees": 0.0}}
    text = daily_summary_text(figures)
    assert "alpha: 2 orders, 2 fills, turnover 3,150.50, fees 10.01 P&L 12.50" in text
    rules = AlertRules(daily_summary_at="15:10", summary=lambda: figures)
    assert rules.tick(_at("2026-12-03", "15:09")) == []
    [s] = rules.tick(_at("2026-12-03", "15:10"))
    assert s.kind == "daily_summary" and s.data["strategies"] == figures
