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

from rps_tui.core.connection.sentinel import discover_master
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.store import Store
from rps_tui.core.subscriber.engine import Engine, WrongNode

CHECK_SECONDS = 2.0


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
        return f"master {self.settings.master}{at}/{self.settings.db}"  # "via Sentinel" follows

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
