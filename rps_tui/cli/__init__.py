"""Command line: redis-cli's connection options, subscriptions, and the embedded modes;
the subcommands `tail`, `replay`, `view`, `publish`, `bench` and `serve`.

A subcommand is chosen by the first word only (`rps-tui tail ...`). As a dashboard
SUBSCRIPTION the bare subcommand names are refused with a hint, since they look
like a misplaced subcommand; `--channel tail` subscribes to a channel of that name.

Exit codes: 0 after `q`, 1 when the server cannot be reached or refuses the login,
2 for a usage error (unknown option, malformed URL), 130 after Ctrl-C. Every error is one
line on stderr.

This module imports nothing heavy at its top: the `rps-tui` script imports it before
`main` runs, and a Ctrl-C during those imports would print a traceback. `main` imports the
rest inside its own handling, so quitting at any moment of start-up is quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "Options",
    "ReplayOptions",
    "TailOptions",
    "ViewOptions",
    "main",
    "parse_args",
    "parse_command",
]

EXIT_INTERRUPTED = 130


def __getattr__(name: str) -> Any:  # the options API, imported when first asked for
    if name in __all__:
        from rps_tui.cli import options

        return getattr(options, name)
    raise AttributeError(name)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl-C while importing, starting or stopping: no traceback
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    from rps_tui.cli.bench import BenchOptions, run_bench
    from rps_tui.cli.options import ReplayOptions, TailOptions, ViewOptions, parse_command
    from rps_tui.cli.parsers import EXIT_FAILED, EXIT_USAGE, PROG, SUBCOMMANDS
    from rps_tui.cli.publish import PublishOptions, run_publish
    from rps_tui.cli.run import fail, run, run_replay, run_tail, view
    from rps_tui.core.connection.probe import ConnectError
    from rps_tui.core.connection.settings import UsageError

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
        if isinstance(options, PublishOptions):
            return run_publish(options)
        if isinstance(options, BenchOptions):
            return run_bench(options)
        if command == "serve":  # its module is imported only here: not on the dashboard's start-up
            from rps_tui.cli.serve import run_serve

            return run_serve(options)  # type: ignore[arg-type]
        return run(options)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except ConnectError as exc:
        return fail(str(exc), EXIT_FAILED)
