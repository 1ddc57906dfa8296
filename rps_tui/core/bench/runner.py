"""The parent of a run: start the processes, let them go together, watch, stop, merge.

Publishers and subscribers are separate processes from the "spawn" context (no GIL shared,
no forked copy of the parent's threads: Rich's live display runs one, and a fork copies
whatever lock it holds). Spawn costs start-up, not speed: a 2-message run with 2 publishers
and 2 subscribers took 0.90-1.15 s with spawn and 0.56-0.58 s with fork, and publishing only
begins once every process is ready, so none of it is in the numbers.

Subscribers connect and confirm their subscriptions first; publishers connect, then all
start at one shared time. After the last publisher ends, the subscribers are given until
everything published has arrived, or until their counts stop moving for `QUIET_SECONDS`, to
drain. Every process is stopped on every way out (done, error, Ctrl-C): an Event, then
terminate, then kill; and each one dies with the parent if the parent is killed (see
wire.child_setup).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue as queue_module
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from rps_tui.core.bench.message import SUBSCRIBER_NAME
from rps_tui.core.bench.publisher import run_publisher
from rps_tui.core.bench.results import Outcome, SubscriberCounts
from rps_tui.core.bench.subscriber import new_histogram, run_subscriber, subscriber_name
from rps_tui.core.bench.watch import Watch
from rps_tui.core.bench.wire import Plan

READY_SECONDS = 30.0  # spawned processes import redis-py and connect: slow on a busy machine
QUIET_SECONDS = 1.0  # after publishing: counts still this long means nothing more will come
DRAIN_CAP_SECONDS = 60.0
STOP_SECONDS = 5.0
SAMPLE_SECONDS = 0.25  # CLIENT LIST: often, for the drop inference on Redis 7.0


class BenchError(Exception):
    """The run could not start (one line)."""


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed: float
    published: int
    delivered: int
    published_rate: float  # msg/s since the last report
    delivered_rate: float
    p99_us: int | None  # over the last report's interval
    draining: bool


class Run:
    """One bench run; `run()` returns the Outcome, complete or not."""

    def __init__(
        self,
        plan: Plan,
        on_progress: Callable[[Progress], None] | None = None,
        progress_seconds: float = 0.5,
    ) -> None:
        self.plan = plan
        self.on_progress = on_progress
        self.progress_seconds = progress_seconds
        self.ctx = mp.get_context("spawn")
        self.queue = self.ctx.Queue()
        self.stop = self.ctx.Event()
        self.start = self.ctx.Value("q", 0, lock=False)
        self.procs: dict[tuple[str, int], mp.process.BaseProcess] = {}
        self.outcome = Outcome(
            plan,
            published=[0] * plan.publishers,
            subscribers=[SubscriberCounts(i) for i in range(plan.subscribers)],
        )
        self.pub_done = [False] * plan.publishers
        self.recent = new_histogram()
        self._last = (0.0, 0, 0)  # (time, published, delivered) of the last report

    def run(self, server: str = "", address: str = "") -> Outcome:
        out = self.outcome
        out.server, out.address = server, address
        watch: Watch | None = None
        try:
            nodes = list(self.plan.owners or self.plan.nodes)
            watch = Watch(self.plan.settings, list(dict.fromkeys(nodes)), self._prefix)
            self._spawn("sub", self.plan.subscribers, run_subscriber)
            self._await_ready("sub")
            self._spawn("pub", self.plan.publishers, run_publisher)
            self._await_ready("pub")
            out.start_ns = time.monotonic_ns() + 20_000_000
            self.start.value = out.start_ns
            self._watch_run(watch)
        except KeyboardInterrupt:
            out.interrupted = True
        finally:
            self.stop.set()
            if out.start_ns and not out.publish_ns:  # stopped early: the time it had
                out.publish_ns = max(time.monotonic_ns() - out.start_ns, 0)
            with contextlib.suppress(KeyboardInterrupt):
                self._collect()
                self._shutdown()
            if watch is not None:
                out.max_omem = watch.max_omem if watch.omem else None
                out.limit_disconnections = watch.limit_disconnections()
                watch.close()
        return out

    @property
    def _prefix(self) -> str:
        return f"{SUBSCRIBER_NAME}-{self.plan.run}-"

    def _spawn(self, kind: str, count: int, target: Callable[..., None]) -> None:
        parent = os.getpid()
        for i in range(count):
            args = (
                (self.plan, i, self.queue, self.stop, parent)
                if kind == "sub"
                else (self.plan, i, self.queue, self.start, self.stop, parent)
            )
            proc = self.ctx.Process(target=target, args=args, name=f"rps-tui-bench-{kind}-{i}")
            proc.daemon = True
            # started with SIGINT ignored (inherited through exec: Python then installs no
            # handler), so a Ctrl-C while a child still imports is not a traceback there
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                proc.start()
            finally:
                signal.signal(signal.SIGINT, previous)
            self.procs[(kind, i)] = proc

    def _await_ready(self, kind: str) -> None:
        count = self.plan.subscribers if kind == "sub" else self.plan.publishers
        ready: set[int] = set()
        deadline = time.monotonic() + READY_SECONDS
        while len(ready) < count:
            msg = self._get(0.1)
            if msg is not None:
                if msg[0] == "ready" and msg[1] == kind:
                    ready.add(msg[2])
                    continue
                self._handle(msg)
                if self.outcome.error:
                    raise BenchError(self.outcome.error)
            for (k, i), proc in self.procs.items():
                if k == kind and i not in ready and proc.exitcode is not None:
                    raise BenchError(f"the bench's {_who(k, i)} ended while starting")
            if time.monotonic() > deadline:
                what = "subscribers" if kind == "sub" else "publishers"
                raise BenchError(f"the bench's {what} did not start in {READY_SECONDS:.0f} s")

    def _get(self, timeout: float) -> tuple | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue_module.Empty:
            return None

    def _handle(self, msg: tuple) -> None:
        kind, who, index = msg[0], msg[1], msg[2]
        out = self.outcome
        if who == "pub":
            if kind == "tick":
                out.published[index] = msg[3]
            elif kind == "done":
                out.published[index] = msg[3]
                out.receivers += msg[4]
                self.pub_done[index] = True
                if msg[5] and not out.error:
                    out.error = msg[5]
            return
        sub = out.subscribers[index]
        if kind == "tick":
            sub.delivered = msg[3]
            self._add(msg[4])
        elif kind == "done":
            _, _, _, sub.delivered, sub.distinct, sub.foreign, sub.last_ns, hist, error = msg
            sub.done = True
            self._add(hist)
            if error and not self.stop.is_set():
                sub.error = error

    def _add(self, encoded: bytes) -> None:
        if encoded:
            self.outcome.histogram.decode_and_add(encoded)
            self.recent.decode_and_add(encoded)

    def _watch_run(self, watch: Watch) -> None:
        out = self.outcome
        next_sample = next_report = time.monotonic()
        drain_since: float | None = None
        last_moved, last_delivered = time.monotonic(), -1
        while True:
            msg = self._get(0.05)
            if msg is not None:
                self._handle(msg)
            if out.error:
                return
            for sub in out.subscribers:
                if sub.error and sub.dropped is None:
                    reason = watch.dropped(subscriber_name(self.plan.run, sub.index))
                    if reason is None:
                        out.error = sub.error
                        return
                    sub.dropped = reason
            now = time.monotonic()
            if now >= next_sample:
                self._sample(watch)
                next_sample = now + SAMPLE_SECONDS
            if now >= next_report:
                self._report(drain_since is not None)
                next_report = now + self.progress_seconds
            if drain_since is None and all(self.pub_done):
                out.publish_ns = time.monotonic_ns() - out.start_ns
                drain_since = now
                self._sample(watch, at_end=True)
            if drain_since is not None:
                live = [s for s in out.subscribers if not s.dropped and not s.done]
                if all(s.delivered >= out.total_published for s in live):
                    return
                delivered = out.delivered
                if delivered != last_delivered:
                    last_moved, last_delivered = now, delivered
                if now - last_moved > QUIET_SECONDS or now - drain_since > DRAIN_CAP_SECONDS:
                    return

    def _sample(self, watch: Watch, at_end: bool = False) -> None:
        seen = watch.sample()
        if at_end:
            for sub in self.outcome.subscribers:
                sub.omem = seen.get(subscriber_name(self.plan.run, sub.index))

    def _report(self, draining: bool) -> None:
        if self.on_progress is None or not self.outcome.start_ns:
            return
        now = time.monotonic()
        elapsed = max((time.monotonic_ns() - self.outcome.start_ns) / 1e9, 0.0)
        published, delivered = self.outcome.total_published, self.outcome.delivered
        then, pub0, del0 = self._last
        span = now - then if then else elapsed
        p99 = self.recent.get_value_at_percentile(99) if self.recent.get_total_count() else None
        self.recent.reset()
        self._last = (now, published, delivered)
        self.on_progress(
            Progress(
                elapsed,
                published,
                delivered,
                (published - pub0) / span if span > 0 else 0.0,
                (delivered - del0) / span if span > 0 else 0.0,
                p99,
                draining,
            )
        )

    def _collect(self) -> None:
        """The final counts of every process still owing them."""
        out = self.outcome
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            owing = [
                (k, i)
                for (k, i), proc in self.procs.items()
                if not (self.pub_done[i] if k == "pub" else out.subscribers[i].done)
            ]
            if not owing:
                return
            if all(self.procs[w].exitcode is not None for w in owing) and self.queue.empty():
                break
            msg = self._get(0.05)
            if msg is not None:
                self._handle(msg)
        for k, i in self.procs:
            missing = not (self.pub_done[i] if k == "pub" else out.subscribers[i].done)
            if missing and not out.error and not out.interrupted:
                out.error = f"the bench's {_who(k, i)} ended without its counts"

    def _shutdown(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        for proc in self.procs.values():
            proc.join(max(deadline - time.monotonic(), 0.05))
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
                proc.join(1.0)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
        self.queue.close()
        self.queue.cancel_join_thread()


def _who(kind: str, index: int) -> str:
    return f"{'publisher' if kind == 'pub' else 'subscriber'} {index + 1}"
