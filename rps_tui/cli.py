"""Command line: redis-cli's connection options, subscriptions, and the embedded modes.

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

from rps_tui import __version__
from rps_tui.core.commands import ConnectError, ServerInfo, probe
from rps_tui.core.settings import ConnectionSettings, UsageError, from_environment, parse_url
from rps_tui.core.store import DEFAULT_HISTORY
from rps_tui.core.subscriptions import InvalidSubscription, Kind, Subscription

PROG = "rps-tui"
EXIT_OK, EXIT_CONNECT, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
A live dashboard for Redis Pub/Sub. A SUBSCRIPTION containing *, ? or [ is a glob pattern
(PSUBSCRIBE), anything else a channel (SUBSCRIBE); --channel and --pattern force either.
With no subscription, a dialog lists the server's active channels to pick from."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "subscriptions",
        nargs="*",
        metavar="SUBSCRIPTION",
        help="channel or glob pattern to subscribe to",
    )
    conn = parser.add_argument_group("connection (as in redis-cli)")
    conn.add_argument(
        "-u",
        "--url",
        help="redis://, rediss:// or unix:// URL "
        "(default: $REDIS_URL, else redis://127.0.0.1:6379/0)",
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
    subs = parser.add_argument_group("subscriptions")
    subs.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="NAME",
        help="subscribe to a channel, even if its name has glob characters",
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
    other.add_argument(
        "--history",
        type=_positive,
        default=DEFAULT_HISTORY,
        metavar="N",
        help=f"messages kept per subscription (default {DEFAULT_HISTORY:,})",
    )
    other.add_argument("--help", action="help", help="show this help and exit")
    other.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


@dataclass
class Options:
    settings: ConnectionSettings
    subscriptions: list[Subscription] = field(default_factory=list)
    history: int = DEFAULT_HISTORY
    demo: bool = False
    embedded: bool = False


CONNECTION_FLAGS = (
    "url", "host", "port", "db", "user", "password", "cacert", "cert", "key", "master",
    "sentinel_pass",
)  # fmt: skip


def parse_args(argv: Sequence[str]) -> Options:
    """Options from the command line; raises UsageError with a one-line message."""
    args = build_parser().parse_args(list(argv))
    if args.demo or args.embedded:
        given = [f for f in CONNECTION_FLAGS if getattr(args, f) is not None] + [
            flag for flag in ("tls", "cluster", "sentinel") if getattr(args, flag)
        ]
        if given:
            mode = "--demo" if args.demo else "--embedded"
            raise UsageError(f"{mode} starts its own server; drop --{given[0]}")
        settings = ConnectionSettings()
    else:
        settings = from_environment(args.url).with_overrides(
            host=args.host,
            port=args.port,
            db=args.db,
            username=args.user,
            password=args.password,
            tls=args.tls,
            cacert=args.cacert,
            cert=args.cert,
            key=args.key,
            insecure=args.insecure,
        )
        settings = _deployment(settings, args)
    try:
        subs = [Subscription.parse(s) for s in args.subscriptions]
        subs += [Subscription.parse(s, Kind.CHANNEL) for s in args.channel]
        subs += [Subscription.parse(s, Kind.PATTERN) for s in args.pattern]
        subs += [Subscription.parse(s, Kind.SHARD) for s in args.shard]
    except InvalidSubscription as exc:
        raise UsageError(str(exc)) from None
    unique = list(dict.fromkeys(subs))
    return Options(settings, unique, args.history, args.demo, args.embedded)


def _deployment(settings: ConnectionSettings, args: argparse.Namespace) -> ConnectionSettings:
    """--cluster, or --sentinel with --master, checked against the rest of the options."""
    if args.sentinel_pass and not args.sentinel:
        raise UsageError("--sentinel-pass goes with --sentinel")
    if args.sentinel or args.master:
        if not args.master:
            raise UsageError("--sentinel needs --master NAME (the name the sentinels monitor)")
        if not args.sentinel:
            raise UsageError("--master needs at least one --sentinel HOST:PORT")
        if args.cluster:
            raise UsageError("--cluster and --sentinel do not go together")
        if args.host is not None or args.port is not None:
            raise UsageError("--sentinel finds the master itself; drop -h/-p")
        return replace(
            settings,
            sentinels=tuple(dict.fromkeys(args.sentinel)),
            master=args.master,
            sentinel_password=args.sentinel_pass or os.environ.get("REDISCLI_SENTINEL_AUTH"),
        )
    if args.cluster:
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
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        return _fail(f"{exc} (see --help)", EXIT_USAGE)
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    try:
        return run(options)
    except ConnectError as exc:
        return _fail(str(exc), EXIT_CONNECT)
    except KeyboardInterrupt:
        return 130


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


def run(options: Options) -> int:
    """Start the embedded server if asked, check the connection, then open the screen."""
    from rps_tui.core.demo import DEMO_PATTERNS, DemoTraffic
    from rps_tui.core.server import ServerError, start_server

    server = traffic = None
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

        app = RpsApp(
            AppConfig(
                settings=options.settings,
                subscriptions=options.subscriptions,
                history=options.history,
                server_label=info.label + (" via Sentinel" if options.settings.sentinels else ""),
                note=note,
            )
        )
        previous = signal.signal(signal.SIGTERM, lambda *_: app.exit(EXIT_OK))
        try:
            result = app.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
        return EXIT_OK if result is None else int(result)
    finally:
        if traffic is not None:
            traffic.stop()
        if server is not None:
            server.stop()
