"""Following a Sentinel-managed master through failovers.

Each connection attempt asks the sentinels where the master is (redis-py's `Sentinel`,
which also checks that the sentinel does not consider it down), then checks with ROLE that
the node really is a master. While connected, the sentinels are asked again every
`CHECK_SECONDS`: after a failover the old master may live on as a replica and keep the
connection open, so waiting for it to drop is not enough. Sentinels are reached with the
same TLS options but not the data password: sentinels usually have none, or their own
(`--sentinel-pass`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel

from rps_tui.core.engine import Engine, WrongNode
from rps_tui.core.settings import ConnectionSettings
from rps_tui.core.store import Store

CHECK_SECONDS = 2.0


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


class SentinelEngine(Engine):
    """An `Engine` whose node is wherever the sentinels say the master is.

    Its retries back off to 1 s, not 5: during a failover each attempt costs the sentinels
    one cheap query, and the new master should be found within a second of its promotion.
    """

    backoff_cap = 1.0

    def __init__(
        self,
        settings: ConnectionSettings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
        **kwargs,
    ) -> None:
        super().__init__(settings, store, clock=clock, **kwargs)
        self.master: tuple[str, int] | None = None
        self._next_check = 0.0

    @property
    def where(self) -> str:
        at = f" at {self.master[0]}:{self.master[1]}" if self.master else ""
        return f"sentinel master {self.settings.master}{at}/{self.settings.db}"

    def _target(self) -> ConnectionSettings:
        self.master = discover_master(self.settings)
        return self.settings.at(*self.master)

    def _check_node(self, conn: redis.connection.AbstractConnection) -> None:
        role = self._ask(conn, "ROLE")  # None: an ACL refuses ROLE; trust the sentinels
        if isinstance(role, list) and role and role[0] != b"master":
            raise WrongNode(
                f"{conn.host}:{conn.port} is a {role[0].decode()}, not the master (yet)"  # type: ignore[attr-defined]
            )
        self._next_check = time.monotonic() + CHECK_SECONDS

    def _periodic(self, now: float) -> None:
        if time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + CHECK_SECONDS
        try:
            master = discover_master(self.settings, timeout=0.5)
        except (redis.RedisError, OSError):
            return  # the sentinels are unreachable, the master may be fine: keep listening
        if master != self.master:
            host, port = master
            raise WrongNode(f"the sentinels moved the master to {host}:{port}")
