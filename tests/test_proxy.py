"""Self-tests of the fault-injecting proxy (tests/support/proxy.py) against a real server.

Each fault is checked at the level the other tests rely on: the latency a client measures,
the server's output buffer behind a throttled link, the bytes and EOF after a server-side
close, a stalled but open connection, and an RST at both ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.embedded.server import ServerProcess
from tests.support.proxy import FaultProxy
from tests.support.wait import wait_for

PAYLOAD = b"x" * 1000


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[FaultProxy]:
    """A proxy in front of the shared server; closing it must stop its thread."""
    with FaultProxy(server.host, server.port) as p:
        yield p
    assert p.connections == 0


@pytest.fixture
def direct(server: ServerProcess) -> Iterator[redis.Redis]:
    """A client that bypasses the proxy: publishes, and reads CLIENT LIST."""
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=5)
    try:
        yield client
    finally:
        client.close()


def _name(kind: str) -> str:
    return f"proxy-{kind}-{uuid.uuid4().hex[:8]}"


def _resp(*args: str | bytes) -> bytes:
    """One command in RESP, for raw sockets."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError(f"EOF after {buf!r}")
        buf += chunk
    return buf


def _raw(proxy: FaultProxy, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection((proxy.host, proxy.port), timeout=timeout)


def _subscriber(proxy: FaultProxy, name: str, channel: str) -> socket.socket:
    """A raw subscriber through the proxy, named `name`, with both replies read (no more)."""
    sock = _raw(proxy)
    sock.sendall(_resp("CLIENT", "SETNAME", name) + _resp("SUBSCRIBE", channel))
    expected = b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (
        len(channel),
        channel.encode(),
    )
    assert _read_exactly(sock, len(expected)) == expected
    return sock


def _client(direct: redis.Redis, name: str) -> dict | None:
    return next((c for c in direct.client_list() if c.get("name") == name), None)


def _publish(direct: redis.Redis, channel: str, total: int) -> None:
    pipe = direct.pipeline(transaction=False)
    for _ in range(total // len(PAYLOAD)):
        pipe.publish(channel, PAYLOAD)
    pipe.execute()


def test_forwards_commands_and_counts_connections(proxy: FaultProxy) -> None:
    assert proxy.url(3) == f"redis://127.0.0.1:{proxy.port}/3"
    client = redis.Redis.from_url(proxy.url(), socket_timeout=5)
    other = redis.Redis.from_url(proxy.url(), socket_timeout=5)
    key = _name("key")
    value = os.urandom(1_000_000)  # many reads and writes each way, in order
    try:
        assert client.ping() is True
        assert client.set(key, value) is True
        assert client.get(key) == value
        assert other.ping() is True
        assert proxy.connections == 2
    finally:
        client.delete(key)
        client.close()
        other.close()
    wait_for(lambda: proxy.connections == 0, timeout=5)


def test_delay_is_added_each_way_on_an_open_connection(proxy: FaultProxy) -> None:
    client = redis.Redis.from_url(proxy.url(), socket_timeout=5)
    try:
        assert client.ping() is True  # connected before the delay is set
        proxy.set_delay(0.3)
        start = time.monotonic()
        assert client.ping() is True
        rtt = time.monotonic() - start
        assert 0.6 <= rtt < 3.0
        proxy.set_delay(0)
        start = time.monotonic()
        assert client.ping() is True
        assert time.monotonic() - start < 0.3
    finally:
        client.close()


def test_throttle_pushes_back_to_the_server(proxy: FaultProxy, direct: redis.Redis) -> None:
    name, channel = _name("slow"), _name("flood")
    proxy.set_throttle(100_000)
    sub = _subscriber(proxy, name, channel)
    try:
        start = time.monotonic()
        _publish(direct, channel, 3_000_000)
        # The server holds what the slow link cannot take: its output buffer for the client.
        wait_for(lambda: int((_client(direct, name) or {}).get("omem", 0)) > 1_000_000, 5)
        received = 0
        sub.settimeout(0.2)
        while time.monotonic() - start < 1.5:
            with contextlib.suppress(TimeoutError):
                received += len(sub.recv(65536))
        rate = received / (time.monotonic() - start)
        assert 30_000 < rate < 200_000, rate
    finally:
        sub.close()
    wait_for(lambda: _client(direct, name) is None, timeout=5)  # the server freed it


def test_server_close_delivers_held_bytes_then_eof(proxy: FaultProxy, direct: redis.Redis) -> None:
    name, channel = _name("killed"), _name("flood")
    frame = len(_resp("message", channel, PAYLOAD))  # the same framing as a push
    proxy.set_throttle(200_000)
    sub = _subscriber(proxy, name, channel)
    try:
        _publish(direct, channel, 200 * len(PAYLOAD))  # small enough to leave the server
        before = 0
        while before < 32 * 1024:
            chunk = sub.recv(65536)
            assert chunk, "EOF before the kill"
            before += len(chunk)
        # Every byte is past the server (in the kernels and the proxy): none is lost at the kill.
        info = _client(direct, name)
        assert info is not None
        assert (info["obl"], info["oll"], info["omem"]) == ("0", "0", "0"), info
        assert direct.client_kill_filter(_id=info["id"]) == 1
        killed = time.monotonic()
        after = 0
        sub.settimeout(0.5)
        while True:
            assert time.monotonic() - killed < 10, f"no EOF; {after} bytes after the kill"
            try:
                chunk = sub.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            after += len(chunk)
        # What the proxy held (its buffer and its socket's) arrived, still throttled, then EOF.
        assert before + after == 200 * frame
        assert after >= 64 * 1024
        assert time.monotonic() - killed >= after / 200_000 * 0.5
    finally:
        sub.close()
    wait_for(lambda: proxy.connections == 0, timeout=5)


def test_black_hole_stalls_without_closing_then_heals(proxy: FaultProxy) -> None:
    client = redis.Redis.from_url(proxy.url(), socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
    raw = _raw(proxy)
    try:
        assert client.ping() is True
        raw.sendall(_resp("PING"))
        assert _read_exactly(raw, 7) == b"+PONG\r\n"
        proxy.black_hole()
        start = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            client.ping()
        assert time.monotonic() - start < 2.0
        raw.sendall(_resp("PING"))
        raw.settimeout(0.5)
        with pytest.raises(TimeoutError):
            raw.recv(100)
        assert proxy.connections == 2  # nothing was closed
        proxy.black_hole(False)
        raw.settimeout(3)
        assert _read_exactly(raw, 7) == b"+PONG\r\n"  # held, not dropped: the stream goes on
        assert client.ping() is True
    finally:
        raw.close()
        client.close()


def test_reset_all_resets_both_ends(proxy: FaultProxy, direct: redis.Redis) -> None:
    name = _name("reset")
    conn = redis.Connection(
        host=proxy.host,
        port=proxy.port,
        client_name=name,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )
    raw = _raw(proxy, timeout=2)
    try:
        conn.connect()
        conn.send_command("PING")
        assert conn.read_response() == b"PONG"
        raw.sendall(_resp("PING"))
        assert _read_exactly(raw, 7) == b"+PONG\r\n"
        assert _client(direct, name) is not None
        proxy.reset_all()
        assert proxy.connections == 0
        with pytest.raises(ConnectionResetError):  # an RST, not a FIN (that would read b"")
            raw.recv(100)
        with pytest.raises(redis.ConnectionError):
            conn.send_command("PING")
            conn.read_response()
        wait_for(lambda: _client(direct, name) is None, timeout=5)  # the server's end too
        fresh = redis.Redis.from_url(proxy.url(), socket_timeout=5)
        try:
            assert fresh.ping() is True
        finally:
            fresh.close()
    finally:
        raw.close()
        conn.disconnect()
