"""The README's RpcGateway example runs as printed (only the endpoint and input() are swapped)."""

from __future__ import annotations

import builtins
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from integration_helpers import HubProcess  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(title) + r"\*\*\n\n```python\n(.*?)```", text, re.S)
    assert match, f"README has no python block after {title!r}"
    return match.group(1)


@pytest.mark.timeout(90)
def test_readme_rpcgateway_example_runs(tmp_path, monkeypatch, capsys):
    code = readme_block("**New code: `RpcGateway`")
    assert 'RpcGateway("tcp://127.0.0.1:5555"' in code  # the default address users copy
    hub = HubProcess(tmp_path / "hub")
    try:
        code = code.replace('"tcp://127.0.0.1:5555"', f'"{hub.rpc}", "{hub.pub}"')
        monkeypatch.setattr(builtins, "input", lambda *a: time.sleep(1.0))
        exec(compile(code, "README-example", "exec"), {})
    finally:
        hub.stop()
    out = capsys.readouterr().out
    assert re.search(r"^order 1 \d+$", out, re.M), out  # its order callback fired
    assert "fill 1 100" in out, out  # the marketable buy filled and the strategy saw it
