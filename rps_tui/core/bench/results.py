"""The run's counts, merged from every process: what was published, what each subscriber
saw, and the latency histogram.

Loss and duplicates are exact. A publisher counts the PUBLISH replies the server sent
(`published`); a subscriber marks each (publisher, sequence) it receives. Per subscriber:
lost = sum over publishers of (published - distinct seen); duplicates = delivered - distinct.
Every subscriber listens to every channel, so expected = published x subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from rps_tui.core.bench.subscriber import new_histogram
from rps_tui.core.bench.wire import Plan

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))


@dataclass
class SubscriberCounts:
    index: int
    delivered: int = 0
    distinct: list[int] = field(default_factory=list)  # per publisher
    foreign: int = 0
    last_ns: int = 0  # monotonic time of the last message
    error: str | None = None
    dropped: str | None = None  # the server dropped it for the output-buffer limit
    omem: int | None = None  # bytes the server held for it at the publishers' end
    done: bool = False

    def lost(self, published: list[int]) -> int:
        if not self.distinct:
            return sum(published)
        return sum(max(p - d, 0) for p, d in zip(published, self.distinct, strict=False))

    @property
    def duplicates(self) -> int:
        return max(self.delivered - sum(self.distinct), 0) if self.distinct else 0


@dataclass
class Outcome:
    """One run, complete or not (`error`, `interrupted`)."""

    plan: Plan
    server: str = ""  # "Valkey 9.0.0", "Redis 7.4.2 cluster"
    address: str = ""
    start_ns: int = 0  # monotonic_ns when publishing began
    publish_ns: int = 0  # how long publishing took
    published: list[int] = field(default_factory=list)  # per publisher
    receivers: int = 0  # the servers' receiver counts, summed
    subscribers: list[SubscriberCounts] = field(default_factory=list)
    histogram: HdrHistogram = field(default_factory=new_histogram)
    max_omem: int | None = None
    limit_disconnections: int | None = None
    error: str | None = None
    interrupted: bool = False

    @property
    def total_published(self) -> int:
        return sum(self.published)

    @property
    def expected(self) -> int:
        return self.total_published * len(self.subscribers)

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.subscribers)

    @property
    def lost(self) -> int:
        return sum(s.lost(self.published) for s in self.subscribers)

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.subscribers)

    @property
    def complete(self) -> bool:
        return self.error is None and not self.interrupted

    @property
    def publish_seconds(self) -> float:
        return self.publish_ns / 1e9

    @property
    def published_rate(self) -> float:
        return self.total_published / self.publish_seconds if self.publish_ns > 0 else 0.0

    def delivered_rate(self, sub: SubscriberCounts) -> float:
        """Messages a second from the start to its last message."""
        span = (sub.last_ns - self.start_ns) / 1e9
        return sub.delivered / span if span > 0 and sub.delivered else 0.0

    @property
    def total_delivered_rate(self) -> float:
        return sum(self.delivered_rate(s) for s in self.subscribers)

    def latency(self) -> dict[str, float | int]:
        """Percentiles in microseconds (0 when nothing was delivered)."""
        h = self.histogram
        out: dict[str, float | int] = {"count": h.get_total_count()}
        if not h.get_total_count():
            return out | {name: 0 for name, _ in PERCENTILES} | {"max": 0, "mean": 0}
        for name, pct in PERCENTILES:
            out[name] = h.get_value_at_percentile(pct)
        out["max"] = h.get_max_value()
        out["mean"] = round(h.get_mean_value(), 1)
        return out
