"""`rps-tui publish`: messages from an argument, a file or standard input, to one channel.

What a message is:
- A MESSAGE argument, a `--file`'s bytes, or all of stdin (`--whole`) is one message, sent
  `--count` times; placeholders such as `{{n}}` are expanded per message (`core.templates`).
- Otherwise each line of stdin is one message, published as soon as it is read, so
  `tail -f app.log | rps-tui publish logs` streams. Lines are data from another program and
  are sent byte for byte: no placeholders, no decoding. The line break is not part of the
  message: a line ends at `\\n`, and a `\\r\\n` ending is removed whole, so a file saved on
  Windows publishes the same messages as on Unix (a `\\r` anywhere else is kept; to send
  one at the end, use `--whole` or `--file`). An empty line is an empty message. A last
  line without a line break is still a message.

Sending: what is already read goes out pipelined (up to `BATCH` per round trip), so a
file piped in is fast and a slow stream is sent line by line; `--rate`/`--interval` send
one message at a time on a schedule (a late one goes at once, the schedule is kept).
Nothing is retried (a PUBLISH retried after it reached the server delivers twice): the first
error ends the run, and the summary says how many were published before it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import redis
from redis.exceptions import RedisClusterException

from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.publisher import Publisher
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.templates import Template
from rps_tui.core.units import plural

BATCH = 1000  # messages per pipeline round trip
READ_SIZE = 1 << 16


@dataclass
class PublishResult:
    sent: int = 0  # messages the server accepted
    receivers: int = 0  # sum of their receiver counts
    seconds: float = 0.0
    error: str | None = None  # why it stopped early (a server or connection error)
    unsure: int = 0  # messages of the last batch whose fate the lost connection hides
    stopped: str | None = None  # "interrupted" (Ctrl-C) or "stopped" (SIGTERM)

    def summary(self, channel: str, *, one_node: bool = False) -> str:
        """One line: what was published, to whom, and what went wrong."""
        node = " (counted on one node: a cluster PUBLISH)" if one_node else ""
        text = (
            f"published {plural(self.sent, 'message')} to {channel} in {self.seconds:.1f} s: "
            f"{plural(self.receivers, 'receiver')} in all{node}"
        )
        if self.stopped:
            text = f"{self.stopped}: {text}"
        unsure = f" ({plural(self.unsure, 'more')} may have been sent)" if self.unsure else ""
        if self.error:
            return f"{text}; then an error{unsure}: {self.error}"
        return f"{text}, no errors{unsure}"


def split_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines (without their `\\n` or `\\r\\n`) and the unfinished rest."""
    *lines, rest = data.split(b"\n")
    return [line[:-1] if line.endswith(b"\r") else line for line in lines], rest


def stdin_lines(fd: int, read: Callable[[int, int], bytes] = os.read) -> Iterator[list[bytes]]:
    """Each read's complete lines, as soon as the read returns: a pipe's read returns what
    is there, so a stream is not held back waiting for a full buffer."""
    rest = b""
    while chunk := read(fd, READ_SIZE):
        lines, rest = split_lines(rest + chunk)
        if lines:
            yield lines
    if rest:
        yield [rest[:-1] if rest.endswith(b"\r") else rest]


def repeated(template: Template, count: int | None, batch: int = BATCH) -> Iterator[list[bytes]]:
    """`count` messages from a template (None: without end), rendered a batch at a time, as
    they are pulled (so `{{time}}` is the time of sending)."""
    n = 0
    while count is None or n < count:
        size = batch if count is None else min(batch, count - n)
        yield [template.render(n + i + 1) for i in range(size)]
        n += size


def limited(batches: Iterable[list[bytes]], count: int | None) -> Iterator[list[bytes]]:
    """At most `count` messages in all."""
    if count is None:
        yield from batches
        return
    left = count
    for batch in batches:
        if left <= 0:
            return
        yield batch[:left]
        left -= len(batch)


def paced(
    batches: Iterable[list[bytes]],
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[bytes]]:
    """One message per `interval` seconds: the k-th is due `k * interval` after the first,
    so time spent sending does not slow the rate down. The next batch is pulled when its
    first message is due, so a message rendered from a template carries its sending time."""
    start: float | None = None
    k = 0

    def wait() -> None:
        assert start is not None
        while (left := start + k * interval - clock()) > 0:
            sleep(left)

    source = iter(batches)
    while True:
        if start is not None:
            wait()
        batch = next(source, None)
        if batch is None:
            return
        for i, message in enumerate(batch):
            if start is None:
                start = clock()
            elif i:
                wait()
            k += 1
            yield [message]


def publish(
    settings: ConnectionSettings,
    channel: bytes,
    batches: Iterable[list[bytes]],
    *,
    sharded: bool = False,
    each: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PublishResult:
    """Publish every message of `batches` to `channel`; `each(n, receivers)` is called per
    accepted message. KeyboardInterrupt ends it early with `stopped = "interrupted"`; the
    caller turns SIGTERM into `Stop`."""
    result = PublishResult()
    started = clock()
    command = "SPUBLISH" if sharded else "PUBLISH"
    publisher: Publisher | None = None
    in_flight = 0  # sent but not answered: a lost connection or Ctrl-C hides their fate
    try:
        publisher = Publisher(settings)
        for batch in batches:
            for message in batch:
                publisher.add(command, channel, message)
            in_flight = len(batch)
            replies, refusal = publisher.flush()
            in_flight = 0
            for receivers in replies:
                result.sent += 1
                result.receivers += receivers
                if each is not None:
                    each(result.sent, receivers)
            if refusal is not None:
                result.error = describe_error(refusal, settings)
                break
    except (redis.RedisError, RedisClusterException, OSError) as exc:
        result.error = describe_error(exc, settings)
        result.unsure = in_flight
    except KeyboardInterrupt:
        result.unsure = in_flight
        result.stopped = "interrupted"
    except Stop:
        result.unsure = in_flight
        result.stopped = "stopped"
    finally:
        result.seconds = clock() - started
        if publisher is not None:
            publisher.close()
    return result


class Stop(Exception):
    """Raised by the caller's SIGTERM handler: end as after Ctrl-C, with exit 0."""
