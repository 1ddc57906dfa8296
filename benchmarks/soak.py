"""Soak benchmark: does the dashboard's memory level off, and does it count every message, over
a long run of steady traffic (issue 16)?

A loopback redis-server (valkey if redis-server is not on PATH) with default buffer limits, as
a user's server has them; `python -m rps_tui -u URL soak.*` from this checkout in a real
pseudo-terminal (160x45, tests/support/pty.py), the terminal drained continuously. Two phases
against the same app:

1. small: 50,000 msg/s of 200 bytes over 50,000 distinct channels (`soak.0`..`soak.49999`,
   round robin) for 30 minutes. More channels than the table keeps (20,000): the least
   recently seen are folded into "other channels", which must bound it.
2. large: 1 MB payloads at 20 msg/s to `soak.large.0` for 10 minutes: the history's byte cap
   (64 MiB per subscription) must bound it.

Publishers are subprocesses (redis-py pipelines paced by the clock, as footprint.py's; two
unless one alone calibrates at >= 1.5x the rate), each reporting what it sent and what the
server delivered (the sum of PUBLISH's replies: 0 once the subscriber was dropped). Every
`--every` seconds (10): VmRSS, CPU (utime+stime of all threads over the interval, % of one
core), terminal reads/s (Textual writes a frame at once, so about its frames/s), the count the
header shows and the server's PUBLISH calls so far. At the end: the app's count once it stops
moving against what was delivered and published, anything drawn that says "reconnect", "gap",
"lost" or "stalled", whether CLIENT LIST still shows the subscriber's first id, and `q` must
exit with 0 within 15 s.

Memory verdict, per phase after a warm-up (a quarter of the phase, at most 60 s): the largest
RSS of its second half at most 1.10 x that of its first half (a plateau), and no sample over
`--bound` MB (300). Exit status 1 if a count disagrees, a drop went unreported, the app did
not exit cleanly, or memory failed the verdict.

    python -m benchmarks.soak [--minutes 30] [--large-minutes 10] [--rate 50000]
                              [--channels 50000] [--every 10] [--bound 300]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from subprocess import PIPE
from types import FrameType

import redis

from benchmarks.footprint import KIND, cpu_seconds, rss_mb, server, subscriber
from tests.support.pty import PtyApp

COLS, ROWS = 160, 45
SIZE, LARGE_SIZE, LARGE_RATE = 200, 1_000_000, 20.0
GROWTH = 1.10  # second half's max RSS over the first half's, after warm-up
WARM_UP = 60.0  # seconds, or a quarter of a phase if that is less
TROUBLE = re.compile(r"reconnect|gap|lost|stalled", re.IGNORECASE)
# the status bar: "rtt 0.3 ms  1,234 msgs" (or "rtt —", or "rtt 0.3 ms (9 s ago)")
COUNTED = re.compile(r"rtt (?:—|[\d,.]+ ms(?: \(\d+ s ago\))?)  ([\d,]+) msgs?")


@dataclass
class Sample:
    phase: str
    elapsed: float  # since the phase started
    rss: float  # MB
    cpu: float  # % of one core over the interval
    reads: float  # terminal reads/s over the interval (about frames/s)
    counted: int | None  # what the header showed last in the interval
    published: int  # PUBLISH calls the server has seen since the start


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)  # phase -> achieved msg/s
    published: int = 0  # what the publishers sent
    delivered: int = 0  # the sum of PUBLISH replies: what the server handed the app
    counted: int | None = None  # the app's final count
    trouble: list[str] = field(default_factory=list)  # bad words the app drew
    same_client: bool = False
    exit_code: int | None = None
    warm_up: dict[str, float] = field(default_factory=dict)  # phase -> seconds ignored

    @property
    def counts_agree(self) -> bool:
        return self.counted == self.delivered

    @property
    def drop_reported(self) -> bool:
        """A drop (delivered < published) is acceptable only if the app said so."""
        return self.delivered == self.published or bool(self.trouble)

    @property
    def correct(self) -> bool:
        return self.counts_agree and self.drop_reported and self.exit_code == 0

    def plateau(self, phase: str) -> tuple[float, float] | None:
        """(max RSS of the first half, of the second half) after the warm-up, or None."""
        after = [
            s.rss for s in self.samples if s.phase == phase and s.elapsed >= self.warm_up[phase]
        ]
        if len(after) < 2:
            return None
        half = len(after) // 2
        return max(after[:half]), max(after[half:])

    def memory_ok(self, bound: float) -> bool:
        halves = [self.plateau(p) for p in self.rates]
        flat = all(h is None or h[1] <= GROWTH * h[0] for h in halves)
        return flat and max((s.rss for s in self.samples), default=0.0) < bound


def publishers(url: str, args: argparse.Namespace, procs: int) -> list[subprocess.Popen]:
    """`procs` publisher processes sharing `args`' rate and channels between them."""
    cmd = [sys.executable, "-m", "benchmarks.soak", "--rate", str(args.rate / procs)]
    cmd += ["--size", str(args.size), "--channels", str(args.channels)]
    return [
        subprocess.Popen(
            [*cmd, "--publish", url, args.prefix, str(i), str(procs), str(args.seconds)],
            stdout=PIPE,
            text=True,
        )
        for i in range(procs)
    ]


def collect(procs: list[subprocess.Popen], timeout: float) -> tuple[int, int, float]:
    """(sent, delivered, seconds taken) of publisher processes; kills what is left."""
    try:
        results = [proc.communicate(timeout=timeout)[0].split() for proc in procs]
        return (
            sum(int(r[0]) for r in results),
            sum(int(r[1]) for r in results),
            max(float(r[2]) for r in results),
        )
    finally:
        stop(procs)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def publish(
    url: str, prefix: str, first: int, step: int, seconds: float, opts: argparse.Namespace
) -> None:
    """Publisher subprocess: channels `prefix{first}`, `prefix{first + step}`... round robin,
    in pipelines of up to 1,000 (20 a second at lower rates), paced by the clock (rate 0:
    unpaced). Prints sent, delivered, seconds."""
    client = redis.Redis.from_url(url, socket_timeout=30)
    names = [f"{prefix}{i}" for i in range(first, opts.channels, step)]
    payload = b"x" * opts.size  # no letters of the words the app must not draw
    batch = max(1, min(1000, int(opts.rate / 20))) if opts.rate else 1000
    sent = delivered = at = 0
    start = time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        if opts.rate:
            time.sleep(max(0.0, start + sent / opts.rate - now))
        pipe = client.pipeline(transaction=False)
        for _ in range(batch):
            pipe.publish(names[at], payload)
            at = (at + 1) % len(names)
        delivered += sum(pipe.execute())
        sent += batch
    print(sent, delivered, time.monotonic() - start)


def publish_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_publish", {}).get("calls", 0))


class Screen:
    """What the app drew, read and forgotten every sample so the harness stays small."""

    def __init__(self, app: PtyApp) -> None:
        self.app, self.tail, self.counted = app, "", None
        self.trouble: set[str] = set()

    def read(self) -> int | None:
        text = self.tail + self.app.forget()  # a word cut between two reads is still seen
        self.trouble |= {m.lower() for m in TROUBLE.findall(text)}
        found = COUNTED.findall(text)
        if found:
            self.counted = int(found[-1].replace(",", ""))
        self.tail = text[-200:]
        return self.counted


def phase(name: str, minutes: float, args: argparse.Namespace, ctx: dict, result: Result) -> None:
    """Run one phase's publishers for `minutes`, sampling the app every `args.every` s."""
    app, client, screen = ctx["app"], ctx["client"], ctx["screen"]
    seconds = 60 * minutes
    result.warm_up[name] = min(WARM_UP, seconds / 4)
    pubs = publishers(ctx["url"], argparse.Namespace(**{**vars(args), "seconds": seconds}),
                      ctx["procs"] if name == "small" else 1)  # fmt: skip
    try:
        start = last = time.monotonic()
        cpu, reads = cpu_seconds(app.pid), app.reads
        for tick in range(1, max(1, round(seconds / args.every)) + 1):
            time.sleep(max(0.0, start + tick * args.every - time.monotonic()))
            now, cpu_now, reads_now = time.monotonic(), cpu_seconds(app.pid), app.reads
            sample = Sample(
                name,
                now - start,
                rss_mb(app.pid),
                100 * (cpu_now - cpu) / (now - last),
                (reads_now - reads) / (now - last),
                screen.read(),
                publish_calls(client) - ctx["base"],
            )
            last, cpu, reads = now, cpu_now, reads_now
            result.samples.append(sample)
            print(row(sample), flush=True)
    except BaseException:  # Ctrl-C, SIGTERM, a dead app: stop them now, not when they finish
        stop(pubs)
        raise
    sent, delivered, took = collect(pubs, 120)
    result.published += sent
    result.delivered += delivered
    result.rates[name] = sent / took


def row(s: Sample) -> str:
    counted = "?" if s.counted is None else f"{s.counted:,}"
    return (
        f"{s.phase:6} {s.elapsed:8.0f} {s.rss:8.1f} {s.cpu:6.1f} {s.reads:8.1f}"
        f" {counted:>13} {s.published:>13,}"
    )


HEADER = (
    f"{'phase':6} {'t (s)':>8} {'RSS MB':>8} {'CPU %':>6} {'frames/s':>8}"
    f" {'app msgs':>13} {'published':>13}"
)


def run(args: argparse.Namespace) -> Result:
    """Both phases against one app; every process started here is stopped on every exit."""
    result = Result()
    with server() as (srv, client):
        calibrate = argparse.Namespace(**{**vars(args), "rate": 0, "prefix": "calibrate."})
        calibrate.seconds = 2.0
        sent, _, took = collect(publishers(srv.url, calibrate, 1), 60)
        procs = 1 if sent / took >= 1.5 * args.rate else 2
        print(f"one publisher alone: {sent / took:,.0f} msg/s; using {procs}", flush=True)
        app = PtyApp("-u", srv.url, "soak.*", cols=COLS, rows=ROWS)
        try:
            app.wait_for("connected", timeout=30)
            time.sleep(1.0)
            first = subscriber(client).get("id")
            ctx = {"app": app, "client": client, "url": srv.url, "procs": procs,
                   "base": publish_calls(client), "screen": Screen(app)}  # fmt: skip
            print(HEADER, flush=True)
            small = argparse.Namespace(**{**vars(args), "prefix": "soak."})
            phase("small", args.minutes, small, ctx, result)
            if args.large_minutes > 0:
                large = argparse.Namespace(**{**vars(args), "prefix": "soak.large.",
                                              "size": args.large_size, "rate": args.large_rate,
                                              "channels": 1})  # fmt: skip
                phase("large", args.large_minutes, large, ctx, result)
            result.counted = settle(ctx["screen"], result.delivered)
            result.trouble = sorted(ctx["screen"].trouble)
            result.same_client = first is not None and subscriber(client).get("id") == first
            app.send(b"q")
            try:
                result.exit_code = app.wait_exit(15)
            except TimeoutError:
                result.exit_code = None
        finally:
            app.close()
    return result


def settle(screen: Screen, expected: int, timeout: float = 60.0) -> int | None:
    """The app's count once it equals `expected` or has not moved for 5 s (the header is
    redrawn once a second)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        counted = screen.read()
        if counted == expected:
            return counted
        if counted != last:
            last, since = counted, time.monotonic()
        elif time.monotonic() - since >= 5.0:
            break
    return screen.counted


def summary(result: Result, bound: float) -> list[str]:
    lines = []
    for name, rate in result.rates.items():
        lines.append(f"{name} phase: publishers reached {rate:,.0f} msg/s")
        halves = result.plateau(name)
        if halves:
            first, second = halves
            verdict = "plateau" if second <= GROWTH * first else "GROWTH"
            lines.append(
                f"  RSS after {result.warm_up[name]:.0f} s warm-up: max {first:.1f} MB in the"
                f" first half, {second:.1f} MB in the second ({second / first - 1:+.1%}): {verdict}"
            )
    peak = max((s.rss for s in result.samples), default=0.0)
    lines.append(
        f"peak RSS {peak:.1f} MB (bound {bound:.0f} MB): {'ok' if peak < bound else 'OVER'}"
    )
    counted = "?" if result.counted is None else f"{result.counted:,}"
    lines.append(
        f"published {result.published:,}, delivered by the server {result.delivered:,},"
        f" counted by the app {counted}: {'agree' if result.counts_agree else 'DISAGREE'}"
    )
    lines.append(f"drew: {', '.join(result.trouble) or 'nothing bad'};"
                 f" same subscriber connection: {result.same_client}")  # fmt: skip
    lines.append(f"q: exit code {result.exit_code}")
    ok = result.correct and result.memory_ok(bound)
    lines.append("PASS" if ok else "FAIL")
    return lines


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30.0, help="small-message phase (30)")
    p.add_argument("--large-minutes", type=float, default=10.0, help="1 MB phase (10; 0: none)")
    p.add_argument("--rate", type=float, default=50_000.0, help="small msg/s (50,000)")
    p.add_argument("--channels", type=int, default=50_000, help="distinct channels (50,000)")
    p.add_argument("--size", type=int, default=SIZE, help="small payload bytes (200)")
    p.add_argument("--large-size", type=int, default=LARGE_SIZE, help="large payload (1 MB)")
    p.add_argument("--large-rate", type=float, default=LARGE_RATE, help="large msg/s (20)")
    p.add_argument("--every", type=float, default=10.0, help="seconds between samples (10)")
    p.add_argument("--bound", type=float, default=300.0, help="RSS bound in MB (300)")
    p.add_argument("--publish", nargs=5, metavar=("URL", "PREFIX", "FIRST", "STEP", "SECONDS"),
                   help=argparse.SUPPRESS)  # fmt: skip
    return p


def main() -> None:
    args = parser().parse_args()
    if args.publish:
        url, prefix, first, step, seconds = args.publish
        return publish(url, prefix, int(first), int(step), float(seconds), args)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # so every `finally` stops what it started

    signal.signal(signal.SIGTERM, terminate)
    print(f"rps-tui soak on {KIND}-server, {os.cpu_count()} CPUs: {args.minutes:g} min at"
          f" {args.rate:,.0f} msg/s x {args.size} B over {args.channels:,} channels, then"
          f" {args.large_minutes:g} min at {args.large_rate:g} msg/s x {args.large_size:,} B",
          flush=True)  # fmt: skip
    try:
        result = run(args)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: one line, not a traceback
        raise SystemExit("interrupted; server, publishers and app were stopped") from None
    print()
    for line in summary(result, args.bound):
        print(line)
    sys.exit(0 if result.correct and result.memory_ok(args.bound) else 1)


if __name__ == "__main__":
    main()
