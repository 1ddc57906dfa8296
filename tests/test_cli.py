"""The command line: parsing, and every error path as a user meets it (real processes)."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest

from rps_tui.cli import parse_args, parse_command
from rps_tui.cli.options import AUTH_WARNING
from rps_tui.core.connection.settings import UsageError, parse_url
from rps_tui.core.subscriptions import SENTINEL_EVENTS, Kind, Subscription
from tests.support.cli import one_line_error, run_cli


def test_positional_glob_is_pattern_and_flags_force_kind() -> None:
    opts = parse_args(["orders", "orders.*", "a?b", "x[12]", "--channel", "lit*", "--pattern", "p"])
    assert opts.subscriptions == [
        Subscription(Kind.CHANNEL, "orders"),
        Subscription(Kind.PATTERN, "orders.*"),
        Subscription(Kind.PATTERN, "a?b"),
        Subscription(Kind.PATTERN, "x[12]"),
        Subscription(Kind.CHANNEL, "lit*"),
        Subscription(Kind.PATTERN, "p"),
    ]


def test_connection_options_override_url_like_redis_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDISCLI_AUTH", "envsecret")
    opts = parse_args(["-u", "redis://alice:pw@db.example:7000/3", "-p", "7001", "-n", "4"])
    s = opts.settings
    assert (s.host, s.port, s.db, s.username, s.password) == ("db.example", 7001, 4, "alice", "pw")
    assert "pw" not in repr(s) and "pw" not in s.address
    assert parse_args([]).settings.password == "envsecret"  # $REDISCLI_AUTH fills a missing one
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.9:6390/2")
    assert parse_args([]).settings.address == "10.0.0.9:6390/2"
    assert parse_args(["-h", "h2", "-a", "x", "--user", "bob"]).settings.username == "bob"


def test_url_forms() -> None:
    assert parse_url("rediss://h:1/0").tls
    unix = parse_url("unix:///tmp/redis.sock?db=2")
    assert (unix.unix_path, unix.db) == ("/tmp/redis.sock", 2)
    assert parse_url("redis://secret@h").password == "secret"
    for bad in ("http://h", "redis://h:notaport", "redis://h/x", "localhost:6379", "unix://"):
        with pytest.raises(UsageError):
            parse_url(bad)


def test_history_and_demo_conflicts() -> None:
    assert parse_args(["--history", "5"]).history == 5
    assert parse_args([]).history_mb == 64
    assert parse_args(["--history-mb", "8"]).history_mb == 8
    for argv in (
        ["--history", "0"],
        ["--history", "many"],
        ["--history-mb", "0"],
        ["--history-mb", "lots"],
        ["--demo", "-p", "1"],
        ["--demo", "--embedded"],
        ["--cert", "/nonexistent"],
    ):
        with pytest.raises(UsageError):
            parse_args(argv)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--bogus"], 2, "unrecognized arguments: --bogus"),
        (["-u", "http://h"], 2, "unsupported URL scheme 'http'"),
        (["-u", "redis://h:99999"], 2, "port"),
        (["-p", "0"], 2, "out of range"),
        (["--history", "-3"], 2, "-3 must be from 1 to 10,000,000"),
        (["--history", "99999999999999999999"], 2, "must be from 1 to 10,000,000"),
        (["--history-mb", "-1"], 2, "-1 must be from 1 to 65,536"),
        (["--cert", "/nope.pem", "--key", "/nope.key"], 2, "no such file"),
        (
            ["-u", "redis://:hunter2@127.0.0.1:1/0", "--no-auth-warning"],
            1,
            "cannot connect to 127.0.0.1:1/0: connection refused",
        ),
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], code: int, needle: str) -> None:
    result = run_cli(*args)
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: ") and needle in lines[0]
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_wrong_password_exits_1(server_factory) -> None:
    srv = server_factory("valkey", extra_args=["--requirepass", "right-one"])
    result = run_cli("-u", srv.url, "-a", "wrong-one", "--no-auth-warning")
    assert result.returncode == 1
    assert "authentication failed" in result.stderr and "wrong-one" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv", [[], ["--user", "alice"], ["tail"]], ids=["default", "user", "tail"]
)
def test_missing_password_says_how_to_give_one(server_factory, argv: list[str]) -> None:
    """Not redis-py's 'HELLO must be called with the client already authenticated…'."""
    srv = server_factory("valkey", extra_args=["--requirepass", "right-one"])
    env = {k: v for k, v in os.environ.items() if k not in ("REDISCLI_AUTH", "REDIS_URL")}
    sub = ["x"] if argv == ["tail"] else []
    line = one_line_error(run_cli(*argv, "-u", srv.url, *sub, env=env), 1)
    assert srv.url.removeprefix("redis://") in line  # the address
    assert "use -a or $REDISCLI_AUTH" in line
    if "--user" not in argv:  # the default user: the server says NOAUTH to HELLO
        assert "the server requires a password" in line
    assert "HELLO" not in line, line


class NotRedis:
    """A loopback TCP server that answers like something else: an HTTP server replies to
    the first bytes it gets, an SSH server greets first."""

    def __init__(self, reply: bytes, greet: bool) -> None:
        self.reply, self.greet = reply, greet
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn:
                try:
                    if not self.greet:
                        conn.recv(4096)
                    conn.sendall(self.reply)
                    conn.recv(4096)  # and wait for the client to hang up
                except OSError:
                    pass


@pytest.mark.parametrize(
    ("reply", "greet"),
    [(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", False),
     (b"SSH-2.0-OpenSSH_9.2\r\n", True)],
    ids=["http", "ssh"],
)  # fmt: skip
def test_a_port_that_does_not_speak_redis(reply: bytes, greet: bool) -> None:
    """Not 'Protocol error, got "H" as reply type byte'."""
    other = NotRedis(reply, greet)
    try:
        line = one_line_error(run_cli("-p", str(other.port)), 1)
    finally:
        other.sock.close()
    assert line == (
        f"rps-tui: cannot talk to 127.0.0.1:{other.port}/0: "
        "that port does not speak the Redis protocol"
    )


def test_help_and_version() -> None:
    help_ = run_cli("--help")
    assert help_.returncode == 0 and "--pattern GLOB" in help_.stdout and "-h HOST" in help_.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("rps-tui ")


def test_sentinel_and_shard_options_parse() -> None:
    first, second = ["--sentinel", "10.0.0.1:26379"], ["--sentinel", "[::1]:26380"]
    shards = ["--shard", "orders", "--shard", "odd*"]
    opts = parse_args([*first, *second, "--master", "mymaster", *first, *shards, "-n", "2"])
    s = opts.settings
    assert s.sentinels == (("10.0.0.1", 26379), ("::1", 26380))  # duplicates dropped
    assert (s.master, s.db, s.mode, s.cluster) == ("mymaster", 2, "sentinel", False)
    assert s.address == "sentinel 10.0.0.1:26379 +1 master mymaster/2"
    # a sharded channel is a channel even with glob characters
    assert opts.subscriptions == [
        Subscription(Kind.SHARD, "orders"),
        Subscription(Kind.SHARD, "odd*"),
    ]
    cluster = parse_args(["--cluster", "-p", "7000"]).settings
    assert (cluster.cluster, cluster.sentinels, cluster.mode) == (True, (), "cluster")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--sentinel", "h:26379"], "--sentinel needs --master NAME"),
        (["--master", "mymaster"], "--master needs at least one --sentinel HOST:PORT"),
        (
            ["--cluster", "--sentinel", "h:26379", "--master", "m"],
            "--cluster and --sentinel do not go together",
        ),
        (["--sentinel", "h:26379", "--master", "m", "-h", "x"], "drop -h/-p"),
        (["--sentinel", "h:26379", "--master", "m", "-p", "6380"], "drop -h/-p"),
        (["--cluster", "-n", "3"], "a cluster has only database 0, not 3"),
        (["--cluster", "-u", "unix:///tmp/rps.sock"], "--cluster needs a host and port"),
        (["--demo", "--sentinel", "h:26379"], "--demo starts its own server; drop --sentinel"),
        (["--sentinel", "nohostport", "--master", "m"], "'nohostport' is not HOST:PORT"),
        (["--sentinel-pass", "x"], "--sentinel-pass goes with --sentinel"),
        (["--sentinel-events", "x"], "--sentinel-events goes with --sentinel HOST:PORT and"),
        (["--sentinel", "h:99999", "--master", "m"], "port 99999 is out of range"),
        (["--sentinel", "h:port", "--master", "m"], "port 'port' is not a number"),
    ],
)
def test_deployment_usage_errors(args: list[str], needle: str) -> None:
    with pytest.raises(UsageError, match=re.escape(needle)):
        parse_args(args)
    assert needle in one_line_error(run_cli(*args), 2)


def test_sentinel_events_are_one_more_subscription_on_the_sentinels() -> None:
    sentinel = ["--sentinel", "h:26379", "--master", "m", "--sentinel-events"]
    assert parse_args([*sentinel, "a.*"]).subscriptions == [
        Subscription.parse("a.*"),
        SENTINEL_EVENTS,
    ]
    tail = parse_command(["tail", *sentinel, "a"])
    assert tail.subscriptions == [Subscription.parse("a"), SENTINEL_EVENTS]
    with pytest.raises(UsageError, match="--sentinel-events goes with --sentinel"):
        parse_command(["tail", "-p", "1", "--sentinel-events", "a"])


def test_cluster_against_a_standalone_server(server) -> None:
    result = run_cli("--cluster", "-u", server.url, "cli.cluster")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == (
        f"rps-tui: {server.host}:{server.port} is not in cluster mode: drop --cluster"
    )


# --------------------------------------------------------------------------- subcommands


def test_subcommands_only_as_the_first_word() -> None:
    from rps_tui.cli import ReplayOptions, TailOptions, ViewOptions, parse_command

    tail = parse_command(["tail", "-p", "7000", "tail", "news.*", "--format", "text"])
    assert isinstance(tail, TailOptions) and tail.format == "text"
    assert tail.subscriptions == [  # after the subcommand, `tail` is just a channel
        Subscription(Kind.CHANNEL, "tail"),
        Subscription(Kind.PATTERN, "news.*"),
    ]
    assert tail.settings.port == 7000
    # the dashboard reaches channels named like a subcommand with --channel
    dash = parse_command(["--channel", "tail", "--channel", "replay", "--channel", "view"])
    assert [s.name for s in dash.subscriptions] == ["tail", "replay", "view"]
    assert all(s.kind is Kind.CHANNEL for s in dash.subscriptions)
    # ... and refuses them bare, where they look like a misplaced subcommand
    for argv in (["-p", "7000", "tail", "x"], ["orders", "view"], ["--", "replay"]):
        with pytest.raises(UsageError, match=r"is a subcommand and goes first .*--channel"):
            parse_command(argv)
    replay = parse_command(["replay", __file__, "--speed", "2.5", "--cluster", "-p", "7000"])
    assert isinstance(replay, ReplayOptions) and replay.speed == 2.5 and replay.settings.cluster
    assert parse_command(["replay", __file__, "--fast"]).fast  # type: ignore[union-attr]
    view = parse_command(["view", __file__, "--history", "50"])
    assert isinstance(view, ViewOptions) and (view.path, view.history) == (__file__, 50)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["tail"], "tail needs a SUBSCRIPTION"),
        (["tail", "x", "--demo"], "unrecognized arguments: --demo"),
        (["tail", "x", "--sentinel", "h:1"], "--sentinel needs --master NAME"),
        (["replay"], "the following arguments are required: FILE"),
        (["replay", "/nope.ndjson"], "/nope.ndjson: no such file"),
        (["replay", __file__, "--speed", "0"], "must be a positive number"),
        (["replay", __file__, "--speed", "fast"], "'fast' is not a number"),
        (["replay", __file__, "--fast", "--speed", "2"], "not allowed with argument"),
        (["view", "/nope.ndjson"], "/nope.ndjson: no such file"),
        (["--record", "/nonexistent-dir/x.ndjson"], "no such directory"),
        (["--record", "/"], "is a directory"),
        (["tail"], "(see rps-tui tail --help)"),
    ],
)
def test_subcommand_usage_errors(args: list[str], needle: str) -> None:
    assert needle in one_line_error(run_cli(*args), 2)


def test_record_option_is_kept(tmp_path) -> None:
    target = tmp_path / "out.ndjson"
    assert parse_args(["--record", str(target), "x"]).record == str(target)
    assert parse_args(["x"]).record is None


def test_subcommand_help_lists_the_shared_connection_options() -> None:
    for command, needle in (
        ("tail", "--format {ndjson,text}"),
        ("replay", "--speed N"),
        ("view", "FILE"),
    ):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and needle in result.stdout
        assert result.stdout.startswith(f"usage: rps-tui {command}")
        if command != "view":
            assert "-h HOST" in result.stdout and "--sentinel HOST:PORT" in result.stdout
    top = run_cli("--help").stdout
    assert "rps-tui tail [options] SUBSCRIPTION..." in top and "--channel tail" in top


def test_view_a_malformed_recording_is_one_line(tmp_path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"time": 1, "kind": "message"}\n')
    result = run_cli("view", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"rps-tui: {path}, line 1: missing field 'channel'"


@pytest.mark.parametrize(
    ("args", "env", "warned"),
    [
        (["tail", "-p", "1", "-a", "pw", "x"], {}, True),
        (["publish", "-u", "redis://u:pw@127.0.0.1:1", "x", "m"], {}, True),
        (["-p", "1", "-a", "pw", "--no-auth-warning", "x"], {}, False),
        (["tail", "-p", "1", "x"], {"REDISCLI_AUTH": "pw"}, False),
    ],
)
def test_a_password_in_the_arguments_is_warned_about_as_redis_cli_does(
    args: list[str], env: dict, warned: bool
) -> None:
    """A password in argv is in the process list; $REDISCLI_AUTH is not."""
    result = run_cli(*args, env={**os.environ, **env})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "connection refused" in lines[-1]
    assert lines[:-1] == ([AUTH_WARNING] if warned else [])
    assert "pw" not in "".join(lines).replace("ps, /proc", "")
