"""Subscribers for `drain.py`, each run as its own process so it can be SIGSTOPped.

    python benchmarks/consumers.py {redispy|engine|app} URL PATTERN

Each prints the number of messages it has counted, one line every 0.25 s, on stdout.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time


def redispy(url: str, pattern: str) -> None:
    """The classic redis-py loop: `pubsub().listen()` (sync, hiredis parser)."""
    import redis

    pubsub = redis.Redis.from_url(url).pubsub()
    pubsub.psubscribe(pattern)
    count = 0

    def report() -> None:
        while True:
            time.sleep(0.25)
            print(count, flush=True)

    threading.Thread(target=report, daemon=True).start()
    for message in pubsub.listen():
        if message["type"] == "pmessage":
            count += 1


def engine(url: str, pattern: str) -> None:
    """The dashboard's engine alone, no screen."""
    from rps_tui.core.engine import Engine
    from rps_tui.core.settings import parse_url
    from rps_tui.core.subscriptions import Subscription

    eng = Engine(parse_url(url))
    eng.subscribe(Subscription.parse(pattern))
    threading.Thread(target=eng.run, daemon=True).start()
    while True:
        time.sleep(0.25)
        print(eng.store.total, flush=True)


def app(url: str, pattern: str) -> None:
    """The whole dashboard, headless (Textual composes and renders every frame as usual)."""
    from rps_tui.core.commands import probe
    from rps_tui.core.settings import parse_url
    from rps_tui.core.subscriptions import Subscription
    from rps_tui.ui.app import AppConfig, RpsApp

    settings = parse_url(url)
    dashboard = RpsApp(
        AppConfig(
            settings=settings,
            subscriptions=[Subscription.parse(pattern)],
            server_label=probe(settings).label,
        )
    )

    def report() -> None:
        print(dashboard.store.total, flush=True)

    dashboard.call_later(lambda: dashboard.set_interval(0.25, report))
    asyncio.run(dashboard.run_async(headless=True, size=(160, 45)))


if __name__ == "__main__":
    {"redispy": redispy, "engine": engine, "app": app}[sys.argv[1]](sys.argv[2], sys.argv[3])
