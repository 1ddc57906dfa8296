"""The config file: parsing and its one-line errors (the CLI and app use are tested with
them in test_cli.py and test_app.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rps_tui.core.config import ConfigError, load
from rps_tui.core.subscriptions import Kind, Subscription

GOOD = """
history = 20000
theme = "nord"
subscriptions = ["orders.*", { shard = "cart{42}" }, { channel = "lit*" }]
profile = "local"

[keymap]
pause = "space"

[profiles.local]
url = "redis://127.0.0.1:6380/2"

[profiles.prod]
url = "rediss://reader@redis.example.com:6380/0"
password = "s3cret"
cacert = "~/ca.pem"
subscriptions = ["audit"]

[profiles.ha]
sentinels = ["10.0.0.9:26379", "[::1]:26380"]
master = "mymaster"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_full_file(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD))
    assert (config.history, config.theme, config.keymap) == (20000, "nord", {"pause": "space"})
    assert config.subscriptions == (
        Subscription(Kind.PATTERN, "orders.*"),
        Subscription(Kind.SHARD, "cart{42}"),
        Subscription(Kind.CHANNEL, "lit*"),
    )
    assert config.profile(None).name == "local"  # the file's default
    prod = config.profile("prod")
    assert prod.values["cacert"] == str(Path.home() / "ca.pem")
    assert prod.subscriptions == (Subscription(Kind.CHANNEL, "audit"),)
    assert "s3cret" not in repr(prod) and "s3cret" not in repr(config)
    assert config.profile("ha").values["sentinels"] == [("10.0.0.9", 26379), ("::1", 26380)]


def test_no_file_is_an_empty_config_unless_one_was_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RPS_TUI_CONFIG", raising=False)
    assert load().path is None and load().profile(None) is None
    with pytest.raises(ConfigError, match=r"^config file .*nope.toml: no such file$"):
        load(tmp_path / "nope.toml")
    monkeypatch.setenv("RPS_TUI_CONFIG", str(write(tmp_path, "history = 5")))
    assert load().history == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("history = ", "Invalid value"),
        ("histroy = 5", "unknown key 'histroy'"),
        ("history = '5'", "history must be a whole number"),
        ("history = 0", "history must be a positive number"),
        ("[profiles.x]\nport = true", "[profiles.x] port must be a whole number"),
        ("[profiles.x]\ncluster = 'yes'", "[profiles.x] cluster must be true or false"),
        ("[profiles.x]\nsentinels = ['nohost']", "sentinels: 'nohost' is not HOST:PORT"),
        ("subscriptions = [{ shrd = 'x' }]", "subscriptions: {'shrd': 'x'} is not a name"),
        ("subscriptions = ['']", "subscriptions: a channel or pattern name cannot be empty"),
        ("profile = 'prod'", "no profile 'prod' in"),
        ("[keymap]\npause = ''", "[keymap] pause must be a string of keys"),
        ("profiles = 3", "[profiles] must be a table of tables"),
    ],
)
def test_each_mistake_is_one_line_naming_the_file(tmp_path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    line = str(caught.value)
    assert "\n" not in line and message in line and str(path) in line


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD))
    with pytest.raises(
        ConfigError, match=r"no profile 'stage' in .* \(profiles: ha, local, prod\)"
    ):
        config.profile("stage")
