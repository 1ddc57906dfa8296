"""Browsing a recording without a server: a `Store` filled from the file, and an engine
stand-in that gives the UI what a live engine would, minus the live part.

Each recorded pattern becomes a pattern subscription (pmessage), each recorded channel a
channel subscription (message) or a sharded one (smessage), in order of first appearance.
Counts, bytes and the channel table add up as if the messages had been received live;
the rates and sparklines are those of the recording's last minute, as a live view would
have shown them at the moment the recording ended. Gap records mark every subscription
seen so far (a live gap marks every subscription of the connection).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rps_tui.core.entry import channel_of, payload_of, time_of
from rps_tui.core.recording.format import RecordError, loads, read_records
from rps_tui.core.store import SPARK_SECONDS, Store, SubscriptionState
from rps_tui.core.subscriber.base import Event, EventLog, State
from rps_tui.core.subscriptions import KIND_OF, Status, Subscription, channel_name
from rps_tui.core.units import plural

SKIPS_SHOWN = 3  # lines that are not records, named one by one; then a count
TAIL_BYTES = 1 << 16  # read from the end of the file to find the recording's last time


@dataclass
class LoadResult:
    messages: int = 0
    gaps: int = 0
    first: float | None = None  # time of the first and last record
    last: float | None = None
    truncated: bool = False  # stopped at max_entries
    skipped: list[str] = field(default_factory=list)  # "line 165: not valid JSON (...)"

    def describe(self) -> str:
        if self.first is None or self.last is None:
            return "empty recording"
        span = self.last - self.first
        cut = " (first part only)" if self.truncated else ""
        bad = f", {plural(len(self.skipped), 'line')} skipped" if self.skipped else ""
        return f"{plural(self.messages, 'message')} over {span:.1f} s{cut}{bad}"


def _last_time(path: str | os.PathLike[str]) -> float | None:
    """The time of the last complete record, read from the end of the file."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - TAIL_BYTES))
            lines = file.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines[1:] if size > TAIL_BYTES else lines):
        try:
            return loads(line)[-1]
        except RecordError:
            continue
    return None


def load_recording(
    path: str | os.PathLike[str], store: Store, max_entries: int | None = None
) -> LoadResult:
    """Fill `store` from the recording at `path` (see the module docstring); stops after
    `max_entries` records. Lines that are not records are skipped and listed in the
    result (the rest of a damaged file is still worth reading); a file with no record in it
    raises RecordError naming its first bad line."""
    result = LoadResult()
    end = _last_time(path)
    # the rate meters are fed once per recorded second over the last minute only, as the
    # engine feeds them live; before that minute nobody would see them
    window = None if end is None else end - SPARK_SECONDS
    next_sample: float | None = None
    states: dict[tuple[str, bytes, bytes], SubscriptionState] = {}
    with store.lock:
        for server, entry in read_records(path, skip=result.skipped.append, lenient=True):
            if max_entries is not None and result.messages + result.gaps >= max_entries:
                result.truncated = True
                break
            now = time_of(entry)
            if result.first is None:
                result.first = now
            result.last = now
            if next_sample is None:
                if window is not None and now >= window:
                    _prime(store)
                    next_sample = now + 1.0
            elif now >= next_sample:
                # one sample per recorded second; a clock jump in the file costs a minute's
                # worth at most
                due = int(now - next_sample) + 1
                for _ in range(min(due, SPARK_SECONDS)):
                    store.sample()
                next_sample += due
            kind = entry[0]
            if kind is None:  # a server's gap is in its subscriptions only
                on = [s for s in store.subs if s.on == server] if server else None
                store.mark_gap(entry[1], now, on)
                result.gaps += 1
                continue
            state = states.get((server, kind, entry[1]))
            if state is None:  # a server named by the record (tail of several): its own
                sub = Subscription(KIND_OF[kind], channel_name(entry[1]), server)
                state = states[(server, kind, entry[1])] = store.add_subscription(sub)
                state.status = Status.ACTIVE
            channel, size = channel_of(entry), len(payload_of(entry))
            state.total += 1
            store.buffered += state.append(entry)
            store.bound(state)
            store.count(channel, size, now)
            store.total += 1
            result.messages += 1
        if next_sample is not None:
            store.sample()  # the last, partial second
    return result


def _prime(store: Store) -> None:
    """Start the rate meters at the current counts (as if they had been fed all along)."""
    for state in store.subs.values():
        state.meter.last_count = state.total
    for stats in store.channels.values():
        stats.meter.last_count = stats.count


class OfflineEngine:
    """What the app uses from an engine, for a recording: nothing connects, nothing
    arrives; subscribing is not possible (it says so in an event)."""

    def __init__(
        self,
        store: Store,
        path: str | os.PathLike[str],
        result: LoadResult | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.path = os.fspath(path)
        self.result = result or LoadResult()
        self.log = EventLog(clock)
        self.on_data: Callable[[], None] | None = None
        self.sink: Callable[[list[list]], None] | None = None
        self.busy = False
        self.state = State.OFFLINE
        self.retry_at: float | None = None  # nothing to connect to, so nothing to retry
        self.client_id: object = None
        self.node: str | None = None
        self.last_data: float | None = self.result.last
        self._stop = threading.Event()
        for reason in self.result.skipped[:SKIPS_SHOWN]:
            self.log.add("warning", f"{self.path}, {reason}: skipped")
        if len(self.result.skipped) > SKIPS_SHOWN:
            more = len(self.result.skipped) - SKIPS_SHOWN
            self.log.add("warning", f"{self.path}: {plural(more, 'more line')} skipped")

    @property
    def subscriptions(self) -> list[Subscription]:
        with self.store.lock:
            return list(self.store.subs)

    @property
    def state_detail(self) -> str:
        return self.result.describe()

    @property
    def where(self) -> str:
        return f"recording {self.path}"

    def subscribe(self, sub: Subscription) -> None:
        if sub not in self.store.subs:
            self.log.add("warning", f"viewing a recording: cannot subscribe to {sub.name!r}")

    def unsubscribe(self, sub: Subscription) -> None:
        """Nothing to stop listening to: the recording stays as it is."""

    def run(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def rearm(self) -> None:
        """Nothing ever arrives, so there is nothing to wake the UI for."""

    @property
    def events(self) -> list[Event]:
        return list(self.log.events)

    def events_since(self, seq: int) -> tuple[int, list[Event]]:
        return self.log.since(seq)

    def nodes(self) -> list[tuple[str, int]]:
        return []

    def server_dropped(self, drop: object) -> None:
        """No server, no drops (the monitor does not run offline)."""

    def buffer_seen(self, omem: int | None, limit: tuple[int, ...] | None) -> None:
        """No server, no buffer."""
