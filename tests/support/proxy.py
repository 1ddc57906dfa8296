"""A fault-injecting TCP proxy that sits between a client and a real server in the tests.

Why: reconnects, the PING watchdog, gap markers and a server dropping a slow subscriber must
be tested against what a real network does (latency, a slow link, a partition, a reset, a
server-side close), with a real server behind it, never a mock. The proxy makes those faults
on demand, on 127.0.0.1 only.

Model: each connection is two one-way pumps. A pump reads its source only while it holds less
than its cap, stamps each chunk with the time it was read, and writes it to the destination
once ``delay`` has passed (and, server to client, no faster than the throttle). So the byte
order is kept, memory is bounded, and a slow pump stops reading, which lets TCP flow control
push back on the sender. With the upstream socket's small receive buffer, the server's
output buffer for a throttled client (``omem`` in CLIENT LIST) grows as it would behind a
slow link, until ``client-output-buffer-limit`` makes the server drop the client.

One asyncio loop in one daemon thread runs everything. The public methods are called from
other threads: the setters store a value the pumps read at every step, and ``reset_all`` and
``close`` run a coroutine on the loop and wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal

__all__ = ["FaultProxy"]

HOST = "127.0.0.1"
UPSTREAM_RCVBUF = 64 * 1024  # set before connect: a fixed small window (no autotuning)
UPSTREAM_MSS = 1460  # Ethernet's: the server's send buffer autotunes as on a real link
HOLD = 64 * 1024  # the most a pump holds without delay, or when throttled
HOLD_DELAYED = 4 * 1024 * 1024  # with delay and no throttle: room for latency x bandwidth
READ_SIZE = 32 * 1024  # below HOLD, so reading and writing overlap
TICK = 0.02  # the longest a paused pump sleeps before it looks at the settings again
CONNECT_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0

_Outcome = Literal["eof", "reset", "broken"]


def _abort(sock: socket.socket) -> None:
    """Close with SO_LINGER 0, so the peer gets an RST rather than a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Wait for `event` at most `timeout` seconds (the caller re-checks its condition)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


class _Pump:
    """One direction of one connection: read `src`, hold the bytes, write them to `dst`.

    `run` returns how it ended: "eof" (the source closed; everything held was delivered and
    `dst` got a FIN), "reset" (the source was reset; everything held was delivered, the
    caller resets both ends), or "broken" (writing to `dst` failed; the rest is dropped).
    """

    def __init__(
        self, proxy: FaultProxy, src: socket.socket, dst: socket.socket, *, downstream: bool
    ) -> None:
        self._proxy = proxy
        self._src = src
        self._dst = dst
        self._downstream = downstream  # server to client: the throttle applies
        self._chunks: deque[tuple[float, memoryview]] = deque()
        self._held = 0
        self._end: _Outcome | None = None  # how the source ended
        self._arrived = asyncio.Event()
        self._drained = asyncio.Event()
        self._next_send = 0.0

    def _cap(self) -> int:
        proxy = self._proxy
        throttled = self._downstream and proxy._throttle is not None
        return HOLD_DELAYED if proxy._delay > 0 and not throttled else HOLD

    async def run(self) -> _Outcome:
        reader = asyncio.create_task(self._read())
        try:
            return await self._write()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                room = self._cap() - self._held
                if self._proxy._black_hole or room <= 0:
                    self._drained.clear()
                    await _wait(self._drained, TICK)
                    continue
                data = await loop.sock_recv(self._src, min(READ_SIZE, room))
                if not data:
                    self._end = "eof"
                    break
                self._chunks.append((time.monotonic(), memoryview(data)))
                self._held += len(data)
                self._arrived.set()
        except OSError:
            self._end = "reset"
        self._arrived.set()

    async def _write(self) -> _Outcome:
        loop = asyncio.get_running_loop()
        proxy = self._proxy
        while True:
            if not self._chunks:
                if self._end is not None:
                    break
                self._arrived.clear()
                await self._arrived.wait()  # set by every read and by the end of the source
                continue
            stamp, data = self._chunks[0]
            now = time.monotonic()
            due = stamp + proxy._delay - now
            if proxy._black_hole or due > 0:
                await asyncio.sleep(TICK if proxy._black_hole else min(due, TICK))
                continue
            rate = proxy._throttle if self._downstream else None
            if rate is None:
                piece = data
            else:
                if self._next_send > now:
                    await asyncio.sleep(min(self._next_send - now, TICK))
                    continue
                piece = data[: max(512, rate // 50)]  # about 50 sends a second
                # Keep a small lag (sleep overshoot) to catch up on; after an idle spell, no burst.
                base = self._next_send if now - self._next_send < 0.1 else now
                self._next_send = base + len(piece) / rate
            try:
                await loop.sock_sendall(self._dst, piece)
            except OSError:
                return "broken"
            if len(piece) == len(data):
                self._chunks.popleft()
            else:
                self._chunks[0] = (stamp, data[len(piece) :])
            self._held -= len(piece)
            self._drained.set()
        if self._end == "eof":
            with contextlib.suppress(OSError):
                self._dst.shutdown(socket.SHUT_WR)
            return "eof"
        return "reset"


class _Conn:
    """One client connection: its sockets, its task, and whether to close it with an RST."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.upstream: socket.socket | None = None
        self.reset = False
        self.task: asyncio.Task[None] | None = None


class FaultProxy:
    """A TCP proxy from a free port on 127.0.0.1 to ``target``, with faults set at run time.

    Use as a context manager (or call ``close``). Settings apply at once to new and existing
    connections. Default: a plain pass-through.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._delay = 0.0
        self._throttle: int | None = None
        self._black_hole = False
        self._conns: set[_Conn] = set()
        self._closed = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((HOST, 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.host: str = HOST
        self.port: int = int(self._listener.getsockname()[1])
        self._loop = asyncio.new_event_loop()
        self._accept_task = self._loop.create_task(self._accept())  # runs once the loop does
        self._thread = threading.Thread(
            target=self._run, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ public API

    def url(self, db: int = 0) -> str:
        """The redis:// URL that goes through the proxy."""
        return f"redis://{self.host}:{self.port}/{db}"

    @property
    def connections(self) -> int:
        """Client connections open now (accepted and not yet closed)."""
        return len(self._conns)

    def set_delay(self, seconds: float) -> None:
        """Add `seconds` of one-way latency in each direction (a round trip grows by twice
        that). Bytes keep their order; held bytes are capped (HOLD_DELAYED) per direction."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._delay = float(seconds)

    def set_throttle(self, bytes_per_second: int | None) -> None:
        """Cap server-to-client bandwidth per connection (None: unlimited). The proxy then
        reads the server only as fast as it forwards, so the server's output buffer grows."""
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError("throttle must be > 0 bytes/s, or None")
        self._throttle = bytes_per_second

    def black_hole(self, on: bool = True) -> None:
        """A partition: forward nothing either way, close nothing (half-open at both ends).

        Bytes sent meanwhile wait in the proxy and in the kernels, as TCP retransmission would
        keep them, and flow on in order after ``black_hole(False)``; a connection that neither
        end gave up on then works again. New clients are accepted by the kernel, but the
        server sees them only after the partition ends.
        """
        self._black_hole = on

    def reset_all(self) -> None:
        """Reset every open connection: SO_LINGER 0 then close, so both the client and the
        server get an RST (ECONNRESET on their next read or write). New connections work."""
        self._call(self._reset_all())

    def close(self) -> None:
        """Close every connection and the listener, stop the loop and join its thread."""
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(Exception):
                self._call(self._shutdown())
            if self._loop.is_running():
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT)
        finally:
            self._listener.close()
        if self._thread.is_alive():
            raise RuntimeError("fault proxy thread did not stop")

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ the loop thread

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine on the loop thread and wait for it (bounded)."""
        if not self._thread.is_alive():
            coro.close()
            raise RuntimeError("fault proxy is closed")
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(STOP_TIMEOUT)

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            client, _ = await loop.sock_accept(self._listener)
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(client)
            self._conns.add(conn)
            conn.task = loop.create_task(self._serve(conn))

    async def _serve(self, conn: _Conn) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._black_hole:  # a partition: nothing reaches the server yet
                await asyncio.sleep(TICK)
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conn.upstream = upstream
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UPSTREAM_RCVBUF)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, UPSTREAM_MSS)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.setblocking(False)
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await loop.sock_connect(upstream, self.target)
            except OSError:  # refused or timed out: the client gets a reset
                conn.reset = True
                return
            pumps = (
                _Pump(self, conn.client, upstream, downstream=False),
                _Pump(self, upstream, conn.client, downstream=True),
            )
            tasks = [loop.create_task(pump.run()) for pump in pumps]
            try:
                for done in asyncio.as_completed(tasks):
                    if await done == "reset":
                        conn.reset = True
                        break
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._conns.discard(conn)
            for sock in (conn.client, conn.upstream):
                if sock is not None:
                    _abort(sock) if conn.reset else sock.close()

    async def _reset_all(self) -> None:
        tasks = []
        for conn in list(self._conns):
            conn.reset = True
            if conn.task is not None:
                conn.task.cancel()
                tasks.append(conn.task)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _shutdown(self) -> None:
        self._accept_task.cancel()
        tasks = [c.task for c in self._conns if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(self._accept_task, *tasks, return_exceptions=True)
