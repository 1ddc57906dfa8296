"""`rps-tui bench`: its parser, its options, and running it (the engine is core.bench).

Exit codes: 0 for a completed run, loss or not (the table's last line says LOSS, the JSON's
`lost` is non-zero: measuring loss is what the tool is for, so a run that measured some
has succeeded); 1 when the server cannot be reached or fails during the run (the partial
counts are printed, then one line on stderr); 2 for a usage error; 130 on Ctrl-C (after the
partial counts).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rps_tui.cli.options import CONNECTION_FLAGS, settings_from_args
from rps_tui.cli.parsers import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    _add_help,
    _parser,
    _positive,
    add_connection_options,
)
from rps_tui.core.bench.message import HEADER_SIZE
from rps_tui.core.connection.settings import ConnectionSettings, UsageError

if TYPE_CHECKING:
    from rps_tui.core.bench.runner import Progress

BENCH_DESCRIPTION = f"""\
Measure Pub/Sub end to end: P publisher and S subscriber processes over C channels. Every
message carries its publisher, sequence number and send time, padded to --size; every
subscriber listens to every channel and counts loss and duplicates exactly and the latency
from publish to delivery (at a fixed --rate, from the intended send time). Live progress on
stderr; the results as a table on stdout, or one JSON object (--json).
Exit 0 for a completed run, even one that measured loss (the table says LOSS); 1 if the
server fails; 130 on Ctrl-C. The smallest --size is the header's {HEADER_SIZE} bytes."""

DEFAULT_DURATION = 10.0


@dataclass
class BenchOptions:
    settings: ConnectionSettings
    publishers: int = 1
    subscribers: int = 1
    channels: int = 1
    size: int = 64
    rate: float | None = None  # None: --max
    duration: float | None = DEFAULT_DURATION
    messages: int | None = None
    pattern: bool = False
    shard: bool = False
    json: bool = False
    csv: str | None = None
    embedded: bool = False


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def build_bench_parser() -> argparse.ArgumentParser:
    parser = _parser(f"{PROG} bench", BENCH_DESCRIPTION)
    add_connection_options(parser)
    load = parser.add_argument_group("load")
    load.add_argument("--publishers", type=_positive, default=1, metavar="P", help="(default 1)")
    load.add_argument("--subscribers", type=_positive, default=1, metavar="S", help="(default 1)")
    load.add_argument("--channels", type=_positive, default=1, metavar="C", help="(default 1)")
    load.add_argument(
        "--size", type=_positive, default=64, metavar="BYTES", help="payload size (default 64)"
    )
    pace = load.add_mutually_exclusive_group()
    pace.add_argument(
        "--rate", type=_rate, metavar="R", help="R messages a second, all publishers together"
    )
    pace.add_argument("--max", action="store_true", help="as fast as possible (the default)")
    length = load.add_mutually_exclusive_group()
    length.add_argument(
        "--duration",
        type=_rate,
        metavar="SECONDS",
        help=f"publish for this long (default {DEFAULT_DURATION:g})",
    )
    length.add_argument(
        "--messages", type=_positive, metavar="N", help="N messages, all publishers together"
    )
    kind = load.add_mutually_exclusive_group()
    kind.add_argument(
        "--pattern", action="store_true", help="subscribers PSUBSCRIBE one pattern for the channels"
    )
    kind.add_argument("--shard", action="store_true", help="SPUBLISH and SSUBSCRIBE (Redis 7+)")
    out = parser.add_argument_group("output and server").add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object on stdout")
    out.add_argument("--csv", metavar="FILE", help="append one row per run (header when new)")
    other = parser.add_argument_group("other")
    other.add_argument(
        "--embedded", action="store_true", help="start an embedded Valkey and measure it"
    )
    _add_help(other)
    return parser


def parse_bench(argv: Sequence[str]) -> BenchOptions:
    args = build_bench_parser().parse_args(list(argv))
    if args.size < HEADER_SIZE:
        raise UsageError(f"--size {args.size} is below the message header's {HEADER_SIZE} bytes")
    if args.csv is not None:
        target = Path(args.csv)
        if target.is_dir() or not target.absolute().parent.is_dir():
            what = "is a directory" if target.is_dir() else "no such directory"
            raise UsageError(f"--csv {args.csv}: {what}")
    if args.embedded:
        given = [f for f in CONNECTION_FLAGS if getattr(args, f) is not None] + [
            flag for flag in ("tls", "cluster", "sentinel") if getattr(args, flag)
        ]
        if given:
            raise UsageError(f"--embedded starts its own server; drop --{given[0]}")
        settings = ConnectionSettings()
    else:
        settings = settings_from_args(args)
    # --messages, else --duration, else the default duration
    duration = None if args.messages is not None else args.duration or DEFAULT_DURATION
    return BenchOptions(
        settings,
        args.publishers,
        args.subscribers,
        args.channels,
        args.size,
        args.rate,
        duration,
        args.messages,
        args.pattern,
        args.shard,
        args.json,
        args.csv,
        args.embedded,
    )


def run_bench(options: BenchOptions) -> int:
    """Start the embedded server if asked, reach the server, run, report."""
    from rps_tui.core.embedded.server import ServerError, start_server

    server = None
    try:
        settings = options.settings
        if options.embedded:
            try:
                server = start_server("valkey")
            except ServerError as exc:
                from rps_tui.core.connection.probe import ConnectError

                raise ConnectError(f"could not start the embedded server: {exc}") from None
            settings = ConnectionSettings(host=server.host, port=server.port)
        return _measure(options, settings)
    finally:
        if server is not None:
            server.stop()


def _measure(options: BenchOptions, settings: ConnectionSettings) -> int:
    from rich.console import Console

    from rps_tui.cli.run import fail
    from rps_tui.core.bench.report import append_csv, table, to_json
    from rps_tui.core.bench.runner import BenchError, Run
    from rps_tui.core.bench.topology import plan_for

    plan, label, address = plan_for(
        settings,
        run=secrets.token_hex(4),
        publishers=options.publishers,
        subscribers=options.subscribers,
        channels=options.channels,
        size=options.size,
        rate=options.rate,
        duration=options.duration,
        messages=options.messages,
        pattern=options.pattern,
        shard=options.shard,
    )
    with _Progress() as progress:
        try:
            outcome = Run(plan, progress.update).run(label, address)
        except BenchError as exc:
            return fail(str(exc), EXIT_FAILED)
    if options.json:
        print(json.dumps(to_json(outcome)))
    else:
        Console(file=sys.stdout, highlight=False).print(table(outcome))
    sys.stdout.flush()
    if options.csv:
        try:
            append_csv(options.csv, outcome)
        except OSError as exc:
            return fail(f"--csv {options.csv}: {exc.strerror or exc}", EXIT_FAILED)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    if outcome.error:
        return fail(f"bench stopped: {outcome.error}", EXIT_FAILED)
    return EXIT_OK


class _Progress:
    """One live line on stderr while the run goes (only when stderr is a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(console=self.console, transient=True) if self.console.is_terminal else None

    def __enter__(self) -> _Progress:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def update(self, p: Progress) -> None:
        if self.live is None:
            return
        from rich.text import Text

        from rps_tui.core.bench.report import latency_text

        p99 = latency_text(p.p99_us) if p.p99_us is not None else "-"
        phase = "  draining" if p.draining else ""
        line = (
            f"bench {p.elapsed:5.1f} s  sent {p.published_rate:>9,.0f}/s  "
            f"delivered {p.delivered_rate:>9,.0f}/s  p99 {p99}{phase}"
        )
        totals = f"  ({p.published:,} sent, {p.delivered:,} delivered)"
        if len(line) + len(totals) <= self.console.width:  # else the totals go: one line
            line += totals
        text = Text(line, no_wrap=True, overflow="ellipsis")
        text.stylize("bold", 0, len("bench"))
        self.live.update(text)
