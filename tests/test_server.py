"""Real server processes: start, stop, crash, restart, freeze, and death with the parent."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import rps_tui.core.embedded.server as server_mod
from rps_tui.core.embedded.server import (
    ServerError,
    ServerProcess,
    free_port,
    redis_binary,
    start_server,
    valkey_binary,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
Factory = Callable[..., ServerProcess]


def _probe(port: int, timeout: float = 0.5) -> redis.Redis:
    """A client that fails fast (redis-py retries 3x with backoff by default)."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _answers(port: int) -> bool:
    client = _probe(port)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists or is a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_binaries() -> None:
    assert valkey_binary().is_file()
    found = redis_binary()
    assert found is None or found.name == "redis-server"


def test_start_and_stop(server_kind: str, server_factory: Factory) -> None:
    srv = server_factory(server_kind)
    assert srv.kind == server_kind
    assert srv.host == "127.0.0.1"
    assert srv.url == f"redis://127.0.0.1:{srv.port}/0"
    client = _probe(srv.port)
    try:
        assert client.ping()
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("dir")["dir"] == str(srv.workdir.resolve())
        assert client.config_get("daemonize")["daemonize"] == "no"
    finally:
        client.close()
    assert srv.log_path.is_file()
    pid = srv.pid
    srv.stop()
    assert srv.process.returncode is not None
    assert _pid_gone(pid)
    assert not srv.workdir.exists()
    assert not _answers(srv.port)
    srv.stop()  # idempotent


def test_context_manager_stops() -> None:
    with start_server() as srv:
        assert _answers(srv.port)
    assert srv.process.returncode is not None
    assert not srv.workdir.exists()


def test_start_and_stop_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with start_server() as srv:
        srv.pause()
        srv.resume()
    with pytest.raises(ServerError):
        start_server(extra_args=["--no-such-directive", "1"])
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_restart_after_kill_on_same_port(server_kind: str, server_factory: Factory) -> None:
    srv = server_factory(server_kind, extra_args=["--maxmemory", "64mb"])
    port, old_pid = srv.port, srv.pid
    srv.kill()
    assert srv.process.returncode == -signal.SIGKILL
    assert not _answers(port)
    srv.restart()
    assert srv.port == port
    assert srv.pid != old_pid
    client = _probe(port)
    try:
        assert client.ping()
        assert client.config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
    finally:
        client.close()


def test_restart_after_stop(server_factory: Factory) -> None:
    srv = server_factory()
    srv.stop()
    assert not srv.workdir.exists()
    srv.restart()
    assert _answers(srv.port)
    assert srv.log_path.is_file()
    srv.stop()
    assert not srv.workdir.exists()


def test_pause_times_out_and_resume_restores(server_kind: str, server_factory: Factory) -> None:
    srv = server_factory(server_kind)
    client = _probe(srv.port, timeout=0.3)
    try:
        assert client.ping()
        srv.pause()
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            client.ping()
        assert time.monotonic() - started < 2.0
        srv.resume()
        assert _wait_until(lambda: _answers(srv.port), 5.0)
    finally:
        client.close()


def test_stop_while_paused(server_factory: Factory) -> None:
    srv = server_factory()
    srv.pause()
    started = time.monotonic()
    srv.stop(timeout=3.0)
    assert time.monotonic() - started < 3.0  # SIGTERM was delivered, no SIGKILL fallback needed
    assert srv.process.returncode == 0


def test_bad_extra_arg_is_one_readable_line(server_kind: str) -> None:
    if server_kind == "redis" and redis_binary() is None:
        pytest.skip("Debian redis-server not on PATH; CI installs it")
    with pytest.raises(ServerError) as info:
        start_server(server_kind, extra_args=["--no-such-directive", "yes"], timeout=5.0)
    message = str(info.value)
    assert "\n" not in message
    assert "no-such-directive" in message
    assert "Bad directive" in message
    assert len(message) < 300


def test_unknown_kind() -> None:
    with pytest.raises(ServerError, match="unknown server kind"):
        start_server("memcached")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port held by a listening socket for the duration of a test."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_explicit_busy_port_fails(busy_port: int) -> None:
    with pytest.raises(ServerError, match=f"{busy_port}"):
        start_server(port=busy_port, timeout=5.0)


def test_port_race_is_retried(busy_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """free_port() may hand out a port someone grabs before the server binds it: pick again."""
    ports = iter([busy_port])
    monkeypatch.setattr(server_mod, "free_port", lambda: next(ports, None) or free_port())
    with start_server(timeout=5.0) as srv:
        assert srv.port != busy_port
        assert _answers(srv.port)


def test_started_from_a_short_lived_thread_survives_it() -> None:
    """PR_SET_PDEATHSIG fires when the forking *thread* exits; the spawner thread prevents it."""
    box: list[ServerProcess] = []
    worker = threading.Thread(target=lambda: box.append(start_server()))
    worker.start()
    worker.join(15)
    assert box, "start_server() in a thread did not finish"
    with box[0] as srv:
        time.sleep(0.3)
        assert srv.is_running()
        assert _answers(srv.port)


_CHILD = textwrap.dedent(
    """
    import sys, time
    from rps_tui.core.embedded.server import start_server
    srv = start_server(sys.argv[1])
    print(srv.pid, srv.port, flush=True)
    time.sleep(60)
    """
)


def test_server_dies_when_parent_is_sigkilled(server_kind: str) -> None:
    if server_kind == "redis" and redis_binary() is None:
        pytest.skip("Debian redis-server not on PATH; CI installs it")
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": pythonpath}
    parent = subprocess.Popen(
        [sys.executable, "-c", _CHILD, server_kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
    )
    server_pid = port = None
    try:
        assert parent.stdout is not None
        ready, _, _ = select.select([parent.stdout], [], [], 20)
        assert ready, "child did not report its server in time"
        line = parent.stdout.readline().decode()
        assert line, f"child exited: {parent.stderr.read().decode() if parent.stderr else ''}"
        server_pid, port = (int(x) for x in line.split())
        assert not _pid_gone(server_pid)
        assert _answers(port)
        parent.kill()
        parent.wait(5)
        assert _wait_until(lambda: _pid_gone(server_pid), 5.0), "server outlived its parent"
        assert not _answers(port)
        leftovers = f"rps-tui-{server_kind}-{port}-*"
        assert list(Path(tempfile.gettempdir()).glob(leftovers)), "no atexit ran: dir is left"
        if _wait_until(lambda: not Path(f"/proc/{server_pid}").exists(), 5.0):  # reaped
            server_mod._sweep_stale_workdirs()  # the next start_server() does this
            assert not list(Path(tempfile.gettempdir()).glob(leftovers))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)
        if server_pid is not None and not _pid_gone(server_pid):
            cmdline = Path(f"/proc/{server_pid}/cmdline").read_bytes()
            if b"server" in cmdline:
                os.kill(server_pid, signal.SIGKILL)
        if port is not None:  # a SIGKILLed parent cannot clean its temp dir; do it here
            for leftover in Path(tempfile.gettempdir()).glob(f"rps-tui-{server_kind}-{port}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
