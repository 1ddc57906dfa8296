"""Footprint benchmark: the running dashboard, measured from outside, as a user's terminal sees it.

Each part starts its own loopback redis-server (valkey if redis-server is not on PATH) and runs
`python -m rps_tui -u URL SUBSCRIPTION...` from this checkout in a real pseudo-terminal (160x45,
TERM=xterm-256color); a thread drains it and keeps the output as text, escapes stripped, with
the arrival time of every chunk (tests/support/pty.py). The app is measured through /proc, the
server's CLIENT LIST and what it draws:

1. start-up: spawn until "connected" is drawn; median of 5 runs.
2. idle CPU: `idle.*`, no traffic; utime+stime of the process (all threads, /proc/<pid>/stat)
   over 30 s after a 3 s settle, in % of one core (the clock ticks at 100 Hz: 10 s gave
   0.1% steps); `idle-tree` / `idle-plot`: the same with the channel tree shown (`t`) / a
   value plot open (`g`, `v`, `number`). `idle-wide`: with 20,000 channels in the table
   (one message to each of `wide.0`..`wide.19999`), measured after their sparklines have
   gone flat (65 s). `idle-three`: three idle servers at once (`-u A -u B -u C`), a tab each.
3. latency: channel `lat`; a redis-py client publishes unique tokens (`tok-00042`) at 10/s for
   10 s; latency = first arrival of the token in the pty output minus its publish time.
4. memory: `mem.*`; `redis-benchmark -P 100 -r 10000` publishes 5M (--quick: 1M) 100-byte
   messages over 10,000 channels, pubsub output-buffer limit lifted. VmRSS every 0.5 s until
   the benchmark is done and the app has drained its backlog (omem 0), then 5 s more: peak, at
   the middle of the run, at the end ("flat": end <= 1.1 x middle).
5. large payloads: 1 MB messages at 20/s to one channel subscription for 120 s (--quick:
   30 s), then 100 KB messages at 20/s to each of 10 channel subscriptions; VmRSS every
   second: peak, middle, end ("flat": end <= 1.1 x middle). The history is bounded by bytes
   (64 MiB per subscription, 256 MiB in all), so RSS must level off, well under 500 MB.
6. flood: default output-buffer limits; publisher subprocesses (redis-py pipelines of 1,000
   PUBLISH, paced by the clock; two unless one alone calibrates at >= 1.5x the rate) send
   100k msg/s of 100 bytes for 60 s (--quick: 15 s) to `flood.0`..`flood.99`; the app watches
   `flood.*` and `other`. Every 2 s `]` is pressed: key latency = keypress until the new pane
   title ("channel other" / "pattern flood.*") reaches the terminal. Each second CLIENT LIST
   must show `rps-tui-sub` with its first id (so no reconnect in between), and the app must
   draw no "reconnect", "gap", "lost" or "stalled" from the flood's start on.

    python -m benchmarks.footprint [--quick] [--only PART ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from subprocess import DEVNULL, PIPE

import redis

from rps_tui.core.embedded.server import start_server
from tests.support.pty import PtyApp

COLS, ROWS = 160, 45  # the terminal the app runs in
PAYLOAD = "x" * 100
FLOOD_RATE = 100_000
IDLE_SECONDS = 30.0
TICK = os.sysconf("SC_CLK_TCK")
KIND = "redis" if shutil.which("redis-server") else "valkey"
TROUBLE = re.compile(r"reconnect|gap|lost|stalled", re.IGNORECASE)
COUNTED = re.compile(r" ms  ([\d,]+) msgs")  # the status bar: "rtt 0.3 ms  1,234 msgs"


@contextmanager
def server(lifted: bool = False):
    lift = ["--client-output-buffer-limit", "pubsub 0 0 0"] if lifted else []
    srv = start_server(KIND, extra_args=lift)
    client = redis.Redis(port=srv.port, socket_timeout=10)
    try:
        yield srv, client
    finally:
        client.close()
        srv.stop()


@contextmanager
def dashboard(*urls: str, subs: tuple[str, ...]):
    """The app on these servers (several: a tab each), subscribed to `subs`."""
    app = PtyApp(*[a for url in urls for a in ("-u", url)], *subs, cols=COLS, rows=ROWS)
    try:
        app.wait_for("connected", timeout=30)
        yield app
    finally:
        app.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime of all threads


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024


def subscriber(client: redis.Redis) -> dict:
    return next((c for c in client.client_list() if c.get("name") == "rps-tui-sub"), {})


def counted(app: PtyApp) -> str:
    found = COUNTED.findall(app.text()[-20000:])
    return found[-1] if found else "?"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values) or [float("inf")]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the parts: each returns rows (metric, value, target, passed or None for information) ----
def startup(runs: int = 5) -> list[tuple]:
    times = []
    with server() as (srv, _):
        for _ in range(runs):
            app = PtyApp("-u", srv.url, "start.*", cols=COLS, rows=ROWS)
            try:
                times.append(app.wait_for("connected", timeout=30)[1] - app.started)
            finally:
                app.close()
    ms = 1000 * statistics.median(times)
    return [("start-up to 'connected', median of 5", f"{ms:.0f} ms", "< 1000 ms", ms < 1000)]


def idle_cpu(keys: bytes = b"", what: str = "idle CPU", servers: int = 1) -> list[tuple]:
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(server())[0].url for _ in range(servers)]
        app = stack.enter_context(dashboard(*urls, subs=("idle.*",)))
        for key in keys:  # one at a time, as a person types
            app.send(bytes([key]))
            time.sleep(0.2)
        time.sleep(3.0)
        cpu, wall, drawn = cpu_seconds(app.pid), time.monotonic(), app.length
        time.sleep(IDLE_SECONDS)
        wall = time.monotonic() - wall
        cpu = 100 * (cpu_seconds(app.pid) - cpu) / wall
        drawn = (app.length - drawn) / wall
    return [
        (f"{what}, {IDLE_SECONDS:.0f} s", f"{cpu:.2f} % of a core", "< 1 %", cpu < 1.0),
        ("  idle output to the terminal", f"{drawn:,.0f} chars/s", "", None),
    ]


def latency(rate: float = 10.0, seconds: float = 10.0) -> list[tuple]:
    with server() as (srv, client), dashboard(srv.url, subs=("lat",)) as app:
        time.sleep(1.0)
        sent, start = [], time.monotonic()
        for i in range(int(rate * seconds)):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent.append((f"tok-{i:05d}", time.monotonic()))
            client.publish("lat", sent[-1][0])
        time.sleep(1.0)
        hits = [(app.find(token), at) for token, at in sent]
    ms = [1000 * (hit[1] - at) for hit, at in hits if hit]
    lost = len(sent) - len(ms)
    value = f"p50 {pct(ms, 0.5):.0f} / p95 {pct(ms, 0.95):.0f} / max {pct(ms, 1):.0f} ms"
    value += f", {lost} never drawn" if lost else ""
    return [("publish -> visible, 10 msg/s", value, "p50 < 60 ms", pct(ms, 0.5) < 60)]


def idle_wide(channels: int = 20_000) -> list[tuple]:
    with server() as (srv, client), dashboard(srv.url, subs=("wide.*",)) as app:
        pipe = client.pipeline(transaction=False)
        for i in range(channels):
            pipe.publish(f"wide.{i}", "1")
        pipe.execute()
        time.sleep(65.0)  # every sparkline is flat after 60 s
        cpu, wall = cpu_seconds(app.pid), time.monotonic()
        time.sleep(10.0)
        cpu = 100 * (cpu_seconds(app.pid) - cpu) / (time.monotonic() - wall)
    label = f"idle CPU, {channels:,} channels in the table"
    return [(label, f"{cpu:.2f} % of a core", "< 1 %", cpu < 1.0)]


def large(seconds: float, size: int, subs: int, rate: float = 20.0) -> list[tuple]:
    """`subs` channel subscriptions, each getting `rate` messages of `size` bytes a second."""
    names = [f"big.{i}" for i in range(subs)]
    channels = tuple(f"--channel={n}" for n in names)
    with server() as (srv, client), dashboard(srv.url, subs=channels) as app:
        time.sleep(1.0)
        base, samples, payload = rss_mb(app.pid), [], b"x" * size
        start = next_sample = time.monotonic()
        sent = 0
        while (now := time.monotonic()) - start < seconds:
            time.sleep(max(0.0, start + sent / rate - now))
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.publish(name, payload)
            pipe.execute()
            sent += 1
            if now >= next_sample:
                samples.append(rss_mb(app.pid))
                next_sample += 1.0
        middle, peak, end = samples[len(samples) // 2], max(samples), samples[-1]
        time.sleep(2.0)  # the header's count is redrawn once a second
        total = counted(app)
    plural = "s" if subs > 1 else ""
    label = f"RSS, {size // 1000:,} KB x {rate:g}/s x {subs} sub{plural}, {seconds:.0f} s"
    value = f"peak {peak:.0f} MB (idle {base:.0f}, middle {middle:.0f}, end {end:.0f})"
    ok = peak < 500 and end <= 1.1 * middle
    return [
        (label, value, "< 500 MB, flat", ok),
        ("  published, counted", f"{sent * subs:,}, app counted {total}", "", None),
    ]


def memory(messages: int) -> list[tuple]:
    with server(lifted=True) as (srv, client), dashboard(srv.url, subs=("mem.*",)) as app:
        time.sleep(1.0)
        base, samples, start = rss_mb(app.pid), [], time.monotonic()
        cmd = f"redis-benchmark -p {srv.port} -P 100 -r 10000 -n {messages} -q PUBLISH"
        bench = subprocess.Popen([*cmd.split(), "mem.__rand_int__", PAYLOAD], stdout=DEVNULL)
        try:
            while time.monotonic() - start < 300 and (
                bench.poll() is None or int(subscriber(client).get("omem", 0))
            ):
                samples.append(rss_mb(app.pid))
                time.sleep(0.5)
        finally:
            if bench.poll() is None:
                bench.kill()
            bench.wait()
        took, middle = time.monotonic() - start, samples[len(samples) // 2]
        for _ in range(10):
            samples.append(rss_mb(app.pid))
            time.sleep(0.5)
        peak, end, total = max(samples), samples[-1], counted(app)
    value = f"peak {peak:.0f} MB (idle {base:.0f}, middle {middle:.0f}, end {end:.0f})"
    ok = peak < 250 and end <= 1.1 * middle
    return [
        (f"RSS, {messages:,} msgs over 10k channels", value, "< 250 MB, flat", ok),
        ("  published and drained in", f"{took:.1f} s, app counted {total}", "", None),
    ]


def publishers(url: str, rate: float, seconds: float, procs: int) -> list[subprocess.Popen]:
    cmd = [sys.executable, "-m", "benchmarks.footprint", "--publish", url]
    cmd += [str(rate / procs), str(seconds)]
    return [subprocess.Popen(cmd, stdout=PIPE, text=True) for _ in range(procs)]


def collect(procs: list[subprocess.Popen], timeout: float) -> tuple[int, float]:
    """(messages sent, seconds taken) of publisher processes; kills what is left."""
    try:
        results = [proc.communicate(timeout=timeout)[0].split() for proc in procs]
        return sum(int(r[0]) for r in results), max(float(r[1]) for r in results)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def flood(seconds: float) -> list[tuple]:
    with server() as (srv, client):
        sent, took = collect(publishers(srv.url, 0, 2.0, 1), 30)
        alone = sent / took
        procs = 1 if alone >= 1.5 * FLOOD_RATE else 2
        with dashboard(srv.url, subs=("flood.*", "other")) as app:
            app.wait_for("pattern flood.*")
            time.sleep(1.0)
            first, ids, omem, presses = subscriber(client).get("id"), [], 0, []
            mark, cpu, start = app.length, cpu_seconds(app.pid), time.monotonic()
            pubs = publishers(srv.url, FLOOD_RATE, seconds, procs)
            try:
                for tick in range(int(seconds)):
                    time.sleep(max(0.0, start + tick + 1 - time.monotonic()))
                    info = subscriber(client)
                    ids.append(info.get("id"))
                    omem = max(omem, int(info.get("omem", 0)))
                    if tick % 2:
                        title = ("channel other", "pattern flood.*")[len(presses) % 2]
                        offset = app.length
                        presses.append((title, offset, app.send(b"]")))
            finally:
                sent, took = collect(pubs, seconds + 60)
            cpu = 100 * (cpu_seconds(app.pid) - cpu) / (time.monotonic() - start)
            time.sleep(3.0)
            hits = [(app.find(title, offset), at) for title, offset, at in presses]
            trouble = sorted({m.lower() for m in TROUBLE.findall(app.text()[mark:])})
            total = counted(app)
    ms = [1000 * (hit[1] - at) for hit, at in hits if hit]
    missed = len(presses) - len(ms)
    kept = first is not None and all(i == first for i in ids)
    value = f"p50 {pct(ms, 0.5):.0f} / p99 {pct(ms, 0.99):.0f} ms"
    return [
        ("flood: publishers", f"{sent / took:,.0f} msg/s, {procs} process(es)", "~100,000", None),
        ("  one publisher alone, unpaced", f"{alone:,.0f} msg/s", "", None),
        (
            f"flood: key ']' -> new title, {len(presses)} presses",
            value + (f", {missed} never drawn" if missed else ""),
            "p99 < 100 ms",
            pct(ms, 0.99) < 100 and not missed,
        ),
        (
            "flood: never disconnected",
            f"same client id: {kept}; drew: {', '.join(trouble) or 'nothing bad'}",
            "yes",
            kept and not trouble,
        ),
        ("  app CPU during the flood", f"{cpu:.0f} % of a core", "", None),
        ("  max omem of rps-tui-sub", f"{omem / 2**20:.1f} MB", "< 32 MB (limit)", None),
        ("  messages counted by the app", f"{total} of {sent:,} sent", "", None),
    ]


def publish(url: str, rate: float, seconds: float) -> None:
    """Publisher subprocess: pipelines of 1,000 PUBLISH, paced by the clock (rate 0: unpaced)."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    channels = [f"flood.{i}" for i in range(100)]
    sent, start = 0, time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        if rate:
            time.sleep(max(0.0, start + sent / rate - now))
        pipe = client.pipeline(transaction=False)
        for i in range(1000):
            pipe.publish(channels[i % 100], PAYLOAD)
        pipe.execute()
        sent += 1000
    print(sent, time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M messages, a 15 s flood")
    parser.add_argument("--only", nargs="+", metavar="PART", help="run only these parts")
    parser.add_argument("--publish", nargs=3, metavar=("URL", "RATE", "SECONDS"), help="internal")
    args = parser.parse_args()
    if args.publish:
        return publish(args.publish[0], float(args.publish[1]), float(args.publish[2]))
    if not shutil.which("redis-benchmark"):
        raise SystemExit("needs redis-benchmark (apt-get install redis-tools)")
    print(f"rps-tui footprint on {KIND}-server, {os.cpu_count()} CPUs", flush=True)
    rows = []
    seconds = 30.0 if args.quick else 120.0
    parts = {
        "startup": startup,
        "idle": idle_cpu,
        "idle-tree": lambda: idle_cpu(b"t", "idle CPU, channel tree shown"),
        "idle-plot": lambda: idle_cpu(b"gvnumber\r", "idle CPU, value plot open"),
        "idle-wide": idle_wide,
        "idle-three": lambda: idle_cpu(b"", "idle CPU, three servers in tabs", servers=3),
        "latency": latency,
        "memory": lambda: memory(1_000_000 if args.quick else 5_000_000),
        "large": lambda: large(seconds, 1_000_000, 1) + large(seconds, 100_000, 10),
        "flood": lambda: flood(15.0 if args.quick else 60.0),
    }
    unknown = set(args.only or ()) - set(parts)
    if unknown:
        raise SystemExit(f"unknown part {sorted(unknown)[0]!r}: one of {', '.join(parts)}")
    for name, part in parts.items():
        if args.only and name not in args.only:
            continue
        new = part()
        rows += new
        for metric, value, *_ in new:
            print(f"  {metric}: {value}", flush=True)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print()
    for metric, value, target, ok in [("metric", "value", "target", "result"), *rows]:
        verdict = ok if isinstance(ok, str) else {None: "", True: "pass", False: "FAIL"}[ok]
        print(f"{metric:{widths[0]}}  {value:{widths[1]}}  {target:{widths[2]}}  {verdict}")


if __name__ == "__main__":
    main()
