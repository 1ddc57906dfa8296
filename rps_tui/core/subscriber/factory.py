"""One server, a cluster, or a Sentinel-managed master (and its sentinels' events): the right
subscriber for each (the settings say which: `probe.reach` has checked them)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import Subscriber
from rps_tui.core.subscriber.cluster import ClusterEngine
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriber.sentinel_watch import SentinelWatch


def make_subscriber(
    settings: ConnectionSettings, store: Store, clock: Callable[[], float] = time.time
) -> Subscriber:
    if settings.sentinels:
        return SentinelWatch(settings, store, clock=clock)
    if settings.cluster:
        return ClusterEngine(settings, store, clock=clock)
    return Engine(settings, store, clock=clock)
