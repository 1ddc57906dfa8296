"""Raw connections for the bench's processes, and what both kinds of process share.

redis-py opens a connection (TLS, AUTH, SELECT, CLIENT SETNAME); then the socket is used
directly with RESP written by hand and read by a `hiredis.Reader`. redis-py's per-command
layer is the bottleneck otherwise: measured on this project's 2-core machine, 100-command
pipelines of 64-byte PUBLISH through `connection.publisher.Publisher` ran at 174k msg/s and
the same bytes written raw at 858k msg/s; the dashboard's engine reads the same way for the
same reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
from dataclasses import dataclass

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.connection.settings import ConnectionSettings

CONNECT_TIMEOUT = 5.0
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


class ServerGone(ConnectionError):
    """The server closed a connection the bench was using."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a bench process needs (picklable: it goes to a spawned process)."""

    settings: ConnectionSettings  # one server (a Sentinel's master is resolved before)
    run: str  # the run id in the channel names
    publishers: int
    subscribers: int
    channels: int
    size: int
    rate: float | None  # total msg/s over all publishers; None: --max
    duration: float | None  # seconds; None: --messages
    messages: int | None  # total over all publishers
    pattern: bool = False
    shard: bool = False
    # a cluster: the primaries (classic subscribers spread over them) and, with --shard,
    # the owner of each channel, in channel order
    nodes: tuple[tuple[str, int], ...] = ()
    owners: tuple[tuple[str, int], ...] = ()

    @property
    def cluster(self) -> bool:
        return bool(self.nodes)

    def share(self, publisher: int) -> int | None:
        """How many messages this publisher sends with --messages (the total split evenly)."""
        if self.messages is None:
            return None
        base, extra = divmod(self.messages, self.publishers)
        return base + (1 if publisher < extra else 0)


def open_raw(settings: ConnectionSettings, name: str | None = None) -> tuple[object, socket.socket]:
    """(redis-py connection, its socket) after the handshake, RESP2, named if `name`."""
    client = redis.Redis(
        **settings.redis_kwargs(
            protocol=2, socket_timeout=CONNECT_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
    )
    conn = client.connection_pool.make_connection()
    conn.connect()
    if name:
        conn.send_command("CLIENT", "SETNAME", name)
        with contextlib.suppress(redis.ResponseError):  # an ACL may deny CLIENT
            conn.read_response()
    return conn, conn._sock  # type: ignore[attr-defined]


def close_raw(conn: object) -> None:
    with contextlib.suppress(Exception):  # a dead socket fails in many ways; gone either way
        conn.disconnect()  # type: ignore[attr-defined]


def command(*args: bytes) -> bytes:
    """One command in RESP."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def command_head(name: bytes, channel: bytes, size: int) -> bytes:
    """A `name channel <payload>` command up to the payload, which follows with b"\\r\\n"."""
    return b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n" % (
        len(name), name, len(channel), channel, size
    )  # fmt: skip


def read_replies(sock: socket.socket, reader: hiredis.Reader, count: int, buf: bytearray) -> list:
    """Exactly `count` replies (errors come back as hiredis.ReplyError values)."""
    replies: list = []
    gets = reader.gets
    while True:
        while len(replies) < count:
            reply = gets()
            if reply is False:  # `is`: a reply of 0 is not "nothing yet"
                break
            replies.append(reply)
        if len(replies) >= count:
            return replies
        n = sock.recv_into(buf)
        if not n:
            raise ServerGone("the server closed the connection")
        reader.feed(buf, 0, n)


def child_setup(role: str) -> None:
    """In a bench process: Ctrl-C is the parent's to handle (the terminal sends it to the
    whole group), the process dies with the parent even if the parent is killed, and it
    is named for ps and top (`rps-bench-pub`, `rps-bench-sub`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # Linux only; elsewhere the parent's watch remains
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(_PR_SET_NAME, f"rps-bench-{role}".encode()[:15])


def parent_gone(parent: int) -> bool:
    return os.getppid() != parent
