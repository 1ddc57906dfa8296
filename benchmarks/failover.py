"""How long rps-tui is deaf after a primary dies: cluster and Sentinel, kill -9, real servers.

    python -m benchmarks.failover [--kind redis|valkey] [--rounds 3]

For each round: a fresh topology (tests/support/topology.py), an engine subscribed to a classic
channel and a sharded one (cluster) or a channel (Sentinel), seeded at the primary that is
then killed with kill -9. Printed per round, in seconds from the kill:
  promoted   the topology names a new primary (the cluster's or the sentinels' own work)
  restored   every subscription is active again on its new node
  gap        what the gap marker says (measured by the engine from its last bytes read)
The topologies use a 1 s node timeout / down-after, so most of "restored" is failover
detection by the servers; rps-tui's own part is restored - promoted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import replace

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import Gap
from rps_tui.core.store import Store
from rps_tui.core.subscriber.cluster import ClusterEngine
from rps_tui.core.subscriber.sentinel import SentinelEngine
from rps_tui.core.subscriptions import Kind, Status, Subscription
from tests.support.topology import start_cluster, start_sentinel_setup

LIMIT = 30.0


def _until(predicate, limit: float = LIMIT) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit:
            raise TimeoutError("not within the limit")
        time.sleep(0.01)
    return time.monotonic()


def _gap(store: Store, sub: Subscription) -> float:
    gaps = [e[1].seconds for e in store.subs[sub].buffer if isinstance(e[1], Gap)]
    return gaps[-1] if gaps else float("nan")


def _run(engine, subs: list[Subscription]) -> threading.Thread:
    for sub in subs:
        engine.subscribe(sub)
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    _until(lambda: all(s in engine.store.subs and engine.store.subs[s].status is Status.ACTIVE
                       for s in subs))  # fmt: skip
    return thread


def cluster_round(kind: str) -> tuple[float, float, float]:
    with start_cluster(kind) as cluster:
        victim = cluster.nodes[0]
        names = (f"bench{{{i}}}" for i in range(500))
        channel = next(n for n in names if cluster.owner_of(n.encode()).port == victim.port)
        classic, shard = Subscription(Kind.CHANNEL, "bench"), Subscription(Kind.SHARD, channel)
        settings = replace(ConnectionSettings(port=victim.port), cluster=True)
        engine = ClusterEngine(settings)
        thread = _run(engine, [classic, shard])
        time.sleep(0.5)
        killed = time.monotonic()
        victim.kill()
        promoted = _until(lambda: _owner_moved(cluster, channel, victim.port))
        restored = _until(
            lambda: (
                engine.home_of(shard) != f"127.0.0.1:{victim.port}"
                and all(engine.store.subs[s].status is Status.ACTIVE for s in (classic, shard))
            )
        )
        gap = _gap(engine.store, shard)
        engine.stop()
        thread.join(5)
        return promoted - killed, restored - killed, gap


def _owner_moved(cluster, channel: str, port: int) -> bool:
    try:
        return cluster.owner_of(channel.encode()).port != port
    except Exception:
        return False


def sentinel_round(kind: str) -> tuple[float, float, float]:
    with start_sentinel_setup(kind) as setup:
        setup.wait_discovered()
        sub = Subscription(Kind.CHANNEL, "bench")
        settings = replace(
            ConnectionSettings(), sentinels=tuple(setup.sentinels), master="mymaster"
        )
        engine = SentinelEngine(settings, Store())
        thread = _run(engine, [sub])
        time.sleep(0.5)
        killed = time.monotonic()
        setup.primary.kill()
        new = (setup.replica.host, setup.replica.port)
        promoted = _until(lambda: _named(setup) == new)
        restored = _until(
            lambda: engine.master == new and engine.store.subs[sub].status is Status.ACTIVE
        )
        gap = _gap(engine.store, sub)
        engine.stop()
        thread.join(5)
        return promoted - killed, restored - killed, gap


def _named(setup):
    try:
        return setup.master_addr(0)
    except Exception:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, one in (("cluster", cluster_round), ("sentinel", sentinel_round)):
        results = [one(args.kind) for _ in range(args.rounds)]
        for i, (promoted, restored, gap) in enumerate(results, 1):
            print(
                f"{name:8} {args.kind} round {i}: promoted {promoted:.2f} s, "
                f"restored {restored:.2f} s (rps-tui's part {restored - promoted:.2f} s), "
                f"gap marker {gap:.2f} s"
            )
        own = statistics.median(r[1] - r[0] for r in results)
        print(f"{name:8} {args.kind} median rps-tui part after promotion: {own:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
