"""Which server kinds the tests run against, and skipping the ones this machine lacks."""

from __future__ import annotations

import pytest

from rps_tui.core.embedded.server import redis_binary

SERVER_KINDS: tuple[str, ...] = ("valkey", "redis")
REDIS_MISSING = "Debian redis-server not on PATH; CI installs it"


def server_kinds() -> list[str]:
    """The server kinds this machine can run: valkey always, redis when redis-server exists."""
    return ["valkey", "redis"] if redis_binary() is not None else ["valkey"]


def require(kind: str) -> None:
    """Skip the test calling this when `kind` is redis and redis-server is not installed."""
    if kind == "redis" and redis_binary() is None:
        pytest.skip(REDIS_MISSING)
