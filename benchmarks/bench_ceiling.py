"""The bench's own ceiling: `rps-tui bench --max` against redis-benchmark PUBLISH, same run.

Method: one server started here (redis or valkey, loopback), its pubsub output-buffer limit
lifted (`client-output-buffer-limit pubsub 0 0 0`: at --max the bench's subscriber can fall
behind its publishers on 2 cores, and would be dropped). Every line has
one subscriber reading the channel as fast as it can, so the server does the same work per
message: for redis-benchmark a `redis-cli subscribe` with stdout to /dev/null, for the bench
its own subscriber process. Then, in turns (--repeat rounds, medians):

- `redis-benchmark -c 1 -P 1 PUBLISH`: one connection, one command per round trip;
- `redis-benchmark -c 1 -P 100 PUBLISH`: one connection, 100-command pipelines (the bench's
  own batch size);
- `rps-tui bench --max` with 1 and with 2 publisher processes (one subscriber).

Payloads are --size bytes everywhere. The bench's number is its `published_per_s` (replies
counted), and its loss must be 0. With --cluster the same bench lines run on a 3-primary
cluster (PUBLISH, and --shard: SPUBLISH to each slot's owner) instead of redis-benchmark.
Both modes end with a fixed-rate line: 2 publishers x 2 subscribers at --rate, whose
latency percentiles are measured from the intended send times.

    python -m benchmarks.bench_ceiling [--server redis|valkey] [--size 64] [--seconds 5]
        [--repeat 3] [--cluster] [--rate 100000]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time

from rps_tui.core.embedded.server import start_server

CHANNEL = "bench-ceiling"


def redis_benchmark(port: int, pipeline: int, seconds: float, size: int) -> float:
    """msg/s of redis-benchmark PUBLISH, sized to run about `seconds`."""
    guess = 40_000 if pipeline == 1 else 800_000
    cmd = [
        "redis-benchmark", "-p", str(port), "-c", "1", "-P", str(pipeline),
        "-n", str(int(guess * seconds)), "-q", "PUBLISH", CHANNEL, "x" * size,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.findall(r"([\d.]+) requests per second", out)
    if not found:
        raise SystemExit(f"redis-benchmark said: {out!r}")
    return float(found[-1])


def bench(args: list[str]) -> dict:
    cmd = [sys.executable, "-m", "rps_tui", "bench", *args, "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"rps-tui bench failed: {result.stderr.strip()}")
    data = json.loads(result.stdout)
    if data["lost"] or data["duplicates"]:
        print(f"  (loss {data['lost']:,}, duplicates {data['duplicates']:,})", file=sys.stderr)
    return data


def fixed_rate(opts: argparse.Namespace, args: list[str], results: dict, where: str) -> None:
    """2 publishers x 2 subscribers at --rate: latency from the intended send times."""
    data = bench(
        [*args, "--rate", str(opts.rate), "--publishers", "2", "--subscribers", "2",
         "--channels", "6", "--duration", str(opts.seconds), "--size", str(opts.size)]
    )  # fmt: skip
    name = f"{where} --rate {opts.rate:,} 2x2"
    results.setdefault(f"{name}: delivered", []).append(data["delivered_per_s"])
    for key in ("p50", "p99", "p99.9"):
        results.setdefault(f"{name}: {key} latency ms", []).append(data["latency_us"][key] / 1000)


def single(opts: argparse.Namespace) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    lifted = ("--client-output-buffer-limit", "pubsub 0 0 0")
    with start_server(opts.server, extra_args=lifted) as server:
        sub = subprocess.Popen(
            ["redis-cli", "-p", str(server.port), "subscribe", CHANNEL],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            for _ in range(opts.repeat):
                for pipeline in (1, 100):
                    rate = redis_benchmark(server.port, pipeline, opts.seconds, opts.size)
                    results.setdefault(f"redis-benchmark -c 1 -P {pipeline}", []).append(rate)
                for pubs in (1, 2):
                    data = bench(
                        ["-p", str(server.port), "--max", "--publishers", str(pubs),
                         "--duration", str(opts.seconds), "--size", str(opts.size)]
                    )  # fmt: skip
                    name = f"rps-tui bench --max, {pubs} publisher{'s' if pubs > 1 else ''}"
                    results.setdefault(name, []).append(data["published_per_s"])
                    got = results.setdefault(f"{name}: its subscriber delivered", [])
                    got.append(data["delivered_per_s"])
                    lat = results.setdefault(f"{name}: p99 latency ms", [])
                    lat.append(data["latency_us"]["p99"] / 1000)
                fixed_rate(opts, ["-p", str(server.port)], results, "one server")
        finally:
            sub.terminate()
            sub.wait()
    return results


def cluster(opts: argparse.Namespace) -> dict[str, list[float]]:
    from tests.support.topology import start_cluster

    results: dict[str, list[float]] = {}
    with start_cluster(opts.server, primaries=3, replicas_each=0) as c:
        port = str(c.nodes[0].port)
        for node in c.nodes:
            with c.client(node) as client:
                client.config_set("client-output-buffer-limit", "pubsub 0 0 0")
        for _ in range(opts.repeat):
            for extra, name in (([], "PUBLISH"), (["--shard"], "SPUBLISH (--shard)")):
                for pubs in (1, 2):
                    data = bench(["-p", port, "--max", "--publishers", str(pubs), "--channels",
                                  "6", "--duration", str(opts.seconds), "--size",
                                  str(opts.size), *extra])  # fmt: skip
                    key = f"cluster {name}, {pubs} publisher{'s' if pubs > 1 else ''}"
                    results.setdefault(key, []).append(data["published_per_s"])
                    got = results.setdefault(f"{key}: delivered", [])
                    got.append(data["delivered_per_s"])
            fixed_rate(opts, ["-p", port, "--shard"], results, "cluster --shard")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("redis", "valkey"), default="redis")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument("--rate", type=int, default=100_000, help="for the fixed-rate line")
    opts = parser.parse_args()
    if not shutil.which("redis-benchmark") and not opts.cluster:
        raise SystemExit("redis-benchmark is not on PATH")
    results = cluster(opts) if opts.cluster else single(opts)
    print(f"| {opts.server}, {opts.size} B, {opts.repeat} rounds | median | range |")
    print("|---|---|---|")
    for name, values in results.items():
        unit = "" if "ms" in name else " msg/s"
        fmt = "{:,.2f}" if "ms" in name else "{:,.0f}"
        med = fmt.format(statistics.median(values))
        spread = " to ".join(fmt.format(v) for v in (min(values), max(values)))
        print(f"| {name} | {med}{unit} | {spread} |")


if __name__ == "__main__":
    main()
