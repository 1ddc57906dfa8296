"""An independent subscriber (plain redis-py, no rps-tui code) for checking what arrived."""

from __future__ import annotations

import time

import redis


class Listener:
    """An independent subscriber (plain redis-py) on the target server."""

    def __init__(self, url: str, channels: list[bytes], patterns: list[bytes], shards: list[bytes]):
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        if channels:
            self.pubsub.subscribe(*channels)
        if patterns:
            self.pubsub.psubscribe(*patterns)
        if shards:
            self.pubsub.ssubscribe(*shards)
        expected = len(channels) + len(patterns) + len(shards)
        confirmed, deadline = 0, time.monotonic() + 5
        while confirmed < expected and time.monotonic() < deadline:
            reply = self.pubsub.get_message(timeout=0.2)
            if reply and reply["type"] in ("subscribe", "psubscribe", "ssubscribe"):
                confirmed += 1
        assert confirmed == expected, "the listener's subscriptions were not confirmed"

    def collect(self, count: int, timeout: float = 10.0) -> list[tuple[tuple, float]]:
        """(kind, pattern, channel, data) of `count` messages, with their receive times."""
        got: list[tuple[tuple, float]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            msg = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if msg is None:
                continue
            kind = msg["type"].encode()
            got.append(((kind, msg["pattern"], msg["channel"], msg["data"]), time.monotonic()))
        return got

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()
