"""The command connection: everything that is not the subscriber's read loop.

PUBLISH, PUBSUB NUMSUB/CHANNELS, PING for latency and INFO for the header run here, on a
separate connection, so a slow command never stalls the subscriber and a firehose never
delays a publish. The async client runs on the UI's event loop (the synchronous check the CLI
makes before the screen opens is `probe.reach`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis
import redis.asyncio as aredis
import redis.asyncio.sentinel as asentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.probe import ServerInfo, parse_info
from rps_tui.core.connection.sentinel import master_settings, sentinel_kwargs
from rps_tui.core.connection.settings import ConnectionSettings


class Commands:
    """Async commands on their own connections; every method raises `CommandError` with one
    line.

    On one server that is a single connection. Behind Sentinel it is redis-py's
    master-following client. On a cluster, PUBLISH and SPUBLISH go through redis-py's
    `RedisCluster` (which routes SPUBLISH to the slot owner and follows MOVED), and the
    PUBSUB counts are asked of every node and summed: each node only counts the subscribers
    connected to it. `nodes` (from the cluster engine's slot map) lists them.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        nodes: Callable[[], list[tuple[str, int]]] | None = None,
    ) -> None:
        self.settings = settings
        no_retry = AsyncRetry(NoBackoff(), 0)  # a retried PUBLISH could deliver twice
        self.client: aredis.Redis | aredis.RedisCluster
        if settings.sentinels:
            kwargs = settings.redis_kwargs(socket_timeout=5.0, retry=no_retry)
            for key in ("host", "port", "unix_socket_path"):
                kwargs.pop(key, None)
            sentinel = asentinel.Sentinel(
                list(settings.sentinels),
                sentinel_kwargs=sentinel_kwargs(settings, 1.0),
            )
            self.client = sentinel.master_for(settings.master, **kwargs)
        elif settings.cluster:
            kwargs = settings.redis_kwargs(socket_timeout=5.0, retry=no_retry)
            self.client = aredis.RedisCluster(**kwargs)
        else:
            self.client = aredis.Redis(**settings.redis_kwargs(socket_timeout=5.0, retry=no_retry))
        self.nodes: Callable[[], list[tuple[str, int]]] = nodes or (
            lambda: [(settings.host, settings.port)]
        )
        self._node_clients: dict[tuple[str, int], aredis.Redis] = {}
        self._sync_client: redis.Redis | None = None
        self._warm = False  # the PING client has connected

    async def _call(self, *args: str | bytes) -> object:
        """The command; once more on a fresh connection when the first could not even be
        written (a connection the network reset while idle: the write fails, so nothing
        reached the server and sending again cannot deliver a PUBLISH twice). Any other
        failure is the caller's, never retried."""
        try:
            return await self.client.execute_command(*args)
        except redis.ConnectionError as exc:
            if not _unsent(exc):
                raise CommandError(describe_error(exc, self.settings)) from None
        except (redis.RedisError, OSError) as exc:
            raise CommandError(describe_error(exc, self.settings)) from None
        try:  # redis-py dropped the dead connection: this one is new
            return await self.client.execute_command(*args)
        except (redis.RedisError, OSError) as exc:
            raise CommandError(describe_error(exc, self.settings)) from None

    def _node(self, host: str, port: int) -> aredis.Redis:
        client = self._node_clients.get((host, port))
        if client is None:
            client = self._node_clients[(host, port)] = aredis.Redis(
                **self.settings.at(host, port).redis_kwargs(
                    socket_timeout=2.0, retry=AsyncRetry(NoBackoff(), 0)
                )
            )
        return client

    async def _each_node(self, *args: str | bytes) -> list[object]:
        """The command on every node (cluster) or on the one server; a node that fails is
        left out, unless all fail."""
        if not self.settings.cluster:
            return [await self._call(*args)]
        replies, error = [], None
        for host, port in self.nodes():
            try:
                replies.append(await self._node(host, port).execute_command(*args))
            except (redis.RedisError, OSError) as exc:
                error = exc
        if not replies and error is not None:
            raise CommandError(describe_error(error, self.settings))
        return replies

    async def _first_node(self, *args: str | bytes) -> object:
        if not self.settings.cluster:
            return await self._call(*args)
        return (await self._each_node(*args))[0]

    async def publish(self, channel: str, message: str, *, sharded: bool = False) -> int:
        """PUBLISH (SPUBLISH if `sharded`); the receivers the server counted. On a cluster a
        PUBLISH counts only the receivers on the node that took it."""
        command = "SPUBLISH" if sharded else "PUBLISH"
        return int(await self._call(command, channel, message))  # type: ignore[arg-type]

    async def ping_ms(self) -> float:
        """Round trip of a PING, timed in a thread on its own connection: timed on the UI's
        event loop it would include the loop's scheduling delay (~10 ms under Textual)."""
        return await asyncio.to_thread(self._ping_sync)

    def _ping_sync(self) -> float:
        try:
            if self._sync_client is None:
                target = self.settings
                if self.settings.sentinels:
                    target = master_settings(self.settings)
                elif self.settings.cluster:  # a live node of the last map, not the seed
                    target = self.settings.at(*self.nodes()[0])
                self._sync_client = redis.Redis(
                    **target.redis_kwargs(socket_timeout=5.0, retry=Retry(NoBackoff(), 0))
                )
            if not self._warm:  # connects on first use: not part of the round trip
                self._sync_client.ping()
                self._warm = True
            start = time.perf_counter()
            self._sync_client.ping()
            return (time.perf_counter() - start) * 1000
        except (redis.RedisError, OSError) as exc:
            if self._sync_client is not None:  # ask anew next time (the node may have moved)
                self._sync_client.close()
                self._sync_client = None
                self._warm = False
            raise CommandError(describe_error(exc, self.settings)) from None

    async def numsub(self, channels: list[bytes], *, sharded: bool = False) -> dict[bytes, int]:
        """Subscribers per channel (PUBSUB NUMSUB, or SHARDNUMSUB), summed over the nodes."""
        if not channels:
            return {}
        totals: dict[bytes, int] = {}
        verb = "SHARDNUMSUB" if sharded else "NUMSUB"
        for reply in await self._each_node("PUBSUB", verb, *channels):
            for name, count in _pairs(reply):
                totals[name] = totals.get(name, 0) + int(count)
        return totals

    async def active_channels(self, pattern: str = "*", *, sharded: bool = False) -> list[bytes]:
        """Channels with at least one subscriber, on any node (PUBSUB CHANNELS, or
        SHARDCHANNELS)."""
        verb = "SHARDCHANNELS" if sharded else "CHANNELS"
        found: set[bytes] = set()
        for reply in await self._each_node("PUBSUB", verb, pattern):
            found.update(reply)  # type: ignore[arg-type]
        return sorted(found)

    async def numpat(self) -> int:
        return sum(int(n) for n in await self._each_node("PUBSUB", "NUMPAT"))  # type: ignore[call-overload]

    async def info(self) -> ServerInfo:
        return parse_info(_info_dict(await self._first_node("INFO", "server")))

    async def subscriber_omem(
        self, client_id: object, node: str | None = None, name: str = "rps-tui-sub"
    ) -> int | None:
        """Bytes the server holds for our subscriber connection (`omem` in CLIENT LIST), asked
        of the node it is connected to. SubscriberGone if that server does not list it: no
        client with that id, or one that is not our subscriber (ids are per server, and
        behind a load balancer this connection may reach another one): it must carry our
        name, or no name (an ACL without CLIENT SETNAME) and the Pub/Sub flag `P`."""
        if not isinstance(client_id, int):
            return None
        reply = await self._on_node(node, "CLIENT", "LIST", "ID", str(client_id))
        text = reply if isinstance(reply, bytes) else str(reply or "").encode()
        fields = dict(f.split(b"=", 1) for f in text.split() if b"=" in f)
        listed = fields.get(b"name", b"").decode("utf-8", "replace")
        ours = listed == name or (not listed and b"P" in fields.get(b"flags", b""))
        if not fields or not ours:
            raise SubscriberGone(f"client {client_id} is not our subscriber in CLIENT LIST")
        omem = fields.get(b"omem")
        return int(omem) if omem is not None else None

    async def limit_disconnections(self, node: str | None = None) -> int | None:
        """The server's count of clients dropped for an output-buffer limit (INFO stats;
        Redis 7.2+ and Valkey), None where it has none."""
        reply = await self._on_node(node, "INFO", "stats")
        value = _info_dict(reply).get("client_output_buffer_limit_disconnections")
        return None if value is None else int(value)

    async def recent_max_output_buffer(self, node: str | None = None) -> int | None:
        """The largest output buffer any client had in the last few seconds (INFO clients,
        `client_recent_max_output_buffer`; a client dropped meanwhile still counts)."""
        reply = await self._on_node(node, "INFO", "clients")
        value = _info_dict(reply).get("client_recent_max_output_buffer")
        return None if value is None else int(value)

    async def _on_node(self, node: str | None, *args: str) -> object:
        """A command on the node the subscriber is connected to (a cluster), else as usual."""
        if self.settings.cluster and node:
            host, _, port = node.rpartition(":")
            try:
                return await self._node(host.strip("[]"), int(port)).execute_command(*args)
            except (redis.RedisError, OSError) as exc:
                raise CommandError(describe_error(exc, self.settings)) from None
        return await self._call(*args)

    async def pubsub_limit(self) -> tuple[int, int, int] | None:
        """(hard, soft, soft seconds) of client-output-buffer-limit pubsub; None if hidden
        (an ACL without CONFIG) or unlimited."""
        try:
            reply = await self._first_node("CONFIG", "GET", "client-output-buffer-limit")
        except CommandError:
            return None
        if isinstance(reply, list):
            reply = dict(_pairs(reply))
        value = reply.get(b"client-output-buffer-limit") if isinstance(reply, dict) else None
        words = bytes(value or b"").decode().split()
        for i, word in enumerate(words[:-3]):
            if word == "pubsub":
                hard, soft, secs = (_bytes_value(w) for w in words[i + 1 : i + 4])
                return (hard, soft, secs) if hard or soft else None
        return None

    async def keyspace_flags(self) -> str:
        """`notify-keyspace-events` as the server holds it (first node of a cluster)."""
        reply = await self._first_node("CONFIG", "GET", "notify-keyspace-events")
        pairs = dict(_pairs(reply)) if isinstance(reply, list) else dict(reply)  # type: ignore[arg-type]
        value = pairs.get(b"notify-keyspace-events", pairs.get("notify-keyspace-events", b""))
        return value.decode() if isinstance(value, bytes) else str(value)

    async def set_keyspace_flags(self, flags: str) -> None:
        """CONFIG SET on the server, or on every node of a cluster (each publishes the
        notifications of its own keys). Only ever called after the user confirmed."""
        await self._each_node("CONFIG", "SET", "notify-keyspace-events", flags)

    async def close(self) -> None:
        await self.client.aclose()
        for client in self._node_clients.values():
            await client.aclose()
        if self._sync_client is not None:
            self._sync_client.close()


def _unsent(exc: BaseException) -> bool:
    """redis-py failed while writing the command to the socket (its words, for every errno:
    'Error 104 while writing to socket. Connection reset by peer.'): it was not sent."""
    return "while writing to socket" in str(exc)


def _pairs(reply: object) -> list[tuple[bytes, object]]:
    """redis-py returns PUBSUB NUMSUB as [(name, n), ...] or flat [name, n, ...]."""
    items = list(reply)  # type: ignore[call-overload]
    if items and isinstance(items[0], (tuple, list)):
        return [(a, b) for a, b in items]
    return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


def _info_dict(reply: object) -> dict:
    """INFO parsed by redis-py's callback (a dict), or raw text from a node connection."""
    if isinstance(reply, dict):
        return reply
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return dict(
        line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
    )


def _bytes_value(word: str) -> int:
    """CONFIG GET gives bytes, but be lenient with '32mb'-style values."""
    units = {"kb": 1000, "k": 1000, "mb": 10**6, "m": 10**6, "gb": 10**9, "g": 10**9}
    lower = word.lower()
    for suffix, factor in units.items():
        if lower.endswith(suffix) and lower[: -len(suffix)].isdigit():
            return int(lower[: -len(suffix)]) * factor
    return int(lower) if lower.isdigit() else 0


class CommandError(Exception):
    """A command failed; the message is one line for the UI."""


class SubscriberGone(CommandError):
    """CLIENT LIST no longer lists the subscriber: the server has closed its connection."""
