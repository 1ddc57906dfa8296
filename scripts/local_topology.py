"""Start a throwaway local cluster (3 primaries + 3 replicas) or Sentinel set-up to try
rps-tui against, and keep it until Ctrl-C.

    python -m scripts.local_topology cluster [--kind redis|valkey]
    python -m scripts.local_topology sentinel [--kind redis|valkey]

Built from server binaries alone by the test harness (tests/support/topology.py); every process
stops with this script.
"""

from __future__ import annotations

import argparse
import signal
import sys

from tests.support.topology import start_cluster, start_sentinel_setup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("cluster", "sentinel"))
    parser.add_argument("--kind", choices=("redis", "valkey"), default="valkey")
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # for sigwait
    if args.what == "cluster":
        topology = start_cluster(args.kind)
        ports = " ".join(str(n.port) for n in topology.nodes)
        print(f"cluster nodes (first 3 primaries): {ports}")
        print(f"try: rps-tui -p {topology.nodes[0].port} --shard 'orders{{1}}' 'news.*'")
    else:
        topology = start_sentinel_setup(args.kind)
        sentinels = " ".join(f"--sentinel {h}:{p}" for h, p in topology.sentinels)
        print(f"primary {topology.primary.port}, replica {topology.replica.port}")
        print(f"try: rps-tui {sentinels} --master {topology.master_name} 'news.*'")
    sys.stdout.flush()
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
