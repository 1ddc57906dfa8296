"""Process settings for a program that holds a large history of messages."""

from __future__ import annotations

import gc
import sys

YOUNG_THRESHOLD = 50_000  # allocations between two collections of the youngest generation
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits for it


def tune_process() -> None:
    """Once per process, before the subscriber starts (`rps-tui`, `tail`, `view`, and the
    benchmarks' consumers, so they measure the product as it runs): `tune_gc`, and a GIL
    switch interval of 1 ms (not Python's 5 ms). The reader thread holds the GIL while it
    parses; a key press needs it several times on its way to the screen, so a shorter
    interval keeps keys snappy under a flood."""
    tune_gc()
    sys.setswitchinterval(SWITCH_INTERVAL)


def tune_gc() -> None:
    """Collect young objects rarely, and leave what start-up made out of every collection.

    Every message is a list (a GC-tracked container) and most live on in a history. With
    the default threshold (700) the collector runs thousands of times a second under a
    flood; while histories fill (many subscriptions, a cluster's shards) each run promotes
    thousands of survivors and the older generations are traversed over and over, and the
    pauses stall the screen. Measured with `benchmarks/shard_drain.py` (three shards,
    102 subscriptions): the engine drained at 0.17x redis-cli with the defaults, 0.42x with
    this. Reference cycles are still collected, less often."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
