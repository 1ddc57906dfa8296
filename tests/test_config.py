"""The config file: parsing and its one-line errors (the CLI and app use are tested with
them in test_cli.py and test_app.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rps_tui.cli import TailOptions, ViewOptions, parse_command
from rps_tui.core.config import ConfigError, load
from rps_tui.core.connection.settings import UsageError
from rps_tui.core.subscriptions import Kind, Subscription
from tests.support.cli import run_cli

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


def test_history_mb_from_the_file_and_the_command_line(tmp_path, monkeypatch) -> None:
    from rps_tui.cli import parse_args

    path = write(tmp_path, "history_mb = 16\n[profiles.big]\nhistory_mb = 128")
    assert load(path).history_mb == 16
    assert parse_args(["--config", str(path)]).history_mb == 16
    assert parse_args(["--config", str(path), "--profile", "big"]).history_mb == 128
    assert parse_args(["--config", str(path), "--history-mb", "2"]).history_mb == 2
    with pytest.raises(ConfigError, match="history_mb must be a positive number"):
        load(write(tmp_path, "history_mb = 0"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("history = ", "Invalid value"),
        ("histroy = 5", "unknown key 'histroy'"),
        ("history = '5'", "history must be a whole number"),
        ("history = 0", "history must be a positive number"),
        ("history = 99999999999999", "history must be at most 10,000,000"),
        ("history_mb = 100000", "history_mb must be at most 65,536"),
        ("[profiles.x]\nport = 70000", "[profiles.x] port must be at most 65,535"),
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


# --------------------------------------------------------------------------- the CLI


PROFILES = """
history = 777
subscriptions = ["default.*"]

[profiles.a]
url = "redis://10.1.1.1:7000/3"
user = "reader"
password = "pw-a"
subscriptions = ["from.profile", { shard = "cart{1}" }]
history = 555

[profiles.ha]
sentinels = ["10.0.0.9:26379"]
master = "mymaster"

[profiles.cl]
host = "10.2.2.2"
port = 7001
cluster = true
"""


def test_a_profile_fills_what_the_command_line_leaves_out(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("RPS_TUI_CONFIG", str(write(tmp_path, PROFILES)))
    opts = parse_command(["--profile", "a"])
    s = opts.settings
    assert (s.host, s.port, s.db, s.username, s.password) == ("10.1.1.1", 7000, 3, "reader", "pw-a")
    assert opts.history == 555
    assert opts.subscriptions == [
        Subscription(Kind.CHANNEL, "from.profile"),
        Subscription(Kind.SHARD, "cart{1}"),
    ]
    # the command line wins, option by option
    opts = parse_command(["--profile", "a", "-p", "7100", "-n", "0", "--history", "9", "x"])
    assert (opts.settings.host, opts.settings.port, opts.settings.db) == ("10.1.1.1", 7100, 0)
    assert opts.history == 9 and opts.subscriptions == [Subscription(Kind.CHANNEL, "x")]
    # no profile: the file's defaults
    opts = parse_command([])
    assert opts.history == 777 and opts.subscriptions == [Subscription(Kind.PATTERN, "default.*")]
    assert (opts.settings.host, opts.settings.port) == ("127.0.0.1", 6379)
    ha = parse_command(["--profile", "ha"]).settings
    assert ha.sentinels == (("10.0.0.9", 26379),) and ha.master == "mymaster"
    cl = parse_command(["--profile", "cl"]).settings
    assert cl.cluster and (cl.host, cl.port) == ("10.2.2.2", 7001)
    tail = parse_command(["tail", "--profile", "a"])
    assert isinstance(tail, TailOptions) and tail.settings.port == 7000
    assert tail.subscriptions[0] == Subscription(Kind.CHANNEL, "from.profile")


def test_config_mistakes_are_usage_errors(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RPS_TUI_CONFIG", str(write(tmp_path, PROFILES)))
    with pytest.raises(UsageError, match=r"no profile 'b' in .*\(profiles: a, cl, ha\)"):
        parse_command(["--profile", "b"])
    with pytest.raises(UsageError, match="--demo starts its own server; drop --profile"):
        parse_command(["--demo", "--profile", "a"])
    bad_theme = write(tmp_path, 'theme = "no-such-theme"')
    with pytest.raises(UsageError, match=r"theme 'no-such-theme' is not a theme \(themes: "):
        parse_command(["--config", str(bad_theme)])
    bad_key = write(tmp_path, '[keymap]\npasue = "space"')
    with pytest.raises(UsageError, match=r"\[keymap\] no binding with id 'pasue'"):
        parse_command(["--config", str(bad_key)])
    good = write(tmp_path, 'theme = "nord"\n[keymap]\npause = "space"')
    opts = parse_command(["--config", str(good), "x"])
    assert (opts.theme, opts.keymap) == ("nord", {"pause": "space"})
    recording = tmp_path / "r.ndjson"
    recording.write_text("")
    view = parse_command(["view", str(recording), "--config", str(good)])
    assert isinstance(view, ViewOptions) and view.theme == "nord"


def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path) -> None:
    path = write(tmp_path, "history = 'lots'")
    result = run_cli("--config", str(path), "x")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"rps-tui: {path}: history must be a whole number (see --help)"
    ]


@pytest.mark.parametrize(
    ("keymap", "said"),
    [
        ('pause = "s"', "'s' is bound to both pause and subscribe in the dashboard"),
        ('pause = "q"', "'q' is bound to both pause and quit in the dashboard"),
        ('decoder = "2"', "'2' is bound to both decoder and jump2 in the dashboard"),
        ('"keyspace.enable" = "escape"', "'Esc' is bound to both keyspace.enable and "
         "keyspace.close in the keyspace screen"),
        ('"detail.diff" = "m"', "'m' is bound to both detail.diff and detail.decoder in the "
         "detail view"),
        # the tree's own s (subscribe to a branch) wins while the tree has the focus
        ('pause = "s"\nsubscribe = "w"', "'s' is bound to both pause and tree.subscribe in "
         "the channel tree"),
        # S shows the sentinels' events (hidden without sentinels, but bound)
        ('subscribe = "S"', "'S' is bound to both subscribe and sentinel_events in the "
         "dashboard"),
        # e exports the channel statistics while the table has the focus
        ('pause = "e"', "'e' is bound to both pause and channels.export in the channel "
         "table"),
        # y copies the payload under the pane's cursor
        ('pause = "y"', "'y' is bound to both pause and pane.copy in the dashboard"),
    ],
)  # fmt: skip
def test_a_key_bound_twice_is_refused_naming_both(tmp_path, keymap: str, said: str) -> None:
    """Textual would drop the other binding quietly (`pause = "s"` leaves Subscribe on no
    key); the CLI refuses it in one line, exit 2."""
    from tests.support.cli import one_line_error, run_cli

    path = write(tmp_path, f"[keymap]\n{keymap}")
    with pytest.raises(UsageError) as caught:
        parse_command(["--config", str(path), "x"])
    assert str(caught.value) == f"{path}: [keymap] {said}"
    line = one_line_error(run_cli("--config", str(path), "x"), 2)
    assert line.startswith(f"rps-tui: {caught.value}")


@pytest.mark.parametrize(
    "keymap",
    [
        'pause = "s"\nsubscribe = "w"\n"tree.subscribe" = "w"',  # swapped out of the way
        'pause = "d"',  # d diffs in the detail view, another screen
        'help = "question_mark,f2"',  # ? also closes the help screen, as by default
        '"detail.decoder" = "x"',  # x unsubscribes on the dashboard: another screen
    ],
)
def test_keys_shared_across_screens_or_by_default_are_fine(tmp_path, keymap: str) -> None:
    path = write(tmp_path, f"[keymap]\n{keymap}")
    assert parse_command(["--config", str(path), "x"]).keymap


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/dev/zero", "larger than 1 MiB, so not a config file"),  # read 2.7 GB in 5 s before
        (sys.executable, "not UTF-8 text"),
        ("/", "Is a directory"),
    ],
)
def test_a_file_that_is_no_config_is_one_line_and_read_bounded(path: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"config file {path}: {said}"
