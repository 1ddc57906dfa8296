"""Drain-rate benchmark: how fast does each consumer empty a backlog the server holds for it?

Method (server side, black box): subscribe the consumer to
`bench.*`, stop it with SIGSTOP, queue N 100-byte messages over 100 channels with
`redis-benchmark -P 100 -r 100 PUBLISH bench.__rand_int__ <payload>` (the server's pubsub
output-buffer limit lifted), resume it, and time until the server's `omem` for that
connection (CLIENT LIST) is 0. Every consumer is measured the same way in the same run, and
rates are reported as ratios against `redis-cli psubscribe` (stdout to /dev/null).
`--channels`, `--size` and `--patterns` vary the channel count (`-r`), the payload and the
number of overlapping patterns (each message is then delivered that many times, and one
socket read mixes subscriptions); msg/s counts published messages.

    python -m benchmarks.drain [--messages 1000000] [--repeat 3] [--server redis|valkey]
        [--channels 100] [--size 100] [--patterns 1] [--only CONSUMER ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

import redis

from rps_tui.core.embedded.server import start_server

CONSUMERS = [sys.executable, "-m", "benchmarks.consumers"]  # + consumer, URL, what


def subscriber(client: redis.Redis, patterns: int = 1) -> dict | None:
    """The consumer, once it has subscribed to all its patterns."""
    for info in client.client_list():
        if int(info.get("psub", 0)) >= patterns:
            return info
    return None


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def measure(
    name: str,
    cmd: list[str],
    port: int,
    count: int,
    channels: int = 100,
    size: int = 100,
    patterns: int = 1,
    settle: float = 0.3,
) -> dict:
    """One drain; `settle`: seconds between subscribing and the stop (an app that presses
    keys first opens its view then, so the view is measured, not its opening)."""
    client = redis.Redis(port=port)
    out = subprocess.PIPE if cmd[0] == sys.executable else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: subscriber(client, patterns), 20, f"{name} to subscribe")
        time.sleep(settle)
        os.kill(proc.pid, signal.SIGSTOP)
        subprocess.run(
            [
                "redis-benchmark",
                "-p",
                str(port),
                "-n",
                str(count),
                "-P",
                "100",
                "-r",
                str(channels),
                "-q",
                "PUBLISH",
                "bench.__rand_int__",
                "x" * size,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        backlog = int(subscriber(client)["omem"])
        start = time.perf_counter()
        os.kill(proc.pid, signal.SIGCONT)
        wait(lambda: int(subscriber(client)["omem"]) == 0, 120, f"{name} to drain")
        seconds = time.perf_counter() - start
        counted = recorded = None
        if out == subprocess.PIPE:
            time.sleep(1.0)
            os.set_blocking(proc.stdout.fileno(), False)
            lines = (proc.stdout.read() or b"").splitlines()
            numbers = [int(n) for n in lines[-1].split()] if lines else []
            counted = numbers[0] if numbers else None
            recorded = numbers[1] if len(numbers) > 1 else None
        return {
            "name": name,
            "rate": count / seconds,
            "seconds": seconds,
            "backlog_mb": backlog / 2**20,
            "counted": counted,
            "recorded": recorded,
        }
    finally:
        proc.kill()
        proc.wait()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=100, help="distinct channels")
    parser.add_argument("--size", type=int, default=100, help="payload bytes")
    parser.add_argument(
        "--patterns",
        type=int,
        default=1,
        help="overlapping patterns per consumer (bench.*, bench*, ...): each message is "
        "delivered that many times, and one read mixes subscriptions",
    )
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds (this VM is noisy: medians are reported)"
    )
    args = parser.parse_args()
    if not shutil.which("redis-benchmark") or not shutil.which("redis-cli"):
        raise SystemExit("needs redis-benchmark and redis-cli (apt-get install redis-tools)")
    kind = args.server if shutil.which("redis-server") else "valkey"
    server = start_server(kind, extra_args=["--client-output-buffer-limit", "pubsub 0 0 0"])
    patterns = ["bench.*", "bench*", "bench.?*", "b*", "*", "be*", "ben*", "benc*", "bench.[0-9]*",
                "*.*"][: args.patterns]  # fmt: skip
    pattern = ",".join(patterns)
    consumers = {
        "redis-cli": ["redis-cli", "-p", str(server.port), "psubscribe", *patterns],
        "python limit": [*CONSUMERS, "limit", server.url, pattern],
        "python + history": [*CONSUMERS, "history", server.url, pattern],
        "redis-py listen()": [*CONSUMERS, "redispy", server.url, pattern],
        "rps-tui engine": [*CONSUMERS, "engine", server.url, pattern],
        "rps-tui app": [*CONSUMERS, "app", server.url, pattern],
        "rps-tui app + tree": [*CONSUMERS, "app", server.url, pattern, "t"],
        "rps-tui app + record": [*CONSUMERS, "app", server.url, pattern, "r"],
        # a value plot of the flooded subscription: `number` on every payload (none is one)
        "rps-tui app + plot": [*CONSUMERS, "app", server.url, pattern, "g,v,n,u,m,b,e,r,enter"],
    }
    chosen = {n: c for n, c in consumers.items() if not args.only or n in args.only}
    chosen["redis-cli"] = consumers["redis-cli"]
    rounds: list[dict[str, dict]] = []
    try:
        for _ in range(args.repeat):  # interleaved, so drift in the machine hits all alike
            rounds.append(
                {
                    n: measure(
                        n,
                        c,
                        server.port,
                        args.messages,
                        args.channels,
                        args.size,
                        args.patterns,
                        settle=2.0 if "+" in n else 0.3,  # the keys pressed, the view open
                    )
                    for n, c in chosen.items()
                }
            )
    finally:
        server.stop()
    print(
        f"\n{args.messages:,} x {args.size}-byte messages, {args.channels:,} channels, "
        f"{kind}-server, {args.patterns} overlapping psubscribe(s);"
    )
    print(f"median of {args.repeat} interleaved rounds (ratio = median of per-round ratios)")
    print_table(rounds, list(chosen), "redis-cli")


def print_table(rounds: list[dict[str, dict]], names: list[str], baseline: str) -> None:
    """Per consumer: median msg/s, median and range of its per-round ratio to `baseline`,
    what it counted and, for one that records, the median its recording holds (shared with
    shard_drain.py)."""
    print(f"{'consumer':20} {'msg/s':>12} {'vs ' + baseline:>16} {'min-max':>13} {'counted':>10}"
          f" {'recorded':>10}")  # fmt: skip
    for name in [baseline, *[n for n in names if n != baseline]]:
        rates = [r[name]["rate"] for r in rounds]
        ratios = sorted(r[name]["rate"] / r[baseline]["rate"] for r in rounds)
        counted = {r[name].get("counted") for r in rounds} - {None}
        shown = ",".join(f"{c:,}" for c in sorted(counted))
        kept = [r[name]["recorded"] for r in rounds if r[name].get("recorded") is not None]
        held = f"{statistics.median(kept):,.0f}" if kept else ""
        print(
            f"{name:20} {statistics.median(rates):12,.0f} {statistics.median(ratios):15.2f}x "
            f"{ratios[0]:6.2f}-{ratios[-1]:.2f}x {shown:>10} {held:>10}"
        )


if __name__ == "__main__":
    main()
