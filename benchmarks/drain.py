"""Drain-rate benchmark: how fast does each consumer empty a backlog the server holds for it?

Method (server side, black box, as in ../shared/DESIGN.md): subscribe the consumer to
`bench.*`, stop it with SIGSTOP, queue N 100-byte messages over 100 channels with
`redis-benchmark -P 100 -r 100 PUBLISH bench.__rand_int__ <payload>` (the server's pubsub
output-buffer limit lifted), resume it, and time until the server's `omem` for that
connection (CLIENT LIST) is 0. Every consumer is measured the same way in the same run, and
rates are reported as ratios against `redis-cli psubscribe` (stdout to /dev/null).

    python benchmarks/drain.py [--messages 1000000] [--server redis|valkey]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from rps_tui.core.server import start_server

HERE = Path(__file__).resolve().parent
PAYLOAD = "x" * 100


def subscriber(client: redis.Redis) -> dict | None:
    for info in client.client_list():
        if int(info.get("psub", 0)) > 0:
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


def measure(name: str, cmd: list[str], port: int, count: int) -> dict:
    client = redis.Redis(port=port)
    out = subprocess.PIPE if cmd[0] == sys.executable else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: subscriber(client), 20, f"{name} to subscribe")
        time.sleep(0.3)
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
                "100",
                "-q",
                "PUBLISH",
                "bench.__rand_int__",
                PAYLOAD,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        backlog = int(subscriber(client)["omem"])
        start = time.perf_counter()
        os.kill(proc.pid, signal.SIGCONT)
        wait(lambda: int(subscriber(client)["omem"]) == 0, 120, f"{name} to drain")
        seconds = time.perf_counter() - start
        counted = None
        if out == subprocess.PIPE:
            time.sleep(1.0)
            os.set_blocking(proc.stdout.fileno(), False)
            lines = (proc.stdout.read() or b"").split()
            counted = int(lines[-1]) if lines else None
        return {
            "name": name,
            "rate": count / seconds,
            "seconds": seconds,
            "backlog_mb": backlog / 2**20,
            "counted": counted,
        }
    finally:
        proc.kill()
        proc.wait()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    if not shutil.which("redis-benchmark") or not shutil.which("redis-cli"):
        raise SystemExit("needs redis-benchmark and redis-cli (apt-get install redis-tools)")
    kind = args.server if shutil.which("redis-server") else "valkey"
    server = start_server(kind, extra_args=["--client-output-buffer-limit", "pubsub 0 0 0"])
    consumers = {
        "redis-cli": ["redis-cli", "-p", str(server.port), "psubscribe", "bench.*"],
        "redis-py listen()": [
            sys.executable,
            str(HERE / "consumers.py"),
            "redispy",
            server.url,
            "bench.*",
        ],
        "rps-tui engine": [
            sys.executable,
            str(HERE / "consumers.py"),
            "engine",
            server.url,
            "bench.*",
        ],
        "rps-tui app": [sys.executable, str(HERE / "consumers.py"), "app", server.url, "bench.*"],
    }
    try:
        results = [
            measure(name, cmd, server.port, args.messages)
            for name, cmd in consumers.items()
            if args.only is None or name in args.only or name == "redis-cli"
        ]
    finally:
        server.stop()
    base = results[0]["rate"]
    print(
        f"\n{args.messages:,} x 100-byte messages over 100 channels, {kind}-server, one psubscribe"
    )
    print(f"{'consumer':20} {'msg/s':>12} {'vs redis-cli':>13} {'backlog':>9} {'counted':>10}")
    for r in results:
        counted = "" if r["counted"] is None else f"{r['counted']:,}"
        print(
            f"{r['name']:20} {r['rate']:12,.0f} {r['rate'] / base:12.2f}x "
            f"{r['backlog_mb']:7.0f}MB {counted:>10}"
        )


if __name__ == "__main__":
    main()
