"""A publisher process: PUBLISH (or SPUBLISH) the run's messages, pipelined, never retried.

Each batch is written as one piece and its replies read before the next: with --max a batch
is `MAX_BATCH` messages stamped with the time they are made; at a fixed rate it is every
message whose intended time has come (start + n / rate), stamped with that intended time, so
a publisher that fell behind sends its backlog at once and the lateness shows as latency.
A batch is never retried (a retried PUBLISH can deliver twice); `published` counts the
replies the server sent, so a message lost with a dead connection is not counted as sent.
On a cluster, classic PUBLISH goes to one node (the cluster broadcasts it) and SPUBLISH to
the owner of each channel's slot, one connection per owner.
"""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

import hiredis

from rps_tui.core.bench.message import Encoder, channel_names
from rps_tui.core.bench.wire import (
    Plan,
    ServerGone,
    child_setup,
    close_raw,
    command_head,
    open_raw,
    parent_gone,
    read_replies,
)
from rps_tui.core.connection.errors import describe_error

MAX_BATCH = 100  # commands per pipeline: ~860k msg/s from one process (see wire.py)
TICK_SECONDS = 0.25  # how often the parent hears the count
RECV_SIZE = 1 << 16


class _Link:
    """One connection and the command heads of the channels it publishes to."""

    def __init__(self, plan: Plan, host_port: tuple[str, int] | None) -> None:
        settings = plan.settings if host_port is None else plan.settings.at(*host_port)
        self.settings = settings
        self.conn, self.sock = open_raw(settings)
        self.sock.settimeout(10.0)  # a stalled server ends the run, not the process
        self.reader = hiredis.Reader()
        self.buf = bytearray(RECV_SIZE)

    def send(self, data: list[bytes]) -> list:
        self.sock.sendall(b"".join(data))
        return read_replies(self.sock, self.reader, len(data) // 2, self.buf)


class Publishing:
    """The connections and the count of one publisher."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan, self.index = plan, index
        self.encoder = Encoder(index, plan.size)
        channels = channel_names(plan.run, plan.channels)
        name = b"SPUBLISH" if plan.shard else b"PUBLISH"
        self.heads = [command_head(name, ch, plan.size) for ch in channels]
        self.links: dict[tuple[str, int] | None, _Link] = {}
        if plan.shard and plan.cluster:
            self.route = [self._link(owner) for owner in plan.owners]
        else:
            # classic PUBLISH on a cluster: one node broadcasts; spread publishers over them
            node = plan.nodes[index % len(plan.nodes)] if plan.nodes else None
            self.route = [self._link(node)] * plan.channels
        self.published = 0
        self.receivers = 0

    def _link(self, where: tuple[str, int] | None) -> _Link:
        if where not in self.links:
            self.links[where] = _Link(self.plan, where)
        return self.links[where]

    def send(self, first: int, stamps: list[int]) -> None:
        """Messages first.. stamped `stamps`, each to channel seq % channels; raises on the
        first error reply (after counting what the server accepted)."""
        by_link: dict[int, tuple[_Link, list[bytes]]] = {}
        heads, route, encode, count = self.heads, self.route, self.encoder.encode, len(self.heads)
        for i, stamp in enumerate(stamps):
            seq = first + i
            c = seq % count
            link = route[c]
            entry = by_link.get(id(link))
            if entry is None:
                entry = by_link[id(link)] = (link, [])
            entry[1].append(heads[c])
            entry[1].append(encode(seq, stamp) + b"\r\n")
        refusal = None
        for link, data in by_link.values():
            for reply in link.send(data):
                if isinstance(reply, hiredis.ReplyError):
                    refusal = refusal or reply
                else:
                    self.published += 1
                    self.receivers += reply
        if refusal is not None:
            raise RuntimeError(f"the server refused a publish: {refusal}")

    def close(self) -> None:
        for link in self.links.values():
            close_raw(link.conn)


def run_publisher(
    plan: Plan, index: int, queue: Queue, start: Synchronized, stop: Event, parent: int
) -> None:
    """Process main. Puts ("ready", "pub", i), ("tick", "pub", i, published) and at the end
    ("done", "pub", i, published, receivers, error) on `queue`."""
    child_setup("pub")
    pub: Publishing | None = None
    error: str | None = None
    try:
        pub = Publishing(plan, index)
        queue.put(("ready", "pub", index))
        while start.value == 0:
            if stop.wait(0.005) or parent_gone(parent):
                return
        _publish(pub, plan, start.value, stop, queue, parent)
    except (OSError, ServerGone, hiredis.ProtocolError, RuntimeError) as exc:
        error = str(exc) if isinstance(exc, RuntimeError) else describe_error(exc, plan.settings)
    except Exception as exc:  # redis-py's errors during the handshake
        error = describe_error(exc, plan.settings)
    finally:
        published = pub.published if pub else 0
        receivers = pub.receivers if pub else 0
        queue.put(("done", "pub", index, published, receivers, error))
        if pub is not None:
            pub.close()


def _publish(pub: Publishing, plan: Plan, t0: int, stop: Event, queue: Queue, parent: int) -> None:
    now_ns = time.monotonic_ns
    rate = plan.rate / plan.publishers if plan.rate else None
    limit = plan.share(pub.index)
    end = t0 + int(plan.duration * 1e9) if plan.duration is not None else None
    if rate is not None and end is not None:
        limit = int(rate * plan.duration)  # type: ignore[operator]
    interval = 1e9 / rate if rate else 0.0
    while now_ns() < t0:
        time.sleep(0.001)
    seq = 0
    next_tick = now_ns() + int(TICK_SECONDS * 1e9)
    while limit is None or seq < limit:
        now = now_ns()
        if now >= next_tick:
            queue.put(("tick", "pub", pub.index, pub.published))
            next_tick = now + int(TICK_SECONDS * 1e9)
            if stop.is_set() or parent_gone(parent):
                return
        if end is not None and rate is None and now >= end:
            return
        if rate is None:
            n = MAX_BATCH if limit is None else min(MAX_BATCH, limit - seq)
            pub.send(seq, [now] * n)
        else:
            due = int((now - t0) / interval) + 1  # messages whose intended time has come
            if limit is not None:
                due = min(due, limit)
            if due <= seq:
                wait = (t0 + seq * interval - now) / 1e9
                time.sleep(min(max(wait, 0.0), TICK_SECONDS))
                continue
            n = min(due - seq, MAX_BATCH)
            pub.send(seq, [t0 + int((seq + i) * interval) for i in range(n)])
        seq += n
