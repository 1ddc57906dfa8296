"""The headless tail: every message as a line on stdout, for scripts and pipes.

The same session as the dashboard (one server, cluster or Sentinel; reconnects with gap
markers) feeds its entries through the subscriber's `sink` into a small bounded queue; the main
thread formats and writes them. So a slow stdout never stalls the socket reader for
long, and memory stays bounded: when the queue is full (`QUEUE_BATCHES` socket reads,
at most 32 KiB each) the reader waits for the writer. The backlog then builds up on the
server, and if it passes `client-output-buffer-limit pubsub` the server drops the
connection: the engine reconnects and the tail prints a gap record saying so. Nothing
is dropped silently.

It ends without a traceback and says how (`Ending`; the CLI turns it into the exit status):
Ctrl-C (SIGINT) is INTERRUPTED (130, as a shell expects of a command stopped that way);
SIGTERM is STOPPED (0); a reader that goes away (`| head -n 3`) ends it quietly as STOPPED,
noticed at the next write or within a quarter second on a pipe.
Diagnostics (connection lost, reconnected, a refused subscription) go to stderr, one
line each, so stdout carries data only.

Several servers (`-u A -u B`, `--profile a --profile b`): a session each, one outbox for
all, and each line says which server it came from: `"server": "label"` in NDJSON (the
first field), the label after the time in text; diagnostics name it too. Lines of one
server keep their order; lines of two servers are written as they are read.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import BinaryIO, TextIO

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import Entry, channel_of, is_gap, payload_of, time_of
from rps_tui.core.payload.text import format_line, safe_name, safe_text
from rps_tui.core.recording.format import dumps, dumps_from
from rps_tui.core.session import Session
from rps_tui.core.subscriptions import Subscription

FORMATS = ("ndjson", "text")
QUEUE_BATCHES = 64  # socket reads waiting for stdout (each at most 32 KiB of replies)
POLL_SECONDS = 0.25


class Ending(Enum):
    STOPPED = "stopped"  # SIGTERM, or the reader of stdout went away
    INTERRUPTED = "interrupted"  # Ctrl-C
    FAILED = "failed"  # the output could not be written, or the subscriber died


def format_text(entry: Entry) -> str:
    """`time channel payload`, escaped so nothing in it acts on a terminal; a gap as
    `time ── gap 6.1 s: why ──`."""
    stamp = datetime.fromtimestamp(time_of(entry)).isoformat(timespec="milliseconds")
    if is_gap(entry):
        return f"{stamp} {safe_text(entry[1].describe())}"
    data = payload_of(entry)
    return f"{stamp} {safe_name(channel_of(entry))} {format_line(data, limit=len(data)).text}"


@dataclass(frozen=True)
class Source:
    """One server to tail: its label (on each line when there are several), where, what."""

    label: str
    settings: ConnectionSettings
    subscriptions: Sequence[Subscription]


class Outbox:
    """The engines' sink: a bounded queue of socket reads, each with the label of the
    server it came from. `sink(label)` runs on an engine thread; it waits while the queue
    is full (back-pressure), until `close()`."""

    def __init__(self, max_batches: int = QUEUE_BATCHES) -> None:
        self._queue: queue.Queue[tuple[str, list[Entry]]] = queue.Queue(max_batches)
        self._closed = threading.Event()

    def sink(self, label: str) -> Callable[[list[Entry]], None]:
        def put(entries: list[Entry]) -> None:
            while not self._closed.is_set():
                try:
                    self._queue.put((label, entries), timeout=POLL_SECONDS)
                    return
                except queue.Full:
                    continue

        return put

    def get(self, timeout: float) -> list[tuple[str, Entry]]:
        """Every (label, entry) waiting, oldest first (waits up to `timeout` for the first)."""
        try:
            label, first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        entries = [(label, e) for e in first]
        with contextlib.suppress(queue.Empty):
            while True:
                label, more = self._queue.get_nowait()
                entries += [(label, e) for e in more]
        return entries

    def close(self) -> None:
        self._closed.set()


class _Terminated(Exception):
    """SIGTERM: stop like Ctrl-C, but as a normal end."""


def _on_sigterm(*_: object) -> None:
    raise _Terminated


def _reader_gone(fd: int) -> bool:
    """The read end of our stdout pipe was closed (POLLERR on the write end)."""
    if not hasattr(select, "poll"):  # Windows: noticed at the next write instead
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def _labelled(encode: Callable[[Entry], str], fmt: str) -> Callable[[str, Entry], str]:
    """A line that names its server: `"server"` first in NDJSON, after the time in text."""
    if fmt == "ndjson":
        return dumps_from
    return lambda label, e: encode(e).replace(" ", f" {safe_text(label)} ", 1)


def tail(
    settings: ConnectionSettings,
    subscriptions: Sequence[Subscription],
    *,
    fmt: str = "ndjson",
    out: BinaryIO | None = None,
    err: TextIO | None = None,
    label: str = "",
    more: Sequence[Source] = (),
) -> Ending:
    """Subscribe and write every entry to `out` (stdout) until interrupted; how it ended
    (see the module docstring). With a `label` or `more` servers every line names its
    server. The caller has checked the connections (`probe.reach`)."""
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    is_stdout = out is sys.stdout.buffer
    encoding = (sys.stdout.encoding or "utf-8") if is_stdout else "utf-8"
    plain: Callable[[Entry], str] = dumps if fmt == "ndjson" else format_text
    sources = [Source(label, settings, subscriptions), *more]
    several = bool(label or more)  # every line names its server
    encode = _labelled(plain, fmt) if several else lambda _, e: plain(e)
    outbox = Outbox()
    engines, threads = [], []
    for source in sources:
        session = Session.live(source.settings, history=1)  # to stdout, not to a history
        engine = session.subscriber
        for sub in source.subscriptions:
            engine.subscribe(sub)
        engine.sink = outbox.sink(source.label)
        engines.append(engine)
        threads.append(threading.Thread(target=engine.run, name="subscriber", daemon=True))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
    seqs = [0] * len(engines)
    code = Ending.STOPPED
    broken = False

    def write(entries: list[tuple[str, Entry]]) -> None:
        text = "".join([encode(label, e) + "\n" for label, e in entries])
        out.write(text.encode(encoding, "backslashreplace"))
        out.flush()

    try:
        for thread in threads:
            thread.start()
        while True:
            entries = outbox.get(POLL_SECONDS)
            if entries:
                write(entries)
            elif is_stdout and _reader_gone(out.fileno()):
                raise BrokenPipeError
            for n, (source, engine) in enumerate(zip(sources, engines, strict=True)):
                seqs[n], events = engine.events_since(seqs[n])
                named = f"{safe_text(source.label)}: " if several else ""
                for event in events:
                    with contextlib.suppress(OSError):
                        print(f"rps-tui: {named}{safe_text(event.text)}", file=err, flush=True)
            if not all(thread.is_alive() for thread in threads):
                print("rps-tui: the subscriber stopped unexpectedly", file=err)
                code = Ending.FAILED
                break
    except KeyboardInterrupt:
        code = Ending.INTERRUPTED
    except _Terminated:
        code = Ending.STOPPED
    except OSError as exc:  # BrokenPipeError: the reader left; else e.g. a full disk
        broken = True
        if not isinstance(exc, BrokenPipeError):
            with contextlib.suppress(OSError):
                print(f"rps-tui: cannot write the output: {exc.strerror or exc}", file=err)
            code = Ending.FAILED
        if is_stdout:  # keep the interpreter's final flush from failing on it again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
            os.close(devnull)
    finally:
        outbox.close()
        for engine in engines:
            engine.stop()
        if main:
            signal.signal(signal.SIGTERM, previous)
        for thread in threads:
            thread.join(5)
    if not broken:
        with contextlib.suppress(OSError, KeyboardInterrupt):  # what was read before the end
            write(outbox.get(0))
    return code
