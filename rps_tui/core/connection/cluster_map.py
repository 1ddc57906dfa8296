"""Who serves which slot in a Redis / Valkey cluster, read from the nodes themselves.

`CLUSTER SHARDS` (Redis 7+, Valkey) names every node with its role and health; older
servers only have `CLUSTER SLOTS`, which is used as a fallback. Slots are computed with
redis-py's `key_slot` (CRC16 with hash tags), as the server does for SSUBSCRIBE.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.retry import Retry

from rps_tui.core.connection.settings import ConnectionSettings


@dataclass(frozen=True, slots=True)
class Node:
    host: str
    port: int
    primary: bool
    healthy: bool = True

    @property
    def name(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ClusterMap:
    """An immutable snapshot: safe to read from any thread while a new one is built."""

    starts: tuple[int, ...]  # sorted first slots of the ranges
    ranges: tuple[tuple[int, int, Node], ...]  # (first, last, primary), in `starts` order
    nodes: tuple[Node, ...]

    def owner(self, slot: int) -> Node | None:
        i = bisect.bisect_right(self.starts, slot) - 1
        if i >= 0:
            first, last, node = self.ranges[i]
            if first <= slot <= last:
                return node
        return None

    def owner_of(self, channel: bytes) -> Node | None:
        """The primary that SSUBSCRIBE / SPUBLISH for this channel must reach."""
        return self.owner(key_slot(channel))

    def candidates(self) -> list[Node]:
        """Nodes to listen to for classic Pub/Sub (broadcast to all): healthy primaries
        first, then healthy replicas, then the rest."""
        return sorted(self.nodes, key=lambda n: (not n.healthy, not n.primary))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _pairs(value: object) -> dict[str, object]:
    """CLUSTER SHARDS entries come as flat [key, value, ...] lists in RESP2."""
    if isinstance(value, dict):
        return {_text(k): v for k, v in value.items()}
    items = list(value)  # type: ignore[call-overload]
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _host(fields: dict[str, object], asked: str) -> str:
    """A node's address as clients should use it; '' or '?' means the node we asked."""
    for key in ("endpoint", "ip"):
        host = _text(fields.get(key, ""))
        if host and host != "?":
            return host
    return asked


def parse_shards(reply: list, asked_host: str, tls: bool = False) -> ClusterMap:
    ranges: list[tuple[int, int, Node]] = []
    nodes: dict[str, Node] = {}
    for shard in reply:
        fields = _pairs(shard)
        primary: Node | None = None
        for raw in fields.get("nodes", []):  # type: ignore[union-attr]
            n = _pairs(raw)
            port = n.get("tls-port") if tls and n.get("tls-port") else n.get("port")
            if port is None:
                continue
            node = Node(
                _host(n, asked_host),
                int(port),  # type: ignore[call-overload]
                _text(n.get("role")) == "master",
                _text(n.get("health", "online")) == "online",
            )
            nodes[node.name] = node
            if node.primary and (primary is None or not primary.healthy):
                primary = node  # two primaries for a moment after a failover: the live one
        slots = [int(s) for s in fields.get("slots", [])]  # type: ignore[union-attr]
        if primary is not None:
            ranges.extend((slots[i], slots[i + 1], primary) for i in range(0, len(slots) - 1, 2))
    return _build(ranges, nodes)


def parse_slots(reply: list, asked_host: str) -> ClusterMap:
    ranges: list[tuple[int, int, Node]] = []
    nodes: dict[str, Node] = {}
    for entry in reply:
        first, last, *members = entry
        for i, member in enumerate(members):
            host = _text(member[0]) or asked_host
            node = Node(asked_host if host == "?" else host, int(member[1]), i == 0)
            nodes.setdefault(node.name, node)
            if i == 0:
                ranges.append((int(first), int(last), node))
    return _build(ranges, nodes)


def _build(ranges: list[tuple[int, int, Node]], nodes: dict[str, Node]) -> ClusterMap:
    ranges.sort(key=lambda r: r[0])
    return ClusterMap(tuple(r[0] for r in ranges), tuple(ranges), tuple(nodes.values()))


def read_map(settings: ConnectionSettings, timeout: float = 1.0) -> ClusterMap:
    """The slot map as one node sees it; raises redis/OS errors if it does not answer."""
    client = redis.Redis(
        **settings.redis_kwargs(
            db=0,
            protocol=2,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    )
    conn = client.connection_pool.make_connection()
    try:
        conn.connect()
        conn.send_command("CLUSTER", "SHARDS")
        try:
            return parse_shards(conn.read_response(), settings.host, settings.tls)  # type: ignore[arg-type]
        except redis.ResponseError:  # before Redis 7: no CLUSTER SHARDS
            conn.send_command("CLUSTER", "SLOTS")
            return parse_slots(conn.read_response(), settings.host)  # type: ignore[arg-type]
    finally:
        with contextlib.suppress(Exception):
            conn.disconnect()
        client.close()


def read_map_any(
    settings: ConnectionSettings, nodes: list[tuple[str, int]], timeout: float = 1.0
) -> ClusterMap:
    """Ask each node in turn until one answers with a map that covers some slots."""
    error: Exception | None = None
    for host, port in dict.fromkeys(nodes):
        try:
            found = read_map(settings.at(host, port), timeout)
        except (redis.RedisError, OSError) as exc:
            error = exc
            continue
        if found.ranges:
            return found
    if error is not None:
        raise error
    raise redis.ConnectionError("no cluster node knows the slot map")
