"""`python -m rps_tui ARGS` in a real pseudo-terminal (Linux: needs a pty and /proc), for the
tests and the benchmarks alike.

The app runs from this checkout (PYTHONPATH and the working directory are the repository root,
whatever is installed) on the slave side of a pty, in its own session with the pty as its
controlling terminal, like a real terminal. A thread drains the master continuously (so the
app never blocks on a full terminal) and keeps the output as text with the escape sequences
stripped, plus the arrival time of every chunk, so `find(needle, start)` tells when some text
first reached the terminal.

Waiting is bounded: `wait_text` and `wait_for` raise AssertionError when the app exits first
and TimeoutError when the deadline passes; `wait_exit` raises TimeoutError. No pytest needed.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["ADDRESS", "ANSI", "ROOT", "PtyApp", "alive"]

ROOT = Path(__file__).resolve().parents[2]  # the checkout under test, whatever is installed
COLS, ROWS = 120, 40  # the tests' terminal; the footprint benchmark asks for 160x45
START_TIMEOUT = 30.0  # imports, valkey start, first paint; generous for a loaded CI machine
EXIT_TIMEOUT = 10.0
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: title, clipboard
    r"|\x1bP[^\x1b]*\x1b\\"  # DCS
    r"|\x1b[()][0-9A-Za-z]"  # charset selection
    r"|\x1b[@-Z\\-_=>78]"  # other two-byte escapes
)
ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)/0")  # the address the header shows


class PtyApp:
    """`python -m rps_tui *args` on a pty; `text()` is everything it drew, escapes stripped."""

    def __init__(self, *args: str, cols: int = COLS, rows: int = ROWS) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        env.pop("TEXTUAL", None)  # no devtools or debug features from the outer environment
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # own session, with the pty as controlling terminal:
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # like a real terminal
        )
        os.close(slave)  # the master reads EOF (EIO) once the app and its children let go
        self.master = master
        self.server_pids: dict[int, str] = {}  # valkey-server children seen: pid -> start time
        self._text: list[str] = []  # stripped text, one piece per chunk
        self._ends: list[int] = []  # cumulative length of the text after each chunk
        self._times: list[float] = []  # monotonic arrival time of each chunk
        self._length = 0
        self._joined = ""
        self.reads = 0  # reads from the master so far, never forgotten: about one per frame
        self._lock = threading.Lock()
        self._hang_up = threading.Event()
        self._closed = False  # the master fd, closed once by hang_up()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self) -> None:
        """Read until the app and its children let go or hang_up() (which closes the fd)."""
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        pending = ""  # an escape sequence cut by the chunk boundary waits for its rest
        while not self._hang_up.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:  # EIO: every writer is gone
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
                self.reads += 1

    # -- what it drew ---------------------------------------------------------------------------

    def text(self) -> str:
        with self._lock:
            if len(self._joined) != self._length:
                self._joined = "".join(self._text)
            return self._joined

    @property
    def length(self) -> int:
        with self._lock:
            return self._length

    def forget(self) -> str:
        """The text drawn so far, then dropped: a run of an hour would otherwise keep
        hundreds of MB (the soak benchmark). Lengths and positions count afresh after it."""
        with self._lock:
            text = "".join(self._text)
            self._text, self._ends, self._times = [], [], []
            self._length, self._joined = 0, ""
        return text

    def tail(self, n: int = 2000) -> str:
        return self.text()[-n:]

    def find(self, needle: str, start: int = 0) -> tuple[int, float] | None:
        """(position, arrival time) of the first `needle` at or after `start`, or None."""
        pos = self.text().find(needle, start)
        if pos < 0:
            return None
        with self._lock:
            chunk = bisect.bisect_left(self._ends, pos + len(needle))
            return pos, self._times[chunk]

    def wait_text(self, predicate: Callable[[str], object], timeout: float = START_TIMEOUT) -> str:
        """The text once `predicate(text)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if predicate(text):
                return text
            self._check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(f"screen not as expected after {timeout} s: {self.tail()!r}")
            time.sleep(0.05)

    def wait_for(
        self, needle: str, start: int = 0, timeout: float = START_TIMEOUT
    ) -> tuple[int, float]:
        """`find(needle, start)` once `needle` has been drawn."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(needle, start)
            if found:
                return found
            self._check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not drawn in {timeout} s: {self.tail()!r}")
            time.sleep(0.002)

    def _check_running(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"rps-tui exited with {self.proc.returncode}: {self.tail()!r}")

    # -- driving it ------------------------------------------------------------------------------

    def send(self, data: bytes) -> float:
        """Write keys to the terminal; returns the time just before the write."""
        if self._closed:  # the fd number may belong to another file by now
            raise OSError("the terminal was hung up")
        now = time.monotonic()
        os.write(self.master, data)
        return now

    def record_servers(self) -> dict[int, str]:
        """The valkey-server processes whose parent is the app, remembered for later checks."""
        for pid, (comm, ppid, start) in _processes().items():
            if ppid == self.proc.pid and comm.startswith("valkey"):
                self.server_pids[pid] = start
        return self.server_pids

    def hang_up(self) -> None:
        """Close the master side, as a terminal window closing does (the app gets SIGHUP)."""
        self._hang_up.set()
        self._reader.join(5)
        if not self._closed:
            self._closed = True
            os.close(self.master)

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"rps-tui still running {timeout} s later: {self.tail()!r}"
            ) from None

    def close(self) -> None:
        """Kill what is left (the app, then the servers seen), reap, close the pty."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.server_pids:
            if alive(pid, self.server_pids[pid]):
                os.kill(pid, signal.SIGKILL)
        self.hang_up()
        # After SIGKILL or SIGHUP the server's temp dir stays until the next start sweeps it
        # (once the orphaned server is reaped); remove ours now.
        for pids in Path(tempfile.gettempdir()).glob("rps-tui-*-*/pids"):
            with contextlib.suppress(OSError, ValueError):
                owner, server = (int(x) for x in pids.read_text().split())
                if owner == self.proc.pid and server in self.server_pids:
                    shutil.rmtree(pids.parent, ignore_errors=True)


def _processes() -> dict[int, tuple[str, int, str]]:
    """pid -> (command name, parent pid, start time) from /proc/*/stat."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (comm, int(rest[1]), rest[19])
    return found


def alive(pid: int, start: str) -> bool:
    """True while that very process (same start time, so no reused pid) runs: while any of
    its threads does. The main thread can be a zombie while the others still run and hold
    the process's sockets (valkey's I/O and background threads): a listening port then still
    accepts. A process whose threads are all zombies is dead."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    rest = raw[raw.rindex(")") + 2 :].split()
    if rest[19] != start:
        return False
    if rest[0] not in "ZX":
        return True
    for task in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            state = task.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in "ZX":
            return True
    return False
