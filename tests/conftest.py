"""Fixtures that start real Valkey/Redis servers on free loopback ports (never mocks)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from rps_tui.core.embedded.server import ServerProcess, start_server
from tests.support.servers import SERVER_KINDS, require

os.environ["TZ"] = "UTC"  # receive times in snapshots do not depend on the machine
time.tzset()


@pytest.fixture(scope="session", params=SERVER_KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """One shared server per kind for the whole session.

    Shared: tests must not assume it is empty beyond Pub/Sub state, must not kill or pause it
    (use ``server_factory`` for that), and should use channel names of their own.
    """
    kind: str = request.param
    require(kind)
    proc = start_server(kind)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(params=SERVER_KINDS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """A server kind to hand to ``server_factory``; the redis leg skips without redis-server."""
    kind: str = request.param
    require(kind)
    return kind


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ServerProcess]]:
    """Start private servers (for tests that kill, pause or restart them); all stopped after."""
    started: list[ServerProcess] = []

    def factory(kind: str = "valkey", **kw: Any) -> ServerProcess:
        require(kind)
        proc = start_server(kind, **kw)
        started.append(proc)
        return proc

    try:
        yield factory
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def redis_client(server: ServerProcess) -> Iterator[redis.Redis]:
    """A plain sync client to the shared ``server``, closed after the test."""
    client = redis.Redis.from_url(server.url)
    try:
        yield client
    finally:
        client.close()
