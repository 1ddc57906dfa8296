"""Replay: a recording made live is published again to a second server, and an independent
redis-py subscriber gets exactly the same bytes in the same order, at the recorded pace
(lower bounds only: a loaded machine may be slower, never faster)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import redis

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.recording.format import dumps, loads, read_entries
from rps_tui.core.recording.replay import ReplayError, ReplayResult, replay
from tests.support.listener import Listener
from tests.support.recordings import BIN_PATTERN, PUBLISHED, record_live
from tests.support.tail import Tail
from tests.support.topology import client_for, start_cluster, start_sentinel_setup

PAUSE = 0.15  # between the live publishes: the recording spans ~1 s


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rps_tui", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def listener(server_factory) -> Iterator[tuple[str, Listener]]:
    target = server_factory("valkey")
    listening = Listener(
        target.url,
        channels=[b"rec.text"],
        patterns=[b"rec.pat.*", BIN_PATTERN, b"pace.*"],
        shards=[b"rec.shard"],
    )
    try:
        yield target.url, listening
    finally:
        listening.close()


@pytest.fixture(scope="module")
def recording(server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A recording made live on the shared server (both kinds), and its time span."""
    path = tmp_path_factory.mktemp("replay") / f"{server.kind}.ndjson"
    record_live(server.url, path, pause=PAUSE)
    times = [e[-1] for e in read_entries(path)]
    return path, times[-1] - times[0]


def test_fast_replay_delivers_the_same_bytes_in_order(recording, listener) -> None:
    path, _ = recording
    url, listening = listener
    result = run_cli("replay", str(path), "-u", url, "--fast")
    assert result.returncode == 0, result.stderr
    where = url.removeprefix("redis://")
    assert result.stderr.startswith(f"rps-tui: replayed {len(PUBLISHED)} messages to {where} in ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    got = [message for message, _ in listening.collect(len(PUBLISHED))]
    assert got == PUBLISHED


def test_speed_10_keeps_order_and_a_tenth_of_the_pace(recording, listener) -> None:
    path, span = recording
    assert span >= PAUSE * (len(PUBLISHED) - 1) * 0.9
    url, listening = listener
    proc = subprocess.Popen(
        [sys.executable, "-m", "rps_tui", "replay", str(path), "-u", url, "--speed", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        got = listening.collect(len(PUBLISHED))  # timed as they arrive
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, stderr
    assert [message for message, _ in got] == PUBLISHED
    assert got[-1][1] - got[0][1] >= 0.8 * span / 10


def test_original_pace_spaces_each_message(tmp_path: Path, listener) -> None:
    """Recorded 0.4 s apart, replayed 0.4 s apart at speed 1 and 0.2 s apart at speed 2."""
    url, listening = listener
    path = tmp_path / "pace.ndjson"
    messages = [b"zero", b"one", b"two", b"three"]
    lines = [
        dumps([b"pmessage", b"pace.*", b"pace.x", data, 1000.0 + 0.4 * i])
        for i, data in enumerate(messages)
    ]
    lines.insert(2, dumps([None, Gap("r", 1.0), 1000.5]))  # skipped
    path.write_text("\n".join(lines) + "\n")
    for speed in (1.0, 2.0):
        results: list[ReplayResult] = []
        thread = threading.Thread(
            target=lambda: results.append(replay(path, parse_url(url), speed=speed))  # noqa: B023
        )
        thread.start()
        got = listening.collect(len(messages))  # timed as they arrive
        thread.join(10)
        result = results[0]
        assert (result.messages, result.gaps, result.interrupted) == (4, 1, False)
        assert result.seconds >= 0.8 * 1.2 / speed
        assert [m[3] for m, _ in got] == messages
        gaps = [b[1] - a[1] for a, b in pairwise(got)]
        assert all(gap >= 0.8 * 0.4 / speed for gap in gaps), gaps


def test_a_malformed_line_stops_with_its_number(tmp_path: Path, listener) -> None:
    url, listening = listener
    path = tmp_path / "broken.ndjson"
    good = dumps([b"message", b"rec.text", b"before", 1.0])
    path.write_text(f"{good}\n{good}\n{{not json\n{good}\n")
    with pytest.raises(ReplayError, match=r"line 3: not valid JSON .*published 2 messages"):
        replay(path, parse_url(url), fast=True)
    assert [m[3] for m, _ in listening.collect(2)] == [b"before", b"before"]
    result = run_cli("replay", str(path), "-u", url, "--fast")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rps-tui: ") and "line 3" in lines[0]
    assert "Traceback" not in result.stderr


def test_replay_errors_are_one_line(tmp_path: Path) -> None:
    missing = run_cli("replay", str(tmp_path / "nope.ndjson"), "-p", "1")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    path = tmp_path / "one.ndjson"
    path.write_text(dumps([b"message", b"c", b"x", 1.0]) + "\n")
    refused = run_cli("replay", str(path), "-u", "redis://127.0.0.1:1/0")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "rps-tui: cannot connect to 127.0.0.1:1/0: connection refused (is the server running?)"
    )
    both = run_cli("replay", str(path), "--fast", "--speed", "2")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    for result in (missing, refused, both):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- deployments


def _collect_tail(proc: Tail, count: int) -> dict[bytes, list[bytes]]:
    """The tail's lines, as payloads per channel (in the order printed)."""
    heard: dict[bytes, list[bytes]] = {}
    for line in proc.wait_lines(count):
        entry = loads(line)
        heard.setdefault(entry[-3], []).append(entry[-2])
    return heard


def test_replay_to_a_cluster_is_heard_by_tail(tmp_path: Path) -> None:
    """PUBLISH broadcast from one node, SPUBLISH routed to each slot owner; the tail (one
    classic connection, one per shard owner) hears every message, in order per channel."""
    with start_cluster("valkey") as cluster:
        shards = [f"rp.s{{{i}}}".encode() for i in range(9)]
        assert len({cluster.owner_of(ch).port for ch in shards}) >= 2  # really spread out
        entries = []
        for i in range(36):
            entries.append([b"smessage", shards[i % 9], f"s{i}".encode(), 1000 + i / 1000])
            entries.append([b"message", b"rp.c", b"c\xff" + str(i).encode(), 1000 + i / 1000])
        path = tmp_path / "cluster.ndjson"
        path.write_text("".join(dumps(e) + "\n" for e in entries))
        first, second = cluster.primaries()[:2]
        shard_args = [arg for ch in shards for arg in ("--shard", ch.decode())]
        proc = Tail("-p", str(first.port), "--pattern", "rp.c*", *shard_args)
        try:
            proc.start_reading()
            deadline = time.monotonic() + 10
            while not _cluster_subscribed(cluster, shards):
                assert time.monotonic() < deadline, "the tail never subscribed on the cluster"
                time.sleep(0.05)
            result = run_cli("replay", str(path), "-p", str(second.port), "--fast")
            assert result.returncode == 0, result.stderr
            assert "replayed 72 messages" in result.stderr and "cluster via" in result.stderr
            heard = _collect_tail(proc, len(entries))
        finally:
            proc.close()
    expected: dict[bytes, list[bytes]] = {}
    for entry in entries:
        expected.setdefault(entry[1], []).append(entry[2])
    assert heard == expected


def _cluster_subscribed(cluster, shards: list[bytes]) -> bool:
    patterns = 0
    for node in cluster.nodes:
        with cluster.client(node) as c:
            patterns += int(c.execute_command("PUBSUB", "NUMPAT"))
    if patterns < 1:
        return False
    for channel in shards:
        owner = cluster.owner_of(channel)
        with cluster.client(owner) as c:
            reply = c.execute_command("PUBSUB", "SHARDNUMSUB", channel)
        if int(reply[1]) < 1:
            return False
    return True


def test_replay_and_tail_through_sentinel(tmp_path: Path) -> None:
    with start_sentinel_setup("valkey") as setup:
        where = [arg for h, p in setup.sentinels for arg in ("--sentinel", f"{h}:{p}")]
        where += ["--master", setup.master_name]
        proc = Tail(*where, "rp.sn")
        try:
            proc.start_reading()
            with client_for(setup.primary.host, setup.primary.port) as c:
                deadline = time.monotonic() + 10
                while c.pubsub_numsub("rp.sn")[0][1] < 1:
                    assert time.monotonic() < deadline, "the tail never subscribed"
                    time.sleep(0.05)
            payloads = [b"one", b"\xff\xfe", b"", b"four"]
            path = tmp_path / "sentinel.ndjson"
            path.write_text(
                "".join(
                    dumps([b"message", b"rp.sn", p, 1.0 + i]) + "\n" for i, p in enumerate(payloads)
                )
            )
            result = run_cli("replay", str(path), *where, "--speed", "100")
            assert result.returncode == 0, result.stderr
            assert "master mymaster" in result.stderr
            assert _collect_tail(proc, len(payloads)) == {b"rp.sn": payloads}
        finally:
            proc.close()


def test_a_refused_publish_stops_the_replay_without_retry(server_factory, tmp_path: Path) -> None:
    """An ACL that allows PUBLISH to ok.* only: the first refusal ends the replay, nothing
    is sent twice, and the one-line message says how far it got (never the payload).
    Paced, each message goes alone, so nothing after the refusal is sent; with --fast the
    server has already run the rest of that pipelined batch, and the count says so."""
    target = server_factory("valkey")
    with redis.Redis.from_url(target.url) as admin:
        admin.execute_command("ACL", "SETUSER", "pub", "on", ">pw", "resetchannels", "&ok.*")
        admin.execute_command("ACL", "SETUSER", "pub", "+publish", "+ping", "+info", "+hello")
    listening = Listener(target.url, channels=[], patterns=[b"*"], shards=[])
    path = tmp_path / "acl.ndjson"
    channels = [b"ok.1", b"ok.2", b"denied", b"ok.3"]
    lines = [dumps([b"message", ch, b"secret-" + ch, 1 + i / 50]) for i, ch in enumerate(channels)]
    path.write_text("\n".join(lines) + "\n")
    login = ("-u", target.url, "--user", "pub", "-a", "pw", "--no-auth-warning")
    try:
        for pace, published in ((), [b"ok.1", b"ok.2"]), (("--fast",), [b"ok.1", b"ok.2", b"ok.3"]):
            result = run_cli("replay", str(path), *login, *pace)
            assert result.returncode == 1, result.stderr
            assert result.stderr == (
                f"rps-tui: replay stopped after {len(published)} messages: "
                f"127.0.0.1:{target.port}/0 refused: No permissions to access a channel\n"
            )
            got = listening.collect(len(published) + 1, timeout=0.5)
            assert [m[2] for m, _ in got] == published  # each once, in order
    finally:
        listening.close()


def test_a_last_line_cut_off_is_skipped_and_said(server, tmp_path: Path) -> None:
    """A recording whose writer stopped mid-line (a full disk) replays up to that line."""
    listening = Listener(server.url, channels=[b"rp.cut"], patterns=[], shards=[])
    path = tmp_path / "cut.ndjson"
    lines = [dumps([b"message", b"rp.cut", f"m{i}".encode(), 1.0 + i / 100]) for i in range(3)]
    path.write_text(f"{lines[0]}\n{lines[1]}\n{lines[2][:20]}")
    try:
        result = run_cli("replay", str(path), "-u", server.url, "--fast")
        assert result.returncode == 0, result.stderr
        assert "replayed 2 messages" in result.stderr
        assert result.stderr.rstrip().endswith("; line 3: cut off at the end of the file: skipped")
        assert [m[3] for m, _ in listening.collect(3, timeout=1)] == [b"m0", b"m1"]
    finally:
        listening.close()
