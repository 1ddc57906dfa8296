"""`rps-tui tail` as a real process against real servers: NDJSON and text lines, a closed
pipe, Ctrl-C, SIGTERM, a server restart (gap record, then later messages), usage errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from rps_tui.core.embedded.server import ServerProcess
from rps_tui.core.recording.format import loads
from tests.support.tail import Tail

START_TIMEOUT = 10.0


@pytest.fixture
def tail() -> Iterator[Callable[..., Tail]]:
    started: list[Tail] = []

    def start(*args: str) -> Tail:
        proc = Tail(*args)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.close()


def wait_subscribed(url: str, *, channel: str | None = None, patterns: int = 0) -> redis.Redis:
    """A client to the server, once the tail's subscriptions show in PUBSUB NUMSUB/NUMPAT."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        subscribed = channel is None or client.pubsub_numsub(channel)[0][1] >= 1
        if subscribed and client.pubsub_numpat() >= patterns:
            return client
        if time.monotonic() > deadline:
            pytest.fail("the tail never subscribed")
        time.sleep(0.03)


def test_ndjson_lines_carry_the_exact_bytes(server, tail) -> None:
    proc = tail("-u", server.url, "tail.nd", "tail.p.*")
    proc.start_reading()
    client = wait_subscribed(server.url, channel="tail.nd", patterns=1)
    sent = [
        (b"tail.nd", b"plain text"),
        (b"tail.p.x", b"\xff\x00binary"),
        (b"tail.nd", b""),
        (b"tail.p.\xfe", "é\u202e".encode()),
    ]
    try:
        for channel, data in sent:
            client.publish(channel, data)
    finally:
        client.close()
    lines = proc.wait_lines(len(sent))
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == ["message", "pmessage", "message", "pmessage"]
    assert records[1]["pattern"] == "tail.p.*" and records[1]["encoding"] == "base64"
    assert [(e[-3], e[-2]) for e in map(loads, lines)] == sent
    assert all(line.isascii() and line.endswith(b"\n") for line in lines)


def test_text_format_escapes_control_characters(server, tail) -> None:
    proc = tail("-u", server.url, "--format", "text", "--channel", "tail")  # a channel: tail
    proc.start_reading()
    client = wait_subscribed(server.url, channel="tail")
    try:
        client.publish("tail", "\x1b]0;pwned\x07\x1b[2J\rred\u009b".encode())  # C1 CSI too
        client.publish("tail", b'{"a": 1}')
    finally:
        client.close()
    first, second = proc.wait_lines(2)
    stamp, channel, payload = first.decode().rstrip("\n").split(" ", 2)
    assert len(stamp) == len("2024-01-01T00:00:00.000") and stamp[10] == "T"
    assert channel == "tail"
    assert payload == "\\e]0;pwned\\x07\\e[2J\\rred\\x9b"
    assert not any(b in first for b in (b"\x1b", b"\x07", b"\r", b"\x9b"))
    assert first.isascii()
    assert second.decode().endswith(' tail {"a":1}\n')


@pytest.mark.parametrize("publish_after_close", [True, False])
def test_a_closed_pipe_ends_it_quietly(server, tail, publish_after_close: bool) -> None:
    """As in `rps-tui tail ... | head -n 2`: head reads two lines and exits."""
    channel = f"tail.head.{publish_after_close}"
    proc = tail("-u", server.url, channel)
    client = wait_subscribed(server.url, channel=channel)
    try:
        for i in range(3):
            client.publish(channel, f"m{i}")
        assert proc.proc.stdout is not None
        head = [proc.proc.stdout.readline() for _ in range(2)]
        assert [json.loads(line)["data"] for line in head] == ["m0", "m1"]
        proc.proc.stdout.close()  # head exits
        if publish_after_close:
            for i in range(3, 6):
                client.publish(channel, f"m{i}")
        # without more messages, the hang-up on the pipe is noticed within ~0.25 s
        assert proc.wait_exit(timeout=5) == 0
    finally:
        client.close()
    stderr = proc.stderr()
    assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
    assert stderr == ""


def test_sigint_exits_130_and_sigterm_0_without_traceback(server, tail) -> None:
    procs = {
        sig: tail("-u", server.url, f"tail.sig.{int(sig)}")
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    for sig, proc in procs.items():
        proc.start_reading()
        client = wait_subscribed(server.url, channel=f"tail.sig.{int(sig)}")
        client.publish(f"tail.sig.{int(sig)}", "before the signal")
        client.close()
        proc.wait_lines(1)
        proc.proc.send_signal(sig)
    assert procs[signal.SIGINT].wait_exit() == 130
    assert procs[signal.SIGTERM].wait_exit() == 0
    for proc in procs.values():
        stderr = proc.stderr()
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr


def test_tail_survives_a_server_restart_with_a_gap_record(
    server_factory: Callable[..., ServerProcess], tail
) -> None:
    srv = server_factory("valkey")
    proc = tail("-u", srv.url, "tail.restart")
    proc.start_reading()
    client = wait_subscribed(srv.url, channel="tail.restart")
    client.publish("tail.restart", "before")
    client.close()
    proc.wait_lines(1)
    srv.kill()
    srv.restart()
    client = wait_subscribed(srv.url, channel="tail.restart")  # the tail resubscribed
    try:
        client.publish("tail.restart", "after")
    finally:
        client.close()
    lines = proc.wait_lines(3)
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == ["message", "gap", "message"]
    assert [records[0]["data"], records[2]["data"]] == ["before", "after"]
    assert records[1]["seconds"] > 0 and records[1]["reason"]
    assert records[0]["time"] < records[1]["time"] <= records[2]["time"]
    proc.proc.send_signal(signal.SIGINT)
    assert proc.wait_exit() == 130
    stderr = proc.stderr()
    assert "subscriber connection lost" in stderr and "reconnected after" in stderr
    assert all(line.startswith("rps-tui: ") for line in stderr.splitlines())
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        ([], 2, "tail needs a SUBSCRIPTION"),
        (["--format", "xml", "x"], 2, "invalid choice: 'xml'"),
        (["-u", "redis://127.0.0.1:1/0", "x"], 1, "cannot connect to 127.0.0.1:1/0"),
    ],
)
def test_tail_errors_are_one_line(args: list[str], code: int, needle: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rps_tui", "tail", *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rps-tui: ") and needle in lines[0]
    assert result.stdout == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_write_error_is_one_line_and_exit_1(server) -> None:
    """stdout on a full disk (/dev/full fails every write with ENOSPC)."""
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", "tail", "-u", server.url, "tail.full"],
            stdout=full,
            stderr=subprocess.PIPE,
        )
    try:
        client = wait_subscribed(server.url, channel="tail.full")
        try:
            client.publish("tail.full", "nowhere to go")
        finally:
            client.close()
        assert proc.wait(10) == 1
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()
    assert stderr == "rps-tui: cannot write the output: No space left on device\n"


def test_a_gap_line_says_how_long_before_why() -> None:
    """A narrow pane (or `cut -c`) cuts the end of a line: the length of the gap, and what
    the server discarded, come before the reason, which quotes an address and an error."""
    from rps_tui.core.entry import Gap
    from rps_tui.core.subscriber.drops import LIMIT_REASON
    from rps_tui.core.tail import format_text

    closed = Gap("127.0.0.1:46379/0: the server closed the connection", 6.6)
    stamp, line = format_text([None, closed, 1_764_237_600.0]).split(" ", 1)
    assert stamp.startswith("2025-11-27T")
    assert line[:14] == "── gap 6.6 s: "
    assert line.endswith("not listening, messages published then are lost ──")
    dropped = Gap(LIMIT_REASON, 3.4, 32 << 20).describe()
    assert dropped.startswith("── gap 3.4 s, ~32.0 MiB discarded: the server dropped")
