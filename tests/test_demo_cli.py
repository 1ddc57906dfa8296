"""`--demo` and `--embedded` as real processes in a pseudo-terminal (Linux only).

Each test starts `python -m rps_tui` on the slave side of a pty sized 120x40, drains the master
in a thread (so the app never blocks on a full pty), reads the screen as text with the escape
sequences stripped, and checks how the process and its embedded valkey-server end: after `q`,
SIGTERM and SIGKILL, no server is left behind and its port is closed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and pty")

COLS, ROWS = 120, 40
START_TIMEOUT = 30.0  # imports, valkey start, first paint; generous for a loaded CI machine
EXIT_TIMEOUT = 10.0
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: title, clipboard
    r"|\x1bP[^\x1b]*\x1b\\"  # DCS
    r"|\x1b[()][0-9A-Za-z]"  # charset selection
    r"|\x1b[@-Z\\-_=>78]"  # other two-byte escapes
)
ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)/0")


class PtyApp:
    """`python -m rps_tui *args` on a pty; `text()` is everything it drew, escapes stripped."""

    def __init__(self, *args: str) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        env.pop("TEXTUAL", None)  # no devtools or debug features from the outer environment
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,  # own session, with the pty as controlling terminal:
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # like a real terminal
        )
        os.close(slave)  # the master reads EOF (EIO) once the app and its children let go
        self.master = master
        self._out = bytearray()
        self._lock = threading.Lock()
        self._hang_up = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self.server_pids: dict[int, str] = {}  # valkey-server children seen: pid -> start time

    def _drain(self) -> None:
        """Read until the app and its children let go or hang_up(); this thread owns the fd."""
        fd = self.master
        try:
            while not self._hang_up.is_set():
                if not select.select([fd], [], [], 0.05)[0]:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every writer is gone
                    return
                if not chunk:
                    return
                with self._lock:
                    self._out += chunk
        finally:
            os.close(fd)

    def text(self) -> str:
        with self._lock:
            raw = bytes(self._out)
        return ANSI.sub("", raw.decode("utf-8", errors="replace"))

    def wait_text(self, predicate: Callable[[str], object], timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if predicate(text):
                return text
            if self.proc.poll() is not None:
                pytest.fail(f"rps-tui exited with {self.proc.returncode}: {text[-2000:]!r}")
            if time.monotonic() > deadline:
                pytest.fail(f"screen not as expected after {timeout} s: {text[-2000:]!r}")
            time.sleep(0.05)

    def record_servers(self) -> dict[int, str]:
        """The valkey-server processes whose parent is the app, remembered for later checks."""
        for pid, (comm, ppid, start) in _processes().items():
            if ppid == self.proc.pid and comm.startswith("valkey"):
                self.server_pids[pid] = start
        return self.server_pids

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def hang_up(self) -> None:
        """Close the master side, as a terminal window closing does (the app gets SIGHUP)."""
        self._hang_up.set()
        self._reader.join(5)

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"rps-tui still running {timeout} s later: {self.text()[-2000:]!r}")

    def close(self) -> None:
        """Kill what is left (the app, then the servers seen), reap, close the pty."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.server_pids:
            if _alive(pid, self.server_pids[pid]):
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


def _alive(pid: int, start: str) -> bool:
    """True while that very process (same start time, so no reused pid) runs; a zombie is dead."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    rest = raw[raw.rindex(")") + 2 :].split()
    return rest[19] == start and rest[0] not in "ZX"


def _wait_gone(pids: dict[int, str], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [p for p, start in pids.items() if _alive(p, start)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return left


def _refuses(port: int) -> bool:
    """Nothing listens on the port. A connect to a port in the ephemeral range with nothing
    behind it can pick that same port as its source and "succeed" by connecting to itself
    (TCP simultaneous open): that is no listener, and it once failed CI."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        if sock.connect_ex(("127.0.0.1", port)) != 0:
            return True
        return sock.getsockname() == sock.getpeername()


def test_a_connection_to_itself_is_not_a_listener() -> None:
    """Provoke the self-connect that made the check above fail once."""
    from rps_tui.core.embedded.server import free_port

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.settimeout(1.0)
        if sock.connect_ex(("127.0.0.1", port)) == 0:  # Linux: simultaneous open to itself
            assert sock.getsockname() == sock.getpeername()
    assert _refuses(port)


@pytest.fixture
def pty_app() -> Iterator[Callable[..., PtyApp]]:
    started: list[PtyApp] = []

    def start(*args: str) -> PtyApp:
        app = PtyApp(*args)
        started.append(app)
        return app

    try:
        yield start
    finally:
        for app in started:
            app.close()


def _start_demo(pty_app: Callable[..., PtyApp]) -> tuple[PtyApp, int]:
    """A running `--demo` with its first screen drawn, its server recorded, and its port."""
    app = pty_app("--demo")
    text = app.wait_text(lambda t: "connected" in t and "demo.orders" in t)
    assert "demo: embedded Valkey with demo traffic" in text
    assert len(app.record_servers()) == 1, "expected exactly one valkey-server child"
    port = int(ADDRESS.findall(text)[-1])
    return app, port


def test_demo_quits_on_q_and_stops_its_server(pty_app: Callable[..., PtyApp]) -> None:
    app, port = _start_demo(pty_app)
    app.send(b"q")
    assert app.wait_exit() == 0
    assert _wait_gone(app.server_pids, 0.5) == [], "valkey-server outlived rps-tui"
    assert _refuses(port)


def test_demo_exits_0_on_sigterm_and_stops_its_server(pty_app: Callable[..., PtyApp]) -> None:
    app, port = _start_demo(pty_app)
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait_exit() == 0  # cli.run installs a SIGTERM handler that exits cleanly
    assert _wait_gone(app.server_pids, 0.5) == [], "valkey-server outlived rps-tui"
    assert _refuses(port)


def test_sigkill_of_the_app_takes_the_server_down(pty_app: Callable[..., PtyApp]) -> None:
    app, port = _start_demo(pty_app)
    app.proc.kill()
    assert app.wait_exit() == -signal.SIGKILL
    assert _wait_gone(app.server_pids, 5.0) == [], "no parent-death signal reached the server"
    assert _refuses(port)


def test_closed_terminal_takes_the_server_down(pty_app: Callable[..., PtyApp]) -> None:
    app, port = _start_demo(pty_app)
    app.hang_up()  # SIGHUP to the session: the app dies of it, the server must follow
    app.wait_exit()
    assert _wait_gone(app.server_pids, 5.0) == [], "valkey-server outlived a closed terminal"
    assert _refuses(port)


def test_embedded_server_takes_publishes_and_closes_after_q(
    pty_app: Callable[..., PtyApp],
) -> None:
    app = pty_app("--embedded", "pty.*")
    text = app.wait_text(lambda t: "connected" in t and ADDRESS.search(t) and "pty.*" in t)
    assert "embedded Valkey" in text and "demo" not in text
    port = int(ADDRESS.findall(text)[-1])
    assert app.record_servers()
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        assert client.publish("pty.check", "hello-from-a-pty") == 1  # the app's subscriber
    finally:
        client.close()
    app.wait_text(lambda t: "hello-from-a-pty" in t, timeout=10)
    app.send(b"q")
    assert app.wait_exit() == 0
    assert _wait_gone(app.server_pids, 0.5) == []
    assert _refuses(port)


def test_embedded_without_subscription_opens_the_dialog_then_quits(
    pty_app: Callable[..., PtyApp],
) -> None:
    app = pty_app("--embedded")
    text = app.wait_text(lambda t: "No subscription given" in t and ADDRESS.search(t))
    port = int(ADDRESS.findall(text)[-1])
    assert app.record_servers()
    app.send(b"\x1b")  # a lone Esc (Textual tells it from a sequence by a short pause)
    time.sleep(0.5)
    app.send(b"q")
    assert app.wait_exit() == 0
    assert _wait_gone(app.server_pids, 0.5) == []
    assert _refuses(port)
