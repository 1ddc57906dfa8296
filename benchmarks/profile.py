"""Profile a consumer while it drains a backlog: a py-spy flame graph, and the top lines.

The method of `drain.py` (one pattern, 100 channels, 100-byte payloads, limits lifted), with
`py-spy record` attached while the consumer drains 3,000,000 messages. Needs py-spy
(`pip install py-spy`; it reads the process from outside, so it may need ptrace rights).

    python -m benchmarks.profile [engine|app|limit|history] [--svg FILE] [--top 15] [--keys K]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis

from benchmarks.drain import CONSUMERS, subscriber, wait
from rps_tui.core.embedded.server import start_server


def record(consumer: str, fmt: str, out: str, messages: int, keys: str = "") -> float:
    """Run the consumer, queue the backlog, record while it drains; the drain's seconds
    (`keys`: pressed in the app first, as `consumers.py app` takes them)."""
    server = start_server("redis" if shutil.which("redis-server") else "valkey",
                          extra_args=["--client-output-buffer-limit", "pubsub 0 0 0"])  # fmt: skip
    client = redis.Redis(port=server.port)
    cmd = [*CONSUMERS, consumer, server.url, "bench.*", *([keys] if keys else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        wait(lambda: subscriber(client), 20, "the consumer to subscribe")
        time.sleep(2.0 if keys else 0.5)  # the keys pressed, the view open
        os.kill(proc.pid, signal.SIGSTOP)
        subprocess.run(
            ["redis-benchmark", "-p", str(server.port), "-n", str(messages), "-P", "100",
             "-r", "100", "-q", "PUBLISH", "bench.__rand_int__", "x" * 100],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        spy = subprocess.Popen(
            ["py-spy", "record", "--nonblocking", "--threads", "-r", "500", "-f", fmt,
             "-o", out, "--pid", str(proc.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # py-spy attaches
        start = time.perf_counter()
        os.kill(proc.pid, signal.SIGCONT)
        wait(lambda: int(subscriber(client)["omem"]) == 0, 120, "the drain")
        seconds = time.perf_counter() - start
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        return seconds
    finally:
        proc.kill()
        proc.wait()
        client.close()
        server.stop()


def top_lines(raw: str, count: int) -> list[tuple[float, str]]:
    """The lines where the samples were taken (self time), as shares of all samples."""
    lines: Counter[str] = Counter()
    for row in Path(raw).read_text().splitlines():
        stack, _, samples = row.rpartition(" ")
        lines[stack.split(";")[-1]] += int(samples)
    total = sum(lines.values()) or 1
    return [(n / total, frame) for frame, n in lines.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("consumer", nargs="?", default="engine",
                        choices=("engine", "app", "limit", "history"))  # fmt: skip
    parser.add_argument("--svg", help="also write a flame graph here")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--messages", type=int, default=3_000_000)
    parser.add_argument("--keys", default="", help="app: keys to press first, e.g. t or g")
    args = parser.parse_args()
    for tool in ("py-spy", "redis-benchmark"):
        if not shutil.which(tool):
            raise SystemExit(
                f"needs {tool} on PATH (pip install py-spy; apt-get install redis-tools)"
            )
    with tempfile.TemporaryDirectory() as tmp:
        raw = str(Path(tmp) / "stacks.txt")
        seconds = record(args.consumer, "raw", raw, args.messages, args.keys)
        print(f"{args.consumer}: {args.messages:,} messages drained in {seconds:.2f} s; "
              f"where the samples were taken (self time):")  # fmt: skip
        for share, frame in top_lines(raw, args.top):
            print(f"  {share:6.1%}  {frame}")
    if args.svg:
        record(args.consumer, "flamegraph", args.svg, args.messages, args.keys)
        print(f"flame graph (a second run): {args.svg}")


if __name__ == "__main__":
    main()
