"""An engine running in a thread for the length of a test, and a publisher that floods one
channel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.cluster import ClusterEngine
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Subscription
from tests.support.wait import wait_for

AnyEngine = TypeVar("AnyEngine", Engine, ClusterEngine)


@contextmanager
def running(engine: AnyEngine, *subs: Subscription, wait: bool = True) -> Iterator[AnyEngine]:
    """Run `engine` (one server, cluster or Sentinel) in a thread; with `wait`, return once
    it is connected and every subscription is active. Stopped and joined on exit."""
    for sub in subs:
        engine.subscribe(sub)
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    try:
        if wait:
            wait_for(lambda: all(_status(engine, s) == "active" for s in subs))
            wait_for(lambda: engine.state is State.CONNECTED)
        yield engine
    finally:
        engine.stop()
        thread.join(5)
        assert not thread.is_alive(), "engine thread did not stop"
        threads = getattr(engine, "_threads", [])  # a cluster's connections
        assert not any(t.is_alive() for t in threads), "a connection thread lives on"


def _status(engine: Engine | ClusterEngine, sub: Subscription) -> str | None:
    state = engine.store.subs.get(sub)
    return state.status if state else None


def running_engine(url: str, *subs: Subscription, **store_kw) -> AbstractContextManager[Engine]:
    return running(Engine(parse_url(url), Store(**store_kw)), *subs)


class Flood:
    """A publisher thread that floods one channel in pipelines until stopped; `published`
    counts what the server has taken (so a subscriber that was there from the start must
    count exactly that)."""

    def __init__(self, url: str, channel: str, payload: bytes, batch: int = 200) -> None:
        self.url, self.channel, self.payload, self.batch = url, channel, payload, batch
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            while not self._stop.is_set():
                pipe = client.pipeline(transaction=False)
                for _ in range(self.batch):
                    pipe.publish(self.channel, self.payload)
                pipe.execute()
                self.published += self.batch
        finally:
            client.close()

    def __enter__(self) -> Flood:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@contextmanager
def monitoring(monitor: ServerMonitor) -> Iterator[None]:
    """Run the monitor's rounds on an event loop of its own, in a thread."""
    loop = asyncio.new_event_loop()
    task: list[asyncio.Task] = []

    def main() -> None:
        async def start() -> None:
            task.append(asyncio.current_task())  # type: ignore[arg-type]
            monitor._wake = asyncio.Event()
            try:
                await monitor.run()
            finally:
                await monitor.commands.close()

        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    try:
        yield
    finally:
        wait_for(lambda: task, timeout=5)
        loop.call_soon_threadsafe(task[0].cancel)
        thread.join(10)
        assert not thread.is_alive()
