"""Finding the master a set of sentinels names (Sentinel discovery).

Sentinels are reached with the same TLS options as the data nodes but not the data
password: sentinels usually have none, or their own (`--sentinel-pass`).
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel

from rps_tui.core.connection.settings import ConnectionSettings


def sentinel_kwargs(settings: ConnectionSettings, timeout: float) -> dict:
    """TLS as for the data nodes; no database, and only the sentinels' own password (see the
    module docstring)."""
    kwargs = settings.redis_kwargs(socket_timeout=timeout, socket_connect_timeout=timeout)
    for key in ("db", "username", "password", "host", "port", "unix_socket_path"):
        kwargs.pop(key, None)
    if settings.sentinel_password:
        kwargs["password"] = settings.sentinel_password
    return kwargs


def discover_master(settings: ConnectionSettings, timeout: float = 1.0) -> tuple[str, int]:
    """(host, port) of the master the sentinels name; raises MasterNotFoundError (a redis
    ConnectionError) with a readable message when none of them knows it."""
    kwargs = sentinel_kwargs(settings, timeout)
    sentinel = Sentinel(
        list(settings.sentinels), sentinel_kwargs={**kwargs, "retry": Retry(NoBackoff(), 0)}
    )
    try:
        host, port = sentinel.discover_master(settings.master)
    except MasterNotFoundError:
        where = ", ".join(f"{h}:{p}" for h, p in settings.sentinels)
        problems = [_problem(client) for client in sentinel.sentinels]
        refused = next((p for p in problems if p and "auth" in p.lower()), None)
        if refused:
            raise MasterNotFoundError(
                f"the sentinels ({where}) refused the login: {refused} (--sentinel-pass)"
            ) from None
        if all(problems):
            raise MasterNotFoundError(f"cannot reach any sentinel ({where})") from None
        raise MasterNotFoundError(
            f"no sentinel ({where}) names a live master called {settings.master!r}"
        ) from None
    finally:
        for client in sentinel.sentinels:
            client.close()
    return str(host), int(port)


def _problem(client: redis.Redis) -> str | None:
    """Why a sentinel does not answer (None if it does)."""
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def master_settings(settings: ConnectionSettings, timeout: float = 1.0) -> ConnectionSettings:
    host, port = discover_master(settings, timeout)
    return settings.at(host, port)
