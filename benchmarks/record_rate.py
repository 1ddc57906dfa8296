"""Recording at a steady rate: up to which rate does `r` keep every message?

drain.py measures a recording under a backlog (the worst case: everything at once); this one
publishes at a fixed rate, as a busy server does. For each rate, a fresh loopback server, the
whole dashboard headless (`consumers.py app URL * r`: subscribed to `*`, recording to
/dev/null, so the file system is not measured) and `rps-tui bench --rate R` as the publisher
(1 publisher, 1 subscriber of its own, 100 channels, 100-byte payloads). The publisher and its
subscriber share the machine with the dashboard, as they would on a loaded host. Reported:
what the dashboard counted (every message published) and what its recording holds (left out =
counted - recorded; the recording's gap records say so in the file).

    python -m benchmarks.record_rate [--rates 100000 150000 200000 250000] [--seconds 10]
    python -m benchmarks.record_rate --writer

`--writer` measures the recorder alone: 1,000,000 entries handed in 500 at a time (each
500 sharing one receive time, as the messages of one socket read do) and written to
/dev/null, unlabelled and labelled (`Recorder.sink`, as a recording of several servers
writes), best of 3.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

import redis

from benchmarks.drain import CONSUMERS, subscriber, wait
from rps_tui.core.embedded.server import start_server


def one_rate(kind: str, rate: int, seconds: float) -> tuple[int, int]:
    """(counted, recorded) for one run at `rate` msg/s (the dashboard sees every message
    published: it subscribes to `*`)."""
    server = start_server(kind)
    client = redis.Redis(port=server.port)
    proc = subprocess.Popen(
        [*CONSUMERS, "app", server.url, "*", "r"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait(lambda: subscriber(client), 30, "the dashboard to subscribe")
        time.sleep(2.0)  # `r` pressed, the recording started
        subprocess.run(
            ["rps-tui", "bench", "-u", server.url, "--publishers", "1", "--subscribers", "1",
             "--channels", "100", "--size", "100", "--rate", str(rate), "--duration",
             str(seconds)],
            capture_output=True, check=True,
        )  # fmt: skip
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        text, last = b"", None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until its counts stop moving (queue written)
            time.sleep(0.5)
            text += proc.stdout.read() or b""
            lines = text.splitlines()
            numbers = tuple(int(n) for n in lines[-1].split()) if lines else ()
            if len(numbers) == 2 and numbers == last:
                break
            last = numbers
        counted, recorded = last if last and len(last) == 2 else (0, 0)
        return counted, recorded
    finally:
        proc.kill()
        proc.wait()
        client.close()
        server.stop()


def writer(lines: int = 1_000_000) -> None:
    from rps_tui.core.recording.recorder import Recorder

    now = time.time()
    batch = [
        [b"pmessage", b"bench.*", b"bench.%d" % (i % 100), b"x" * 100, now] for i in range(500)
    ]
    for name in ("unlabelled", "labelled"):
        best = 0.0
        for _ in range(3):
            recorder = Recorder("/dev/null", max_pending=10 * lines, max_bytes=1 << 40)
            sink = recorder.sink("127.0.0.1:6379") if name == "labelled" else recorder
            start = time.perf_counter()
            for _ in range(lines // len(batch)):
                sink(batch)
            recorder.close(timeout=60)
            assert recorder.lines == lines and recorder.error is None
            best = max(best, lines / (time.perf_counter() - start))
        print(f"{name:>10}: {best:,.0f} lines/s (best of 3)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rates", type=int, nargs="+", default=[100_000, 150_000, 200_000, 250_000]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--writer", action="store_true", help="the recorder alone")
    args = parser.parse_args()
    if args.writer:
        writer()
        return
    kind = args.server if shutil.which("redis-server") else "valkey"
    print(f"{'msg/s':>9} {'counted':>11} {'recorded':>11} {'left out':>9}")
    for rate in args.rates:
        counted, recorded = one_rate(kind, rate, args.seconds)
        lost = (counted - recorded) / counted if counted else 0.0
        print(f"{rate:9,} {counted:11,} {recorded:11,} {lost:9.1%}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
