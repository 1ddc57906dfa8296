"""Command line: redis-cli's connection options, subscriptions, and the embedded modes;
the subcommands `tail`, `replay` and `view`.

A subcommand is chosen by the first word only (`rps-tui tail ...`). As a dashboard
SUBSCRIPTION the bare words tail, replay and view are refused with a hint, since they look
like a misplaced subcommand; `--channel tail` subscribes to a channel of that name.

Exit codes: 0 after `q`, 1 when the server cannot be reached or refuses the login,
2 for a usage error (unknown option, malformed URL). Every error is one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rps_tui.cli.bench import BenchOptions, run_bench
from rps_tui.cli.options import (
    Options,
    ReplayOptions,
    TailOptions,
    ViewOptions,
    parse_args,
    parse_command,
)
from rps_tui.cli.parsers import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    SUBCOMMANDS,
)
from rps_tui.cli.run import fail, run, run_replay, run_tail, view
from rps_tui.core.connection.probe import ConnectError
from rps_tui.core.connection.settings import UsageError

__all__ = [
    "Options",
    "ReplayOptions",
    "TailOptions",
    "ViewOptions",
    "main",
    "parse_args",
    "parse_command",
]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    see = f"{PROG} {command} --help" if command else "--help"
    try:
        options = parse_command(argv)
    except UsageError as exc:
        return fail(f"{exc} (see {see})", EXIT_USAGE)
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    try:
        if isinstance(options, TailOptions):
            return run_tail(options)
        if isinstance(options, ReplayOptions):
            return run_replay(options)
        if isinstance(options, ViewOptions):
            return view(options)
        if isinstance(options, BenchOptions):
            return run_bench(options)
        return run(options)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except ConnectError as exc:
        return fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
