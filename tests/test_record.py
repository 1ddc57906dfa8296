"""Recording: the NDJSON codec (bytes round-trip exactly), the Recorder as a live engine's
sink against real servers, jq reading the file, and loading a recording for offline
browsing with the same counts as the live view had."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rps_tui.cli.run import _close_recordings, _open_recorder
from rps_tui.core.connection.settings import UsageError, parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.recording import format as format_module
from rps_tui.core.recording.format import (
    RecordError,
    dumps,
    entry_to_record,
    loads,
    read_entries,
    record_to_entry,
    server_head,
)
from rps_tui.core.recording.offline import OfflineEngine, load_recording
from rps_tui.core.recording.recorder import MAX_PENDING, Recorder
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Subscription
from tests.support.engine import running
from tests.support.pty import ADDRESS, PtyApp
from tests.support.recordings import PUBLISHED, record_live
from tests.support.wait import wait_for


def _as_tuple(entry: list) -> tuple:
    pattern = entry[1] if entry[0] == b"pmessage" else None
    return (entry[0], pattern, entry[-3], entry[-2])


# --------------------------------------------------------------------------- the codec

names = st.binary(min_size=1, max_size=40)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    kind=st.sampled_from([b"message", b"pmessage", b"smessage"]),
    pattern=names,
    channel=names,
    data=st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode()),
    when=st.floats(min_value=0, max_value=4e9, allow_nan=False),
)
def test_any_bytes_round_trip_exactly(
    kind: bytes, pattern: bytes, channel: bytes, data: bytes, when: float
) -> None:
    entry = (
        [kind, pattern, channel, data, when] if kind == b"pmessage" else [kind, channel, data, when]
    )
    line = dumps(entry)
    assert "\n" not in line and line.isascii()  # one line, nothing a terminal acts on
    assert line == json.dumps(entry_to_record(entry), separators=(",", ":"))  # the fast path
    assert loads(line) == entry
    assert loads(line.encode()) == entry
    assert record_to_entry(json.loads(json.dumps(entry_to_record(entry)))) == entry


def test_what_is_encoded_once_is_right_each_time(monkeypatch) -> None:
    """A channel's encoding and a read's time are kept for the next line: the same channel
    under another kind or pattern, a binary name, the same time again, and a table of kept
    channels started over (its bound made 2) all give the text json.dumps gives."""
    monkeypatch.setattr(format_module, "FIXED_MAX", 2)
    entries = [
        [b"message", b"ch", b"one", 1.5],
        [b"message", b"ch", b"\xfftwo", 1.5],  # the same time, kept
        [b"smessage", b"ch", b"three", 2.25],
        [b"pmessage", b"c*", b"ch", b"four", 2.25],
        [b"pmessage", b"\xff*", b"ch", b"five", 3.0],
        [b"message", b"\xffbin", b"six", 3.0],
        [b"message", b"ch", b"seven", 1.5],  # a time seen before, not the last one
        [b"message", b"ch", b"eight", 0.0],
        [b"message", b"ch", b"nine", -0.0],  # equal to 0.0, spelled apart
        [b"message", b"ch", b"ten", math.nan],  # no clock gives these; json's spelling
        [b"message", b"ch", b"eleven", math.inf],
        [b"message", b"c" * 300, b"twelve", 4.0],  # a long name: encoded, not kept
    ]
    for _ in range(2):  # the second time round, from what was kept (or kept again)
        for entry in entries:
            assert dumps(entry) == json.dumps(entry_to_record(entry), separators=(",", ":"))
            if math.isfinite(entry[-1]):
                assert loads(dumps(entry, server_head("a"))) == entry
    assert len(format_module._fixed) <= 2
    assert all(len(key[2]) < 300 for key in format_module._fixed)


@FAST
@given(
    reason=st.text(max_size=80),
    seconds=st.floats(0, 1e6),
    when=st.floats(0, 4e9),
    discarded=st.none() | st.integers(0, 2**40),
)
def test_gap_markers_round_trip(
    reason: str, seconds: float, when: float, discarded: int | None
) -> None:
    gap = [None, Gap(reason, seconds, discarded), when]
    record = json.loads(dumps(gap))
    assert record["kind"] == "gap" and record["seconds"] == seconds
    assert record.get("discarded_bytes") == discarded  # absent unless the server discarded
    assert loads(dumps(gap)) == gap


def test_record_shape_is_documented_one() -> None:
    text = json.loads(dumps([b"message", b"orders", b"{}", 1.5]))
    assert text == {
        "time": 1.5,
        "kind": "message",
        "pattern": None,
        "channel": "orders",
        "data": "{}",
        "encoding": "utf-8",
    }
    binary = json.loads(dumps([b"pmessage", b"p\xff*", b"p\xff1", b"\xff", 2.0]))
    assert binary["encoding"] == "base64" and binary["data"] == "/w=="
    assert binary["channel_encoding"] == "base64" and binary["pattern_encoding"] == "base64"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"kind": "message"}', "missing field 'time'"),
        ('{"time": "x", "kind": "message"}', "field 'time' has the wrong type"),
        ('{"time": 1, "kind": "nope"}', "unknown kind 'nope'"),
        ('{"time": 1, "kind": "message", "channel": "c", "data": "x"}', "missing field 'encoding'"),
        (
            '{"time": 1, "kind": "message", "channel": "c", "data": "!!", "encoding": "base64"}',
            "field 'data' is not valid base64",
        ),
        (
            '{"time": 1, "kind": "message", "channel": "c", "data": "x", "encoding": "latin-1"}',
            "'encoding' must be 'utf-8' or 'base64'",
        ),
        (
            '{"time": 1, "kind": "pmessage", "channel": "c", "data": "", "encoding": "utf-8"}',
            "'pattern'",
        ),
        ('{"time": 1, "kind": "gap", "reason": "r"}', "missing field 'seconds'"),
    ],
)
def test_malformed_records_say_what_is_wrong(line: str, needle: str) -> None:
    with pytest.raises(RecordError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        loads(line)


def test_reading_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    good = dumps([b"message", b"c", b"x", 1.0])
    path.write_text(f"{good}\n\n{good}\n{{oops\n{good}\n")
    entries = read_entries(path)
    assert next(entries) == [b"message", b"c", b"x", 1.0]
    assert next(entries) == [b"message", b"c", b"x", 1.0]  # the blank line is skipped
    with pytest.raises(RecordError, match=r"bad\.ndjson, line 4: not valid JSON"):
        next(entries)
    with pytest.raises(RecordError, match="cannot read"):
        next(read_entries(tmp_path / "missing.ndjson"))


# --------------------------------------------------------------------------- the recorder


def test_live_recording_is_ndjson_that_jq_reads_and_bytes_round_trip(
    server, tmp_path: Path
) -> None:
    path = tmp_path / "live.ndjson"
    live = record_live(server.url, path)
    lines = path.read_text().splitlines()
    assert len(lines) == len(PUBLISHED)
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    assert [r["kind"] for r in records] == [k.decode() for k, *_ in PUBLISHED]
    assert records[1]["encoding"] == "base64" and records[0]["encoding"] == "utf-8"
    assert records[4]["channel_encoding"] == "base64"
    assert records[5]["pattern_encoding"] == "base64"
    assert [_as_tuple(e) for e in read_entries(path)] == PUBLISHED
    times = [r["time"] for r in records]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 60

    # offline: the same subscriptions, counts and channel statistics as the live store
    offline = Store()
    result = load_recording(path, offline)
    assert (result.messages, result.gaps, result.truncated) == (len(PUBLISHED), 0, False)
    assert list(offline.subs) == list(live.subs)  # order of first appearance = SUBS
    for sub, state in live.subs.items():
        got = offline.subs[sub]
        assert (got.total, got.bytes) == (state.total, state.bytes), sub
        assert [_as_tuple(e) for e in got.buffer] == [_as_tuple(e) for e in state.buffer]
    assert offline.total == live.total == len(PUBLISHED)
    assert {c: (s.count, s.bytes) for c, s in offline.channels.items()} == {
        c: (s.count, s.bytes) for c, s in live.channels.items()
    }

    if shutil.which("jq") is None:
        pytest.skip("jq not on PATH: the file was checked with json only")
    jq = subprocess.run(
        ["jq", "-c", 'select(.kind != "gap") | [.kind, .channel, .encoding]', str(path)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert jq.returncode == 0, jq.stderr
    rows = [json.loads(line) for line in jq.stdout.splitlines()]
    assert [row[0] for row in rows] == [r["kind"] for r in records]
    assert rows[0] == ["message", "rec.text", "utf-8"]
    text = subprocess.run(
        ["jq", "-r", 'select(.encoding == "utf-8") | .data', str(path)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert text.stdout.splitlines()[0] == "hello"
    assert '{"json": [1, 2]}' in text.stdout.splitlines()


def test_recorder_flushes_soon_without_close(tmp_path: Path) -> None:
    path = tmp_path / "soon.ndjson"
    with Recorder(path) as recorder:
        recorder([[b"message", b"c", b"one", 1.0], [b"smessage", b"s", b"two", 2.0]])
        start = time.monotonic()
        wait_for(lambda: path.stat().st_size > 0, timeout=2.0)
        assert time.monotonic() - start < 1.5  # `tail -f` and jq see it within ~0.5 s
        assert recorder.lines == 2 and recorder.active
    assert not recorder.active
    assert [e[-2] for e in read_entries(path)] == [b"one", b"two"]


def test_recorder_is_thread_safe_and_keeps_each_threads_order(tmp_path: Path) -> None:
    path = tmp_path / "threads.ndjson"
    recorder = Recorder(path)

    def feed(name: bytes) -> None:
        for i in range(2000):
            recorder([[b"message", name, str(i).encode(), float(i)]])

    threads = [threading.Thread(target=feed, args=(f"t{n}".encode(),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    recorder.close()
    assert recorder.lines == 8000 and recorder.error is None
    seen: dict[bytes, list[int]] = {}
    for entry in read_entries(path):
        seen.setdefault(entry[1], []).append(int(entry[2]))
    assert all(values == list(range(2000)) for values in seen.values()) and len(seen) == 4


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_write_error_stops_recording_not_the_engine(server) -> None:
    """/dev/full fails every write with ENOSPC, like a full disk."""
    sub = Subscription(Kind.CHANNEL, "rec.full")
    engine = Engine(parse_url(server.url), Store())
    recorder = Recorder("/dev/full")
    engine.sink = recorder
    client = redis.Redis.from_url(server.url)
    try:
        with running(engine, sub):
            client.publish("rec.full", "one")
            wait_for(lambda: recorder.error is not None, timeout=5)
            assert "No space left on device" in recorder.error
            assert "\n" not in recorder.error and not recorder.active
            for _ in range(3):  # the engine reads on; the recorder drops quietly
                client.publish("rec.full", "more")
            wait_for(lambda: engine.store.total == 4)
            assert engine.state is State.CONNECTED
        recorder.close()  # no exception either
        assert recorder.lines == 0
    finally:
        client.close()


# ------------------------------------------------- a target that does not keep up (FIFO)


@contextmanager
def stuck_fifo(tmp_path: Path, name: str = "rec.fifo") -> Iterator[Path]:
    """A FIFO whose reader never reads: it is open (so opening for writing succeeds), and
    the 64 KiB pipe fills up."""
    path = tmp_path / name
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        yield path
    finally:
        os.close(reader)


def drain(fd: int, deadline: float) -> bytes:
    """Everything written to a FIFO's read end until the writer closes it (or deadline)."""
    chunks = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while time.monotonic() < deadline:
        poller.poll(100)
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not chunk:  # EOF: the recorder closed its end
            break
        chunks.append(chunk)
    return b"".join(chunks)


def messages(first: int, count: int, size: int = 20) -> list[list]:
    return [[b"message", b"f", b"%d " % i + b"x" * size, time.time()] for i in range(first, count)]


def test_the_accounting_adds_up_at_every_moment_while_the_writer_writes(tmp_path: Path) -> None:
    """`accounted` is read at one moment: summing `lines`, `pending` and `dropped` one by
    one could fall on both sides of a move by the writer (a failure seen in a full run)."""
    path = tmp_path / "rec.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    done = threading.Event()

    def consume() -> None:  # a slow reader: the writer moves lines all the time
        while not done.is_set():
            with contextlib.suppress(BlockingIOError):
                os.read(reader, 4096)
            time.sleep(0.0005)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    try:
        recorder = Recorder(path)
        fed = 0
        for first in range(0, 20_000, 100):
            recorder(messages(first, first + 100))
            fed += 100
            assert recorder.accounted == fed
        deadline, written = time.monotonic() + 3, recorder.lines
        while recorder.pending and time.monotonic() < deadline:  # while the writer moves
            assert recorder.accounted == fed
        assert recorder.lines > written and recorder.accounted == fed
        recorder.close(2)
    finally:
        done.set()
        thread.join(5)
        os.close(reader)


def test_a_reader_that_never_reads_costs_the_caller_nothing(tmp_path: Path, capsys) -> None:
    """300,000 entries into a FIFO that takes nothing: no call blocks, the queue stops at
    its bound, the rest are counted as dropped, and close() gives up on time."""
    with stuck_fifo(tmp_path) as path:
        recorder = Recorder(path)
        slowest = 0.0
        start = time.monotonic()
        for first in range(0, 300_000, 300):  # like the engine: one call per socket read
            batch = messages(first, first + 300)
            began = time.perf_counter()
            recorder(batch)
            slowest = max(slowest, time.perf_counter() - began)
        fed = time.monotonic() - start
        assert fed < 5 and slowest < 0.5, (fed, slowest)  # the old code blocked for good
        # the pipe may take its 64 KiB (500-odd lines of these) before the queue is full
        pipe_lines = 65_536 // 100 + 1  # each line is over 100 bytes
        assert recorder.pending <= MAX_PENDING
        assert recorder.dropped >= 300_000 - MAX_PENDING - pipe_lines
        assert recorder.dropping_since is not None and recorder.active
        wait_for(lambda: recorder.lines > 0, timeout=2)  # the pipe took its 64 KiB
        assert recorder.accounted == 300_000
        gap = [None, Gap("server restarted", 1.5), time.time()]
        recorder([gap])  # a gap from the engine is kept even now: it records a loss
        assert recorder.accounted == 300_001

        start = time.monotonic()
        recorder.close(timeout=0.5)
        assert time.monotonic() - start < 2 and recorder.finished and not recorder.active
        assert recorder.dropping_since is None  # the drop's gap record was queued ...
        assert recorder.accounted == 300_001  # ... and is the recorder's own, not handed in
        error = recorder.error or ""
        assert f"{recorder.pending:,} lines were not written" in error, error
        assert "within 0.5 s" in error and "\n" not in error
        recorder.close()  # idempotent, and at once
        recorder([gap])  # ignored after close
        assert recorder.accounted == 300_001

        _close_recordings([recorder])
        said = capsys.readouterr().err.splitlines()
        assert said[0] == f"rps-tui: {error}"
        assert said[1] == (  # the lines not written were in the error already
            f"rps-tui: {path}: {recorder.dropped:,} messages were not recorded (the "
            "recording fell behind)"
        )
        assert len(said) == 2


def test_the_fifo_got_whole_lines_until_the_recorder_gave_up(tmp_path: Path) -> None:
    path = tmp_path / "rec.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        recorder = Recorder(path)
        recorder(messages(0, 5000))
        wait_for(lambda: recorder.lines > 0, timeout=2)
        recorder.close(timeout=0.3)
        data = drain(reader, time.monotonic() + 5)  # EOF: the recorder closed the FIFO
    finally:
        os.close(reader)
    *whole, rest = data.split(b"\n")
    assert len(whole) == recorder.lines > 0
    assert [int(loads(line)[-2].split()[0]) for line in whole] == list(range(recorder.lines))
    cut = "the last line in it is cut short" in (recorder.error or "")
    assert cut == (rest != b""), (recorder.error, rest[:40])


def test_the_queue_is_bounded_by_payload_bytes_too(tmp_path: Path) -> None:
    with stuck_fifo(tmp_path) as path:
        recorder = Recorder(path, max_bytes=1 << 20)
        recorder([[b"message", b"big", b"x" * (2 << 20), 1.0]])  # over the limit, but alone
        assert (recorder.pending, recorder.dropped) == (1, 0)
        wait_for(lambda: recorder.lines == 0 and recorder.pending == 1)
        recorder([[b"message", b"c", b"y" * 1024, 2.0] for _ in range(100)])
        assert (recorder.pending, recorder.dropped) == (1, 100)  # 2 MiB still waiting
        recorder.close(timeout=0.2)
        # the big one (cut short in the pipe) and the gap record of the drop
        error = recorder.error or ""
        assert "2 lines were not written; the last line in it is cut short" in error, error
    with stuck_fifo(tmp_path, "small.fifo") as path:  # small payloads: the bytes bind first
        recorder = Recorder(path, max_bytes=100 * 1024)
        recorder([[b"message", b"c", b"z" * 1024, 3.0] for _ in range(300)])
        assert (recorder.pending, recorder.dropped) == (100, 200)
        recorder([[b"message", b"c", b"", 4.0]] * 10)  # empty payloads fit in bytes...
        assert (recorder.pending, recorder.dropped) == (100, 210)  # ...but it is dropping
        recorder.close(timeout=0.2)
        assert recorder.lines + recorder.pending == 101 and recorder.finished  # + the gap


def test_a_fifo_whose_reader_goes_away_stops_the_recording(tmp_path: Path, capsys) -> None:
    path = tmp_path / "gone.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    recorder = Recorder(path)
    recorder(messages(0, 2))
    wait_for(lambda: recorder.lines == 2, timeout=2)
    os.close(reader)
    recorder(messages(2, 5))  # EPIPE (SIGPIPE is ignored): the recording stops, we don't
    wait_for(lambda: recorder.error is not None, timeout=2)
    assert recorder.error == (
        f"recording to {path} stopped: the process reading it went away (broken pipe)"
    )
    assert not recorder.active and recorder.pending == 3 and recorder.lines == 2
    recorder([[b"message", b"c", b"after", 9.0]])  # ignored, quietly
    start = time.monotonic()
    _close_recordings([recorder])
    assert time.monotonic() - start < 0.5 and recorder.finished and recorder.pending == 3
    assert capsys.readouterr().err.splitlines() == [
        f"rps-tui: {recorder.error}",
        f"rps-tui: {path}: 3 lines were not written",
    ]


def test_a_fifo_with_no_reader_fails_at_once_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "noreader.fifo"
    os.mkfifo(path)
    start = time.monotonic()
    with pytest.raises(OSError) as caught:
        Recorder(path)
    assert time.monotonic() - start < 1  # a blocking open() would wait for a reader forever
    assert caught.value.errno == errno.ENXIO
    assert caught.value.strerror == "no process is reading that FIFO"
    with pytest.raises(UsageError, match=r"^--record .*noreader\.fifo: no process is reading"):
        _open_recorder(str(path))
    # a reader appears: recording works, and the data flows through the FIFO
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with Recorder(path) as recorder:
            recorder(messages(0, 3))
        assert recorder.error is None and recorder.lines == 3
        assert [loads(line)[-2] for line in drain(reader, time.monotonic() + 5).splitlines()] == [
            b"0 " + b"x" * 20,
            b"1 " + b"x" * 20,
            b"2 " + b"x" * 20,
        ]
    finally:
        os.close(reader)


def test_the_cli_says_why_it_cannot_record_to_a_fifo(server, tmp_path: Path) -> None:
    path = tmp_path / "cli.fifo"
    os.mkfifo(path)
    result = subprocess.run(
        [sys.executable, "-m", "rps_tui", "-p", str(server.port), "--record", str(path), "x"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"rps-tui: --record {path}: no process is reading that FIFO"
    ), result.stderr


def test_a_target_that_falls_behind_gets_a_gap_record(tmp_path: Path) -> None:
    """A reader that sleeps, then reads everything: early messages, one gap record saying
    how many were left out and for how long, then later messages; every line valid."""
    path = tmp_path / "slow.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    go = threading.Event()
    got: list[bytes] = []

    def read_later() -> None:
        go.wait(10)
        got.append(drain(reader, time.monotonic() + 15))

    thread = threading.Thread(target=read_later, daemon=True)
    thread.start()
    try:
        recorder = Recorder(path, max_pending=1000)
        for first in range(0, 2000, 100):  # 300-byte payloads: the pipe takes ~190 lines
            recorder(messages(first, first + 100, size=300))
        assert recorder.dropped >= 1000 - 200  # at most ~1,200 fit (queue + pipe)
        time.sleep(0.4)
        for first in range(2000, 4000, 100):
            recorder(messages(first, first + 100, size=300))
        assert recorder.dropping_since is not None
        go.set()
        wait_for(lambda: recorder.pending == 0, timeout=10)  # the reader drained it all
        dropped = recorder.dropped
        for first in range(4000, 4500, 100):
            recorder(messages(first, first + 100, size=300))
        assert recorder.dropped == dropped and recorder.dropping_since is None
        recorder.close(timeout=5)
        thread.join(20)
        assert recorder.error is None and not thread.is_alive()
    finally:
        os.close(reader)
    out = tmp_path / "slow.ndjson"
    out.write_bytes(got[0])
    entries = list(read_entries(out))  # every line is a valid record
    assert len(entries) == recorder.lines == 4500 - dropped + 1
    kinds = [e[0] for e in entries]
    assert kinds.count(None) == 1
    at = kinds.index(None)
    numbers = [int(e[-2].split()[0]) for e in entries if e[0] is not None]
    early, late = numbers[:at], numbers[at:]
    assert early == list(range(len(early))) and len(early) >= 1000
    assert late == list(range(4000, 4500))
    assert len(early) + dropped == 4000  # everything between was left out, and counted
    gap = entries[at][1]
    assert f"{dropped:,} messages were not recorded" in gap.reason
    assert f"{path} did not take data fast enough" in gap.reason
    assert 0.4 <= gap.seconds < 15


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFO pipe sizes differ")
def test_a_stuck_recording_never_slows_the_subscriber(server, tmp_path: Path) -> None:
    """The user's report: 20k+ msg/s into a FIFO nobody reads. The subscriber counts every
    message, the server never drops it, the recording drops what it cannot hold, and close
    returns at once. Past MAX_PENDING (where the old recorder blocked the subscriber)."""
    sub = Subscription(Kind.CHANNEL, "rec.stuck")
    sent, rate, batch = 130_000, 45_000, 1000
    payload = b"p" * 100
    with stuck_fifo(tmp_path) as path:
        engine = Engine(parse_url(server.url), Store(history=1000))
        recorder = Recorder(path)
        engine.sink = recorder
        client = redis.Redis.from_url(server.url)
        try:
            with running(engine, sub):
                start = time.monotonic()
                for n in range(0, sent, batch):
                    pipe = client.pipeline(transaction=False)
                    for _ in range(batch):
                        pipe.publish("rec.stuck", payload)
                    assert pipe.execute() == [1] * batch  # the subscriber is still there
                    ahead = start + (n + batch) / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                wait_for(lambda: engine.store.total == sent, timeout=15)
                assert engine.reconnects == 0 and engine.state is State.CONNECTED
                assert recorder.dropped > 0 and recorder.active
                assert recorder.accounted == sent
                began = time.monotonic()
                recorder.close()
                assert time.monotonic() - began < 2.5
        finally:
            client.close()
    assert recorder.pending > 0 and "lines were not written" in (recorder.error or "")


# --------------------------------------------------------------------------- offline


def test_offline_load_with_gaps_patterns_and_a_cap(tmp_path: Path) -> None:
    path = tmp_path / "offline.ndjson"
    entries = [
        [b"message", b"o.a", b"1", 100.0],
        [b"pmessage", b"o.*", b"o.a", b"22", 100.5],
        [None, Gap("server restarted", 2.5), 103.0],
        [b"smessage", b"o.s", b"333", 104.0],
        [b"message", b"o.a", b"4444", 105.0],
    ]
    path.write_text("".join(dumps(e) + "\n" for e in entries))
    store = Store()
    result = load_recording(path, store)
    a, pat, shard = (
        Subscription(Kind.CHANNEL, "o.a"),
        Subscription(Kind.PATTERN, "o.*"),
        Subscription(Kind.SHARD, "o.s"),
    )
    assert list(store.subs) == [a, pat, shard]
    assert (store.subs[a].total, store.subs[a].bytes) == (2, 5)
    assert store.subs[pat].buffer[0][-2] == b"22"
    # the gap marks the subscriptions seen before it, in their buffers, like a live gap
    assert store.subs[a].gaps == store.subs[pat].gaps == 1 and store.subs[shard].gaps == 0
    assert [e[0] for e in store.subs[a].buffer] == [b"message", None, b"message"]
    assert store.channels[b"o.a"].count == 3  # channel and pattern deliveries both count
    assert store.channels[b"o.a"].last_seen == 105.0
    assert (result.messages, result.gaps, result.first, result.last) == (4, 1, 100.0, 105.0)
    assert store.subs[a].meter.history  # rates as at the end of the recording
    assert sum(store.channels[b"o.a"].meter.history) == 3

    capped = Store()
    short = load_recording(path, capped, max_entries=2)
    assert short.truncated and capped.total == 2 and "first part only" in short.describe()


def test_offline_engine_offers_the_engine_interface(tmp_path: Path) -> None:
    path = tmp_path / "engine.ndjson"
    path.write_text(dumps([b"message", b"e.a", b"x", 1.0]) + "\n")
    store = Store()
    engine = OfflineEngine(store, path, load_recording(path, store))
    sub = Subscription(Kind.CHANNEL, "e.a")
    assert engine.subscriptions == [sub]
    assert engine.state == State.OFFLINE == "offline" and engine.state.value == "offline"
    assert engine.where == f"recording {path}" and "1 message over" in engine.state_detail
    assert (engine.busy, engine.client_id, engine.node, engine.nodes()) == (False, None, None, [])
    engine.subscribe(sub)  # already there: silent
    assert engine.events_since(0) == (0, [])
    engine.subscribe(Subscription(Kind.CHANNEL, "new"))
    seq, events = engine.events_since(0)
    assert seq == 1 and "cannot subscribe" in events[0].text
    engine.unsubscribe(sub)
    engine.rearm()
    assert engine.subscriptions == [sub]
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    time.sleep(0.05)
    assert thread.is_alive()  # run() blocks like a live engine's, until stop()
    engine.stop()
    thread.join(2)
    assert not thread.is_alive() and engine.stopped


# --------------------------------------------------------------------------- the dashboard


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pty")
def test_dashboard_records_with_the_record_option(tmp_path: Path) -> None:
    """`rps-tui --embedded --record FILE x` in a pty: what arrives is in FILE after `q`."""
    path = tmp_path / "dash.ndjson"
    app = PtyApp("--embedded", "--record", str(path), "rec.dash")
    try:
        text = app.wait_text(lambda t: "connected" in t and ADDRESS.search(t) and "rec.dash" in t)
        port = int(ADDRESS.findall(text)[-1])
        app.record_servers()
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
        try:
            assert client.publish("rec.dash", b"\xffrecorded") == 1
            assert client.publish("rec.dash", b"second") == 1
        finally:
            client.close()
        app.wait_text(lambda t: "second" in t, timeout=10)
        app.send(b"q")
        assert app.wait_exit() == 0
        assert [e[-2] for e in read_entries(path)] == [b"\xffrecorded", b"second"]
        # the summary on stderr (the pty), once the screen is gone; the pty may lag behind
        wait_for(lambda: f"recorded 2 lines to {path}" in app.text().replace("\n", ""), 5)
    finally:
        app.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pty")
def test_recording_stopped_and_started_again_is_counted_per_file(tmp_path: Path) -> None:
    """The user's report: `--record FILE`, 2 messages, r (stop), r (start again), 1
    message, q. The second recording is appended to FILE, the screen says so, and the exit
    line counts the file's 3 lines (it said "recorded 2 lines")."""
    path = tmp_path / "r2.ndjson"
    app = PtyApp("--embedded", "--record", str(path), "rec.again")
    try:
        text = app.wait_text(lambda t: "connected" in t and ADDRESS.search(t) and "rec.again" in t)
        app.record_servers()
        client = redis.Redis(port=int(ADDRESS.findall(text)[-1]), socket_timeout=5)
        try:
            assert client.publish("rec.again", "one") == 1
            assert client.publish("rec.again", "two") == 1
            app.wait_text(lambda t: "● REC 2" in t, timeout=10)
            app.send(b"r")
            app.wait_text(lambda t: "recorded 2 lines" in t, timeout=10)
            app.send(b"r")
            app.wait_text(lambda t: "appending to" in t, timeout=10)
            assert client.publish("rec.again", "three") == 1
            app.wait_text(lambda t: "● REC 3" in t, timeout=10)
        finally:
            client.close()
        app.send(b"q")
        assert app.wait_exit() == 0
        assert [e[-2] for e in read_entries(path)] == [b"one", b"two", b"three"]
        said = f"recorded 3 lines to {path} in 2 recordings (2 + 1)"
        wait_for(lambda: said in app.text().replace("\n", ""), 5)
    finally:
        app.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pty")
def test_dashboard_recording_to_a_stuck_fifo_still_quits_at_once(tmp_path: Path) -> None:
    """The user's report, whole: `rps-tui --record FIFO` with a reader that never reads and
    a fast publisher. The header counts every message, `q` quits within seconds, and
    stderr says what is missing from the file."""
    with stuck_fifo(tmp_path) as path:
        app = PtyApp("--embedded", "--record", str(path), "rec.dashstuck")
        try:
            text = app.wait_text(lambda t: "connected" in t and ADDRESS.search(t))
            app.record_servers()
            client = redis.Redis(port=int(ADDRESS.findall(text)[-1]), socket_timeout=5)
            try:
                for _ in range(130):  # 130,000 messages, past the queue's 100,000
                    pipe = client.pipeline(transaction=False)
                    for _ in range(1000):
                        pipe.publish("rec.dashstuck", b"x" * 100)
                    assert pipe.execute() == [1] * 1000  # never dropped by the server
            finally:
                client.close()
            # (the header is cut at this width before it says "· N not recorded")
            app.wait_text(lambda t: "130,000 msgs" in t and "● REC" in t, timeout=15)
            start = time.monotonic()
            app.send(b"q")
            assert app.wait_exit() == 0
            assert time.monotonic() - start < 5
            wait_for(lambda: "recording fell behind)" in app.text().replace("\n", ""), 5)
            said = app.text().replace("\n", "")
            assert f"recording to {path} stopped: {path} did not take the rest" in said
            assert "lines were not written" in said and "messages were not recorded" in said
        finally:
            app.close()


def test_counts_of_one_are_singular() -> None:
    """'1 msgs', '1 messages over', 'replayed 1 messages': a count is followed by its noun
    in the number it needs."""
    from rps_tui.core.recording.offline import LoadResult
    from rps_tui.core.recording.replay import ReplayResult
    from rps_tui.core.units import plural

    assert (plural(1, "msg"), plural(0, "msg"), plural(1234, "msg")) == (
        "1 msg",
        "0 msgs",
        "1,234 msgs",
    )
    assert (
        plural(1, "match", "matches") == "1 match" and plural(2, "match", "matches") == "2 matches"
    )
    assert LoadResult(messages=1, first=1.0, last=1.0).describe() == "1 message over 0.0 s"
    assert (
        ReplayResult(messages=1, gaps=1).summary()
        == "replayed 1 message in 0.0 s (1 gap record skipped)"
    )
    assert (
        ReplayResult(messages=2, gaps=2).summary()
        == "replayed 2 messages in 0.0 s (2 gap records skipped)"
    )


@pytest.mark.parametrize(
    ("time_text", "needle"),
    [
        ("NaN", "field 'time' is not a time (nan"),
        ("1e400", "field 'time' is not a time (inf"),
        ("-1e18", "field 'time' is not a time (-1e+18"),
        ("1" + "0" * 400, "field 'time' is not a time (too large)"),
        ("253402300800", "field 'time' is not a time (253402300800"),
    ],
)
def test_a_time_no_clock_can_show_is_refused(time_text: str, needle: str) -> None:
    """JSON takes NaN, 1e400 and -1e18; datetime does not (it raised deep in the UI)."""
    line = '{"time": %s, "kind": "message", "channel": "c", "data": "x", "encoding": "utf-8"}'
    with pytest.raises(RecordError, match=re.escape(needle)):
        loads(line % time_text)


def test_random_bytes_are_not_utf8_not_nested_too_deep() -> None:
    with pytest.raises(RecordError, match=re.escape("not valid JSON (not UTF-8 text)")):
        loads(b"\xff\xfe{\x00\x81")


def test_a_last_line_cut_off_is_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.ndjson"
    good = dumps([b"message", b"c", b"x", 1.0])
    path.write_text(f"{good}\n{good}\n{good[:25]}")
    skipped: list[str] = []
    assert len(list(read_entries(path, skip=skipped.append))) == 2
    assert skipped == ["line 3: cut off at the end of the file"]
    with pytest.raises(RecordError, match="line 2: not valid JSON"):  # not the last line
        path.write_text(f"{good}\n{good[:25]}\n{good}\n")
        list(read_entries(path))


def test_lenient_reading_goes_on_past_bad_and_overlong_lines(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(format_module, "MAX_LINE", 200)
    monkeypatch.setattr(format_module, "CHUNK", 16)
    path = tmp_path / "mixed.ndjson"
    good = dumps([b"message", b"c", b"x", 1.0])
    path.write_text(f"{good}\n{{oops\n{'x' * 1000}\n{good}\n")
    skipped: list[str] = []
    assert len(list(read_entries(path, skip=skipped.append, lenient=True))) == 2
    assert skipped == ["line 2: not valid JSON (Expecting property name enclosed in double "
                       "quotes)", "line 3: longer than 200 B, not read"]  # fmt: skip
    path.write_text(f"{good}\n{'x' * 1000}\n{good}\n")
    with pytest.raises(RecordError, match=r"mixed\.ndjson, line 2: longer than 200 B, not read"):
        list(read_entries(path))


def test_files_named_by_the_same_second_are_never_shared(tmp_path: Path) -> None:
    """Two rps-tui pressing r in the same second appended to one file: names are now
    claimed with O_EXCL, -2, -3 … for the later ones, even when they race."""
    from concurrent.futures import ThreadPoolExecutor

    from rps_tui.core.export import claim_name

    stem = tmp_path / "rps-tui-20261202-101010"
    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda _: claim_name(stem, ".ndjson"), range(16)))
    assert len(set(names)) == 16 and all(p.exists() for p in names)
    assert sorted(p.name for p in names)[:2] == [
        "rps-tui-20261202-101010-10.ndjson",
        "rps-tui-20261202-101010-11.ndjson",
    ] and f"{stem.name}.ndjson" in {p.name for p in names}


def test_the_recorders_own_gap_record_is_not_counted_as_handed_in(tmp_path: Path) -> None:
    """Provoke what made a UI test see 3,001 for 3,000 messages: a drop period that ends
    (the queue has room again) adds the recorder's own gap record, a line that nobody
    handed over."""
    path = tmp_path / "rec.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        recorder = Recorder(path, max_pending=10)
        recorder(messages(0, 2000))  # the pipe takes some, the queue 10, the rest dropped
        assert recorder.dropping_since is not None
        wait_for(lambda: recorder.lines > 0, timeout=2)
        deadline = time.monotonic() + 5
        while recorder.pending:  # let the writer drain the queue into the FIFO
            assert time.monotonic() < deadline, "the writer never drained the queue"
            with contextlib.suppress(BlockingIOError):
                os.read(reader, 1 << 16)
            time.sleep(0.01)
        recorder(messages(2000, 2001))  # room again: the gap record, then this message
        assert recorder.dropping_since is None
        assert recorder.accounted == 2001
        recorder.close(1)
    finally:
        os.close(reader)


# ------------------------------------------------------------- several servers, one file


def test_several_servers_share_one_recording_each_line_naming_its_server(tmp_path: Path) -> None:
    """Two servers' sinks from two threads (more than a chunk each), and a gap handed in
    without a server between: every line names the server it came from, first; each
    server's order is kept; a line of no server names none; `view` reads them apart."""
    path = tmp_path / "several.ndjson"
    recorder = Recorder(path)
    count = 6000  # more than one CHUNK: pieces of a run are encoded apart

    def feed(label: str) -> None:
        sink = recorder.sink(label)
        for first in range(0, count, 500):
            sink(
                [
                    [b"message", b"ch", f"{label} {i}".encode(), float(i)]
                    for i in range(first, first + 500)
                ]
            )

    threads = [threading.Thread(target=feed, args=(label,)) for label in ("alpha", "béta")]
    for thread in threads:
        thread.start()
    recorder([[None, Gap("the recorder's own", 1.0), 1.0]])
    for thread in threads:
        thread.join(20)
    recorder.close(timeout=5)
    assert recorder.error is None and recorder.lines == 2 * count + 1
    raw = path.read_text(encoding="ascii").splitlines()  # a label's é is escaped too
    seen: dict[str, list[int]] = {}
    for line in raw:
        obj = json.loads(line)
        if obj["kind"] == "gap":
            assert "server" not in obj
            continue
        assert next(iter(obj)) == "server"
        label, number = obj["data"].split()
        assert obj["server"] == label
        seen.setdefault(label, []).append(int(number))
    assert seen == {"alpha": list(range(count)), "béta": list(range(count))}
    store = Store(history=2 * count)
    load_recording(path, store)
    subs = {sub.on: state.total for sub, state in store.subs.items()}
    assert subs == {"alpha": count, "béta": count}


def test_a_tab_and_the_all_view_record_one_server_at_once(server_factory, tmp_path: Path) -> None:
    """A session hands its entries to its own recording and to the recording of several
    servers at once; stopping one leaves the other going."""
    from rps_tui.core.session import Session, SeveralSessions

    alpha, beta = server_factory("valkey"), server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "rec.both")
    a = Session.live(parse_url(alpha.url))
    b = Session.live(parse_url(beta.url))
    several = SeveralSessions([("alpha", a)])
    own, shared = Recorder(tmp_path / "alpha.ndjson"), Recorder(tmp_path / "all.ndjson")
    with running(a.subscriber, sub), running(b.subscriber, sub):
        a.record(own)
        several.record(shared)
        several.add("beta", b)  # a server added while recording joins it
        with redis.Redis(port=alpha.port) as ra, redis.Redis(port=beta.port) as rb:
            ra.publish("rec.both", "one")
            rb.publish("rec.both", "two")
            wait_for(lambda: shared.accounted == 2 and own.accounted == 1)
            assert several.stop_recording() is shared
            ra.publish("rec.both", "three")  # the tab's own recording goes on
            wait_for(lambda: own.accounted == 2)
            assert a.stop_recording() is own
            ra.publish("rec.both", "four")
            wait_for(lambda: a.store.subs[sub].total == 3)
    own.close()
    shared.close()
    assert [(e[-2]) for e in read_entries(tmp_path / "alpha.ndjson")] == [b"one", b"three"]
    records = [json.loads(line) for line in (tmp_path / "all.ndjson").read_text().splitlines()]
    # two engines, two threads: which one hands its message in first is not fixed
    assert sorted((r["server"], r["data"]) for r in records) == [("alpha", "one"), ("beta", "two")]
    assert a.subscriber.sink is None and b.subscriber.sink is None


def test_a_gap_of_the_pace_blames_the_pace_not_the_file(tmp_path: Path) -> None:
    """A file that takes everything at once, and messages handed in faster than the writer
    encodes them: the gap record says the messages came too fast, not that the file was
    slow (it said so, wrongly, under a flood of 1.4 million messages a second)."""
    path = tmp_path / "fast.ndjson"
    recorder = Recorder(path, max_pending=50)
    for first in range(0, 5000, 500):  # 500 at a time into a queue of 50
        recorder(messages(first, first + 500))
    assert recorder.dropped > 0
    wait_for(lambda: recorder.pending == 0, timeout=10)
    recorder(messages(5000, 5001))  # room again: the gap record, then this one
    recorder.close(timeout=5)
    assert recorder.error is None and recorder.target_waits == 0
    (gap,) = [e for e in read_entries(path) if e[0] is None]
    assert "messages arrived faster than it can write them" in gap[1].reason
    assert f"{recorder.dropped:,} messages were not recorded" in gap[1].reason
    assert str(path) not in gap[1].reason


def test_servers_that_alternate_share_one_write(tmp_path: Path) -> None:
    """Two servers whose reads alternate, one message each: their lines go out together,
    not in a write each (a run per server once made a write per socket read)."""
    writes = []

    class Counting(Recorder):
        def _write(self, data: bytes) -> None:
            writes.append(data.count(b"\n"))
            super()._write(data)

    recorder = Counting(tmp_path / "alternate.ndjson")
    a, b = recorder.sink("a"), recorder.sink("b")
    for i in range(2000):
        (a if i % 2 else b)(messages(i, i + 1))
    recorder.close(timeout=5)
    assert recorder.lines == 2000 and sum(writes) == 2000
    assert len(writes) < 20, len(writes)  # a few flushes, not 2,000 writes
