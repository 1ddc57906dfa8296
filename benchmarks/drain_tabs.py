"""Drain rate with two servers flooded at once: the dashboard with a tab each, against two
redis-cli processes (one per server) measured the same way in the same run.

Method (as drain.py, per server): the consumer subscribes to `bench.*` on both servers
(each with its pubsub output-buffer limit lifted), is stopped with SIGSTOP, N 100-byte
messages over 100 channels are queued on each server with `redis-benchmark -P 100`, then it
is resumed and each server's `omem` for it (CLIENT LIST) is polled until 0. Per server:
N / seconds until its backlog was gone; the two servers drain at once, so this is what each
connection gets while the other floods too. redis-cli: one `psubscribe` per server, both
stopped and resumed together. Rounds are interleaved; medians are reported.

    python -m benchmarks.drain_tabs [--messages 1000000] [--repeat 3] [--server redis|valkey]
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
from concurrent.futures import ThreadPoolExecutor

import redis

from benchmarks.drain import CONSUMERS, subscriber, wait
from rps_tui.core.embedded.server import ServerProcess, start_server


def fill(port: int, count: int) -> None:
    subprocess.run(
        ["redis-benchmark", "-p", str(port), "-n", str(count), "-P", "100", "-r", "100", "-q",
         "PUBLISH", "bench.__rand_int__", "x" * 100],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def measure(name: str, cmds: list[list[str]], servers: list[ServerProcess], count: int) -> dict:
    """One round: every process in `cmds` stopped, both backlogs queued at once, all resumed;
    seconds until each server's backlog is gone."""
    clients = [redis.Redis(port=s.port) for s in servers]
    procs = [
        subprocess.Popen(
            c,
            stdout=subprocess.PIPE if c[0] == sys.executable else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for c in cmds
    ]
    try:
        for client in clients:
            wait(lambda c=client: subscriber(c), 30, f"{name} to subscribe")
        time.sleep(0.5)
        for proc in procs:
            os.kill(proc.pid, signal.SIGSTOP)
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda s: fill(s.port, count), servers))
        start = time.perf_counter()
        for proc in procs:
            os.kill(proc.pid, signal.SIGCONT)

        def drained(client: redis.Redis) -> float:
            wait(lambda: int(subscriber(client)["omem"]) == 0, 180, f"{name} to drain")
            return time.perf_counter() - start

        with ThreadPoolExecutor(len(clients)) as pool:
            seconds = list(pool.map(drained, clients))
        return {"name": name, "rates": [count / s for s in seconds], "recorded": recorded(procs)}
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for client in clients:
            client.close()


def recorded(procs: list[subprocess.Popen]) -> int | None:
    """What the dashboard's recording holds, from its last report (consumers.py), if it
    records; a second for the writer to finish first."""
    time.sleep(1.0)
    for proc in procs:
        if proc.stdout is not None:
            os.set_blocking(proc.stdout.fileno(), False)
            lines = (proc.stdout.read() or b"").splitlines()
            numbers = lines[-1].split() if lines else []
            if len(numbers) > 1:
                return int(numbers[1])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="per server")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    args = parser.parse_args()
    if not shutil.which("redis-benchmark") or not shutil.which("redis-cli"):
        raise SystemExit("needs redis-benchmark and redis-cli (apt-get install redis-tools)")
    kind = args.server if shutil.which("redis-server") else "valkey"
    lifted = ["--client-output-buffer-limit", "pubsub 0 0 0"]
    servers = [start_server(kind, extra_args=lifted) for _ in range(2)]
    urls = ",".join(s.url for s in servers)
    consumers = {
        "redis-cli x2": [
            ["redis-cli", "-p", str(s.port), "psubscribe", "bench.*"] for s in servers
        ],
        "rps-tui, 2 tabs": [[*CONSUMERS, "app-tabs", urls, "bench.*"]],
        "2 tabs + record": [[*CONSUMERS, "app-tabs", urls, "bench.*", "record"]],
    }
    rounds = []
    try:
        for _ in range(args.repeat):
            rounds.append({n: measure(n, c, servers, args.messages) for n, c in consumers.items()})
    finally:
        for server in servers:
            server.stop()
    print(f"\n{args.messages:,} x 100-byte messages on each of 2 {kind}-servers at once; "
          f"median of {args.repeat} interleaved rounds")  # fmt: skip
    print(f"{'consumer':18} {'server':>7} {'msg/s':>12} {'vs redis-cli':>13} {'min-max':>13}"
          f" {'recorded':>10}")  # fmt: skip
    for name in consumers:
        for i in range(len(servers)):
            rates = [r[name]["rates"][i] for r in rounds]
            ratios = sorted(r[name]["rates"][i] / r["redis-cli x2"]["rates"][i] for r in rounds)
            kept = [r[name]["recorded"] for r in rounds if r[name]["recorded"] is not None]
            held = f"{statistics.median(kept):,.0f}" if kept and not i else ""  # both servers'
            print(
                f"{name:18} {i + 1:>7} {statistics.median(rates):12,.0f} "
                f"{statistics.median(ratios):12.2f}x {ratios[0]:6.2f}-{ratios[-1]:.2f}x {held:>10}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
