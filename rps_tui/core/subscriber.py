"""The one interface of every subscriber: what the dashboard, `tail` and the monitor use.

`Engine` (one server), `SentinelEngine` (the master the sentinels name), `ClusterEngine`
(one connection for classic Pub/Sub, one per shard owner) and `OfflineEngine` (a recording,
nothing connects) all implement it; the UI never asks which one it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rps_tui.core.drops import Drop
    from rps_tui.core.engine import Event, EventLog, State
    from rps_tui.core.intake import Sink
    from rps_tui.core.store import Store
    from rps_tui.core.subscriptions import Subscription


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
