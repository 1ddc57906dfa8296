"""Drain rate on a cluster: three shard connections flooded at once.

Method: `drain.py`'s, on a 3-primary cluster (tests/support/topology.py, pubsub output-buffer limit
lifted on every node). Each primary gets `--channels` sharded channels of its own (one hash
tag per primary, `{tag}.__rand_int__`); the consumer SSUBSCRIBEs to all of them, is stopped
with SIGSTOP, `redis-benchmark` SPUBLISHes N/3 messages to each primary at once, the
consumer is resumed, and the clock runs until every primary's `omem` for its subscriber is
0. rps-tui reads the three shards with three threads in one process (one GIL); redis-cli
cannot subscribe to several shards, so its side is three `redis-cli ssubscribe` processes,
one per primary, which also get a core each: the ratio is against the fastest redis-cli can
be here, not against one process.

    python -m benchmarks.shard_drain [--messages 600000] [--repeat 3] [--server redis|valkey]
        [--channels 34] [--size 100] [--only CONSUMER ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import redis

from benchmarks.drain import CONSUMERS, print_table
from tests.support.topology import start_cluster


def tag_for(cluster, node) -> bytes:
    """A hash tag whose slot `node` owns."""
    for i in range(10_000):
        tag = b"{t%d}" % i
        if cluster.owner_of(tag).port == node.port:
            return tag
    raise SystemExit("no hash tag found for a primary")


def subscribers(client: redis.Redis) -> list[dict]:
    return [c for c in client.client_list() if int(c.get("ssub", 0)) > 0]


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def measure(name, cmds, clients, tags, per_node, channels, size, ports) -> dict:
    out = subprocess.PIPE if cmds[0][0] == sys.executable else subprocess.DEVNULL
    procs = [subprocess.Popen(c, stdout=out, stderr=subprocess.DEVNULL) for c in cmds]
    try:
        wait(lambda: all(subscribers(c) for c in clients), 30, f"{name} to subscribe")
        time.sleep(0.5)
        for p in procs:
            os.kill(p.pid, signal.SIGSTOP)
        publishers = [
            subprocess.Popen(
                ["redis-benchmark", "-p", str(port), "-n", str(per_node), "-P", "100",
                 "-r", str(channels), "-q", "SPUBLISH", tag.decode() + ".__rand_int__",
                 "x" * size],
                stdout=subprocess.DEVNULL,
            )
            for port, tag in zip(ports, tags, strict=True)
        ]  # fmt: skip
        for p in publishers:
            p.wait()
        start = time.perf_counter()
        for p in procs:
            os.kill(p.pid, signal.SIGCONT)
        wait(
            lambda: all(int(s["omem"]) == 0 for c in clients for s in subscribers(c)),
            180,
            f"{name} to drain",
        )
        seconds = time.perf_counter() - start
        counted = None
        if out == subprocess.PIPE:
            time.sleep(1.0)
            os.set_blocking(procs[0].stdout.fileno(), False)
            lines = (procs[0].stdout.read() or b"").split()
            counted = int(lines[-1]) if lines else None
        return {"rate": per_node * len(ports) / seconds, "counted": counted}
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600_000, help="over all three shards")
    parser.add_argument("--channels", type=int, default=34, help="sharded channels per primary")
    parser.add_argument("--size", type=int, default=100, help="payload bytes")
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("redis-benchmark") or not shutil.which("redis-cli"):
        raise SystemExit("needs redis-benchmark and redis-cli (apt-get install redis-tools)")
    kind = args.server if shutil.which("redis-server") else "valkey"
    cluster = start_cluster(kind, primaries=3, replicas_each=0)
    clients = []
    try:
        primaries = cluster.primaries()
        for node in primaries:
            client = redis.Redis(port=node.port)
            client.config_set("client-output-buffer-limit", "pubsub 0 0 0")
            clients.append(client)
        tags = [tag_for(cluster, node) for node in primaries]
        ports = [node.port for node in primaries]
        names = {tag: [f"{tag.decode()}.{i:012d}" for i in range(args.channels)] for tag in tags}
        every = ",".join(n for tag in tags for n in names[tag])
        url = f"redis://127.0.0.1:{ports[0]}"
        consumers = {
            "redis-cli x3": [
                ["redis-cli", "-p", str(port), "ssubscribe", *names[tag]]
                for port, tag in zip(ports, tags, strict=True)
            ],
            "rps-tui engine": [[*CONSUMERS, "cluster-engine", url, every]],
            "rps-tui app": [[*CONSUMERS, "cluster-app", url, every]],
        }
        chosen = {n: c for n, c in consumers.items() if not args.only or n in args.only}
        chosen["redis-cli x3"] = consumers["redis-cli x3"]
        per_node = args.messages // 3
        rounds = [
            {
                n: measure(n, c, clients, tags, per_node, args.channels, args.size, ports)
                for n, c in chosen.items()
            }
            for _ in range(args.repeat)
        ]
    finally:
        for client in clients:
            client.close()
        cluster.stop()
    print(
        f"\n{per_node * 3:,} x {args.size}-byte messages, {args.channels} sharded channels on "
        f"each of 3 primaries, {kind}-server; median of {args.repeat} interleaved rounds"
    )
    print_table(rounds, list(chosen), "redis-cli x3")


if __name__ == "__main__":
    main()
