"""What a subscriber made of several connections (a cluster's, a master's and its
sentinels') passes on to each of them, and what it reads from all of them together."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import EventLog

if TYPE_CHECKING:
    from rps_tui.core.connection.settings import ConnectionSettings
    from rps_tui.core.subscriber.engine import Engine
    from rps_tui.core.subscriber.intake import Sink


class Links:
    """The shared half of a several-connection `Subscriber`; `_all_links` names them."""

    def __init__(
        self,
        settings: ConnectionSettings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store or Store()
        self.clock = clock
        self.log = EventLog(clock)  # one log for every connection
        self._on_data: Callable[[], None] | None = None
        self._sink: Sink | None = None
        self._threads: list[threading.Thread] = []

    def _all_links(self) -> list[Engine]:
        raise NotImplementedError

    def rearm(self) -> None:
        for link in self._all_links():
            link.rearm()

    @property
    def on_data(self) -> Callable[[], None] | None:
        return self._on_data

    @on_data.setter
    def on_data(self, callback: Callable[[], None] | None) -> None:
        self._on_data = callback
        for link in self._all_links():
            link.on_data = callback

    @property
    def sink(self) -> Sink | None:
        return self._sink

    @sink.setter
    def sink(self, sink: Sink | None) -> None:
        """Every entry as it arrives, from every connection (see Engine.sink)."""
        self._sink = sink
        for link in self._all_links():
            link.sink = sink

    @property
    def busy(self) -> bool:
        return any(link.busy for link in self._all_links())

    @property
    def last_data(self) -> float | None:
        times = [link.last_data for link in self._all_links() if link.last_data is not None]
        return max(times) if times else None

    @property
    def events(self) -> deque:
        return self.log.events

    def events_since(self, seq: int) -> tuple[int, list]:
        return self.log.since(seq)
