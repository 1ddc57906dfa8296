"""`python -m rps_tui ARGS` in a real pseudo-terminal, with a timestamped view of its output.

A thread drains the pty master continuously (so the app never blocks on a full terminal) and
keeps the output as text with the escape sequences stripped, plus the arrival time of every
chunk, so `find(needle, start)` tells when some text first reached the terminal.
"""

from __future__ import annotations

import bisect
import codecs
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout under test, whatever is installed
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: title, clipboard
    r"|\x1bP[^\x1b]*\x1b\\"  # DCS
    r"|\x1b[()][0-9A-Za-z]"  # charset selection
    r"|\x1b[@-Z\\-_=>78]"  # other two-byte escapes
)


class PtyApp:
    def __init__(self, *args: str, cols: int = 160, rows: int = 45) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        env.pop("TEXTUAL", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.master = master
        self._text: list[str] = []  # stripped text, one piece per chunk
        self._ends: list[int] = []  # cumulative length of the text after each chunk
        self._times: list[float] = []  # monotonic arrival time of each chunk
        self._length = 0
        self._joined = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self) -> None:
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        pending = ""  # an escape sequence cut by the chunk boundary waits for its rest
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:  # EIO: the app is gone
                return
            now = time.monotonic()
            if not chunk:
                return
            data = pending + decode(chunk)
            cut = data.rfind("\x1b")
            if cut != -1 and not ANSI.match(data, cut) and len(data) - cut < 64:
                data, pending = data[:cut], data[cut:]
            else:
                pending = ""
            text = ANSI.sub("", data)
            with self._lock:
                self._text.append(text)
                self._length += len(text)
                self._ends.append(self._length)
                self._times.append(now)

    def text(self) -> str:
        with self._lock:
            if len(self._joined) != self._length:
                self._joined = "".join(self._text)
            return self._joined

    @property
    def length(self) -> int:
        with self._lock:
            return self._length

    def find(self, needle: str, start: int = 0) -> tuple[int, float] | None:
        """(position, arrival time) of the first `needle` at or after `start`, or None."""
        pos = self.text().find(needle, start)
        if pos < 0:
            return None
        with self._lock:
            chunk = bisect.bisect_left(self._ends, pos + len(needle))
            return pos, self._times[chunk]

    def wait_for(self, needle: str, start: int = 0, timeout: float = 30.0) -> tuple[int, float]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(needle, start)
            if found:
                return found
            if self.proc.poll() is not None:
                raise RuntimeError(f"rps-tui exited ({self.proc.returncode}): {self.tail()!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not drawn in {timeout} s: {self.tail()!r}")
            time.sleep(0.002)

    def tail(self, n: int = 1500) -> str:
        return self.text()[-n:]

    def send(self, data: bytes) -> float:
        """Write keys to the terminal; returns the time just before the write."""
        now = time.monotonic()
        os.write(self.master, data)
        return now

    def close(self) -> None:
        """Quit with `q`, then SIGKILL if it lingers; stop the reader and close the pty."""
        try:
            if self.proc.poll() is None:
                try:
                    os.write(self.master, b"q")
                    self.proc.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill()
                    self.proc.wait(10)
        finally:
            self._stop.set()
            self._reader.join(5)
            os.close(self.master)
