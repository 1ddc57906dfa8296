"""The server monitor: what the header shows about the server, asked on the command
connection in rounds, and the one check that cannot wait for the subscriber's own socket.

Each round asks, concurrently: the round trip of a PING, the subscriber's output buffer on
the server (`omem` in CLIENT LIST, against `client-output-buffer-limit pubsub`), the server's
count of output-buffer disconnections, and NUMSUB for the busiest channels. A round is never
cancelled because the next one is due: on a slow link (a 1.2 s round trip) a round simply
takes longer, and every value carries the time it was read, so the header can say how old it
is instead of showing a stale number as current.

A subscriber the server dropped for falling behind can go on delivering for tens of seconds:
everything the server had already written is still in the network's buffers. Its socket
says nothing until all of that is read. The monitor notices at once: the subscriber's id has
gone from CLIENT LIST. It then tells the engine (`Engine.server_dropped`), which listens
again on a new connection straight away and reads the old one to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rps_tui.core.connection.commands import CommandError, Commands, SubscriberGone
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import (
    LIMIT_REASON,
    Drop,
    discarded_estimate,
    dropped_reason,
)
from rps_tui.core.subscriptions import Kind

PERIOD = 3.0  # seconds from the start of one round to the start of the next
WATCH = 0.5  # ... and between two looks at a buffer that holds a backlog
BACKLOG = 64 * 1024  # bytes held for the subscriber that make the monitor look closely
NUMSUB_CHANNELS = 200  # the busiest channels get their subscriber counts


@dataclass(frozen=True, slots=True)
class Reading:
    """A value and when it was read (clock())."""

    value: Any
    at: float


class ServerMonitor:
    """Rounds of questions for the header; see the module docstring. `run()` loops until
    cancelled; `poke()` starts the next round now (after the current one)."""

    def __init__(
        self,
        commands: Commands,
        engine: Any,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        period: float = PERIOD,
    ) -> None:
        self.commands = commands
        self.engine = engine
        self.store = store
        self.clock = clock
        self.period = period
        self.rtt_ms: Reading | None = None
        self.omem: Reading | None = None
        self.limit: tuple[int, int, int] | None = None  # pubsub (hard, soft, seconds)
        self._limit_known = False
        self.server_label = ""
        self.rounds = 0
        self.on_round: Callable[[], None] | None = None  # the UI redraws the header
        self._disconnections: int | None = None  # INFO stats, last round
        self._present_at: float | None = None  # when the subscriber was last seen listed
        self._present_id: object = None
        self._wake = asyncio.Event()
        self._busiest: tuple[int, list[bytes]] = (-1, [])
        self._fault = ""  # the last fault told as an event

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Rounds every `period`; in between, while the server holds a backlog for the
        subscriber, a look at its buffer every `WATCH` s: a flood fills a buffer to its limit
        within seconds, and the last look before a drop is what names it on Redis 7.0."""
        while True:
            started = self.clock()
            self._wake.clear()
            await self.round()
            while (left := self.period - (self.clock() - started)) > 0:
                backlog = self.omem is not None and self.omem.value >= BACKLOG
                try:
                    await asyncio.wait_for(self._wake.wait(), min(left, WATCH) if backlog else left)
                    break  # poked: a full round now
                except TimeoutError:
                    if not backlog:
                        break
                await self._ask(self._buffer())
                if self.on_round is not None:
                    self.on_round()

    async def round(self) -> None:
        """One round; each question is optional (an ACL may refuse any of them). A fault
        of the monitor itself is told as an event, once, and the rounds go on: a header
        that silently stops updating would pass stale numbers for current ones."""
        await self._ask(self._rtt(), self._buffer(), self._numsub(), self._label())
        self.rounds += 1
        if self.on_round is not None:
            self.on_round()

    async def _ask(self, *questions: Awaitable[None]) -> None:
        for result in await asyncio.gather(*questions, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, CommandError):
                text = f"server monitor: {type(result).__name__}: {result}"
                if text != self._fault:
                    self._fault = text
                    self.engine.log.add("error", text)

    async def _rtt(self) -> None:
        try:
            self.rtt_ms = Reading(await self.commands.ping_ms(), self.clock())
        except CommandError:
            self.rtt_ms = None

    async def _label(self) -> None:
        if not self.server_label:
            with contextlib.suppress(CommandError):
                self.server_label = (await self.commands.info()).label

    async def _numsub(self) -> None:
        store, client = self.store, self.commands
        total, names = self._busiest
        if total != store.total:  # the ranking only changes with traffic
            names = store.busiest(NUMSUB_CHANNELS)
            self._busiest = (store.total, names)
        link = getattr(self.engine, "events_link", None)  # a sentinel's channels: not ours
        if link is not None and link.node:
            names = [n for n in names if store.node_of(n) != link.node]
        sharded = {s.key for s in self.engine.subscriptions if s.kind is Kind.SHARD}
        with contextlib.suppress(CommandError):
            store.set_subscribers(await client.numsub([n for n in names if n not in sharded]))
        with contextlib.suppress(CommandError):
            shard_names = [n for n in names if n in sharded]
            store.set_subscribers(await client.numsub(shard_names, sharded=True))

    async def _buffer(self) -> None:
        """The subscriber's output buffer on the server, and whether it is still there."""
        engine, client = self.engine, self.commands
        if not self._limit_known:
            self.limit = await client.pubsub_limit()
            self._limit_known = True
        client_id, node = engine.client_id, engine.node
        asked_at = self.clock()
        counter, omem = await asyncio.gather(
            client.limit_disconnections(node),
            client.subscriber_omem(client_id, node, getattr(engine, "client_name", "rps-tui-sub")),
            return_exceptions=True,
        )
        counter = counter if isinstance(counter, int) else None
        try:
            if isinstance(omem, SubscriberGone):
                await self._gone(client_id, counter, node)
                return
            if isinstance(omem, BaseException):
                if not isinstance(omem, CommandError):
                    raise omem
                self.omem = None  # refused (an ACL without CLIENT): blank, not stale
                engine.buffer_seen(None, self.limit)
                return
        finally:
            self._disconnections = counter
        if client_id != engine.client_id:
            return  # about a connection that has been replaced meanwhile
        self.omem = None if omem is None else Reading(omem, self.clock())
        if omem is not None:
            self._present_at, self._present_id = asked_at, client_id
        engine.buffer_seen(omem, self.limit)

    async def _gone(self, client_id: object, counter: int | None, node: str | None) -> None:
        """The subscriber's id is no longer in CLIENT LIST: the server closed it. Tell the
        engine, unless it has moved on by itself (a new connection has a new id).

        Why: Valkey and Redis 7.2+ count drops for the limit; Redis 7.0 does not, but its
        `client_recent_max_output_buffer` still remembers, for a few seconds, the buffer of
        a client it has just dropped: with the last buffer we saw, that names the reason."""
        engine = self.engine
        last = self.omem.value if self.omem is not None else None
        self.omem = None
        if self._present_id != client_id:
            return  # never seen listed: another server answers (a load balancer), not a drop
        connection = getattr(engine, "classic", engine)  # a cluster: its classic connection
        if client_id != engine.client_id or connection.state is not State.CONNECTED:
            return
        if counter is None:
            with contextlib.suppress(CommandError):
                recent = await self.commands.recent_max_output_buffer(node)
                last = max(last or 0, recent or 0) or last
        if client_id != engine.client_id:
            return
        since = self._present_at
        grew = (
            counter is not None
            and self._disconnections is not None
            and counter > self._disconnections
        )
        reason = dropped_reason(grew, last, self.limit)
        discarded = discarded_estimate(last, self.limit) if reason == LIMIT_REASON else None
        engine.server_dropped(
            Drop(client_id, reason, since if since is not None else self.clock(), discarded)
        )
