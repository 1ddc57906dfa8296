"""The command line as a user runs it: `python -m rps_tui ARGS` in a real process."""

from __future__ import annotations

import subprocess
import sys


def run_cli(
    *args: str, env: dict | None = None, timeout: float = 20
) -> subprocess.CompletedProcess:
    """Run `python -m rps_tui *args` to its end; stdout and stderr captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "rps_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    """The CLI's contract for every bad input: this exit code, one line on stderr that
    starts with the program's name, no traceback, nothing on stdout. Returns the line."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: ") and "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]
