"""HubConfig: defaults, TOML, CLI overrides, unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, HubConfig
from rpc_client.protocol import DEFAULT_PUB_ENDPOINT, DEFAULT_RPC_ENDPOINT


def test_defaults():
    c = HubConfig()
    assert c.broker == "sim" and c.rpc == DEFAULT_RPC_ENDPOINT and c.pub == DEFAULT_PUB_ENDPOINT
    assert c.data_dir == Path("~/.qmt-hub").expanduser()
    assert c.account_id == "SIM0001"
    assert c.journal_path.name == "journal.sqlite" and c.token_path.name == "admin.token"


def test_toml_then_cli_overrides(tmp_path):
    f = tmp_path / "hub.toml"
    f.write_text('broker = "sim"\naccount = "A1"\norder_timeout = 3\ndata_dir = "%s"\n\n'
                 '[sim]\ndefault_cash = 5000.0\n' % (tmp_path / "data").as_posix())
    c = HubConfig.load(f, {"account": "B2", "rpc": None})
    assert c.account == "B2" and c.order_timeout == 3.0 and c.sim == {"default_cash": 5000.0}
    assert c.data_dir == tmp_path / "data" and c.rpc == DEFAULT_RPC_ENDPOINT


def test_hub_table_is_accepted(tmp_path):
    f = tmp_path / "hub.toml"
    f.write_text('[hub]\nlog_level = "debug"\n')
    assert HubConfig.load(f).log_level == "DEBUG"


@pytest.mark.parametrize("text, word", [
    ('colour = "red"\n', "colour"),
    ('broker = "ib"\n', "broker"),
    ('order_timeout = "soon"\n', "order_timeout"),
    ('rpc = "ipc:///tmp/x"\n', "rpc"),
    ('client_dead_after = 0\n', "client_dead_after"),
    ('this is not toml', "TOML"),
])
def test_bad_files_name_the_problem(tmp_path, text, word):
    f = tmp_path / "hub.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        HubConfig.load(f)
    assert word in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        HubConfig.load(tmp_path / "nope.toml")
