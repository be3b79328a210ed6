"""`[risk]` and `[strategies.NAME]`: every key parsed, unknown keys and bad values are errors; the
hub's static rules agree with the simulator's."""

from __future__ import annotations

from datetime import date

import pytest

from hub.config import ConfigError, HubConfig
from hub.risk import market as M
from hub.risk.config import RiskConfigError, parse, parse_assignment
from hub.risk.ratelimit import Window, headroom


def test_the_issue_example_parses():
    cfg = parse({"trading": "dry_run", "require_allotment": False, "self_trade": "cancel_resting",
                 "price_band_pct": 2, "account_max_actions_per_second": 200, "account_max_actions_per_day": 18000},
                {"alpha": {"cash": 200000, "positions": {"600000.SH": 1000}, "max_order_volume": 10000,
                           "max_order_notional": 100000, "max_daily_notional": 1000000, "max_daily_orders": 1000,
                           "max_open_orders": 50, "max_actions_per_second": 20, "symbols_allow": [],
                           "symbols_block": [], "price_types": []}})
    assert cfg.settings.trading == "dry_run" and cfg.settings.price_band_pct == 2.0
    a = cfg.strategies["alpha"]
    assert a.cash == 200000.0 and a.positions == {"600000.SH": 1000} and a.max_actions_per_second == 20


@pytest.mark.parametrize("risk, strategies, match", [
    ({"tradng": "on"}, {}, r"\[risk\]: unknown key\(s\) tradng"),
    ({"trading": "maybe"}, {}, r"trading must be one of on, off, dry_run"),
    ({"self_trade": "both"}, {}, r"self_trade must be one of"),
    ({"price_band_pct": -1}, {}, r"price_band_pct must be >= 0"),
    ({"account_max_actions_per_second": 1.5}, {}, r"whole number"),
    ({}, {"alpha": {"max_order_volum": 1}}, r"\[strategies.alpha\]: unknown key\(s\) max_order_volum"),
    ({}, {"alpha": {"cash": "lots"}}, r"cash must be a number"),
    ({}, {"alpha": {"positions": {"600000": 100}}}, r"not a code"),
    ({}, {"alpha": {"symbols_block": ["x"]}}, r"symbols_block must be a list of codes"),
    ({}, {"bad name!": {}}, r"strategy name"),
])
def test_bad_settings_are_errors_that_name_the_key(risk, strategies, match):
    with pytest.raises(RiskConfigError, match=match):
        parse(risk, strategies)


def test_hub_config_carries_and_checks_the_tables():
    cfg = HubConfig.from_dict({"risk": {"trading": "off"}, "strategies": {"alpha": {"cash": 5}}})
    assert cfg.risk == {"trading": "off"} and cfg.strategies == {"alpha": {"cash": 5}}
    with pytest.raises(ConfigError, match="unknown key"):
        HubConfig.from_dict({"risk": {"nope": 1}})


def test_hub_config_from_toml(tmp_path):
    p = tmp_path / "hub.toml"
    p.write_text('[risk]\ntrading = "dry_run"\n[strategies.alpha]\ncash = 200000\n'
                 'positions = { "600000.SH" = 1000 }\n', encoding="utf-8")
    cfg = HubConfig.load(p)
    assert cfg.risk["trading"] == "dry_run" and cfg.strategies["alpha"]["positions"] == {"600000.SH": 1000}
    p.write_text('[strategies.alpha]\nmax_open_order = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="max_open_order"):
        HubConfig.load(p)


def test_limits_set_assignments():
    assert parse_assignment("max_order_volume=500") == ("max_order_volume", 500)
    assert parse_assignment("max_order_notional = 2500.5") == ("max_order_notional", 2500.5)
    assert parse_assignment("symbols_block=600000.SH,000001.SZ") == ("symbols_block", ["600000.SH", "000001.SZ"])
    with pytest.raises(RiskConfigError, match="unknown limit"):
        parse_assignment("cash=5")
    with pytest.raises(RiskConfigError, match="KEY=VALUE"):
        parse_assignment("max_order_volume")


@pytest.mark.parametrize("code", ["600000.SH", "688981.SH", "000001.SZ", "300750.SZ", "430047.BJ", "832000.BJ",
                                  "510300.SH", "123456.SZ"])
def test_static_rules_agree_with_the_simulator(code):
    from hub.sim import universe as U

    assert M.board_of(code) == U.board_of(code)
    if U.board_of(code) is not None:
        inst = U.Instrument(code, "x", U.board_of(code), 10.0)
        assert M.limits(10.37, M.board_of(code)) == inst.limits(10.37, date(2026, 12, 2))
        assert M.buy_lot(M.board_of(code)) == (inst.buy_min, inst.buy_step)


def test_window_and_headroom():
    w = Window()
    for t in (0.0, 0.2, 0.5, 0.9):
        w.add(t)
    assert w.count(0.95) == 4 and w.count(1.1) == 3 and w.count(2.0) == 0 and w.peak == 4
    assert [headroom(n) for n in (1, 2, 20, 200, 18000)] == [0, 1, 2, 20, 1800]
