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
