"""From parsed arguments to options: settings (URL, environment, profile, command line, in
that order of strength), subscriptions, the config file's look, and each command's options.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rps_tui.cli.parsers import (
    PROG,
    SUBCOMMANDS,
    build_parser,
    build_replay_parser,
    build_tail_parser,
    build_view_parser,
)
from rps_tui.core.config import Config, ConfigError
from rps_tui.core.config import load as load_config_file
from rps_tui.core.connection.settings import ConnectionSettings, UsageError, from_environment
from rps_tui.core.store import DEFAULT_HISTORY, DEFAULT_MAX_BYTES, MIB
from rps_tui.core.subscriptions import SENTINEL_EVENTS, InvalidSubscription, Kind, Subscription

if TYPE_CHECKING:
    from rps_tui.cli.bench import BenchOptions
    from rps_tui.cli.publish import PublishOptions
    from rps_tui.cli.serve import ServeOptions


@dataclass
class Target:
    """One more server to watch (the dashboard and tail take several)."""

    label: str
    settings: ConnectionSettings
    subscriptions: list[Subscription]


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
    history_mb: int = DEFAULT_MAX_BYTES // MIB
    separators: str = ""  # the channel tree's ("": detected)
    config_path: str | None = None  # --config: the publish box's saved messages go beside it
    label: str = ""  # the first server's name, when there are several
    more: list[Target] = field(default_factory=list)  # more servers: a tab each
    resolve: Callable[[str], Target] | None = None  # `+`: text typed → one more server


@dataclass
class TailOptions:
    settings: ConnectionSettings
    subscriptions: list[Subscription]
    format: str = "ndjson"
    label: str = ""  # the first server's name, when there are several
    more: list[Target] = field(default_factory=list)  # more servers: `server` on each line


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
    history_mb: int = DEFAULT_MAX_BYTES // MIB
    separators: str = ""


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


def each_server(args: argparse.Namespace) -> list[tuple[str, argparse.Namespace]]:
    """One (label, arguments) per server asked for: each --profile (labelled with its name),
    then each -u (labelled host:port, set later); with neither, the one default server.
    Every other option applies to each of them."""
    profiles, urls = args.profile or [], args.url or []
    several = len(profiles) + len(urls) > 1
    if several and (args.host is not None or args.port is not None):
        raise UsageError("-h/-p with several servers: give each its URL (-u) or profile")
    if several and (args.sentinel or getattr(args, "cluster", False)):
        raise UsageError("--sentinel and --cluster name one server: give several in profiles")
    chosen = [
        (p, argparse.Namespace(**{**vars(args), "profile": p, "url": None})) for p in profiles
    ]
    chosen += [("", argparse.Namespace(**{**vars(args), "profile": None, "url": u})) for u in urls]
    return chosen or [("", argparse.Namespace(**{**vars(args), "profile": None, "url": None}))]


def one_server(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments of a command that talks to one server (publish, bench, replay)."""
    servers = each_server(args)
    if len(servers) > 1:
        raise UsageError("this command talks to one server: give -u or --profile once")
    return servers[0][1]


def settings_from_args(
    args: argparse.Namespace, config: Config | None = None
) -> ConnectionSettings:
    """The profile's URL (else $REDIS_URL) and $REDISCLI_AUTH, then the profile's options,
    then the command line's on top (as redis-cli does: options win)."""
    if isinstance(args.url, list) or isinstance(args.profile, list):
        args = one_server(args)
    config = config if config is not None else load_config(args)
    p = _profile(args, config)
    _warn_if_password_shows(args)

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


AUTH_WARNING = (
    f"{PROG}: warning: a password given with -a or -u can be read by anyone on this machine "
    "(ps, /proc); set $REDISCLI_AUTH instead (--no-auth-warning hides this)"
)


def _warn_if_password_shows(args: argparse.Namespace) -> None:
    """As redis-cli does: a password in the arguments is in the process list."""
    if args.no_auth_warning:
        return
    in_url = bool(args.url) and bool(urlsplit_password(args.url))
    if args.password is not None or in_url:
        print(AUTH_WARNING, file=sys.stderr)


def urlsplit_password(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).password
    except ValueError:  # malformed: parse_url says so, in one line
        return None


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


def with_sentinel_events(
    args: argparse.Namespace, settings: ConnectionSettings, subs: list[Subscription]
) -> list[Subscription]:
    """`subs`, and the sentinels' events where --sentinel-events asks for them."""
    if not getattr(args, "sentinel_events", False):
        return subs
    if not settings.sentinels:
        raise UsageError(
            "--sentinel-events goes with --sentinel HOST:PORT and --master NAME "
            "(to watch one sentinel alone, point -p at its port)"
        )
    return [*subs, SENTINEL_EVENTS]


def resolver(
    args: argparse.Namespace, config: Config, given: list[Subscription]
) -> Callable[[str], Target]:
    """What `+` in the dashboard does with the text typed: a URL (`redis://`, `rediss://`,
    `unix://`) or a profile's name, with the command line's other options and
    subscriptions, as a server given at start would have been. UsageError in one line."""

    def resolve(text: str) -> Target:
        url = "://" in text
        server = argparse.Namespace(
            **{
                **vars(args),
                "url": text if url else None,
                "profile": None if url else text,
                "host": None,
                "port": None,
                "no_auth_warning": True,  # the screen is up: stderr would garble it
            }
        )
        settings = settings_from_args(server, config)
        subs = given or _default_subscriptions(server, config)
        return Target(text if not url else settings.node, settings, subs)

    return resolve


def args_of_first(args: argparse.Namespace) -> argparse.Namespace:
    """The first server's arguments (its profile gives --history and the like)."""
    return each_server(args)[0][1]


def _targets(args: argparse.Namespace, config: Config, given: list[Subscription]) -> list[Target]:
    """Every server asked for, with its settings, subscriptions (those given on the command
    line, else its profile's, else the config file's) and its label (the profile's name,
    else host:port; a second with the same name gets ` (2)`). --sentinel-events goes to
    each server reached through sentinels, and needs one."""
    targets, seen = [], set()
    for name, server_args in each_server(args):
        settings = settings_from_args(server_args, config)
        subs = given or _default_subscriptions(server_args, config)
        label = name or settings.node
        n = 2
        while label in seen:
            label, n = f"{name or settings.node} ({n})", n + 1
        seen.add(label)
        targets.append(Target(label, settings, subs))
    if getattr(args, "sentinel_events", False):
        watched = [t for t in targets if t.settings.sentinels]
        if not watched:
            with_sentinel_events(args, targets[0].settings, [])  # says what it needs
        for target in watched:
            target.subscriptions = [*target.subscriptions, SENTINEL_EVENTS]
    return targets


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
    return dashboard_options(build_parser().parse_args(list(argv)))


def dashboard_options(args: argparse.Namespace) -> Options:
    """The dashboard's options from its parsed arguments (`rps-tui serve` parses the same)."""
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
        given = subscriptions_from_args(args, dashboard=True)
        subs = given or _default_subscriptions(args, config)
        targets = [Target("", settings, with_sentinel_events(args, settings, subs))]
    else:
        config = load_config(args)
        targets = _targets(args, config, subscriptions_from_args(args, dashboard=True))
        profile = _profile(args_of_first(args), config)
    first, *more = targets
    settings, subs = first.settings, first.subscriptions
    record = _writable_path(args.record) if args.record else None
    history = args.history or profile.get("history") or config.history or DEFAULT_HISTORY
    history_mb = (
        args.history_mb
        or profile.get("history_mb")
        or config.history_mb
        or DEFAULT_MAX_BYTES // MIB
    )
    theme, keymap = _look(config)
    return Options(
        settings,
        subs,
        history,
        args.demo,
        args.embedded,
        record,
        theme,
        keymap,
        history_mb,
        _separators(args, config),
        args.config,
        first.label if more else "",
        more,
        resolver(args, config, subscriptions_from_args(args, dashboard=True)),
    )


def _separators(args: argparse.Namespace, config: Config) -> str:
    """--separators, else the config file's, else "" (detected from the names)."""
    chosen = args.separators if args.separators is not None else config.separators
    return chosen or ""


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
    from rps_tui.ui.keymap import conflict, themes, unknown_ids

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
    clash = conflict(config.keymap)
    if clash:
        raise UsageError(f"{config.path}: [keymap] {clash}")
    return config.theme, dict(config.keymap)


def parse_command(
    argv: Sequence[str],
) -> AnyOptions | PublishOptions | BenchOptions | ServeOptions:
    """A subcommand's options when the first word names one, else the dashboard's."""
    argv = list(argv)
    command = argv[0] if argv else None
    if command == "tail":
        args = build_tail_parser().parse_args(argv[1:])
        config = load_config(args)
        first, *more = _targets(args, config, subscriptions_from_args(args))
        if not all(t.subscriptions for t in (first, *more)):
            raise UsageError("tail needs a SUBSCRIPTION (or --channel, --pattern, --shard)")
        label = first.label if more else ""
        return TailOptions(first.settings, first.subscriptions, args.format, label, more)
    if command == "replay":
        args = build_replay_parser().parse_args(argv[1:])
        path = _readable_file(args.file)
        return ReplayOptions(path, settings_from_args(args), args.speed, args.fast)
    if command == "publish":
        from rps_tui.cli.publish import parse_publish  # it builds on this module

        return parse_publish(argv[1:])
    if command == "view":
        args = build_view_parser().parse_args(argv[1:])
        config = load_config(args)
        theme, keymap = _look(config)
        history = args.history or config.history or DEFAULT_HISTORY
        history_mb = args.history_mb or config.history_mb or DEFAULT_MAX_BYTES // MIB
        return ViewOptions(
            _readable_file(args.file),
            history,
            theme,
            keymap,
            history_mb,
            _separators(args, config),
        )
    if command == "bench":
        from rps_tui.cli.bench import parse_bench

        return parse_bench(argv[1:])
    if command == "serve":
        from rps_tui.cli.serve import parse_serve  # it builds on this module

        return parse_serve(argv[1:])
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
