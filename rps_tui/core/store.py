"""Bounded message buffers and exact per-channel statistics.

The engine thread writes here under one lock per socket read (not per message); the UI
takes short snapshots on its timers. Counters are exact: every message received is counted,
whether or not it is ever drawn. Memory is bounded twice: each subscription keeps its last
`history` messages, and the channel table keeps at most `max_channels` rows (20,000 by
default, a few MB). Beyond that the least recently seen quarter is folded into one
"other channels" row, so the table's counts still add up to the total.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from rps_tui.core.subscriptions import Subscription

DEFAULT_HISTORY = 10_000
DEFAULT_MAX_CHANNELS = 20_000
SPARK_SECONDS = 60
RATE_WINDOW = 5


@dataclass(frozen=True, slots=True)
class Gap:
    """A marker in a pane: the subscription was not listening for a while."""

    reason: str
    seconds: float

    def describe(self) -> str:
        return (
            f"── gap: {self.reason}; not listening for {self.seconds:.1f} s, "
            "messages published then are lost ──"
        )


# One buffer entry is the reply list from the wire with the receive time appended:
# [kind, (pattern,) channel, payload, time]; a gap marker is [None, Gap, time]. So for any
# entry: channel = e[-3] (None for a gap), payload = e[-2] (bytes or Gap), time = e[-1].
Entry = list


class RateMeter:
    """Per-second deltas of a counter: a moving rate and a sparkline history."""

    __slots__ = ("history", "last_count", "rate")

    def __init__(self) -> None:
        self.history: deque[int] = deque(maxlen=SPARK_SECONDS)
        self.last_count = 0
        self.rate = 0.0

    def sample(self, count: int) -> None:
        self.history.append(count - self.last_count)
        self.last_count = count
        recent = list(self.history)[-RATE_WINDOW:]
        self.rate = sum(recent) / len(recent)


@dataclass(slots=True)
class SubscriptionState:
    """One subscription: its buffer, counters and what the server last said about it."""

    sub: Subscription
    history: int
    buffer: deque = field(init=False)
    total: int = 0
    bytes: int = 0
    gaps: int = 0
    status: str = "pending"  # pending | active | error | removed
    error: str | None = None
    meter: RateMeter = field(default_factory=RateMeter)

    def __post_init__(self) -> None:
        self.buffer = deque(maxlen=self.history)


class ChannelStats:
    __slots__ = ("bytes", "count", "first_seen", "last_seen", "meter", "node", "subscribers")

    def __init__(self, now: float) -> None:
        self.count = 0
        self.bytes = 0
        self.first_seen = now
        self.last_seen = now
        self.meter = RateMeter()
        self.subscribers: int | None = None
        self.node: str | None = None  # host:port that delivered its latest messages


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A snapshot of one channel's statistics for drawing."""

    channel: bytes | None  # None: the rollup of evicted channels
    count: int
    bytes: int
    rate: float
    last_seen: float
    subscribers: int | None
    spark: tuple[int, ...]
    node: str | None = None


class Store:
    """All buffers and statistics of one engine; see the module docstring for the bounds."""

    def __init__(
        self, history: int = DEFAULT_HISTORY, max_channels: int = DEFAULT_MAX_CHANNELS
    ) -> None:
        self.lock = threading.Lock()
        self.history = history
        self.max_channels = max_channels
        self.subs: dict[Subscription, SubscriptionState] = {}
        self.channels: dict[bytes, ChannelStats] = {}
        self.evicted_channels = 0
        self.evicted_count = 0
        self.evicted_bytes = 0
        self.total = 0

    # -- called by the engine (lock held) -------------------------------------------------
    def add_subscription(self, sub: Subscription) -> SubscriptionState:
        state = self.subs.get(sub)
        if state is None:
            state = self.subs[sub] = SubscriptionState(sub, self.history)
        return state

    def new_channel(self, channel: bytes, now: float) -> ChannelStats:
        """A row for a channel seen for the first time, making room if the table is full."""
        if len(self.channels) >= self.max_channels:
            self._evict()
        stats = self.channels[channel] = ChannelStats(now)
        return stats

    def _evict(self) -> None:
        """Fold the least recently seen quarter of the table into the rollup row (amortised:
        one partial sort per `max_channels // 4` new channels)."""
        victims = heapq.nsmallest(
            max(1, self.max_channels // 4), self.channels.items(), key=lambda kv: kv[1].last_seen
        )
        for name, stats in victims:
            self.evicted_channels += 1
            self.evicted_count += stats.count
            self.evicted_bytes += stats.bytes
            del self.channels[name]

    def sample(self) -> None:
        """Once a second: feed every rate meter."""
        for state in self.subs.values():
            state.meter.sample(state.total)
        for stats in self.channels.values():
            stats.meter.sample(stats.count)

    def mark_gap(self, gap: Gap, now: float, subs: Iterable[Subscription] | None = None) -> None:
        for sub, state in self.subs.items():
            if subs is None or sub in subs:
                state.buffer.append([None, gap, now])
                state.gaps += 1

    # -- called by the UI ------------------------------------------------------------------
    def appended(self, sub: Subscription) -> int:
        """How many entries (messages and gap markers) the buffer has ever taken; lock-free,
        so a timer can skip a subscription that has nothing new."""
        state = self.subs.get(sub)
        return 0 if state is None else state.total + state.gaps

    def tail(self, sub: Subscription, newer_than: int) -> tuple[int, list[Entry], bool]:
        """Entries appended after the count `newer_than`, oldest first, as
        (appended count now, entries, complete): complete is False when the buffer has
        already dropped some of them (then the entries are the whole buffer)."""
        with self.lock:
            state = self.subs.get(sub)
            if state is None:
                return newer_than, [], True
            appended = state.total + state.gaps
            new = appended - newer_than
            buffer = state.buffer
            if new <= 0:
                return appended, [], True
            if new >= len(buffer):
                return appended, list(buffer), new == len(buffer)
            return appended, list(islice(reversed(buffer), new))[::-1], True

    def clear(self, sub: Subscription) -> None:
        with self.lock:
            state = self.subs.get(sub)
            if state is not None:
                state.buffer.clear()

    def channel_rows(self) -> list[ChannelRow]:
        with self.lock:
            rows = [
                ChannelRow(
                    name,
                    s.count,
                    s.bytes,
                    s.meter.rate,
                    s.last_seen,
                    s.subscribers,
                    tuple(s.meter.history),
                    s.node,
                )
                for name, s in self.channels.items()
            ]
            if self.evicted_channels:
                rows.append(
                    ChannelRow(None, self.evicted_count, self.evicted_bytes, 0.0, 0.0, None, ())
                )
        return rows

    def set_subscribers(self, counts: dict[bytes, int]) -> None:
        with self.lock:
            for name, n in counts.items():
                stats = self.channels.get(name)
                if stats is not None:
                    stats.subscribers = n
