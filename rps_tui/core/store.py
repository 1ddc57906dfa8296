"""Bounded message buffers and exact per-channel statistics.

The engine thread writes here under one lock per socket read (not per message); the UI
takes short snapshots on its timers. Counters are exact: every message received is counted,
whether or not it is ever drawn. Per-channel counts reach the channel table through a
`ChannelTally` per connection, folded in at least every `FOLD_SECONDS` and before anything
reads the table, so a read costs C-level counting and no Python work per channel.
Memory is bounded three ways:

- each subscription keeps at most its last `history` messages (10,000 by default);
- and at most `max_bytes` of payload (64 MiB by default), and all subscriptions together at
  most `max_total_bytes` (256 MiB, or four subscriptions' worth if that is more): 10,000
  messages of 1 MB would otherwise hold 10 GB. Past a byte cap the oldest messages are let
  go (the largest buffer first, for the global cap) and counted in `let_go`, so the pane can
  say so; the newest message of a subscription is always kept;
- the channel table keeps at most `max_channels` rows (20,000 by default, a few MB). Beyond
  that the least recently seen quarter is folded into one "other channels" row, so the
  table's counts still add up to the total. The row says how many channels are out of the
  table now (a folded channel that comes back gets a fresh row and leaves the count): exact
  up to `GONE_LIMIT` of them, remembered as hashes, and "at least" beyond.

Keeping a read costs O(1), nothing per message (the engine's read loop is measured against
redis-cli): a subscription's history is a deque of `Read`s, each the wire's replies of one
socket read with their receive time and payload bytes. Past `history` whole reads go at
once, exactly; a read that goes only in part gives up its bytes in proportion, and exactly
once it has gone. So `held` can be off by at most part of one read (32 KiB, or one large
message) while a read is half gone, and never drifts.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice, repeat
from operator import itemgetter

try:  # the C helper behind Counter.update: a third of its cost per call, measured per read
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - every CPython has it

    def _count_elements(mapping: Counter, iterable: Iterable) -> None:
        mapping.update(iterable)


from rps_tui.core.entry import Entry, Gap
from rps_tui.core.subscriptions import Status, Subscription

DEFAULT_HISTORY = 10_000
MIB = 1 << 20
DEFAULT_MAX_BYTES = 64 * MIB  # payload bytes kept per subscription
MAX_HISTORY = 10_000_000  # what --history and the config accept: beyond it, memory runs out
MAX_HISTORY_MB = 65_536  # ... and --history-mb (64 GiB per subscription)
DEFAULT_MAX_TOTAL_BYTES = 256 * MIB  # ... and over all subscriptions (at least 4 x the above)
DEFAULT_MAX_CHANNELS = 20_000
GONE_LIMIT = 100_000  # folded channels counted exactly (~6 MB of hashes at most)
SPARK_SECONDS = 60
PLOT_SECONDS = 900  # a subscription's meter keeps 15 minutes, for the plot (channels: a minute)
FOLD_SECONDS = 0.05  # how often a busy connection's tally is folded into the table ...
FOLD_SHARE = 0.02  # ... or less often, so that folding takes at most this share of the time
RATE_WINDOW = 5
LAST_PAYLOAD_SCAN = 50_000  # messages `last_payloads` looks at, at most (a few ms)


_LAST = itemgetter(-1)


class Read:
    """The part of one socket read that went to one subscription."""

    __slots__ = ("replies", "size", "time")

    def __init__(self, time: float, replies: list[list], size: int) -> None:
        self.time = time
        self.replies = replies  # [kind, (pattern,) channel, payload], or [None, Gap]
        self.size = size  # payload bytes of `replies` (in proportion once some have gone)

    def entries(self, start: int = 0) -> list[Entry]:
        """Its replies from `start` on, as entries."""
        return list(map(list.__add__, islice(self.replies, start, None), repeat([self.time])))


class RateMeter:
    """Per-second deltas of a counter: a moving rate and a sparkline history.

    msg/s, everywhere it is shown (subscriptions, channels), is one definition: the messages
    received in the last `RATE_WINDOW` seconds, divided by `RATE_WINDOW`. Every meter is fed
    by the same once-a-second `Store.sample`, and a meter younger than the window counts its
    missing seconds as zero, so the channels of a subscription add up to its rate.
    """

    __slots__ = ("history", "idle", "keep", "last_count", "rate", "sampled")

    def __init__(self, keep: int = SPARK_SECONDS) -> None:
        # made at the first sample: with more channels than the table keeps, rows come and
        # go tens of thousands of times a second, mostly before a sample, and each deque is
        # a 528-byte block from malloc (the soak's churn: glibc kept ever more free memory)
        self.history: deque[int] | tuple[()] = ()
        self.keep = keep
        self.last_count = 0
        self.rate = 0.0
        self.idle = 0  # consecutive samples without a new message
        self.sampled = 0  # the store's sample number of the newest `history` entry

    def sample(self, count: int, number: int = 0) -> None:
        self.sampled = number
        delta = count - self.last_count
        history = self.history
        if not isinstance(history, deque):
            history = self.history = deque(maxlen=self.keep)
        history.append(delta)
        self.last_count = count
        self.idle = 0 if delta else self.idle + 1
        self.rate = sum(islice(reversed(self.history), RATE_WINDOW)) / RATE_WINDOW

    @property
    def settled(self) -> bool:
        """Nothing new for a whole sparkline: sampling it again would change nothing."""
        return self.idle >= SPARK_SECONDS


@dataclass(slots=True)
class SubscriptionState:
    """One subscription: its history, counters and what the server last said about it."""

    sub: Subscription
    history: int
    reads: deque[Read] = field(init=False)  # the history, oldest first
    count: int = 0  # entries (messages and gap markers) in `reads`, at most `history`
    held: int = 0  # payload bytes in `reads`
    total: int = 0
    bytes: int = 0  # every payload byte received
    gaps: int = 0
    let_go: int = 0  # messages dropped from the buffer for a byte cap (not for `history`)
    let_go_bytes: int = 0
    status: Status = Status.PENDING
    error: str | None = None
    meter: RateMeter = field(default_factory=lambda: RateMeter(PLOT_SECONDS))

    def __post_init__(self) -> None:
        self.reads = deque()

    @property
    def buffer(self) -> list[Entry]:
        """Every entry held, oldest first (made on each call: for tests and slow paths; safe
        without the lock, like iterating the deque it replaced)."""
        return [entry for read in list(self.reads) for entry in read.entries()]

    def take(self, replies: list[list], size: int, now: float) -> int:
        """Keep one read's `replies` (`size` payload bytes), letting the oldest go past
        `history`; the change in `held`. The hot path: a few operations per read, none per
        message (the lists are kept as they are, so the caller must not change them)."""
        self.reads.append(Read(now, replies, size))
        count = self.count = self.count + len(replies)
        if count > self.history:
            size -= self._forget(count - self.history)
        self.held += size
        return size

    def _forget(self, gone: int) -> int:
        """Let the oldest `gone` entries go (for `history`); the bytes freed. Whole reads
        go as they are; of a read that goes in part, its bytes go in proportion (exactly
        once the rest has gone too), so `held` is off by at most part of one read."""
        reads, freed = self.reads, 0
        self.count -= gone
        while gone:
            read = reads[0]
            n = len(read.replies)
            if n <= gone:
                gone -= n
                freed += read.size
                reads.popleft()
            else:
                part = read.size * gone // n
                del read.replies[:gone]
                read.size -= part
                freed += part
                gone = 0
        return freed

    def append(self, entry: Entry) -> int:
        """One entry on a slow path (a gap, a recording being loaded); the change in
        `held`."""
        size = 0 if entry[0] is None else len(entry[-2])
        self.bytes += size
        return self.take([entry[:-1]], size, entry[-1])

    def newest(self, n: int) -> list[Entry]:
        """The newest `n` entries (at most all of them), oldest first."""
        parts: list[tuple[Read, int]] = []
        for read in reversed(self.reads):
            if n <= 0:
                break
            have = len(read.replies)
            parts.append((read, max(0, have - n)))
            n -= have
        return [entry for read, start in reversed(parts) for entry in read.entries(start)]

    def trim(self, cap: int) -> int:
        """Let the oldest entries go until at most `cap` payload bytes are held, keeping at
        least the newest entry; the bytes freed. Whole reads go at once (a flood of 10 KB
        messages trims thousands at a time); the read that holds the newest entry, one
        entry at a time."""
        reads = self.reads
        freed = messages = 0
        while len(reads) > 1 and self.held - freed > cap:
            read = reads.popleft()
            freed += read.size
            self.count -= len(read.replies)
            messages += 0 if read.replies[0][0] is None else len(read.replies)  # a gap is alone
        if reads and self.held - freed > cap:
            read = reads[0]
            replies = read.replies
            while self.held - freed > cap and len(replies) > 1:
                reply = replies.pop(0)
                size = 0
                if reply[0] is not None:
                    size = min(len(reply[-1]), read.size)
                    messages += 1
                read.size -= size
                freed += size
                self.count -= 1
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


class ChannelTally:
    """One connection's per-channel counts since the last fold into the table.

    A read adds its channels with one C-level `Counter.update`: when its payloads all have
    one size (common: one producer, one format) into that size's counter, so the bytes are
    count x size; otherwise into a counter of (channel, size) pairs. Folding costs Python
    work per channel (and size), once per `FOLD_SECONDS` instead of once per read (less
    often when there are so many channels that folding would take more than `FOLD_SHARE`
    of the time: every 0.15 s with 10,000 busy channels). The channels' `last_seen` is then
    the time of the newest read in the tally: that much late under a flood, exact when
    reads are further apart."""

    __slots__ = ("by_size", "node", "pairs", "time")

    def __init__(self) -> None:
        self.by_size: dict[int, Counter[bytes]] = {}
        self.pairs: Counter[tuple[bytes, int]] = Counter()
        self.time: float | None = None  # of the newest read; None: nothing to fold
        self.node: str | None = None  # host:port of the connection, kept per channel

    def add(self, channels: Iterator[bytes], sizes: list[int], now: float) -> bool:
        """One read: its channels, one per message, and the payload sizes in order; True if
        the payloads all have one size."""
        self.time = now
        size = sizes[0]
        if sizes.count(size) == len(sizes):
            counter = self.by_size.get(size)
            if counter is None:
                counter = self.by_size[size] = Counter()
            _count_elements(counter, channels)
            return True
        _count_elements(self.pairs, zip(channels, sizes, strict=True))
        return False

    def drain(self) -> Iterator[tuple[bytes, int, int]]:
        """(channel, messages, bytes) for every count in the tally, which is then empty."""
        by_size, pairs = self.by_size, self.pairs
        self.by_size, self.pairs, self.time = {}, Counter(), None
        for size, counter in by_size.items():
            for channel, count in counter.items():
                yield channel, count, count * size
        for (channel, size), count in pairs.items():
            yield channel, count, count * size


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A snapshot of one subscription's counters for drawing."""

    total: int  # messages delivered to it
    rate: float  # msg/s (see `RateMeter`)
    bytes: int  # payload bytes delivered to it
    status: Status
    error: str | None
    let_go: int  # older messages let go for a byte cap


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every number the screen shows, read at one moment under the lock: the header, the
    subscription list, the pane title and the channel table draw from the same snapshot,
    so they agree.

    What is counted is deliveries: a message that matches two of the subscriptions arrives
    twice and counts once for each. `total` is the sum over the current subscriptions (a
    removed subscription's messages leave it); the channel table counts every delivery
    since the start, so its rows add up to `total` plus what removed subscriptions got."""

    taken: float
    total: int
    subs: dict[Subscription, SubscriptionRow]
    channels: list[ChannelRow] | None  # None: not asked for (a cheap snapshot)
    rate: float  # msg/s over the current subscriptions
    history: tuple[int, ...] = ()  # messages a second over the current subscriptions, oldest
    # first (the last `SPARK_SECONDS`)
    channel_count: int = 0  # rows of the channel table (the evicted rollup not counted)


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
    channels: int = 1  # how many channels the row stands for (the rollup: those folded out)
    at_least: bool = False  # `channels` is a lower bound (the rollup, past `GONE_LIMIT`)


def rollup_label(row: ChannelRow) -> str:
    """The rollup's name in the table and the tree's "chans" sense: the channels out of the
    table now. Its counts are what every folded row had, including rows that came back."""
    if row.channels or row.at_least:
        return f"{row.channels:,}{'+' if row.at_least else ''} other channels, folded"
    return "earlier counts of folded channels"


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
        self.lock = threading.RLock()  # reentrant: `channels` folds, and may be read under it
        self.history = history
        self.max_channels = max_channels
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes or max(DEFAULT_MAX_TOTAL_BYTES, 4 * max_bytes)
        self.subs: dict[Subscription, SubscriptionState] = {}
        self._channels: dict[bytes, ChannelStats] = {}
        self._tallies: list[ChannelTally] = []  # one per connection, see `fold`
        self.hot: set[bytes] = set()  # channels whose meters still move (see `sample`)
        self._gone: set[int] = set()  # hashes of the channels folded out and not back
        self.gone_at_least = False  # `_gone` was reset once full: its size is a lower bound
        self.folded = False  # some rows were folded: the rollup row is shown
        self.evicted_count = 0
        self.evicted_bytes = 0
        self.total = 0
        self.buffered = 0  # payload bytes held by all buffers together
        self.version = 0  # bumped when something a table shows changed, besides `total`
        self._next_sample = float("-inf")
        self.samples = 0  # `sample` calls so far: a plot aligns the meters' histories by it
        self.sample_times: deque[float] = deque(maxlen=PLOT_SECONDS)  # wall time of each
        self._next_fold = float("-inf")

    # -- called by the engine (lock held) -------------------------------------------------
    def add_subscription(self, sub: Subscription) -> SubscriptionState:
        state = self.subs.get(sub)
        if state is None:
            state = self.subs[sub] = SubscriptionState(sub, self.history)
        return state

    @property
    def channels(self) -> dict[bytes, ChannelStats]:
        """The channel table, every tally folded in (takes the lock)."""
        with self.lock:
            self.fold()
            return self._channels

    def tally(self, tally: ChannelTally | None = None) -> ChannelTally:
        """A connection's tally (a new one by default), folded in by `fold` from now on."""
        tally = tally or ChannelTally()
        if tally not in self._tallies:
            self._tallies.append(tally)
        return tally

    def forget(self, tally: ChannelTally) -> None:
        """A connection has ended for good: fold its tally in one last time (lock held)."""
        self.fold()
        if tally in self._tallies:
            self._tallies.remove(tally)

    def settle(self, now: float) -> None:
        """`fold`, if it is time (lock held; the engine calls this after each read)."""
        if now >= self._next_fold:
            start = time.perf_counter()
            self.fold()
            spent = time.perf_counter() - start
            self._next_fold = now + max(FOLD_SECONDS, spent / FOLD_SHARE)

    def fold(self) -> None:
        """Bring every connection's tally into the channel table (lock held). Everything
        that reads the table calls this first, so what it shows adds up to `total`."""
        channels, hot = self._channels, self.hot
        for tally in self._tallies:
            if tally.time is None:
                continue
            now, node = tally.time, tally.node
            for channel, count, size in tally.drain():
                stats = channels.get(channel)
                if stats is None:
                    stats = self._new_channel(channel, now)
                stats.count += count
                stats.bytes += size
                stats.last_seen = now
                stats.node = node
                hot.add(channel)

    def count(self, channel: bytes, size: int, now: float, node: str | None = None) -> None:
        """One message on a slow path (a recording being loaded); lock held."""
        stats = self._channels.get(channel) or self._new_channel(channel, now)
        stats.count += 1
        stats.bytes += size
        stats.last_seen = now
        stats.node = node
        self.hot.add(channel)

    @property
    def other_channels(self) -> int:
        """Channels folded out of the table and not back since (see `gone_at_least`)."""
        return len(self._gone)

    def _new_channel(self, channel: bytes, now: float) -> ChannelStats:
        """A row for a channel seen for the first time, making room if the table is full."""
        if len(self._channels) >= self.max_channels:
            self._evict()
        if self._gone:
            self._gone.discard(hash(channel))  # back: its new row counts it
        stats = self._channels[channel] = ChannelStats(now)
        return stats

    def _evict(self) -> None:
        """Fold the least recently seen quarter of the table into the rollup row (amortised:
        one partial sort per `max_channels // 4` new channels)."""
        victims = heapq.nsmallest(
            max(1, self.max_channels // 4), self._channels.items(), key=lambda kv: kv[1].last_seen
        )
        gone = self._gone
        self.folded = True
        for name, stats in victims:
            if len(gone) >= GONE_LIMIT:  # start again: what it then holds is surely gone
                gone.clear()
                self.gone_at_least = True
            gone.add(hash(name))
            self.evicted_count += stats.count
            self.evicted_bytes += stats.bytes
            del self._channels[name]

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
        self.fold()
        self.samples = number = self.samples + 1
        self.sample_times.append(time.time())
        for state in self.subs.values():
            state.meter.sample(state.total, number)
        hot, channels = self.hot, self._channels
        if not hot:
            return
        self.version += 1
        settled = []
        for name in hot:
            stats = channels.get(name)
            if stats is None:  # evicted
                settled.append(name)
                continue
            stats.meter.sample(stats.count, number)
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
            if new <= 0:
                return appended, [], True
            return appended, state.newest(new), new <= state.count

    def oldest_time(self, sub: Subscription) -> float | None:
        """Receive time of the oldest entry still held for `sub` (a view drops what is
        older, so it never keeps alive what the store let go); None if nothing is held."""
        state = self.subs.get(sub)
        try:
            return state.reads[0].time if state is not None else None
        except IndexError:
            return None

    def clear(self, sub: Subscription) -> None:
        with self.lock:
            state = self.subs.get(sub)
            if state is not None:
                self.buffered -= state.held
                state.reads.clear()
                state.count = state.held = 0

    def remove(self, sub: Subscription) -> SubscriptionState | None:
        """Forget a subscription (unsubscribed) and the bytes it held; lock held. Its state
        is marked removed, so a message still in flight on some connection (a cluster's
        links let go one by one) is not counted into the bytes held any more."""
        state = self.subs.pop(sub, None)
        if state is not None:
            self.buffered -= state.held
            state.status = Status.REMOVED
        return state

    def node_of(self, channel: bytes) -> str | None:
        """The node that delivered the channel's latest messages (None: not in the table)."""
        with self.lock:
            stats = self._channels.get(channel)
            return None if stats is None else stats.node

    def busiest(self, n: int) -> list[bytes]:
        """The `n` channels with the most messages, busiest first."""
        with self.lock:
            self.fold()
            top = heapq.nlargest(n, self._channels.items(), key=lambda kv: kv[1].count)
        return [name for name, _ in top]

    def snapshot(self, now: float | None = None, *, channels: bool = True) -> Snapshot:
        """Every number the screen shows, at one moment (see `Snapshot`)."""
        with self.lock:
            self.fold()
            subs = {
                sub: SubscriptionRow(s.total, s.meter.rate, s.bytes, s.status, s.error, s.let_go)
                for sub, s in self.subs.items()
            }
            rows = self.channel_rows() if channels else None
            history = [0] * SPARK_SECONDS
            for state in self.subs.values():
                meter = state.meter.history  # up to PLOT_SECONDS: the last minute of it
                skip = max(0, len(meter) - SPARK_SECONDS)
                for i, value in enumerate(
                    islice(meter, skip, None), SPARK_SECONDS - len(meter) + skip
                ):
                    history[i] += value
            channel_count = len(self._channels)
        return Snapshot(
            time.time() if now is None else now,
            sum(row.total for row in subs.values()),
            subs,
            rows,
            sum(row.rate for row in subs.values()),
            tuple(history),
            channel_count,
        )

    def channel_rows(self) -> list[ChannelRow]:
        with self.lock:
            self.fold()
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
                for name, s in self._channels.items()
            ]
            if self.folded:
                rows.append(
                    ChannelRow(
                        None,
                        self.evicted_count,
                        self.evicted_bytes,
                        0.0,
                        0.0,
                        None,
                        (),
                        channels=len(self._gone),
                        at_least=self.gone_at_least,
                    )
                )
        return rows

    def set_subscribers(self, counts: dict[bytes, int]) -> None:
        with self.lock:
            self.fold()
            for name, n in counts.items():
                stats = self._channels.get(name)
                if stats is not None and stats.subscribers != n:
                    stats.subscribers = n
                    self.version += 1

    def last_payloads(
        self, channels: Iterable[bytes], limit: int = LAST_PAYLOAD_SCAN
    ) -> dict[bytes, tuple[bytes, float]]:
        """The newest held (payload, receive time) of each of `channels`, for the channel
        tree's leaves on screen. Nothing is kept per channel for this (that would be work per
        message): the subscriptions' held reads are scanned newest first, under the lock, until
        every channel is found or `limit` messages have been looked at. A channel missing from
        the result has no message held any more (or none within the bound)."""
        wanted = set(channels)
        found: dict[bytes, tuple[bytes, float]] = {}
        if not wanted:
            return found
        with self.lock:
            budget = limit
            for state in self.subs.values():
                missing = set(wanted)  # each subscription's newest can be the newer one
                for read in reversed(state.reads):
                    if not missing or budget <= 0:
                        break
                    budget -= len(read.replies)
                    for reply in reversed(read.replies):
                        channel = reply[-2]
                        if reply[0] is None or channel not in missing:
                            continue
                        missing.discard(channel)
                        have = found.get(channel)
                        if have is None or have[1] < read.time:
                            found[channel] = (reply[-1], read.time)
        return found
