"""A known recording made live: `PUBLISHED`, published by an independent client, and
`record_live`, which records it through a running Engine; the recording and replay tests
compare what they read back against `PUBLISHED`."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.recording.recorder import Recorder
from rps_tui.core.store import Store
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Subscription
from tests.support.engine import running
from tests.support.wait import wait_for

# What an independent client publishes, and how the recording must show it: (kind,
# pattern, channel, data). Text, invalid UTF-8, empty, JSON, terminal escapes, a channel
# and a pattern that are not UTF-8, and a sharded channel.
BIN_PATTERN = b"rec.bin\xff*"
PUBLISHED: list[tuple[bytes, bytes | None, bytes, bytes]] = [
    (b"message", None, b"rec.text", b"hello"),
    (b"message", None, b"rec.text", b"\xff\xfe\x00bin\x80"),
    (b"message", None, b"rec.text", b""),
    (b"pmessage", b"rec.pat.*", "rec.pat.é".encode(), b'{"json": [1, 2]}'),
    (b"pmessage", b"rec.pat.*", b"rec.pat.\xff", b"\x1b]0;title\x07\x1b[2J"),
    (b"pmessage", BIN_PATTERN, b"rec.bin\xff1", b"\x00"),
    (b"smessage", None, b"rec.shard", "€ sharded".encode()),
    (b"message", None, b"rec.text", b"last"),
]
SUBS = (
    Subscription(Kind.CHANNEL, "rec.text"),
    Subscription(Kind.PATTERN, "rec.pat.*"),
    Subscription(Kind.PATTERN, BIN_PATTERN.decode("utf-8", "surrogateescape")),
    Subscription(Kind.SHARD, "rec.shard"),
)


def publish_all(url: str, pause: float = 0.0) -> None:
    """Publish PUBLISHED from a plain redis-py client (not our code), in order."""
    client = redis.Redis.from_url(url)
    try:
        for i, (kind, _, channel, data) in enumerate(PUBLISHED):
            if i and pause:
                time.sleep(pause)
            command = "SPUBLISH" if kind == b"smessage" else "PUBLISH"
            assert client.execute_command(command, channel, data) == 1
    finally:
        client.close()


def record_live(url: str, path: Path, pause: float = 0.0) -> Store:
    """Record PUBLISHED through a running Engine with `sink=Recorder(path)`; the live store."""
    engine = Engine(parse_url(url), Store())
    recorder = Recorder(path)
    engine.sink = recorder
    with running(engine, *SUBS):
        publish_all(url, pause)
        wait_for(lambda: engine.store.total == len(PUBLISHED))
    recorder.close()
    assert recorder.error is None and recorder.lines == len(PUBLISHED)
    return engine.store
