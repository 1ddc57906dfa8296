"""Command line: redis-cli's connection options, subscriptions, and the embedded modes;
the subcommands `tail`, `replay` and `view`.

A subcommand is chosen by the first word only (`rps-tui tail ...`). As a dashboard
SUBSCRIPTION the bare words tail, replay and view are refused with a hint, since they look
like a misplaced subcommand; `--channel tail` subscribes to a channel of that name.

Exit codes: 0 after `q`, 1 when the server cannot be reached or refuses the login,
2 for a usage error (unknown option, malformed URL). Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rps_tui import __version__
from rps_tui.core.commands import ConnectError, ServerInfo, probe
from rps_tui.core.config import Config, ConfigError
from rps_tui.core.config import default_path as default_config_path
from rps_tui.core.config import load as load_config_file
from rps_tui.core.settings import ConnectionSettings, UsageError, from_environment, parse_url
from rps_tui.core.store import DEFAULT_HISTORY
from rps_tui.core.subscriptions import InvalidSubscription, Kind, Subscription

if TYPE_CHECKING:
    from rps_tui.core.record import Recorder
    from rps_tui.ui.app import RpsApp

PROG = "rps-tui"
EXIT_OK, EXIT_CONNECT, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SUBCOMMANDS = ("tail", "replay", "view")

DESCRIPTION = """\
A live dashboard for Redis Pub/Sub. A SUBSCRIPTION containing *, ? or [ is a glob pattern
(PSUBSCRIBE), anything else a channel (SUBSCRIBE); --channel and --pattern force either.
With no subscription, a dialog lists the server's active channels to pick from.

Subcommands, when given as the first word (each has its own --help):
  rps-tui tail [options] SUBSCRIPTION...   print messages as NDJSON (or text) to stdout
  rps-tui replay FILE [options]            publish a recording again, at its pace
  rps-tui view FILE                        browse a recording offline
A channel named tail, replay or view: --channel tail."""

TAIL_DESCRIPTION = """\
Print every message as one line on stdout: NDJSON (the --record format) or, with
--format text, `time channel payload` with control characters escaped. Reconnects like
the dashboard and prints a gap record when it was not listening. Ends on Ctrl-C (exit
130), SIGTERM (0) or when the reader of its pipe goes away (0). Diagnostics go to stderr."""

REPLAY_DESCRIPTION = """\
Publish a recording (NDJSON, as written by --record or tail) again: PUBLISH for message
and pmessage records, SPUBLISH for smessage, gap records skipped; bytes and order intact.
At the recorded pace by default, N times faster with --speed N, or at once with --fast.
Nothing is retried (a retried PUBLISH could deliver twice): the first error stops it."""

VIEW_DESCRIPTION = """\
Open a recording in the dashboard without a server: one subscription per recorded
channel, pattern and sharded channel, with the counts and statistics of the recording."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line and exits 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {text!r} is not a number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port {value} is out of range (1-65535)")
    return value


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), _port(port)


def _db(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"database {text!r} is not a number")
    return int(text)


def _parser(prog: str, description: str, usage: str | None = None) -> _Parser:
    return _Parser(
        prog=prog,
        usage=usage,
        description=description,
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """redis-cli's connection options, and the cluster / Sentinel ones (every command)."""
    conn = parser.add_argument_group("connection (as in redis-cli)")
    conn.add_argument(
        "-u",
        "--url",
        help="redis://, rediss:// or unix:// URL "
        "(default: $REDIS_URL, else redis://127.0.0.1:6379/0)",
    )
    conn.add_argument(
        "--profile",
        metavar="NAME",
        help="a connection profile from the config file (options given here win)",
    )
    conn.add_argument(
        "--config",
        metavar="FILE",
        help=f"the config file (default: $RPS_TUI_CONFIG, else {default_config_path()})",
    )
    conn.add_argument("-h", "--host", help="server host (overrides the URL)")
    conn.add_argument("-p", "--port", type=_port, help="server port")
    conn.add_argument("-n", dest="db", type=_db, metavar="DB", help="database number")
    conn.add_argument("--user", help="ACL username")
    conn.add_argument(
        "-a",
        "--pass",
        dest="password",
        metavar="PASSWORD",
        help="password (or set $REDISCLI_AUTH, which stays out of `ps`)",
    )
    conn.add_argument("--tls", action="store_true", help="connect with TLS")
    conn.add_argument("--cacert", help="CA certificate file to verify the server")
    conn.add_argument("--cert", help="client certificate file")
    conn.add_argument("--key", help="client private key file")
    conn.add_argument(
        "--insecure", action="store_true", help="do not verify the server certificate"
    )
    scale = parser.add_argument_group("cluster and Sentinel")
    scale.add_argument(
        "--cluster",
        action="store_true",
        help="the server is a cluster node: listen to every node that matters "
        "(detected by itself from INFO)",
    )
    scale.add_argument(
        "--sentinel",
        action="append",
        default=[],
        type=_host_port,
        metavar="HOST:PORT",
        help="ask this sentinel where the master is (repeatable); needs --master",
    )
    scale.add_argument("--master", metavar="NAME", help="the master's name in Sentinel")
    scale.add_argument(
        "--sentinel-pass",
        metavar="PASSWORD",
        help="the sentinels' own password, if they have one (or set $REDISCLI_SENTINEL_AUTH)",
    )


def add_subscription_positional(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "subscriptions",
        nargs="*",
        metavar="SUBSCRIPTION",
        help="channel or glob pattern to subscribe to",
    )


def add_subscription_options(parser: argparse.ArgumentParser) -> None:
    """--channel / --pattern / --shard (dashboard and tail)."""
    subs = parser.add_argument_group("subscriptions")
    subs.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="NAME",
        help="subscribe to a channel, even if its name has glob characters "
        "(or is tail, replay or view)",
    )
    subs.add_argument(
        "--pattern", action="append", default=[], metavar="GLOB", help="subscribe to a glob pattern"
    )
    subs.add_argument(
        "--shard",
        action="append",
        default=[],
        metavar="NAME",
        help="subscribe to a sharded channel (SSUBSCRIBE, Redis 7+)",
    )


def _add_help(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--help", action="help", help="show this help and exit")
    group.add_argument("--version", action="version", version=f"{PROG} {__version__}")


def _add_history(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--history",
        type=_positive,
        metavar="N",
        help=f"messages kept per subscription (default: the config file's, else "
        f"{DEFAULT_HISTORY:,})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The dashboard's parser."""
    parser = _parser(PROG, DESCRIPTION)
    add_subscription_positional(parser)
    add_connection_options(parser)
    add_subscription_options(parser)
    mode = parser.add_argument_group("embedded server").add_mutually_exclusive_group()
    mode.add_argument(
        "--demo",
        action="store_true",
        help="start an embedded Valkey with demo traffic and watch it",
    )
    mode.add_argument(
        "--embedded",
        action="store_true",
        help="start an embedded Valkey without traffic (its address is in the header)",
    )
    other = parser.add_argument_group("other")
    _add_history(other)
    other.add_argument(
        "--record",
        metavar="FILE",
        help="record every message to FILE as NDJSON (see rps-tui replay --help)",
    )
    _add_help(other)
    return parser


def build_tail_parser() -> argparse.ArgumentParser:
    parser = _parser(f"{PROG} tail", TAIL_DESCRIPTION)
    add_subscription_positional(parser)
    add_connection_options(parser)
    add_subscription_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=("ndjson", "text"),
        default="ndjson",
        help="ndjson (default): one JSON object per message; text: time channel payload",
    )
    _add_help(out)
    return parser


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed {text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"speed {text} must be a positive number")
    return value


def build_replay_parser() -> argparse.ArgumentParser:
    parser = _parser(f"{PROG} replay", REPLAY_DESCRIPTION)
    parser.add_argument("file", metavar="FILE", help="an NDJSON recording")
    add_connection_options(parser)
    pace = parser.add_argument_group("pace").add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="N",
        help="N times the recorded pace (default 1; 0.5 is half speed)",
    )
    pace.add_argument(
        "--fast", action="store_true", help="as fast as possible (pipelined), still in order"
    )
    _add_help(parser.add_argument_group("other"))
    return parser


def build_view_parser() -> argparse.ArgumentParser:
    parser = _parser(f"{PROG} view", VIEW_DESCRIPTION)
    parser.add_argument("file", metavar="FILE", help="an NDJSON recording")
    other = parser.add_argument_group("other")
    other.add_argument("--config", metavar="FILE", help="the config file (theme, keymap)")
    _add_history(other)
    _add_help(other)
    return parser


@dataclass
class Options:
    settings: ConnectionSettings
    subscriptions: list[Subscription] = field(default_factory=list)
    history: int = DEFAULT_HISTORY
    demo: bool = False
    embedded: bool = False
    record: str | None = None  # --record FILE
    theme: str | None = None  # from the config file
    keymap: dict[str, str] = field(default_factory=dict)  # from the config file


@dataclass
class TailOptions:
    settings: ConnectionSettings
    subscriptions: list[Subscription]
    format: str = "ndjson"


@dataclass
class ReplayOptions:
    path: str
    settings: ConnectionSettings
    speed: float = 1.0
    fast: bool = False


@dataclass
class ViewOptions:
    path: str
    history: int = DEFAULT_HISTORY
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)


AnyOptions = Options | TailOptions | ReplayOptions | ViewOptions

CONNECTION_FLAGS = (
    "url", "host", "port", "db", "user", "password", "cacert", "cert", "key", "master",
    "sentinel_pass", "profile",
)  # fmt: skip


def load_config(args: argparse.Namespace) -> Config:
    try:
        return load_config_file(getattr(args, "config", None))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _profile(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    try:
        chosen = config.profile(getattr(args, "profile", None))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return chosen.values if chosen is not None else {}


def settings_from_args(
    args: argparse.Namespace, config: Config | None = None
) -> ConnectionSettings:
    """The profile's URL (else $REDIS_URL) and $REDISCLI_AUTH, then the profile's options,
    then the command line's on top (as redis-cli does: options win)."""
    config = config if config is not None else load_config(args)
    p = _profile(args, config)

    def pick(name: str, key: str | None = None) -> Any:
        given = getattr(args, name)
        return given if given is not None else p.get(key or name)

    settings = from_environment(pick("url")).with_overrides(
        host=pick("host"),
        port=pick("port"),
        db=pick("db"),
        username=pick("user"),
        password=pick("password"),
        tls=args.tls or p.get("tls", False),
        cacert=pick("cacert"),
        cert=pick("cert"),
        key=pick("key"),
        insecure=args.insecure or p.get("insecure", False),
    )
    return _deployment(
        settings,
        sentinels=args.sentinel or p.get("sentinels", []),
        master=pick("master"),
        sentinel_pass=pick("sentinel_pass", "sentinel_password"),
        cluster=args.cluster or p.get("cluster", False),
        host_given=args.host is not None or args.port is not None,
    )


def subscriptions_from_args(
    args: argparse.Namespace, *, dashboard: bool = False
) -> list[Subscription]:
    """Positional subscriptions, then --channel, --pattern, --shard; duplicates dropped."""
    if dashboard:
        for name in args.subscriptions:
            if name in SUBCOMMANDS:
                raise UsageError(
                    f"{name!r} is a subcommand and goes first ({PROG} {name} ...); "
                    f"to subscribe to a channel called {name}, use --channel {name}"
                )
    try:
        subs = [Subscription.parse(s) for s in args.subscriptions]
        subs += [Subscription.parse(s, Kind.CHANNEL) for s in args.channel]
        subs += [Subscription.parse(s, Kind.PATTERN) for s in args.pattern]
        subs += [Subscription.parse(s, Kind.SHARD) for s in args.shard]
    except InvalidSubscription as exc:
        raise UsageError(str(exc)) from None
    return list(dict.fromkeys(subs))


def _readable_file(path: str) -> str:
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    return path


def _writable_path(path: str) -> str:
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--record {path}: is a directory")
    if not target.absolute().parent.is_dir():
        raise UsageError(f"--record {path}: no such directory")
    return path


def parse_args(argv: Sequence[str]) -> Options:
    """The dashboard's options; raises UsageError with a one-line message."""
    args = build_parser().parse_args(list(argv))
    if args.demo or args.embedded:
        given = [f for f in CONNECTION_FLAGS if getattr(args, f) is not None] + [
            flag for flag in ("tls", "cluster", "sentinel") if getattr(args, flag)
        ]
        if given:
            mode = "--demo" if args.demo else "--embedded"
            raise UsageError(f"{mode} starts its own server; drop --{given[0]}")
        settings = ConnectionSettings()
        config = load_config(args)
        profile: dict[str, Any] = {}
    else:
        config = load_config(args)
        profile = _profile(args, config)
        settings = settings_from_args(args, config)
    subs = subscriptions_from_args(args, dashboard=True) or _default_subscriptions(args, config)
    record = _writable_path(args.record) if args.record else None
    history = args.history or profile.get("history") or config.history or DEFAULT_HISTORY
    theme, keymap = _look(config)
    return Options(settings, subs, history, args.demo, args.embedded, record, theme, keymap)


def _default_subscriptions(args: argparse.Namespace, config: Config) -> list[Subscription]:
    """None on the command line: the profile's, else the config file's."""
    try:
        chosen = config.profile(getattr(args, "profile", None))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if chosen is not None and chosen.subscriptions:
        return list(chosen.subscriptions)
    return list(config.subscriptions)


def _look(config: Config) -> tuple[str | None, dict[str, str]]:
    """The config's theme and keymap, checked against what the app has (so a typo is an
    error, not silently ignored as Textual would)."""
    if config.theme is None and not config.keymap:
        return None, {}
    from rps_tui.ui.keymap import themes, unknown_ids

    if config.theme is not None and config.theme not in themes():
        raise UsageError(
            f"{config.path}: theme {config.theme!r} is not a theme (themes: {', '.join(themes())})"
        )
    unknown = unknown_ids(config.keymap)
    if unknown:
        raise UsageError(
            f"{config.path}: [keymap] no binding with id {unknown[0]!r} "
            "(the ids are listed in the README's Keys section)"
        )
    return config.theme, dict(config.keymap)


def parse_command(argv: Sequence[str]) -> AnyOptions:
    """A subcommand's options when the first word names one, else the dashboard's."""
    argv = list(argv)
    command = argv[0] if argv else None
    if command == "tail":
        args = build_tail_parser().parse_args(argv[1:])
        config = load_config(args)
        subs = subscriptions_from_args(args) or _default_subscriptions(args, config)
        if not subs:
            raise UsageError("tail needs a SUBSCRIPTION (or --channel, --pattern, --shard)")
        return TailOptions(settings_from_args(args, config), subs, args.format)
    if command == "replay":
        args = build_replay_parser().parse_args(argv[1:])
        path = _readable_file(args.file)
        return ReplayOptions(path, settings_from_args(args), args.speed, args.fast)
    if command == "view":
        args = build_view_parser().parse_args(argv[1:])
        config = load_config(args)
        theme, keymap = _look(config)
        history = args.history or config.history or DEFAULT_HISTORY
        return ViewOptions(_readable_file(args.file), history, theme, keymap)
    return parse_args(argv)


def _deployment(
    settings: ConnectionSettings,
    *,
    sentinels: list[tuple[str, int]],
    master: str | None,
    sentinel_pass: str | None,
    cluster: bool,
    host_given: bool,
) -> ConnectionSettings:
    """--cluster, or --sentinel with --master, checked against the rest of the options."""
    if sentinel_pass and not sentinels:
        raise UsageError("--sentinel-pass goes with --sentinel")
    if sentinels or master:
        if not master:
            raise UsageError("--sentinel needs --master NAME (the name the sentinels monitor)")
        if not sentinels:
            raise UsageError("--master needs at least one --sentinel HOST:PORT")
        if cluster:
            raise UsageError("--cluster and --sentinel do not go together")
        if host_given:
            raise UsageError("--sentinel finds the master itself; drop -h/-p")
        return replace(
            settings,
            sentinels=tuple(dict.fromkeys(tuple(s) for s in sentinels)),
            master=master,
            sentinel_password=sentinel_pass or os.environ.get("REDISCLI_SENTINEL_AUTH"),
        )
    if cluster:
        if settings.unix_path:
            raise UsageError("--cluster needs a host and port, not a unix socket")
        if settings.db:
            raise UsageError(f"a cluster has only database 0, not {settings.db}")
        return replace(settings, cluster=True)
    return settings


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    see = f"{PROG} {command} --help" if command else "--help"
    try:
        options = parse_command(argv)
    except UsageError as exc:
        return _fail(f"{exc} (see {see})", EXIT_USAGE)
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    try:
        if isinstance(options, TailOptions):
            return run_tail(options)
        if isinstance(options, ReplayOptions):
            return run_replay(options)
        if isinstance(options, ViewOptions):
            return view(options)
        return run(options)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ConnectError as exc:
        return _fail(str(exc), EXIT_CONNECT)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def adopt_mode(
    settings: ConnectionSettings, info: ServerInfo, note: str
) -> tuple[ConnectionSettings, str]:
    """Check the options against what the server says it is; a cluster node given without
    --cluster is taken as the cluster."""
    if info.mode == "sentinel" and not settings.sentinels:
        masters = ", ".join(info.masters) or "none"
        raise ConnectError(
            f"{settings.address} is a Sentinel, not a data server: use --sentinel "
            f"{settings.node} --master NAME (it monitors: {masters})"
        )
    if info.mode == "cluster" and not settings.cluster:
        if settings.db:
            raise ConnectError(
                f"{settings.address} is a cluster node: a cluster has only database 0"
            )
        return replace(settings, cluster=True), note or "cluster mode detected"
    if settings.cluster and info.mode != "cluster":
        raise ConnectError(f"{settings.node} is not in cluster mode: drop --cluster")
    return settings, note


def _run_app(app: RpsApp) -> int:
    previous = signal.signal(signal.SIGTERM, lambda *_: app.exit(EXIT_OK))
    try:
        result = app.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK if result is None else int(result)


def _open_recorder(path: str) -> Recorder:
    from rps_tui.core.record import Recorder

    try:
        return Recorder(path)
    except OSError as exc:
        raise UsageError(f"--record {path}: {exc.strerror or exc}") from None


def _close_recorder(recorder: Recorder) -> None:
    recorder.close()
    if recorder.error:
        print(f"{PROG}: {recorder.error}", file=sys.stderr)
    else:
        print(f"{PROG}: recorded {recorder.lines:,} lines to {recorder.path}", file=sys.stderr)


def run(options: Options) -> int:
    """Start the embedded server if asked, check the connection, then open the screen."""
    from rps_tui.core.demo import DEMO_PATTERNS, DemoTraffic
    from rps_tui.core.server import ServerError, start_server

    server = traffic = recorder = None
    note = ""
    try:
        if options.demo or options.embedded:
            try:
                server = start_server("valkey")
            except ServerError as exc:
                raise ConnectError(f"could not start the embedded server: {exc}") from None
            options.settings = parse_url(server.url)
            note = "embedded Valkey"
            if options.demo:
                traffic = DemoTraffic(server.url)
                traffic.start()
                note = "demo: embedded Valkey with demo traffic"
                if not options.subscriptions:
                    options.subscriptions = [Subscription.parse(p) for p in DEMO_PATTERNS]
        info = probe(options.settings)
        options.settings, note = adopt_mode(options.settings, info, note)
        from rps_tui.ui.app import AppConfig, RpsApp

        if options.record:
            recorder = _open_recorder(options.record)
        app = RpsApp(
            AppConfig(
                settings=options.settings,
                subscriptions=options.subscriptions,
                history=options.history,
                server_label=info.label + (" via Sentinel" if options.settings.sentinels else ""),
                note=note,
                theme=options.theme,
                keymap=options.keymap,
                recorder=recorder,
                record_path=options.record,
            )
        )
        return _run_app(app)
    finally:
        if recorder is not None:
            _close_recorder(recorder)
        if traffic is not None:
            traffic.stop()
        if server is not None:
            server.stop()


def run_tail(options: TailOptions) -> int:
    """Check the connection (one line and exit 1 if it fails), then tail until stopped."""
    from rps_tui.core.tail import tail

    settings, _ = adopt_mode(options.settings, probe(options.settings), "")
    return tail(settings, options.subscriptions, fmt=options.format)


def run_replay(options: ReplayOptions) -> int:
    """Check the connection, publish the recording, and say what was done on stderr."""
    from rps_tui.core.replay import ReplayError, replay

    settings, _ = adopt_mode(options.settings, probe(options.settings), "")
    try:
        result = replay(options.path, settings, speed=options.speed, fast=options.fast)
    except ReplayError as exc:
        return _fail(str(exc), EXIT_CONNECT)
    print(f"{PROG}: {result.summary()} to {settings.address}", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def view(options: ViewOptions) -> int:
    """Open a recording in the dashboard, offline (no server, nothing to connect to)."""
    from rps_tui.core.offline import OfflineEngine, load_recording
    from rps_tui.core.record import RecordError
    from rps_tui.core.store import Store

    path, history = options.path, options.history
    store = Store(history=history)
    try:
        result = load_recording(path, store)
    except RecordError as exc:
        return _fail(str(exc), EXIT_CONNECT)
    if result.first is None:
        return _fail(f"{path}: no records in it", EXIT_CONNECT)
    engine = OfflineEngine(store, path, result)
    from rps_tui.ui.app import AppConfig, RpsApp

    config = AppConfig(
        settings=ConnectionSettings(),
        subscriptions=engine.subscriptions,
        history=history,
        server_label="recording",
        monitor=False,  # no server: no PING, NUMSUB or CLIENT LIST
        engine=engine,
        theme=options.theme,
        keymap=options.keymap,
    )
    return _run_app(RpsApp(config))
