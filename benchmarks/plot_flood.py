"""Plot benchmark: key latency with a values plot open under a flood, and idle CPU after.

A loopback server (redis-server, or valkey); `python -m rps_tui -u URL flood.*` in a real
pty (120x40, tests/support/pty.py). `g` opens the plot, `v number` plots the payloads, then
footprint.py's two paced publishers send 100k msg/s of 100 bytes to `flood.0`..`flood.99`
for SECONDS (their payloads are no number: each extraction runs and counts "not numeric").
Every 2 s `w` is pressed: latency = keypress until the new window ("last 5 min", "last 15
min", "last 1 min") reaches the terminal. Then, with the flood over and the plot still
open, idle CPU: utime+stime from /proc over 20 s, in % of one core.

    python -m benchmarks.plot_flood [SECONDS]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time

from benchmarks.footprint import FLOOD_RATE, collect, publishers
from rps_tui.core.embedded.server import start_server
from tests.support.pty import PtyApp

TITLES = ("last 5 min", "last 15 min", "last 1 min")
TICK = 100  # clock ticks a second (/proc/<pid>/stat)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    kind = "redis" if shutil.which("redis-server") else "valkey"
    srv = start_server(kind)
    app = PtyApp("-u", srv.url, "flood.*", cols=120, rows=40)
    try:
        app.wait_for("connected")
        app.send(b"g")
        app.wait_for("msg/s")
        app.send(b"v")
        time.sleep(0.3)
        app.send(b"number\r")
        app.wait_for("number ")
        pubs = publishers(srv.url, FLOOD_RATE, seconds + 2, 2)
        latencies, end = [], time.monotonic() + seconds
        time.sleep(2)
        while time.monotonic() < end:
            title = TITLES[len(latencies) % 3]
            offset = app.length
            pressed = app.send(b"w")
            _, shown = app.wait_for(title, offset, timeout=10)
            latencies.append((shown - pressed) * 1000)
            time.sleep(2)
        published, took = collect(pubs, 30)
        sampled = "sampled" in app.tail(20_000)
        time.sleep(5)
        start = cpu_seconds(app.pid)
        time.sleep(20)
        idle = (cpu_seconds(app.pid) - start) / 20 * 100
        print(
            f"flood {took:.0f} s, {published / took:,.0f} msg/s, values plot "
            f"open ('sampled' shown: {sampled})"
        )
        print(
            f"key w -> new title: median {statistics.median(latencies):.0f} ms, "
            f"max {max(latencies):.0f} ms over {len(latencies)} presses"
        )
        print(f"idle after the flood, plot open: {idle:.2f}% of a core")
    finally:
        app.close()
        srv.stop()


if __name__ == "__main__":
    main()
