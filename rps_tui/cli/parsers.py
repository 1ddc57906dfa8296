"""The argparse parsers: the dashboard's and each subcommand's, with shared option groups.

argparse with redis-cli's conventions (`-h` is the host, help is `--help`); an error is one
line and exit 2 (`UsageError`), never argparse's usage dump.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rps_tui import __version__
from rps_tui.cli import EXIT_INTERRUPTED as _EXIT_INTERRUPTED
from rps_tui.core.channel_tree import SeparatorError, check_separators
from rps_tui.core.config import default_path as default_config_path
from rps_tui.core.connection.settings import UsageError
from rps_tui.core.store import (
    DEFAULT_HISTORY,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    MAX_HISTORY,
    MAX_HISTORY_MB,
    MIB,
)

PROG = "rps-tui"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = _EXIT_INTERRUPTED  # Ctrl-C: as a shell expects (main defines it)
SUBCOMMANDS = ("tail", "replay", "view", "publish", "bench", "serve")

DESCRIPTION = """\
A live dashboard for Redis Pub/Sub. A SUBSCRIPTION containing *, ? or [ is a glob pattern
(PSUBSCRIBE), anything else a channel (SUBSCRIBE); --channel and --pattern force either.
With no subscription, a dialog lists the server's active channels to pick from.

Subcommands, when given as the first word (each has its own --help):
  rps-tui tail [options] SUBSCRIPTION...   print messages as NDJSON (or text) to stdout
  rps-tui publish [options] CHANNEL [MSG]  publish MSG, or each line of stdin
  rps-tui replay FILE [options]            publish a recording again, at its pace
  rps-tui view FILE                        browse a recording offline
  rps-tui bench [options]                  measure Pub/Sub: throughput, loss, latency
  rps-tui serve [options] [SUBSCRIPTION]   serve this dashboard in a browser
A channel named like a subcommand: --channel tail."""

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


def ranged(
    kind: type[int] | type[float],
    noun: str,
    ok: Callable[[float], bool],
    rule: str,
    what: str = "",
) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` for which `ok` holds; else one line naming the
    value and the `rule` (`noun` leads both, e.g. "port 70000 is out of range (1-65535)")."""
    what = what or ("a whole number" if kind is int else "a number")

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{noun}{text!r} is not {what}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{noun}{text} {rule}")
        return value

    return parse


_positive = ranged(int, "", lambda v: v >= 1, "must be at least 1")
_history = ranged(int, "", lambda v: 1 <= v <= MAX_HISTORY, f"must be from 1 to {MAX_HISTORY:,}")
_history_mb = ranged(
    int, "", lambda v: 1 <= v <= MAX_HISTORY_MB, f"must be from 1 to {MAX_HISTORY_MB:,}"
)
_port = ranged(int, "port ", lambda v: 0 < v < 65536, "is out of range (1-65535)", "a number")


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
        action="append",
        help="redis://, rediss:// or unix:// URL "
        "(default: $REDIS_URL, else redis://127.0.0.1:6379/0); the dashboard and tail take "
        "several (-u A -u B): a server each",
    )
    conn.add_argument(
        "--profile",
        action="append",
        metavar="NAME",
        help="a connection profile from the config file (options given here win); the "
        "dashboard and tail take several",
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
    conn.add_argument(
        "--no-auth-warning",
        action="store_true",
        help="do not warn that a password given with -a or -u shows in `ps`",
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
        "(or is named like a subcommand: tail, publish ...)",
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
    subs.add_argument(
        "--sentinel-events",
        action="store_true",
        help="with --sentinel and --master: the sentinels' own events too (+sdown, "
        "+switch-master ...), beside the master's channels",
    )


def _add_help(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--help", action="help", help="show this help and exit")
    group.add_argument("--version", action="version", version=f"{PROG} {__version__}")


def _add_history(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--history",
        type=_history,
        metavar="N",
        help=f"messages kept per subscription (default: the config file's, else "
        f"{DEFAULT_HISTORY:,})",
    )
    group.add_argument(
        "--history-mb",
        type=_history_mb,
        metavar="MB",
        help=f"payload MiB kept per subscription; all together keep at most 4x this, or "
        f"{DEFAULT_MAX_TOTAL_BYTES // MIB} if more (default: {DEFAULT_MAX_BYTES // MIB})",
    )


def _separators(text: str) -> str:
    try:
        return check_separators(text)
    except SeparatorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_separators(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--separators",
        type=_separators,
        metavar="CHARS",
        help='what splits channel names in the channel tree (t), e.g. ":." (default: the '
        'config file\'s, else "auto": detected from the names among : . /)',
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
    _add_separators(other)
    other.add_argument(
        "--record",
        metavar="FILE",
        help="record every message to FILE as NDJSON; with several servers, every server's, "
        "each line naming its server (see rps-tui replay --help)",
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


_speed = ranged(float, "speed ", lambda v: 0 < v < float("inf"), "must be a positive number")


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
    _add_separators(other)
    _add_help(other)
    return parser
