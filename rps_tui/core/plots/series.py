"""One plotted line: (time, value) points, bounded, and the numbers its legend shows."""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

from rps_tui.core.store import PLOT_SECONDS

MAX_SHOWN = 8
"""Series drawn at once (the legend says how many more were left out)."""

WINDOWS = (60, 300, 900)
"""What `w` cycles through: 1, 5 and 15 minutes (the meters keep 15)."""


@dataclass(frozen=True, slots=True)
class Stats:
    min: float
    max: float
    last: float
    mean: float


@dataclass(slots=True)
class Series:
    """Points oldest first, at most one per second (`PLOT_SECONDS` of them)."""

    name: str  # what the legend and the CSV call it (a channel, or the subscription)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=PLOT_SECONDS))
    values: deque[float] = field(default_factory=lambda: deque(maxlen=PLOT_SECONDS))

    def add(self, when: float, value: float) -> None:
        self.times.append(when)
        self.values.append(value)

    def window(self, start: float) -> tuple[list[float], list[float]]:
        """The points at or after `start`."""
        times = list(self.times)
        first = bisect.bisect_left(times, start)
        return times[first:], list(self.values)[first:]

    def stats(self, start: float) -> Stats | None:
        """min / max / last / mean of the points at or after `start`; None if there are none."""
        _, values = self.window(start)
        if not values:
            return None
        return Stats(min(values), max(values), values[-1], math.fsum(values) / len(values))


def short_number(value: float, width: int = 7) -> str:
    """A number in at most `width` characters, keeping the digits that matter:
    1234567 -> 1.23M, 0.000123 -> 1.2e-04, 12.50 -> 12.5, 1,234 stays."""
    if value == int(value) and len(f"{int(value):,}") <= width:
        return f"{int(value):,}"
    if value and abs(value) < 0.001:
        return f"{value:.{max(0, width - 6)}e}"
    for digits in (3, 2, 1, 0):
        text = f"{value:,.{digits}f}"
        if digits:
            text = text.rstrip("0").rstrip(".")
        if len(text) <= width:
            return text
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if 1 <= abs(value) / scale < 1000:
            for digits in (2, 1, 0):
                text = f"{value / scale:.{digits}f}{suffix}"
                if len(text) <= width:
                    return text
    return f"{value:.{max(0, width - 6)}e}"


def mean_text(mean: float, shown: list[str], width: int = 7) -> str:
    """A mean with one decimal more than the values beside it show (whole msg/s: 506.5,
    not 506.625), so a column of means reads at one precision."""
    decimals = max((len(t.split(".")[1]) for t in shown if "." in t and "e" not in t), default=0)
    text = f"{mean:,.{min(3, decimals + 1)}f}"
    return text if len(text) <= width else short_number(mean, width)


def thin(
    times: list[float], values: list[float], start: float, end: float, buckets: int
) -> tuple[list[float], list[float]]:
    """At most two points per bucket of x (its lowest and highest, in time order): what a
    line `buckets` dots wide can show of more points, drawn for a fraction of the cost
    (900 points on 140 braille dots). Peaks and dips stay; fewer points are kept as they are."""
    if len(times) <= 2 * buckets or end <= start:
        return times, values
    out_t: list[float] = []
    out_v: list[float] = []
    width = (end - start) / buckets
    bucket, low, high = None, 0, 0
    for i, when in enumerate(times):
        b = int((when - start) / width)
        if b != bucket:
            if bucket is not None:
                _emit(times, values, low, high, out_t, out_v)
            bucket, low, high = b, i, i
        elif values[i] < values[low]:
            low = i
        elif values[i] > values[high]:
            high = i
    _emit(times, values, low, high, out_t, out_v)
    return out_t, out_v


def _emit(
    times: list[float], values: list[float], low: int, high: int, out_t: list, out_v: list
) -> None:
    for i in sorted({low, high}):
        out_t.append(times[i])
        out_v.append(values[i])
