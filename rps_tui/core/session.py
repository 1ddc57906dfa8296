"""One server, or one recording, as the dashboard, `rps-tui tail` and `rps-tui view` use it.

A `Session` owns the store, the subscriber that fills it, the command client (publish,
PUBSUB) and the recorder, and answers the questions the UI asks of the server in one line
each (which channels are active, how many subscribe to them). The dashboard holds one;
`tail` uses one with a history of one entry and its own sink; `view` opens one on a file.
`SeveralSessions` records the sessions of several servers' tabs to one file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from rps_tui.core.connection.commands import CommandError, Commands
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.recording.format import RecordError
from rps_tui.core.recording.offline import OfflineEngine, load_recording
from rps_tui.core.recording.recorder import Recorder
from rps_tui.core.store import DEFAULT_HISTORY, DEFAULT_MAX_BYTES, Store
from rps_tui.core.subscriber.base import State, Subscriber
from rps_tui.core.subscriber.factory import make_subscriber
from rps_tui.core.subscriber.intake import Sink
from rps_tui.core.subscriptions import Kind, Subscription, channel_name


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """One reading of the server's Pub/Sub state, for the channel browser."""

    channels: dict[bytes, int]  # channel -> subscribers (PUBSUB NUMSUB)
    shard_channels: dict[bytes, int]  # sharded channel -> subscribers (SHARDNUMSUB)
    patterns: int | None  # PUBSUB NUMPAT (server-wide pattern subscriptions)
    error: str = ""  # what the server refused, if anything


class Session:
    """The store, its subscriber, the command client and the recorder of one connection."""

    def __init__(
        self,
        settings: ConnectionSettings,
        subscriber: Subscriber,
        *,
        recorder: Recorder | None = None,
    ) -> None:
        self.settings = settings
        self.subscriber = subscriber
        self.store: Store = subscriber.store
        nodes = getattr(subscriber, "nodes", None) if settings.cluster else None
        self.commands = Commands(settings, nodes=nodes)
        self.recorder: Recorder | None = None
        self.recordings: list[Recorder] = []  # every recorder of the session, the current last
        self._sinks: list[Sink] = []  # its own recorder, and a recording of several servers
        if recorder is not None:
            self.record(recorder)

    @classmethod
    def live(
        cls,
        settings: ConnectionSettings,
        *,
        history: int = DEFAULT_HISTORY,
        history_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        recorder: Recorder | None = None,
    ) -> Session:
        """A session on a server: the engine for its deployment (one server, a cluster,
        Sentinel), not yet running."""
        store = Store(history=history, max_bytes=history_bytes)
        return cls(settings, make_subscriber(settings, store, clock=clock), recorder=recorder)

    @classmethod
    def from_recording(
        cls,
        path: str | os.PathLike[str],
        *,
        history: int = DEFAULT_HISTORY,
        history_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Session:
        """A session on a recording (`rps-tui view`): the store filled from the file, an
        offline subscriber, no server. Raises RecordError with one line."""
        store = Store(history=history, max_bytes=history_bytes)
        result = load_recording(path, store)
        if result.first is None:
            first = f", {result.skipped[0]}" if result.skipped else ": no records in it"
            raise RecordError(f"{os.fspath(path)}{first}")
        return cls(ConnectionSettings(), OfflineEngine(store, path, result))

    @property
    def offline(self) -> bool:
        """A recording is being viewed: no server behind it."""
        return self.subscriber.state is State.OFFLINE

    # -- recording ---------------------------------------------------------------------------
    def record(self, recorder: Recorder) -> None:
        """Every entry from now on goes to `recorder` too."""
        self.recorder = recorder
        self.recordings.append(recorder)
        self.attach(recorder)

    def attach(self, sink: Sink) -> None:
        """Every entry from now on goes to `sink` too (beside the session's own recorder:
        the all view records several servers while a tab may record its own)."""
        self._sinks.append(sink)
        self._wire()

    def detach(self, sink: Sink) -> None:
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)
        self._wire()

    def _wire(self) -> None:
        sinks = tuple(self._sinks)
        if len(sinks) > 1:
            self.subscriber.sink = lambda entries: [sink(entries) for sink in sinks]
        else:
            self.subscriber.sink = sinks[0] if sinks else None

    def recordings_to(self, path: str) -> list[Recorder]:
        """The session's recordings into `path`, in order: a recording started again with
        the same file appends to it, so the file holds them all."""
        return [r for r in self.recordings if r.path == path]

    def stop_recording(self) -> Recorder | None:
        """Stop handing entries to the recorder; the recorder (to close), if there was one."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            self.detach(recorder)
        return recorder

    # -- questions for the server -------------------------------------------------------------
    async def active_subscriptions(self) -> tuple[list[Subscription], str]:
        """The server's active channels (and sharded ones, Redis 7+) as subscriptions, and a
        note if it would not say."""
        client, note = self.commands, ""
        active: list[Subscription] = []
        try:
            names = await client.active_channels()
            active = [Subscription(Kind.CHANNEL, channel_name(c)) for c in names]
        except CommandError as exc:
            note = f"Could not list active channels: {exc}"
        with contextlib.suppress(CommandError):  # before Redis 7 there are none
            shards = await client.active_channels(sharded=True)
            active += [Subscription(Kind.SHARD, channel_name(c)) for c in shards]
        return active, note

    async def channel_snapshot(self, limit: int) -> ChannelSnapshot:
        """Active channels (at most `limit` of each kind) with subscriber counts, sharded
        ones (Redis 7+) and NUMPAT; each part optional, so an ACL that refuses one still
        shows the rest."""
        client, errors = self.commands, []
        channels: dict[bytes, int] = {}
        shards: dict[bytes, int] = {}
        patterns = None
        try:
            channels = await client.numsub((await client.active_channels())[:limit])
        except CommandError as exc:
            errors.append(str(exc))
        with contextlib.suppress(CommandError):  # no sharded Pub/Sub before Redis 7
            names = (await client.active_channels(sharded=True))[:limit]
            shards = await client.numsub(names, sharded=True)
        with contextlib.suppress(CommandError):
            patterns = await client.numpat()
        return ChannelSnapshot(channels, shards, patterns, "; ".join(errors))

    async def close(self) -> None:
        self.subscriber.stop()
        await self.commands.close()


class SeveralSessions:
    """Several servers recorded to one file, as `r` in the all view and `--record` with
    several servers do: what the recording control asks of a session, for them all.

    Each server's session hands every entry to the one recorder through a sink of its own, so
    each line names its server (`"server": LABEL`, as `tail` of several servers writes) and
    `rps-tui view` shows each server's subscriptions apart. It records what the servers'
    tabs would record (every message of every subscription, and each connection's gaps), not
    only the subscription the all view shows: exact, with no pump between the engines and the
    file. A tab can record on its own at the same time (to a file of its own): a session hands
    its entries to both.
    """

    offline = False  # only live servers have several tabs

    def __init__(self, members: list[tuple[str, Session]] | None = None) -> None:
        self.members: list[tuple[str, Session]] = []
        self.recorder: Recorder | None = None
        self.recordings: list[Recorder] = []  # every recorder, the current last
        self._attached: list[tuple[Session, Sink]] = []
        for label, session in members or []:
            self.add(label, session)

    def add(self, label: str, session: Session) -> None:
        """One more server (`+`): it joins a recording that is going on, from now on."""
        self.members.append((label, session))
        if self.recorder is not None:
            self._attach(self.recorder, label, session)

    def record(self, recorder: Recorder) -> None:
        """Every entry of every server from now on goes to `recorder`, naming its server."""
        self.recorder = recorder
        self.recordings.append(recorder)
        for label, session in self.members:
            self._attach(recorder, label, session)

    def _attach(self, recorder: Recorder, label: str, session: Session) -> None:
        sink = recorder.sink(label)
        session.attach(sink)
        self._attached.append((session, sink))

    def recordings_to(self, path: str) -> list[Recorder]:
        return [r for r in self.recordings if r.path == path]

    def stop_recording(self) -> Recorder | None:
        """Stop handing entries to the recorder; the recorder (to close), if there was one."""
        recorder, self.recorder = self.recorder, None
        for session, sink in self._attached:
            session.detach(sink)
        self._attached = []
        return recorder
