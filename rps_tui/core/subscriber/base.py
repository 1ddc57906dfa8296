"""The one interface of every subscriber: what the dashboard, `tail` and the monitor use.

`Engine` (one server), `SentinelEngine` (the master the sentinels name), `ClusterEngine`
(one connection for classic Pub/Sub, one per shard owner) and `OfflineEngine` (a recording,
nothing connects) all implement it; the UI never asks which one it has.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rps_tui.core.store import Store
    from rps_tui.core.subscriber.drops import Drop
    from rps_tui.core.subscriber.intake import Sink
    from rps_tui.core.subscriptions import Subscription


class State(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    OFFLINE = "offline"  # a recording opened with `rps-tui view`: no server at all
    FAILED = "failed"  # the subscriber stopped on an error of rps-tui itself: nothing arrives


@dataclass(frozen=True, slots=True)
class Event:
    """Something the user should hear about (shown as a notification and in the status)."""

    time: float
    level: str  # "information" | "warning" | "error"
    text: str


class EventLog:
    """Events for the user, shared by every connection of one deployment (a cluster has
    several), read by the UI with a sequence number so it shows each event once."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.events: deque[Event] = deque(maxlen=200)
        self.seq = 0

    def add(self, level: str, text: str) -> None:
        with self._lock:  # the engine, a drain thread and the UI may all add
            self.events.append(Event(self.clock(), level, text))
            self.seq += 1

    def since(self, seq: int) -> tuple[int, list[Event]]:
        """Events newer than `seq` (as returned last time), and the new sequence number."""
        with self._lock:
            current, events = self.seq, list(self.events)
        new = min(current - seq, len(events))
        return current, events[len(events) - new :] if new > 0 else []


class Subscriber(Protocol):
    """Subscribes, reads on its own thread (`run`), and fills its `store`."""

    store: Store
    log: EventLog
    on_data: Callable[[], None] | None  # called from the reader thread when data arrives
    sink: Sink | None  # every entry as it arrives (recording); reader thread, lock held

    @property
    def subscriptions(self) -> list[Subscription]: ...

    @property
    def state(self) -> State: ...

    @property
    def state_detail(self) -> str: ...

    @property
    def retry_at(self) -> float | None:
        """time.monotonic() of the next connection attempt (in the past: under way), None
        when none is planned; while set, `state_detail` counts down and needs redrawing."""
        ...

    @property
    def where(self) -> str:
        """What the header shows as the address."""
        ...

    @property
    def busy(self) -> bool:
        """The last read filled the buffer: the server holds a backlog for us."""
        ...

    @property
    def client_id(self) -> object:
        """CLIENT ID of the connection the drop watch follows (None: not connected)."""
        ...

    def subscribe(self, sub: Subscription) -> None: ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    def run(self) -> None:
        """Read until `stop`; blocks (the caller runs it on a thread)."""
        ...

    def stop(self) -> None: ...

    def rearm(self) -> None:
        """The UI is about to pull: call `on_data` again when something new arrives."""
        ...

    def events_since(self, seq: int) -> tuple[int, list[Event]]: ...

    def server_dropped(self, drop: Drop) -> None:
        """The monitor saw the server drop our connection."""
        ...

    def buffer_seen(self, omem: int | None, limit: tuple[int, ...] | None) -> None:
        """What the monitor last saw of our buffer on the server."""
        ...
