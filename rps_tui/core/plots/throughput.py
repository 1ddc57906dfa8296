"""Throughput series: messages per second for a subscription and its busiest channels.

Read from what the store's rate meters recorded (the same per-second samples the msg/s
column is made of), never counted again here, and never per message: `update` runs at
most once a second on the UI thread and reads the samples it has not read yet, however
many seconds passed (the dashboard's timer runs every 3rd second under a flood). The
store numbers its samples (`Store.samples`) and keeps their times; each meter knows the
number of its newest sample, so a reader can align a meter's history with those times.

- The subscription's own meter keeps 15 minutes (`PLOT_SECONDS`): subscriptions are few.
- A channel's meter keeps a minute (`SPARK_SECONDS`): there may be 20,000 channels. So
  channel series are kept here, while the plot is open, for the busiest channels of the
  subscription (itself for a channel or shard subscription; for a pattern, the channels
  it matches, ranked by msg/s then count) and up to `KEPT` of them; each starts with the
  minute its meter still has. A meter not sampled at a sample number was settled (all
  zeros), so those seconds count 0.
- Offline (`rps-tui view FILE`) nothing is sampled in real time: `from_entries` buckets
  the recording's messages by their receive time, one bucket per second.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

from rps_tui.core.entry import Entry, channel_of, is_gap, time_of
from rps_tui.core.plots.series import MAX_SHOWN, Series
from rps_tui.core.store import RateMeter, Store
from rps_tui.core.subscriptions import Subscription, channel_name, glob_matches

KEPT = 4 * MAX_SHOWN
"""Channel series kept at most (a channel that drops out of the top keeps its line for a
while); the least busy goes first."""


class Throughput:
    """The series of one subscription: its total first, then its busiest channels."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.total = Series(sub.name)
        self.channels: dict[bytes, Series] = {}
        self._seen = 0  # the store's sample number read up to
        self._seen_of: dict[bytes, int] = {}  # ... per channel series
        self._matches: dict[bytes, bool] = {}  # pattern matching, cached per channel

    def series(self, start: float) -> list[Series]:
        """What to draw: the total, then the busiest channels in the window (for a pattern)."""
        if not self.sub.is_pattern:
            return [self.total]
        busiest = sorted(
            self.channels.values(),
            key=lambda s: (-math.fsum(s.window(start)[1]), s.name),
        )
        return [self.total, *busiest[: MAX_SHOWN - 1]]

    def left_out(self) -> int:
        return max(0, len(self.channels) - (MAX_SHOWN - 1)) if self.sub.is_pattern else 0

    def update(self, store: Store) -> bool:
        """Read the samples recorded since the last call; True if a series changed."""
        with store.lock:
            number, times = store.samples, list(store.sample_times)
            if number == self._seen:
                return False
            state = store.subs.get(self.sub)
            if state is not None:
                _read(state.meter, self.total, self._seen, number, times)
            if self.sub.is_pattern:
                self._update_channels(store, number, times)
            self._seen = number
        return True

    def _update_channels(self, store: Store, number: int, times: list[float]) -> None:
        """Pick the busiest matching channels among those whose meters move (`Store.hot`:
        the others have had a silent minute) and read every kept channel's new samples."""
        matches, key = self._matches, self.sub.key
        if len(matches) > 2 * store.max_channels:
            matches.clear()
        table = store.channels
        moving = []
        for name in store.hot:
            hit = matches.get(name)
            if hit is None:
                hit = matches[name] = glob_matches(key, name)
            if hit and name in table:
                moving.append(name)
        top = heapq.nlargest(MAX_SHOWN, moving, key=lambda n: (table[n].meter.rate, table[n].count))
        for name in top:
            if name not in self.channels:
                self.channels[name] = Series(channel_name(name))
                self._seen_of[name] = 0  # from what its meter still has
        for name, series in self.channels.items():
            stats = table.get(name)
            if stats is None:  # evicted from the table: no messages since a while
                _zeros(series, self._seen_of[name], number, times)
            else:
                _read(stats.meter, series, self._seen_of[name], number, times)
            self._seen_of[name] = number
        if len(self.channels) > KEPT:
            start = times[-1] - 60 if times else 0.0
            keep = sorted(
                self.channels, key=lambda n: -math.fsum(self.channels[n].window(start)[1])
            )
            for name in keep[KEPT:]:
                del self.channels[name], self._seen_of[name]

    @classmethod
    def from_entries(cls, sub: Subscription, entries: Iterable[Entry]) -> Throughput:
        """Offline: per-second counts of a recording's messages, by receive time."""
        plot = cls(sub)
        total: dict[int, int] = {}
        per_channel: dict[bytes, dict[int, int]] = {}
        for entry in entries:
            if is_gap(entry):
                continue
            second = int(time_of(entry))
            total[second] = total.get(second, 0) + 1
            if sub.is_pattern:
                counts = per_channel.setdefault(channel_of(entry) or b"", {})
                counts[second] = counts.get(second, 0) + 1
        if not total:
            return plot
        first, last = min(total), max(total)
        first = max(first, last - plot.total.times.maxlen + 1)  # type: ignore[operator]
        _buckets(plot.total, total, first, last)
        busiest = heapq.nlargest(KEPT, per_channel, key=lambda n: sum(per_channel[n].values()))
        for name in busiest:
            series = plot.channels[name] = Series(channel_name(name))
            _buckets(series, per_channel[name], first, last)
        return plot


def _read(meter: RateMeter, series: Series, seen: int, number: int, times: list[float]) -> None:
    """Append the samples numbered after `seen` up to `number` that the meter still holds
    (a sample after the meter's newest was skipped: the meter was settled, so 0)."""
    history, newest = meter.history, meter.sampled
    first = max(seen + 1, number - len(times) + 1)
    if not history:
        newest = number
    for n in range(first, number + 1):
        if n > newest:
            value = 0
        else:
            back = newest - n
            if back >= len(history):
                continue  # before the meter's history began
            value = history[len(history) - 1 - back]
        series.add(times[len(times) - 1 - (number - n)], value)


def _zeros(series: Series, seen: int, number: int, times: list[float]) -> None:
    for n in range(max(seen + 1, number - len(times) + 1), number + 1):
        series.add(times[len(times) - 1 - (number - n)], 0)


def _buckets(series: Series, counts: dict[int, int], first: int, last: int) -> None:
    for second in range(first, last + 1):
        series.add(float(second), counts.get(second, 0))
