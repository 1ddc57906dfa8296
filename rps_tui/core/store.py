"""Bounded message buffers and exact per-channel statistics.

The engine thread writes here under one lock per socket read (not per message); the UI
takes short snapshots on its timers. Counters are exact: every message received is counted,
whether or not it is ever drawn. Memory is bounded three ways:

- each subscription keeps at most its last `history` messages (10,000 by default);
- and at most `max_bytes` of payload (64 MiB by default), and all subscriptions together at
  most `max_total_bytes` (256 MiB, or four subscriptions' worth if that is more): 10,000
  messages of 1 MB would otherwise hold 10 GB. Past a byte cap the oldest messages are let
  go (the largest buffer first, for the global cap) and counted in `let_go`, so the pane can
  say so; the newest message of a subscription is always kept;
- the channel table keeps at most `max_channels` rows (20,000 by default, a few MB). Beyond
  that the least recently seen quarter is folded into one "other channels" row, so the
  table's counts still add up to the total.

Byte accounting costs O(1) per socket read, nothing per message (the engine's read loop is
measured against redis-cli): beside each buffer runs a short deque of `[messages, bytes]`, one
per read that fed it. When `maxlen` pushes old messages out, whole reads are retired exactly;
a read pushed out only in part is retired in proportion, and exactly once it has gone. So
`held` can be off by at most part of one read (32 KiB, or one large message) while a read is
half gone, and never drifts.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice, repeat
from operator import is_, itemgetter

from rps_tui.core.payload import human_bytes
from rps_tui.core.subscriptions import Subscription

_FIRST = itemgetter(0)
_consume = deque(maxlen=0).extend  # runs an iterator to its end at C speed
DEFAULT_HISTORY = 10_000
MIB = 1 << 20
DEFAULT_MAX_BYTES = 64 * MIB  # payload bytes kept per subscription
DEFAULT_MAX_TOTAL_BYTES = 256 * MIB  # ... and over all subscriptions (at least 4 x the above)
DEFAULT_MAX_CHANNELS = 20_000
SPARK_SECONDS = 60
RATE_WINDOW = 5


@dataclass(frozen=True, slots=True)
class Gap:
    """A marker in a pane: the subscription was not listening for a while."""

    reason: str
    seconds: float
    discarded: int | None = None  # bytes the server threw away for us (a drop), if known

    def describe(self) -> str:
        if self.discarded is not None:
            # what was queued for us is gone too: the loss began before we stopped listening
            return (
                f"── gap: {self.reason}; it discarded ~{human_bytes(self.discarded)} queued "
                f"for us, and what was published until we listened again {self.seconds:.1f} s "
                "later is lost ──"
            )
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

    __slots__ = ("history", "idle", "last_count", "rate")

    def __init__(self) -> None:
        self.history: deque[int] = deque(maxlen=SPARK_SECONDS)
        self.last_count = 0
        self.rate = 0.0
        self.idle = 0  # consecutive samples without a new message

    def sample(self, count: int) -> None:
        delta = count - self.last_count
        self.history.append(delta)
        self.last_count = count
        self.idle = 0 if delta else self.idle + 1
        recent = list(self.history)[-RATE_WINDOW:]
        self.rate = sum(recent) / len(recent)

    @property
    def settled(self) -> bool:
        """Nothing new for a whole sparkline: sampling it again would change nothing."""
        return self.idle >= SPARK_SECONDS


@dataclass(slots=True)
class SubscriptionState:
    """One subscription: its buffer, counters and what the server last said about it."""

    sub: Subscription
    history: int
    buffer: deque = field(init=False)
    chunks: deque = field(init=False)  # [messages, payload bytes] of each read, oldest first
    held: int = 0  # payload bytes in the buffer
    total: int = 0
    bytes: int = 0  # every payload byte received
    gaps: int = 0
    let_go: int = 0  # messages dropped from the buffer for a byte cap (not for `history`)
    let_go_bytes: int = 0
    status: str = "pending"  # pending | active | error | removed
    error: str | None = None
    meter: RateMeter = field(default_factory=RateMeter)

    def __post_init__(self) -> None:
        self.buffer = deque(maxlen=self.history)
        self.chunks = deque()

    def take(self, entries: list[Entry], size: int) -> int:
        """Append one read's entries (`size` payload bytes); the change in `held`. The hot
        path: a few operations per read, none per message."""
        buffer = self.buffer
        before = len(buffer)
        buffer.extend(entries)
        self.chunks.append([len(entries), size])
        gone = before + len(entries) - len(buffer)  # pushed out by `history`
        freed = self._retire(gone) if gone else 0
        self.held += size - freed
        return size - freed

    def _retire(self, gone: int) -> int:
        """Forget the oldest `gone` messages' chunk bytes; the bytes freed."""
        chunks, freed = self.chunks, 0
        while gone and chunks:
            chunk = chunks[0]
            if chunk[0] <= gone:
                gone -= chunk[0]
                freed += chunk[1]
                chunks.popleft()
            else:
                part = chunk[1] * gone // chunk[0]
                chunk[0] -= gone
                chunk[1] -= part
                freed += part
                gone = 0
        return freed

    def append(self, entry: Entry) -> int:
        """One entry on a slow path (a gap, a recording being loaded); the change in
        `held`."""
        size = 0 if entry[0] is None else len(entry[-2])
        self.bytes += size
        return self.take([entry], size)

    def trim(self, cap: int) -> int:
        """Let the oldest entries go until at most `cap` payload bytes are held, keeping at
        least the newest entry; the bytes freed. Whole reads go at C speed (a flood of
        10 KB messages trims thousands at a time); the read that holds the newest entry,
        one entry at a time."""
        buffer, chunks = self.buffer, self.chunks
        freed = messages = whole = reads = 0
        excess, last = self.held - cap, len(buffer) - 1
        for count, size in chunks:  # the whole reads that can go (not the newest entry)
            if freed >= excess or whole + count > last:
                break
            whole += count
            freed += size
            reads += 1
        if whole:
            gaps = sum(map(is_, map(_FIRST, islice(buffer, whole)), repeat(None)))
            _consume(map(deque.popleft, repeat(buffer, whole)))
            _consume(map(deque.popleft, repeat(chunks, reads)))
            messages += whole - gaps
        while self.held - freed > cap and len(buffer) > 1:
            entry = buffer.popleft()
            size = 0 if entry[0] is None else len(entry[-2])
            messages += entry[0] is not None
            chunk = chunks[0]
            chunk[0] -= 1
            if chunk[0] == 0:  # the chunk's own count of bytes settles any rounding
                size = chunk[1]
                chunks.popleft()
            else:
                size = min(size, chunk[1])
                chunk[1] -= size
            freed += size
        self.held -= freed
        self.let_go += messages
        self.let_go_bytes += freed
        return freed


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
        self,
        history: int = DEFAULT_HISTORY,
        max_channels: int = DEFAULT_MAX_CHANNELS,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_total_bytes: int | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self.history = history
        self.max_channels = max_channels
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes or max(DEFAULT_MAX_TOTAL_BYTES, 4 * max_bytes)
        self.subs: dict[Subscription, SubscriptionState] = {}
        self.channels: dict[bytes, ChannelStats] = {}
        self.hot: set[bytes] = set()  # channels whose meters still move (see `sample`)
        self.evicted_channels = 0
        self.evicted_count = 0
        self.evicted_bytes = 0
        self.total = 0
        self.buffered = 0  # payload bytes held by all buffers together
        self.version = 0  # bumped when something a table shows changed, besides `total`
        self._next_sample = float("-inf")

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

    def bound(self, state: SubscriptionState) -> None:
        """Apply the byte caps after `state` grew past one (the caller checks, cheaply):
        down to 15/16 of the cap, so a flood of large messages trims every few messages, not
        on every read."""
        if state.held > self.max_bytes:
            self.buffered -= state.trim(self.max_bytes - self.max_bytes // 16)
        if self.buffered > self.max_total_bytes:
            self._trim_total()

    def _trim_total(self) -> None:
        """Over the global cap: take from the largest buffers first (so one flood does not
        wipe the quiet subscriptions) until under it. A subscription down to one message
        larger than its own cap is kept and left out of the sum: it cannot shrink, and
        cutting every other history to one entry for it would help nobody."""
        oversized = sum(
            s.held for s in self.subs.values() if len(s.buffer) == 1 and s.held > self.max_bytes
        )
        goal = self.max_total_bytes - self.max_total_bytes // 16 + oversized
        for state in sorted(self.subs.values(), key=lambda s: s.held, reverse=True):
            if self.buffered <= goal:
                break
            self.buffered -= state.trim(max(0, state.held - (self.buffered - goal)))

    def tick(self, now: float) -> None:
        """`sample` if a second has passed since the last one. Every connection of a
        cluster calls this from its own thread; the meters are still fed once a second."""
        if now >= self._next_sample:
            self._next_sample = now + 0.95  # each caller comes every 1.0-1.1 s
            self.sample()

    def sample(self) -> None:
        """Once a second: feed the rate meters. A channel's meter is fed while it moves and
        for one sparkline after its last message (then it is all zeros and stays so), so
        an idle table of 20,000 channels costs nothing."""
        for state in self.subs.values():
            state.meter.sample(state.total)
        hot, channels = self.hot, self.channels
        if not hot:
            return
        self.version += 1
        settled = []
        for name in hot:
            stats = channels.get(name)
            if stats is None:  # evicted
                settled.append(name)
                continue
            stats.meter.sample(stats.count)
            if stats.meter.settled:
                settled.append(name)
        hot.difference_update(settled)

    def mark_gap(self, gap: Gap, now: float, subs: Iterable[Subscription] | None = None) -> None:
        for sub, state in self.subs.items():
            if subs is None or sub in subs:
                self.buffered += state.append([None, gap, now])
                state.gaps += 1
        self.version += 1

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

    def oldest_time(self, sub: Subscription) -> float | None:
        """Receive time of the oldest entry still held for `sub` (a view drops what is
        older, so it never keeps alive what the store let go); None if nothing is held."""
        state = self.subs.get(sub)
        try:
            return state.buffer[0][-1] if state is not None else None
        except IndexError:
            return None

    def clear(self, sub: Subscription) -> None:
        with self.lock:
            state = self.subs.get(sub)
            if state is not None:
                self.buffered -= state.held
                state.buffer.clear()
                state.chunks.clear()
                state.held = 0

    def remove(self, sub: Subscription) -> SubscriptionState | None:
        """Forget a subscription (unsubscribed) and the bytes it held; lock held. Its state
        is marked removed, so a message still in flight on some connection (a cluster's
        links let go one by one) is not counted into the bytes held any more."""
        state = self.subs.pop(sub, None)
        if state is not None:
            self.buffered -= state.held
            state.status = "removed"
        return state

    def busiest(self, n: int) -> list[bytes]:
        """The `n` channels with the most messages, busiest first."""
        with self.lock:
            top = heapq.nlargest(n, self.channels.items(), key=lambda kv: kv[1].count)
        return [name for name, _ in top]

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
                if stats is not None and stats.subscribers != n:
                    stats.subscribers = n
                    self.version += 1
