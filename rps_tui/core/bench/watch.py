"""What the server says about the bench's subscribers: their output buffers (`omem` in
CLIENT LIST, found by their CLIENT SETNAME) and whether it dropped any for the limit.

The same detection as the dashboard (core.subscriber.drops): Redis 7.2+ and Valkey count
`client_output_buffer_limit_disconnections` in INFO stats; on Redis 7.0 a subscriber that
went away while the server held a quarter of `client-output-buffer-limit pubsub` or more
for it (last seen, or the server's recent maximum) was dropped for falling behind. The
watch is a plain client of its own; a server that stops answering leaves the last values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.subscriber.drops import dropped_reason

DISCONNECTIONS = "client_output_buffer_limit_disconnections"
RECENT_MAX = "client_recent_max_output_buffer"


def parse_limit(reply: object) -> tuple[int, ...] | None:
    """CONFIG GET client-output-buffer-limit -> the pubsub (hard, soft, seconds)."""
    if isinstance(reply, dict):
        text = next(iter(reply.values()), "")
    elif isinstance(reply, list | tuple) and len(reply) > 1:
        text = reply[1]
    else:
        return None
    words = (text.decode() if isinstance(text, bytes) else str(text)).split()
    for i, word in enumerate(words[:-3]):
        if word == "pubsub":
            with contextlib.suppress(ValueError):
                return tuple(_bytes(w) for w in words[i + 1 : i + 4])
    return None


def _bytes(word: str) -> int:
    units = {"kb": 1000, "k": 1000, "mb": 10**6, "m": 10**6, "gb": 10**9, "g": 10**9}
    for unit, factor in units.items():
        if word.lower().endswith(unit):
            return int(word[: -len(unit)]) * factor
    return int(word)


class Watch:
    """Samples CLIENT LIST on every node the subscribers use."""

    def __init__(self, settings: ConnectionSettings, nodes: list[tuple[str, int]], prefix: str):
        places = [settings.at(*n) for n in nodes] or [settings]
        self.clients = [
            redis.Redis(**s.redis_kwargs(socket_timeout=1.0, retry=Retry(NoBackoff(), 0)))
            for s in places
        ]
        self.prefix = prefix
        self.omem: dict[str, int] = {}  # subscriber name -> total omem when last seen
        self.max_omem = 0
        self.limit = self._ask(lambda c: parse_limit(c.config_get("client-output-buffer-limit")))
        self.before = self.disconnections()

    @staticmethod
    def _safe(call: Callable[[redis.Redis], Any], client: redis.Redis) -> Any:
        try:
            return call(client)
        except (redis.RedisError, OSError):
            return None

    def _ask(self, call: Callable[[redis.Redis], Any]) -> Any:
        """The first node's answer (None if it refuses or is gone)."""
        return self._safe(call, self.clients[0])

    def disconnections(self) -> int | None:
        """The servers' count of output-buffer-limit drops (None: Redis 7.0, or no INFO)."""
        total = None
        for client in self.clients:
            info = self._safe(lambda c: c.info("stats"), client)
            if info and DISCONNECTIONS in info:
                total = (total or 0) + int(info[DISCONNECTIONS])
        return total

    def sample(self) -> dict[str, int]:
        """omem of each subscriber listed now (by name, summed over its connections)."""
        now: dict[str, int] = {}
        for client in self.clients:
            listed = self._safe(lambda c: c.client_list(_type="pubsub"), client) or []
            for entry in listed:
                name = entry.get("name", "")
                if name.startswith(self.prefix):
                    now[name] = now.get(name, 0) + int(entry.get("omem", 0))
        self.omem.update(now)
        if now:
            self.max_omem = max(self.max_omem, max(now.values()))
        return now

    def dropped(self, name: str) -> str | None:
        """Why the server closed this subscriber's connection, in the dashboard's words; None
        when the server does not answer (then it failed, and the run with it).

        The limit when the server counted a drop; without the counter (Redis 7.0), as the
        dashboard's engine does, when the larger of the buffer last seen for it and the
        server's `client_recent_max_output_buffer` reached a quarter of the limit. A buffer
        can fill within milliseconds, between two samples, so on 7.0 a drop for the limit
        may only be named as a closed connection: loss either way."""
        if not all(self._safe(lambda c: c.ping(), client) for client in self.clients):
            return None
        after = self.disconnections()
        counted = self.before is not None and after is not None and after > self.before
        omem = self.omem.get(name)
        if not counted:
            omem = max(omem or 0, self.recent_max() or 0)
        return dropped_reason(counted, omem, self.limit)

    def recent_max(self) -> int | None:
        values = []
        for client in self.clients:
            info = self._safe(lambda c: c.info("clients"), client) or {}
            if RECENT_MAX in info:
                values.append(int(info[RECENT_MAX]))
        return max(values) if values else None

    def limit_disconnections(self) -> int | None:
        after = self.disconnections()
        if after is None or self.before is None:
            return None
        return after - self.before

    def close(self) -> None:
        for client in self.clients:
            client.close()
