"""Figures, goals, the printed table, the JSON file and a Markdown copy of the table."""

from __future__ import annotations

import json
import math
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}


@dataclass
class Fig:
    id: str
    case: str
    label: str
    unit: str
    value: float | None = None
    na: str | None = None  # reason when value is None
    low: float | None = None  # min over rounds (when several rounds)
    high: float | None = None  # max over rounds
    goal: str | None = None  # e.g. "<= 1.3"
    info: bool = False  # informational (not one of the figures)
    note: str = ""

    @property
    def produced(self) -> bool:
        return (self.value is not None and isinstance(self.value, (int, float)) and not math.isnan(self.value)) \
            or bool(self.na)

    def goal_met(self) -> bool | None:
        if self.goal is None or self.value is None or math.isnan(self.value):
            return None
        op, limit = self.goal.split()
        return bool(_OPS[op](self.value, float(limit)))


@dataclass
class Report:
    mode: str
    machine: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    figs: dict[str, Fig] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    # -- building -----------------------------------------------------------
    def declare(self, fid: str, case: str, label: str, unit: str, goal: str | None = None,
                info: bool = False) -> Fig:
        f = Fig(fid, case, label, unit, goal=goal, info=info, na="not run")
        self.figs[fid] = f
        return f

    def set(self, fid: str, value: float | None, rounds: Iterable[float] | None = None, note: str = "",
            na: str | None = None) -> None:
        f = self.figs[fid]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            f.value, f.na = None, na or "no value"
        else:
            f.value, f.na = float(value), None
        vals = [v for v in (rounds or []) if v is not None and not math.isnan(v)]
        if len(vals) > 1:
            f.low, f.high = min(vals), max(vals)
        if note:
            f.note = note

    def na(self, fids: Iterable[str], reason: str) -> None:
        for fid in fids:
            f = self.figs[fid]
            if f.value is None:
                f.na = reason

    def na_case(self, case: str, reason: str) -> None:
        self.na([f.id for f in self.figs.values() if f.case == case], reason)

    def value(self, fid: str) -> float | None:
        return self.figs[fid].value

    # -- output -------------------------------------------------------------
    def rows(self) -> list[dict[str, str]]:
        out = []
        for f in self.figs.values():
            if f.value is None:
                val, rng = f"n/a ({f.na})", ""
            else:
                val = _fmt(f.value, f.unit)
                rng = f"{_fmt(f.low, f.unit, bare=True)}–{_fmt(f.high, f.unit, bare=True)}" \
                    if f.low is not None else ""
            met = f.goal_met()
            goal = "" if f.goal is None else f"{f.goal.replace('<=', '≤').replace('>=', '≥')}" + \
                ("" if met is None else (" ✔" if met else " ✘"))
            label = f.label + (f" ({f.note})" if f.note else "")
            out.append({"case": f.case, "figure": label, "value": val, "rounds": rng, "goal": goal})
        return out

    def print_table(self) -> None:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:  # pragma: no cover - rich is a dependency
            print(self.markdown())
            return
        t = Table(title=f"qmt-hub bench ({self.mode})", show_lines=False)
        for col in ("case", "figure", "value", "rounds min–max", "goal"):
            t.add_column(col, overflow="fold")
        prev = None
        for r in self.rows():
            if prev is not None and r["case"] != prev:
                t.add_section()
            prev = r["case"]
            t.add_row(r["case"], r["figure"], r["value"], r["rounds"], r["goal"])
        c = Console(width=160)
        c.print(t)
        c.print(self.machine_line())
        for n in self.notes:
            c.print(f"note: {n}")

    def machine_line(self) -> str:
        m = self.machine
        return (f"machine: {m.get('cpu')} ({m.get('cores_physical')} physical / {m.get('cores_logical')} logical "
                f"cores, {m.get('ram_gb')} GB), {m.get('platform')}, {m.get('python')}, pyzmq {m.get('pyzmq')} "
                f"(libzmq {m.get('libzmq')}), msgpack {m.get('msgpack')}; load avg at start "
                f"{m.get('load_avg_1m_at_start', '?')}")

    def markdown(self) -> str:
        lines = ["| case | figure | value | rounds min–max | goal |", "|---|---|---|---|---|"]
        for r in self.rows():
            lines.append("| " + " | ".join(r[k].replace("|", "\\|") for k in
                                           ("case", "figure", "value", "rounds", "goal")) + " |")
        lines.append("")
        lines.append(self.machine_line())
        for n in self.notes:
            lines.append("")
            lines.append(f"note: {n}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        figs = {}
        for f in self.figs.values():
            d = asdict(f)
            d["goal_met"] = f.goal_met()
            figs[f.id] = d
        return {"mode": self.mode, "machine": self.machine, "params": self.params, "figures": figs,
                "notes": self.notes}

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")


def _fmt(v: float | None, unit: str, bare: bool = False) -> str:
    if v is None:
        return "?"
    if unit == "×":
        s = f"{v:.2f}"
    elif unit in ("µs",):
        s = f"{v:.0f}" if v >= 100 else f"{v:.1f}"
    elif unit in ("/s",):
        s = f"{v:,.0f}"
    elif unit in ("%",):
        s = f"{v:.2f}"
    elif unit in ("MB",):
        s = f"{v:.1f}"
    elif unit in ("", "n"):
        s = f"{v:,.0f}"
    else:
        s = f"{v:.3g}"
    if bare or not unit or unit == "n":
        return s
    return f"{s}{unit}" if unit == "×" else f"{s} {unit}"
