"""Before anything subscribes: reach the server, log in, and learn what it is.

`reach` is the one synchronous check the CLI makes before the dashboard, `tail` or `replay`
starts: it fails with one line (`ConnectError`) when the server cannot be reached or
refuses the login, and it checks the options against what the server says it is (a
cluster node given without --cluster is taken as the cluster; a Sentinel given as the
server is watched for its own events by the dashboard and tail, and refused elsewhere with
the options that would work).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.sentinel import master_settings
from rps_tui.core.connection.settings import ConnectionSettings


class ConnectError(Exception):
    """Could not reach or log in to the server: the CLI prints it and exits with status 1."""


@dataclass(frozen=True, slots=True)
class ServerInfo:
    kind: str  # "Redis" | "Valkey"
    version: str
    mode: str  # standalone | cluster | sentinel
    masters: tuple[str, ...] = ()  # a sentinel: the masters it monitors

    @property
    def label(self) -> str:
        return f"{self.kind} {self.version}" + (
            "" if self.mode == "standalone" else f" {self.mode}"
        )


def parse_info(info: dict) -> ServerInfo:
    if "valkey_version" in info or info.get("server_name") == "valkey":
        kind, version = "Valkey", str(info.get("valkey_version") or info.get("redis_version"))
    else:
        kind, version = "Redis", str(info.get("redis_version", "?"))
    # Valkey 8+ says server_mode, Redis redis_mode
    mode = info.get("redis_mode") or info.get("server_mode") or "standalone"
    return ServerInfo(kind, version, str(mode))


def probe(settings: ConnectionSettings, timeout: float = 5.0) -> ServerInfo:
    """Connect, authenticate and read INFO server, or raise ConnectError with one line.
    Behind Sentinel, the master the sentinels name is probed."""
    if settings.sentinels:
        try:
            settings = master_settings(settings, min(timeout, 2.0))
        except (redis.RedisError, OSError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from None
    # no retries: redis-py's default (3, with backoff) makes a refused password take 5 s
    client = redis.Redis(
        **settings.redis_kwargs(socket_timeout=timeout, retry=Retry(NoBackoff(), 0))
    )
    try:
        try:
            info = parse_info(client.info("server"))
            if info.mode == "sentinel":
                info = replace(info, masters=_sentinel_masters(client))
            return info
        except redis.ResponseError:  # an ACL without INFO: fine, if it answers at all
            client.ping()
            return ServerInfo("server", "(INFO refused)", "standalone")
    except (redis.RedisError, OSError) as exc:
        message = describe_error(exc, settings)
        if not settings.tls and ("reset by peer" in message or "closed by server" in message):
            message += " (is it a TLS port? use rediss:// or --tls)"  # hung up on plain text
        raise ConnectError(message) from None
    finally:
        client.close()


def _sentinel_masters(client: redis.Redis) -> tuple[str, ...]:
    try:
        reply = client.execute_command("SENTINEL", "MASTERS")
    except redis.RedisError:
        return ()
    names = []
    for entry in reply if isinstance(reply, list) else []:
        if not isinstance(entry, dict):
            entry = dict(zip(entry[::2], entry[1::2], strict=False))
        fields = entry
        name = fields.get("name", fields.get(b"name"))
        if name is not None:
            names.append(name.decode() if isinstance(name, bytes) else str(name))
    return tuple(names)


def adopt_mode(
    settings: ConnectionSettings, info: ServerInfo, note: str, *, events_ok: bool = False
) -> tuple[ConnectionSettings, str]:
    """Check the options against what the server says it is; a cluster node given without
    --cluster is taken as the cluster. A Sentinel given as the server is watched for its
    own events where `events_ok` (the dashboard, tail); elsewhere it is refused."""
    if info.mode == "sentinel" and not settings.sentinels:
        masters = ", ".join(info.masters) or "none"
        if events_ok:
            watched = replace(settings, watch_sentinel=True)
            return watched, note or f"Sentinel events (monitors: {masters})"
        raise ConnectError(
            f"{settings.address} is a Sentinel, not a data server: use --sentinel "
            f"{settings.node} --master NAME (it monitors: {masters})"
        )
    if info.mode == "cluster" and not settings.cluster:
        if settings.db:
            raise ConnectError(
                f"{settings.address} is a cluster node: a cluster has only database 0"
            )
        return replace(settings, cluster=True), note or "cluster mode detected"
    if settings.cluster and info.mode != "cluster":
        raise ConnectError(f"{settings.node} is not in cluster mode: drop --cluster")
    return settings, note


@dataclass(frozen=True, slots=True)
class Reached:
    """A server that answered: the settings to use with it, what it is, and a note for the
    header when the settings were adjusted ("cluster mode detected")."""

    settings: ConnectionSettings
    info: ServerInfo
    note: str = ""


def reach(
    settings: ConnectionSettings,
    note: str = "",
    timeout: float = 5.0,
    *,
    events_ok: bool = False,
) -> Reached:
    """`probe`, then `adopt_mode`; raises ConnectError with one line."""
    info = probe(settings, timeout)
    settings, note = adopt_mode(settings, info, note, events_ok=events_ok)
    return Reached(settings, info, note)
