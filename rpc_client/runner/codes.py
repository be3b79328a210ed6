"""Security codes in jqtrade's form (000001.XSHE / 600000.XSHG) and xtquant's (000001.SZ / 600000.SH).

The hub speaks xtquant's form; a jqtrade strategy may use either, and gets back the form it gave.
"""

from __future__ import annotations

JQ_TO_XT = {"XSHE": "SZ", "XSHG": "SH", "BJSE": "BJ"}
XT_TO_JQ = {v: k for k, v in JQ_TO_XT.items()}


class CodeError(ValueError):
    """A code with no known market suffix."""


def split(code: str) -> tuple[str, str]:
    if not isinstance(code, str) or "." not in code:
        raise CodeError(f"not a security code: {code!r} (use 000001.XSHE / 600000.XSHG or 000001.SZ / 600000.SH)")
    sym, _, suffix = code.strip().rpartition(".")
    suffix = suffix.upper()
    if not sym or (suffix not in JQ_TO_XT and suffix not in XT_TO_JQ):
        raise CodeError(f"unknown market in {code!r} (use .XSHE / .XSHG / .SZ / .SH / .BJ)")
    return sym, suffix


def to_xt(code: str) -> str:
    """'000001.XSHE' -> '000001.SZ'; '600000.SH' stays."""
    sym, suffix = split(code)
    return f"{sym}.{JQ_TO_XT.get(suffix, suffix)}"


def to_jq(code: str) -> str:
    """'000001.SZ' -> '000001.XSHE'; '600000.XSHG' stays."""
    sym, suffix = split(code)
    return f"{sym}.{XT_TO_JQ.get(suffix, suffix)}"


def is_jq(code: str) -> bool:
    return split(code)[1] in JQ_TO_XT


def in_form(xt_code: str, jq_form: bool) -> str:
    """``xt_code`` in jqtrade's form when ``jq_form``, else xtquant's."""
    return to_jq(xt_code) if jq_form else to_xt(xt_code)
