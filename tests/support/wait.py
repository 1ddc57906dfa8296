"""Bounded waiting: poll a condition until it holds, or fail with an AssertionError."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll until `predicate()` is truthy; fail with its last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)
        value = predicate()


async def async_wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """The same in a coroutine (an app under test keeps running while it waits)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
