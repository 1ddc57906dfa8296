"""The plotted series as CSV: columns time, channel, value, one row per point.

time is ISO 8601 in UTC with milliseconds (2025-11-27T10:00:00.250Z), whatever the
screen's time zone; channel is the series' name (a channel, or for the throughput total
the subscription's name), written as the bytes it came as; value is a number (msg/s are
whole). Rows are in time order. The file goes into the current directory under a new
name (`rps-tui-plot-YYYYmmdd-HHMMSS.csv`), never over an existing file.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from rps_tui.core.plots.series import Series

HEADER = ("time", "channel", "value")


def iso_time(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def export_name(now: float | None = None, directory: str | os.PathLike[str] = ".") -> Path:
    """A file name that is not taken yet: rps-tui-plot-20251127-100000.csv, then -2, -3 ..."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    path, n = Path(directory) / f"rps-tui-plot-{stamp}.csv", 1
    while path.exists():
        n += 1
        path = Path(directory) / f"rps-tui-plot-{stamp}-{n}.csv"
    return path


def write_csv(path: str | os.PathLike[str], series: Iterable[Series], start: float) -> int:
    """Write the points of `series` at or after `start`; the number of rows. OSError as
    the system gives it (the caller says it in one line)."""
    rows = []
    for one in series:
        times, values = one.window(start)
        rows.extend((when, one.name, value) for when, value in zip(times, values, strict=True))
    rows.sort(key=lambda row: row[0])
    # surrogateescape: a channel name that is not UTF-8 goes back out as its own bytes
    with open(path, "x", newline="", encoding="utf-8", errors="surrogateescape") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for when, name, value in rows:
            writer.writerow((iso_time(when), name, _number(value)))
    return len(rows)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
