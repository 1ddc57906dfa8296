"""PUBLISH and SPUBLISH from a plain (synchronous) client, pipelined and never retried.

Used by `replay`, `publish` and `bench`. A PUBLISH that failed after reaching the server
would be delivered twice if retried, so redis-py's retries are off and the first error is
the caller's to report. On a cluster, classic PUBLISH goes to one node (the cluster
broadcasts it), which keeps messages in order for a subscriber; SPUBLISH goes through
redis-py's `RedisCluster`, which routes each to its slot's owner. With Sentinel, the
master the sentinels name is asked once, at the start.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from rps_tui.core.connection.sentinel import master_settings
from rps_tui.core.connection.settings import ConnectionSettings


class Publisher:
    """Queued PUBLISH / SPUBLISH commands, sent in order by `flush()`, never retried."""

    def __init__(self, settings: ConnectionSettings, timeout: float = 5.0) -> None:
        self.settings = settings
        kwargs = {"socket_timeout": timeout, "retry": Retry(NoBackoff(), 0)}
        self.cluster: RedisCluster | None = None
        if settings.sentinels:
            settings = master_settings(settings)
        if settings.cluster:
            cluster_kwargs = settings.redis_kwargs(**kwargs)
            cluster_kwargs.pop("db", None)  # a cluster has only database 0, and says so
            self.cluster = RedisCluster(**cluster_kwargs)
            node = self.cluster.get_default_node()
            settings = settings.at(node.host, node.port)
        self.client = redis.Redis(**settings.redis_kwargs(**kwargs))
        self.pending: list[tuple[str, bytes, bytes]] = []

    def add(self, command: str, channel: bytes, data: bytes) -> None:
        self.pending.append((command, channel, data))

    def flush(self) -> tuple[list[int], Exception | None]:
        """Send what is queued: (the receiver counts of the commands the server accepted,
        its first refusal). Without a transaction the server runs the rest of a batch after
        a refusal, so they count. Connection errors raise."""
        pending, self.pending = self.pending, []
        accepted: list[int] = []
        refusal: Exception | None = None
        start = 0
        while start < len(pending) and refusal is None:
            # one pipeline per run of commands that go the same way
            command = pending[start][0]
            end = start
            while end < len(pending) and pending[end][0] == command:
                end += 1
            client: redis.Redis | RedisCluster = self.client
            if command == "SPUBLISH" and self.cluster is not None:
                client = self.cluster  # routes each SPUBLISH to its slot's owner
            pipe = client.pipeline(transaction=False)
            for _, channel, data in pending[start:end]:
                pipe.execute_command(command, channel, data)
            # raise_on_error=False: redis-py's raised error would quote the command's
            # arguments, payload included; and it would hide what the server accepted
            for reply in pipe.execute(raise_on_error=False):
                if isinstance(reply, Exception):
                    refusal = refusal or reply
                else:
                    accepted.append(int(reply))
            start = end
        return accepted, refusal

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
