"""`python -m rps_tui tail ARGS` as a real process, its stdout read into lines by a thread."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest


class Tail:
    """`python -m rps_tui tail *args` with stdout and stderr on pipes; stdout is read by a
    thread into `lines`, so a test waits for lines with a deadline."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", "tail", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[bytes] = []
        self._reader: threading.Thread | None = None

    def start_reading(self) -> None:
        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def wait_lines(self, n: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.lines)} lines after {timeout} s: {self.lines!r}")
            if self.proc.poll() is not None:
                pytest.fail(f"tail exited with {self.proc.returncode}: {self.stderr()}")
            time.sleep(0.02)
        return self.lines[:n]

    def wait_exit(self, timeout: float = 10.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"tail still running {timeout} s later")

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
