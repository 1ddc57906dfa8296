"""Small shared helpers for tests: bounded waiting, and an engine running in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rps_tui.core.engine import Engine, State
from rps_tui.core.settings import parse_url
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Subscription


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
    import asyncio

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


@contextmanager
def running_engine(url: str, *subs: Subscription, **store_kw) -> Iterator[Engine]:
    engine = Engine(parse_url(url), Store(**store_kw))
    for sub in subs:
        engine.subscribe(sub)
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: engine.state is State.CONNECTED)
        wait_for(lambda: all(engine.store.subs[s].status == "active" for s in subs))
        yield engine
    finally:
        engine.stop()
        thread.join(5)
        assert not thread.is_alive(), "engine thread did not stop"
