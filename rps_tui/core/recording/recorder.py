"""The recorder: entries to a file, FIFO or device, safe as a subscriber's `sink`."""

from __future__ import annotations

import errno
import os
import select
import stat
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import accumulate
from operator import itemgetter

from rps_tui.core.entry import Entry, Gap, payload_of
from rps_tui.core.recording.format import dumps, server_head
from rps_tui.core.units import plural, were

FLUSH_SECONDS = 0.25  # the writer thread writes at least this often
MAX_PENDING = 100_000  # entries waiting to be written; past that, messages are dropped
MAX_PENDING_BYTES = 64 << 20  # ... or past this many payload bytes waiting
CHUNK = 4096  # entries encoded and written at a time (bounds the encoded text in memory)
WAIT_STEP = 0.1  # a target that takes no data is polled this often, so close() is seen
NEWLINE = ord("\n")
_PAYLOAD = itemgetter(-2)
CLOSE_SECONDS = 1.0  # how long close() waits for the target to take what is pending


class Recorder:
    """Writes entries to an NDJSON file, FIFO or device; pass it as `engine.sink`.

    Nobody waits on it. The sink runs on the engine's thread (several on a cluster) with
    the store lock held, so `__call__` only appends the entries to a bounded queue, at C
    speed, and never writes. A writer thread encodes and writes the queue at least every
    `FLUSH_SECONDS`, with no buffering of its own, so `tail -f` and jq see data soon. The
    target is opened non-blocking: a FIFO nobody reads fails at once, and a reader that
    stops reading makes the writer wait in short `poll` steps, never inside write().

    A target slower than the traffic fills the queue (`max_pending` entries or `max_bytes`
    of payload), and so does traffic faster than the writer can encode (a few hundred
    thousand messages a second: benchmarks/README.md). Further messages are then left out of
    the recording (never out of the dashboard) and counted in `dropped`; once the queue is
    back under half of both limits, a gap record saying how many were left out, for how
    long and why (the target, or the pace: `target_slow`) goes in before the next entries.
    A write error (disk full, the FIFO's reader gone) stops the recording, never the
    engine: `error` then holds one line for the UI, and later entries are ignored.
    `close(timeout)` returns within about `timeout` whatever the target does.

    Several servers can share one recording: `sink(label)` is the sink of one of them, and
    each of its lines then starts with `"server": label`. The labels are kept as runs beside
    the queue (one check per batch, nothing per message); the recorder's own gap record
    names no server, since a drop loses messages of them all.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        append: bool = False,
        max_pending: int = MAX_PENDING,
        max_bytes: int = MAX_PENDING_BYTES,
    ) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = _open_target(self.path, append)
        self.lines = 0  # lines written whole (messages and gaps)
        self.dropped = 0  # messages left out because the queue was full (cumulative)
        self.dropping_since: float | None = None  # time.time() the current drop began
        self.error: str | None = None
        self.target_waits = 0  # times the target took no data and the writer waited on it
        self.write_seconds = 0.0  # time spent in write() (a slow file blocks inside it)
        self._at_drop = (0, 0.0, 0.0)  # target_waits, write_seconds, monotonic() at the drop
        self.max_pending, self.max_bytes = max_pending, max_bytes
        self._resume = (max_pending // 2, max_bytes // 2)  # room again below both
        self._pending: list[Entry] = []
        self._runs: list[tuple[int, str | None]] = [(0, None)]  # (start in _pending, server)
        self._label: str | None = None  # the server of the last entries queued
        self._count = 0  # entries not written yet: queued, or in the writer's hands
        self._bytes = 0  # their payload bytes
        self._period_dropped = 0  # messages dropped since `dropping_since`
        self._own_gaps = 0  # gap records the recorder wrote of its own drops (not handed in)
        self._cut = False  # the last write ended inside a line
        self._timeout = CLOSE_SECONDS  # what close() was given
        self._deadline = float("inf")  # monotonic(): close() asked to be done by then
        self._lock = threading.Lock()  # guards the queue and the counters
        self._fd_lock = threading.Lock()  # held around each write and closing the fd
        self._closed = threading.Event()
        self._give_up = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        """Still recording: not closed, and no write error."""
        return not self._closed.is_set() and self.error is None

    @property
    def pending(self) -> int:
        """Lines not written yet; after `close()`, the lines that never were."""
        return self._count

    @property
    def target_slow(self) -> bool:
        """Since the current (or last) drop began, the target held the writer up: it took
        no data at times (a pipe), or writing took more than half the time (a slow file
        blocks inside write()). Else the pace of the messages was the cause."""
        waits, seconds, began = self._at_drop
        elapsed = time.monotonic() - began
        return self.target_waits > waits or self.write_seconds - seconds > elapsed / 2

    @property
    def accounted(self) -> int:
        """Every entry handed over: written, pending or dropped, read at one moment (the
        writer moves entries from pending to written under the lock; three separate reads
        can fall on both sides of a move). The gap records the recorder adds for its own
        drops are lines too, but nobody handed them over: they are not counted (a test
        once saw 3,001 for 3,000 messages when a drop period ended in time)."""
        with self._lock:
            return self.lines + self._count + self.dropped - self._own_gaps

    @property
    def finished(self) -> bool:
        """The writer thread is done: `lines`, `pending` and `error` are final."""
        return not self._thread.is_alive()

    # -- the engine's threads --------------------------------------------------------------
    def __call__(self, entries: list[Entry], label: str | None = None) -> None:
        if self.error is not None or self._closed.is_set():
            return
        try:
            size = sum(map(len, map(_PAYLOAD, entries)))
        except TypeError:  # a gap among them (a Gap has no length)
            self._add_mixed(entries, label)
            return
        self._add(entries, size, label)

    def sink(self, label: str) -> Callable[[list[Entry]], None]:
        """The sink of one of several servers: its lines name it (`"server": label`)."""
        return lambda entries: self(entries, label)

    def _queue(self, entries: list[Entry], label: str | None) -> None:
        """Append to the queue, noting where another server's entries begin (lock held)."""
        if label != self._label:
            self._runs.append((len(self._pending), label))
            self._label = label
        self._pending.extend(entries)

    def _add(self, entries: list[Entry], size: int, label: str | None) -> None:
        """Queue messages whose payloads total `size` bytes, or count them as dropped."""
        n = len(entries)
        with self._lock:
            if self._closed.is_set():
                return
            count, total = self._count + n, self._bytes + size
            if self.dropping_since is not None:
                if self._count and (count > self._resume[0] or total > self._resume[1]):
                    self.dropped += n
                    self._period_dropped += n
                    return
                self._end_drop()  # room again: the gap record, then these
                count += 1
            if count <= self.max_pending and total <= self.max_bytes:
                self._queue(entries, label)
                self._count, self._bytes = count, total
            else:
                self._overflow(entries, label)

    def _overflow(self, entries: list[Entry], label: str | None) -> None:
        """The queue is full: keep the part of `entries` that fits, drop the rest and start
        a drop period (lock held). A message bigger than `max_bytes` is kept when the queue
        is empty, so that one is recorded too."""
        keep = max(0, min(len(entries), self.max_pending - self._count))
        sizes = list(accumulate(map(_size, entries[:keep])))
        keep = bisect_right(sizes, self.max_bytes - self._bytes)
        kept = sizes[keep - 1] if keep else 0
        if not keep and not self._count and entries:
            keep, kept = 1, _size(entries[0])
        if keep:
            self._queue(entries[:keep], label)
            self._count += keep
            self._bytes += kept
        lost = len(entries) - keep
        if lost:
            self.dropped += lost
            self._period_dropped = lost
            self.dropping_since = time.time()
            self._at_drop = (self.target_waits, self.write_seconds, time.monotonic())

    def _end_drop(self) -> None:
        """Room again: queue the gap record of the drop period (lock held)."""
        now = time.time()
        assert self.dropping_since is not None
        why = (
            f"{self.path} did not take data fast enough"
            if self.target_slow
            else "messages arrived faster than it can write them"
        )
        reason = (
            f"the recording fell behind ({why}): {were(self._period_dropped, 'message')} "
            "not recorded"
        )
        self._queue([[None, Gap(reason, now - self.dropping_since), now]], None)
        self._count += 1
        self._own_gaps += 1
        self.dropping_since, self._period_dropped = None, 0

    def _add_mixed(self, entries: list[Entry], label: str | None) -> None:
        """The slow path, for a batch with gaps in it: gaps are always queued (they are
        the record of a loss, and rare), runs of messages as usual."""
        run: list[Entry] = []
        for entry in entries:
            if entry[0] is not None:
                run.append(entry)
                continue
            if run:
                self._add(run, sum(map(_size, run)), label)
                run = []
            with self._lock:
                if self._closed.is_set():
                    return
                self._queue([entry], label)
                self._count += 1
        if run:
            self._add(run, sum(map(_size, run)), label)

    # -- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                closing = self._closed.is_set()  # before taking: close() queues, then sets
                with self._lock:
                    batch, self._pending = self._pending, []
                    runs, self._runs = self._runs, [(0, self._label)]
                lines: list[str] = []  # one write for up to CHUNK lines, whatever their servers
                size = 0
                for chunk, encode in _chunks(batch, runs):
                    lines += map(encode, chunk)
                    size += _sizes(chunk)
                    if len(lines) >= CHUNK:
                        self._write_lines(lines, size)
                        lines, size = [], 0
                if lines:
                    self._write_lines(lines, size)
                if closing:
                    return
                if self._count < CHUNK:  # else a backlog: go on at once
                    self._wake.wait(FLUSH_SECONDS)
                    self._wake.clear()
        except _GaveUp:
            pass
        except Exception as exc:  # a write error, or an entry that is not one
            self._stop(_reason(exc))
        finally:
            self._close_fd()

    def _write_lines(self, lines: list[str], size: int) -> None:
        """Write encoded lines whose entries held `size` payload bytes."""
        self._write(("\n".join(lines) + "\n").encode("ascii"))
        with self._lock:
            self._bytes -= size

    def _write(self, data: bytes) -> None:
        """Write all of `data`, counting lines as they go out; raises _GaveUp when close()
        stopped waiting, OSError when the target fails."""
        view, offset, end = memoryview(data), 0, len(data)
        while offset < end:
            with self._fd_lock:
                fd = self._fd
                if fd is None or self._give_up.is_set():
                    raise _GaveUp
                if time.monotonic() > self._deadline:
                    self._stop(self._left_behind())
                    raise _GaveUp
                began = time.monotonic()
                try:
                    n = os.write(fd, view[offset:])
                except BlockingIOError:  # a pipe or a terminal whose reader is behind
                    n = 0
                self.write_seconds += time.monotonic() - began
            if not n:
                self.target_waits += 1
                poller = select.poll()
                poller.register(fd, select.POLLOUT)
                poller.poll(WAIT_STEP * 1000)  # a closed fd answers POLLNVAL at once
                continue
            done = data.count(b"\n", offset, offset + n)
            offset += n
            self._cut = data[offset - 1] != NEWLINE
            if done:
                with self._lock:
                    self.lines += done
                    self._count -= done

    def _left_behind(self) -> str:
        cut = "; the last line in it is cut short" if self._cut else ""
        return (
            f"{self.path} did not take the rest within {self._timeout:g} s: "
            f"{were(self._count, 'line')} not written{cut}"
        )

    def _stop(self, reason: str) -> None:
        if self.error is None:
            self.error = f"recording to {self.path} stopped: {reason}"

    def _close_fd(self) -> None:
        with self._fd_lock:
            self._close_fd_locked()

    def _close_fd_locked(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as exc:  # e.g. a deferred write error on a network file system
                self._stop(_reason(exc))

    # -- the owner (any thread) ------------------------------------------------------------
    def close(self, timeout: float = CLOSE_SECONDS, *, wait: bool = True) -> None:
        """Write what is pending and close the target, giving up after `timeout` seconds if
        it does not take the data (then `error` says how many lines were not written).

        Returns within about `timeout`; with `wait=False`, at once, while the writer
        finishes on its own within `timeout` (see `finished`). Idempotent.
        """
        with self._lock:
            if not self._closed.is_set():
                self._timeout = timeout
                self._deadline = time.monotonic() + timeout
                if self.dropping_since is not None:
                    self._end_drop()
                self._closed.set()
        self._wake.set()
        if not wait:
            return
        self._thread.join(max(0.0, self._deadline - time.monotonic()) + 2 * WAIT_STEP)
        if self._thread.is_alive():  # inside a write() the kernel does not return from
            self._give_up.set()
            self._stop(self._left_behind())
            if self._fd_lock.acquire(timeout=WAIT_STEP):
                try:  # the writer sees _give_up before any further write, and exits
                    self._close_fd_locked()
                finally:
                    self._fd_lock.release()
            # else the writer closes the fd itself when its write() returns

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def summary(recordings: Sequence[Recorder]) -> str:
    """What one session wrote to one file: 'recorded 2 lines to F', or, when the recording
    was stopped and started again (each time appending to F), 'recorded 3 lines to F in 2
    recordings (2 + 1)': the count is the file's, not the last recording's."""
    total = sum(r.lines for r in recordings)
    text = f"recorded {plural(total, 'line')} to {recordings[-1].path}"
    if len(recordings) > 1:
        parts = " + ".join(f"{r.lines:,}" for r in recordings)
        text += f" in {len(recordings)} recordings ({parts})"
    return text


class _GaveUp(Exception):
    """The writer stops: close() no longer waits for the target."""


def _chunks(
    batch: list[Entry], runs: list[tuple[int, str | None]]
) -> Iterator[tuple[list[Entry], Callable[[Entry], str]]]:
    """The batch in pieces of at most CHUNK entries (bounds the encoded text in memory),
    each with the encoder of its server's lines."""
    ends = [start for start, _ in runs[1:]] + [len(batch)]
    for (start, label), end in zip(runs, ends, strict=True):
        encode = dumps if label is None else partial(dumps, head=server_head(label))
        for at in range(start, end, CHUNK):
            yield batch[at : min(at + CHUNK, end)], encode


def _sizes(entries: list[Entry]) -> int:
    """Payload bytes of the entries: at C speed, unless a gap is among them."""
    try:
        return sum(map(len, map(_PAYLOAD, entries)))
    except TypeError:  # a gap (a Gap has no length)
        return sum(map(_size, entries))


def _size(entry: Entry) -> int:
    """Payload bytes of an entry, 0 for a gap (the slow path)."""
    payload = payload_of(entry)
    return len(payload) if isinstance(payload, bytes | bytearray | str) else 0


def _open_target(path: str, append: bool) -> int:
    """A non-blocking descriptor for writing to `path`: a FIFO with no reader fails at once
    (ENXIO) instead of blocking until one comes. Raises OSError with a one-line strerror."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
    flags |= os.O_APPEND if append else os.O_TRUNC
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = 0
        reason = (
            "no process is reading that FIFO"
            if stat.S_ISFIFO(mode)
            else "it is a socket, not a file"
            if stat.S_ISSOCK(mode)
            else exc.strerror or "no such device or address"
        )
        raise OSError(errno.ENXIO, reason, path) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BrokenPipeError):
        return "the process reading it went away (broken pipe)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
