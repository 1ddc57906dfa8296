"""What `e` writes: the plotted series, or the channel statistics, as CSV files.

Both go into the current directory under a new name (`rps-tui-plot-YYYYmmdd-HHMMSS.csv`,
`rps-tui-channels-…`), never over an existing file; times are ISO 8601 in UTC with
milliseconds (2025-11-27T10:00:00.250Z), whatever the screen's time zone; channel names are
written as the bytes they came as (a name that is not UTF-8 too).

- plot: columns time, channel, value, one row per point in time order; channel is the
  series' name (a channel, or for the throughput total the subscription's name); value is a
  number (msg/s are whole).
- channels: columns channel, channels, messages, bytes, msg_per_s, last_seen, subscribers,
  one row per channel as the table sorts them. `channels` is 1 for a channel; the folded
  rollup is the row with an empty channel and `channels` the number of channels out of the
  table now (a real channel named "" has 1), written `N+` where only a lower bound is known.
  subscribers is empty where it is not known.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterable
from pathlib import Path

from rps_tui.core.plots.series import Series
from rps_tui.core.store import ChannelRow
from rps_tui.core.units import iso_time

HEADER = ("time", "channel", "value")
CHANNEL_HEADER = (
    "channel",
    "channels",
    "messages",
    "bytes",
    "msg_per_s",
    "last_seen",
    "subscribers",
)


def export_name(
    now: float | None = None, directory: str | os.PathLike[str] = ".", kind: str = "plot"
) -> Path:
    """A new file, created empty: rps-tui-plot-20251127-100000.csv, then -2, -3 ..."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return claim_name(Path(directory) / f"rps-tui-{kind}-{stamp}", ".csv")


def claim_name(stem: str | os.PathLike[str], suffix: str) -> Path:
    """`stem + suffix`, else `stem-2 + suffix`, -3 ...: the first that does not exist,
    created empty with O_EXCL, so two rps-tui started in the same second (each naming its
    file by the time) never share one. OSError if the directory cannot take it."""
    n = 1
    while True:
        path = Path(f"{os.fspath(stem)}{'' if n == 1 else f'-{n}'}{suffix}")
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            n += 1
            continue
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
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for when, name, value in rows:
            writer.writerow((iso_time(when), name, _number(value)))
    return len(rows)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def write_channels_csv(path: str | os.PathLike[str], rows: Iterable[ChannelRow]) -> int:
    """The channel statistics, one row per channel in the given order; the number of rows.
    OSError as the system gives it (the caller says it in one line)."""
    written = 0
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as out:
        writer = csv.writer(out)
        writer.writerow(CHANNEL_HEADER)
        for row in rows:
            rollup = row.channel is None
            writer.writerow(
                (
                    "" if rollup else row.channel.decode("utf-8", "surrogateescape"),
                    f"{row.channels}+" if row.at_least else row.channels,
                    row.count,
                    row.bytes,
                    "" if rollup else f"{row.rate:.1f}",
                    "" if rollup or not row.last_seen else iso_time(row.last_seen),
                    "" if row.subscribers is None else row.subscribers,
                )
            )
            written += 1
    return written
