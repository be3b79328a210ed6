"""Stock names: from the position, else the tick, else today's orders/trades, else the code."""

from __future__ import annotations

from monitor_sample import NOW, ev, order
from rich.console import Console

from hub.monitor.render import positions_table
from hub.monitor.state import MonitorState


def table_text(state: MonitorState, width: int = 120) -> str:
    console = Console(record=True, width=width, force_terminal=False, color_system=None)
    console.print(positions_table(state, 10, width))
    return console.export_text()


def row_of(text: str, code: str) -> list[str]:
    return next(line for line in text.splitlines() if line.startswith(code)).split()


def real_miniqmt_state() -> MonitorState:
    """Positions as real MiniQMT gives them: no instrument_name."""
    s = MonitorState()
    s.apply_positions([{"stock_code": "600000.SH", "volume": 100, "avg_price": 10.0, "market_value": 1000.0},
                       {"stock_code": "000001.SZ", "volume": 200, "avg_price": 12.0, "market_value": 2400.0},
                       {"stock_code": "300750.SZ", "volume": 300, "avg_price": 200.0, "market_value": 60000.0}])
    return s


def test_name_from_the_tick_when_the_position_has_none():
    s = real_miniqmt_state()
    s.apply_ticks({"600000.SH": {"lastPrice": 10.5, "InstrumentName": "浦发银行"},
                   "000001.SZ": {"lastPrice": 12.5}})
    assert s.stock_name("600000.SH") == "浦发银行"
    text = table_text(s)
    assert row_of(text, "600000.SH")[1] == "浦发银行"
    assert row_of(text, "000001.SZ")[1] == "000001.SZ"  # nothing known: the code


def test_name_from_todays_orders_and_trades():
    s = real_miniqmt_state()
    s.apply_orders([dict(order(1, "alpha", "000001.SZ", 50, t=NOW - 60), instrument_name="平安银行")])
    fill = {"traded_id": "T1", "order_id": 2, "stock_code": "300750.SZ", "instrument_name": "宁德时代",
            "traded_volume": 100}
    s.apply_event("trade.alpha", ev("trade.alpha", fill, seq=3), NOW)
    text = table_text(s)
    assert row_of(text, "000001.SZ")[1] == "平安银行"
    assert row_of(text, "300750.SZ")[1] == "宁德时代"
    assert row_of(text, "600000.SH")[1] == "600000.SH"
    # the position's own name, when it has one, comes first
    s.apply_positions([{"stock_code": "000001.SZ", "volume": 200, "instrument_name": "平安银行A"}])
    assert s.stock_name("000001.SZ") == "平安银行A"


def test_no_names_at_all_hides_the_name_column():
    text = table_text(real_miniqmt_state())
    header = text.splitlines()[0].split()
    assert "name" not in header and row_of(text, "600000.SH")[1] == "100"
