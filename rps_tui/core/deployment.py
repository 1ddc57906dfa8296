"""One server, a cluster, or a Sentinel-managed master: the right engine for each."""

from __future__ import annotations

import time
from collections.abc import Callable

from rps_tui.core.cluster import ClusterEngine
from rps_tui.core.engine import Engine
from rps_tui.core.sentinel import SentinelEngine
from rps_tui.core.settings import ConnectionSettings
from rps_tui.core.store import Store


def make_engine(
    settings: ConnectionSettings, store: Store, clock: Callable[[], float] = time.time
) -> Engine | ClusterEngine:
    if settings.sentinels:
        return SentinelEngine(settings, store, clock=clock)
    if settings.cluster:
        return ClusterEngine(settings, store, clock=clock)
    return Engine(settings, store, clock=clock)
