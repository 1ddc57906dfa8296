"""`rps-tui publish`: its parser, its options, and running it (see `core.publish`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rps_tui.cli.options import settings_from_args
from rps_tui.cli.parsers import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    _add_help,
    _parser,
    _positive,
    add_connection_options,
    ranged,
)
from rps_tui.core.connection.probe import reach
from rps_tui.core.connection.settings import ConnectionSettings, UsageError
from rps_tui.core.publish import BATCH, Stop, limited, paced, publish, repeated, stdin_lines
from rps_tui.core.templates import Template, TemplateError
from rps_tui.core.units import plural

DESCRIPTION = """\
Publish MESSAGE to CHANNEL. Without MESSAGE, each line of standard input is one
message, sent as it is read (`tail -f app.log | rps-tui publish logs` streams).
The line break is not sent (\\n, or \\r\\n as a whole), an empty line is an
empty message, and the bytes go as they are. --whole sends all of stdin as one
message, --file a file's bytes.

In MESSAGE, --file and --whole, placeholders are expanded per message: {{n}}
(1, 2, ...), {{time}} (ISO 8601, UTC), {{unix_ms}}, {{uuid}}, {{random}};
--no-template sends braces as they are. Lines of stdin are never expanded.

One summary line goes to stderr (messages, receivers, errors); -v also prints
each message's receiver count on stdout. Nothing is retried: a retried PUBLISH
can deliver twice. Exit 0 when all was published (or on SIGTERM), 1 on a
connection or server error (the summary says how many were published before
it), 2 on a usage error, 130 on Ctrl-C."""


@dataclass
class PublishOptions:
    settings: ConnectionSettings
    channel: bytes
    message: bytes | None = None  # the MESSAGE argument, as typed
    file: str | None = None
    whole: bool = False
    sharded: bool = False
    count: int | None = None  # None: 1, or without end when paced
    interval: float | None = None  # seconds between messages
    template: bool = True
    verbose: bool = False

    @property
    def channel_text(self) -> str:
        return self.channel.decode("utf-8", "backslashreplace")


_seconds = ranged(float, "", lambda v: 0 < v < 86400 * 365, "must be a positive number of seconds")
_rate = ranged(float, "rate ", lambda v: 0 < v <= 1_000_000, "must be above 0 and at most 1000000")


def build_publish_parser() -> argparse.ArgumentParser:
    parser = _parser(f"{PROG} publish", DESCRIPTION)
    parser.add_argument("channel", metavar="CHANNEL", help="the channel to publish to")
    parser.add_argument(
        "message", nargs="?", metavar="MESSAGE", help="the message (default: stdin, per line)"
    )
    add_connection_options(parser)
    what = parser.add_argument_group("what to send")
    source = what.add_mutually_exclusive_group()
    source.add_argument("--file", metavar="FILE", help="send this file's bytes as one message")
    source.add_argument(
        "--whole", action="store_true", help="send all of stdin as one message, not per line"
    )
    what.add_argument("--shard", action="store_true", help="SPUBLISH (sharded channel, Redis 7+)")
    what.add_argument(
        "--no-template",
        dest="template",
        action="store_false",
        help="send {{...}} as it is (no placeholders)",
    )
    repeat = parser.add_argument_group("repeating")
    repeat.add_argument(
        "--count",
        type=_positive,
        metavar="N",
        help="send N messages (default 1; without end with --interval or --rate; "
        "for stdin: at most N lines)",
    )
    pace = repeat.add_mutually_exclusive_group()
    pace.add_argument(
        "--interval", type=_seconds, metavar="SECONDS", help="wait this long between messages"
    )
    pace.add_argument("--rate", type=_rate, metavar="R", help="R messages per second")
    out = parser.add_argument_group("output")
    out.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each message's receiver count on stdout",
    )
    _add_help(out)
    return parser


def parse_publish(argv: list[str]) -> PublishOptions:
    args = build_publish_parser().parse_args(argv)
    channel = os.fsencode(args.channel)  # the bytes as typed, even if not UTF-8
    if not channel:
        raise UsageError("the channel name is empty")
    message = None if args.message is None else os.fsencode(args.message)
    if message is not None and (args.file or args.whole):
        raise UsageError(f"give MESSAGE or {'--file' if args.file else '--whole'}, not both")
    if args.file is not None:
        _check_file(args.file)
    interval = 1 / args.rate if args.rate else args.interval
    return PublishOptions(
        settings=settings_from_args(args),
        channel=channel,
        message=message,
        file=args.file,
        whole=args.whole,
        sharded=args.shard,
        count=args.count,
        interval=interval,
        template=args.template,
        verbose=args.verbose,
    )


def _check_file(path: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--file {path}: is a directory")
    if not target.exists():
        raise UsageError(f"--file {path}: no such file")
    if not os.access(target, os.R_OK):
        raise UsageError(f"--file {path}: permission denied")


def _one_message(options: PublishOptions) -> bytes | None:
    """MESSAGE, the file's bytes or all of stdin; None when stdin is read per line."""
    if options.message is not None:
        return options.message
    if options.file is not None:
        try:
            return Path(options.file).read_bytes()
        except OSError as exc:
            raise UsageError(f"--file {options.file}: {exc.strerror or exc}") from None
    if options.whole:
        return sys.stdin.buffer.read()
    return None


def _batches(options: PublishOptions) -> Iterable[list[bytes]]:
    message = _one_message(options)
    if message is not None:
        try:
            template = Template(message, expand=options.template)
        except TemplateError as exc:
            raise UsageError(str(exc)) from None
        count = options.count or (None if options.interval else 1)
        batches: Iterable[list[bytes]] = repeated(
            template, count, batch=1 if options.interval else BATCH
        )
    else:
        if sys.stdin.isatty():
            print(f"{PROG}: one message per line; Ctrl-D ends", file=sys.stderr)
        batches = limited(stdin_lines(sys.stdin.fileno()), options.count)
    return paced(batches, options.interval) if options.interval else batches


def run_publish(options: PublishOptions) -> int:
    """Check the connection (exit 1 with one line if it fails), publish, then one summary
    line on stderr; exit 0, 1 (an error stopped it) or 130 (Ctrl-C)."""
    batches = _batches(options)  # a usage error (template, file) before connecting
    settings = reach(options.settings).settings

    def each(n: int, receivers: int) -> None:
        try:
            print(f"{n}: {plural(receivers, 'receiver')}", flush=True)
        except BrokenPipeError:  # `| head`: stop as after SIGTERM
            _quiet_stdout()
            raise Stop from None

    def on_term(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        result = publish(
            settings,
            options.channel,
            batches,
            sharded=options.sharded,
            each=each if options.verbose else None,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    one_node = settings.cluster and not options.sharded
    print(f"{PROG}: {result.summary(options.channel_text, one_node=one_node)}", file=sys.stderr)
    if result.error:
        return EXIT_FAILED
    return EXIT_INTERRUPTED if result.stopped == "interrupted" else EXIT_OK


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not complain of the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
