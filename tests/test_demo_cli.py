"""`--demo` and `--embedded` as real processes in a pseudo-terminal (Linux only).

Each test starts `python -m rps_tui` on the slave side of a pty sized 120x40
(tests/support/pty.py: a thread drains the master, so the app never blocks on a full pty, and
the screen is read as text with the escape sequences stripped), and checks how the process and
its embedded valkey-server end: after `q`, SIGTERM and SIGKILL, no server is left behind and
its port is closed.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.support.pty import ADDRESS, PtyApp, alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and pty")


def _wait_gone(pids: dict[int, str], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [p for p, start in pids.items() if alive(p, start)]) and (
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


LEADER_GONE_FIRST = """
import ctypes, socket, threading, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print(listener.getsockname()[1], flush=True)
threading.Thread(target=time.sleep, args=(2.0,)).start()
ctypes.CDLL(None).pthread_exit(None)  # the main thread ends; the other holds the socket
"""


def test_a_process_whose_main_thread_is_a_zombie_can_still_listen() -> None:
    """Provoke what made the server checks above fail once under load: the server's main
    thread was a zombie (so 'dead') while its other threads still held the listening
    socket, which accepted a connection. `alive` now asks every thread."""
    proc = subprocess.Popen([sys.executable, "-c", LEADER_GONE_FIRST], stdout=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline())
        start = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        deadline = time.monotonic() + 2
        while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the main thread did not end"
            time.sleep(0.01)
        assert alive(proc.pid, start) and not _refuses(port)  # a zombie leader, listening
        assert proc.wait(timeout=10) == 0
        assert not alive(proc.pid, start) and _refuses(port)
    finally:
        proc.kill()
        proc.wait()


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
