"""A Sentinel-managed master and, beside its channels, the sentinels' own events.

`--sentinel H:P --master NAME` reads the master's channels through a `SentinelEngine`. The
sentinels publish what they see (`+sdown`, `+odown`, `+switch-master`, …) on their own
Pub/Sub; `--sentinel-events` (or a key in the dashboard) adds that stream as one more
subscription, `on=SENTINELS`, so a failover is seen from both sides in one store: the
master's panes get their gap marker while the events pane says why.

The events come from one sentinel at a time, the first of `--sentinel` that answers, then
the next after a failure: every sentinel publishes its own view, so listening to all of
them would show each `+switch-master` once per sentinel. Subjective events (`+sdown`) are
one sentinel's view; `+odown` carries the quorum (`#quorum 2/2`), which is the verdict.
The connection uses the sentinels' password (`--sentinel-pass`) and TLS options, as
discovery does, and is an `Engine` of its own: the same backoff, watchdog and gap markers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import Drop
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriber.links import Links
from rps_tui.core.subscriber.sentinel import SentinelEngine
from rps_tui.core.subscriptions import SENTINELS, Subscription

STATE_ORDER = (State.FAILED, State.STALLED, State.RECONNECTING, State.CONNECTING, State.CONNECTED)


class _EventsLink(Engine):
    """The connection to one sentinel, for its events: the next sentinel after a failure."""

    def __init__(self, owner: SentinelWatch) -> None:
        super().__init__(
            owner.settings,
            owner.store,
            clock=owner.clock,
            log=owner.log,
            label="sentinels",
            client_name="rps-tui-sentinel-events",
        )
        self._sentinels = owner.settings.sentinels
        self._turn = -1

    def _target(self) -> ConnectionSettings:
        self._turn += 1
        host, port = self._sentinels[self._turn % len(self._sentinels)]
        own = self.settings.at(host, port)  # a sentinel has no database, and its own password
        return replace(
            own, db=0, username=None, password=own.sentinel_password, watch_sentinel=True
        )

    @property
    def where(self) -> str:
        return f"sentinel {self.node}" if self.node else "the sentinels"


class SentinelWatch(Links):
    """The `Subscriber` of a Sentinel deployment: the master's channels through a
    `SentinelEngine`, and the sentinels' events (subscriptions with `on=SENTINELS`) through
    a second connection made when the first such subscription comes."""

    def __init__(
        self,
        settings: ConnectionSettings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, store, clock=clock)
        self.engine = SentinelEngine(settings, self.store, clock=clock, log=self.log)
        self.events_link: _EventsLink | None = None
        self._lock = threading.Lock()  # the UI subscribes while run() may be starting
        self._running = False

    # -- routing ---------------------------------------------------------------------------
    def _all_links(self) -> list[Engine]:
        link = self.events_link
        return [self.engine] if link is None else [self.engine, link]

    def _events(self) -> _EventsLink:
        with self._lock:
            if self.events_link is None:
                link = self.events_link = _EventsLink(self)
                link.on_data, link.sink = self._on_data, self._sink
                if self._running:
                    self._start(link)
            return self.events_link

    def subscribe(self, sub: Subscription) -> None:
        if sub.on == SENTINELS:
            self._events().subscribe(sub)
        else:
            self.engine.subscribe(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        if sub.on == SENTINELS:
            if self.events_link is not None:
                self.events_link.unsubscribe(sub)
        else:
            self.engine.unsubscribe(sub)

    @property
    def subscriptions(self) -> list[Subscription]:
        return [sub for link in self._all_links() for sub in link.subscriptions]

    @property
    def watching_events(self) -> bool:
        """Whether the sentinels' events are subscribed to."""
        link = self.events_link
        return link is not None and bool(link.subscriptions)

    # -- running ---------------------------------------------------------------------------
    def run(self) -> None:
        """The master's engine on this thread, the events link (if any) on its own."""
        with self._lock:
            self._running = True
            if self.events_link is not None:
                self._start(self.events_link)
        try:
            self.engine.run()
        finally:
            with self._lock:
                self._running = False
                link = self.events_link
            if link is not None:
                link.stop()
            for thread in self._threads:
                thread.join(timeout=2.0)

    def _start(self, link: Engine) -> None:
        thread = threading.Thread(target=link.run, name="rps-sentinel-events", daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        for link in self._all_links():
            link.stop()

    @property
    def stopped(self) -> bool:
        return self.engine.stopped

    # -- what the header shows ---------------------------------------------------------------
    def _watched(self) -> list[Engine]:
        """The connections that matter now: the master's, and the events link while it has
        subscriptions (an idle one says nothing about what the user sees)."""
        return [self.engine, self.events_link] if self.watching_events else [self.engine]  # type: ignore[list-item]

    @property
    def state(self) -> State:
        states = {link.state for link in self._watched()}
        return next((s for s in STATE_ORDER if s in states), self.engine.state)

    @property
    def state_detail(self) -> str:
        link = self.events_link
        if self.engine.state is State.CONNECTED and link is not None and self.watching_events:
            detail = link.state_detail if link.state is not State.CONNECTED else ""
            return f"sentinels: {detail}" if detail else ""
        return self.engine.state_detail

    @property
    def retry_at(self) -> float | None:
        planned = [at for link in self._watched() if (at := link.retry_at) is not None]
        return min(planned, default=None)

    @property
    def where(self) -> str:
        """The master's address (the header has no room for the sentinel's too)."""
        return self.engine.where

    @property
    def master(self) -> tuple[str, int] | None:
        """Where the sentinels said the master is, at the last connection."""
        return self.engine.master

    @property
    def node(self) -> str | None:
        return self.engine.node

    # -- the monitor watches the master's connection (where the traffic is) -------------------
    @property
    def classic(self) -> Engine:
        """The connection the monitor's drop watch follows (a cluster's is called so too)."""
        return self.engine

    @property
    def client_id(self) -> object:
        return self.engine.client_id

    def server_dropped(self, drop: Drop) -> None:
        self.engine.server_dropped(drop)

    def buffer_seen(self, omem: int | None, limit: tuple[int, ...] | None) -> None:
        self.engine.buffer_seen(omem, limit)
