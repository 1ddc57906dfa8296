"""`rps-tui publish` as a user runs it, checked by an independent redis-py subscriber: what a
line of stdin sends (byte for byte), streaming, repeats and templates, SPUBLISH on a
cluster, the summary, and the exit status on every way it ends."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import redis

from rps_tui.core.publish import split_lines, stdin_lines
from tests.support.cli import one_line_error
from tests.support.listener import Listener
from tests.support.topology import start_cluster, start_sentinel_setup


def publish(*args: str, stdin: bytes = b"", timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rps_tui", "publish", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rps_tui", "publish", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def payloads(listener: Listener, count: int, timeout: float = 10) -> list[bytes]:
    return [m[3] for m, _ in listener.collect(count, timeout)]


@pytest.fixture
def listen(server):
    made: list[Listener] = []

    def make(*channels: bytes) -> Listener:
        made.append(Listener(server.url, list(channels), [], []))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def test_split_lines_drops_lf_and_crlf_endings_only() -> None:
    assert split_lines(b"a\r\n\nb\rc\n\r\r\nd") == ([b"a", b"", b"b\rc", b"\r"], b"d")
    reads = iter([b"x\r", b"\ny", b""])
    assert list(stdin_lines(0, lambda fd, n: next(reads))) == [[b"x"], [b"y"]]


def test_each_stdin_line_is_one_message_byte_for_byte(server, listen) -> None:
    """An empty line is an empty message, a CRLF ending is removed whole, a lone CR stays,
    bytes that are not UTF-8 go as they are, and a last line without a break still counts."""
    listener = listen(b"pc.lines")
    data = b"one\n\n\xff\xfe\x00bin\ncrlf\r\nmid\rdle\n  spaced  \nlast"
    result = publish("-u", server.url, "pc.lines", stdin=data)
    assert result.returncode == 0, result.stderr
    expected = [b"one", b"", b"\xff\xfe\x00bin", b"crlf", b"mid\rdle", b"  spaced  ", b"last"]
    assert payloads(listener, len(expected) + 1, timeout=2) == expected
    assert result.stderr.decode() == (
        "rps-tui: published 7 messages to pc.lines in "
        + re.search(r"in (\d+\.\d) s", result.stderr.decode()).group(1)
        + " s: 7 receivers in all, no errors\n"
    )
    assert result.stdout == b""


def test_lines_are_sent_as_they_arrive(server, listen) -> None:
    """`tail -f log | rps-tui publish`: a line goes out while stdin is still open."""
    listener = listen(b"pc.stream")
    proc = start("-u", server.url, "pc.stream")
    try:
        for line in (b"first", b"second"):
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
            assert payloads(listener, 1) == [line]  # before stdin is closed
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
        assert b"published 2 messages" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_message_count_and_templates(server, listen) -> None:
    listener = listen(b"pc.tpl")
    before = time.time()
    result = publish(
        "-u", server.url, "pc.tpl", "n={{n}} t={{time}} ms={{ unix_ms }} {{uuid}} {{random}}",
        "--count", "3", "-v",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    got = payloads(listener, 3)
    assert [p.split()[0] for p in got] == [b"n=1", b"n=2", b"n=3"]
    for p in got:
        _, t, ms, uid, rnd = p.decode().split()
        when = datetime.fromisoformat(t[2:]).timestamp()
        assert before - 1 < when < time.time() + 1
        assert abs(int(ms[3:]) / 1000 - when) < 0.002
        assert re.fullmatch(r"[0-9a-f-]{36}", uid) and 0 <= int(rnd) < 2**32
    assert len({p.split()[3] for p in got}) == 3  # a fresh uuid each
    assert result.stdout.decode() == "1: 1 receiver\n2: 1 receiver\n3: 1 receiver\n"


def test_no_template_and_unknown_placeholder(server, listen) -> None:
    listener = listen(b"pc.raw")
    ok = publish("-u", server.url, "pc.raw", "{{n}} {{x}}", "--no-template")
    assert ok.returncode == 0, ok.stderr
    assert payloads(listener, 1) == [b"{{n}} {{x}}"]
    bad = publish("-u", server.url, "pc.raw", "a {{count}}")
    line = one_line_error(_text(bad), 2)
    assert "unknown placeholder {{count}}" in line and "--no-template" in line
    assert payloads(listener, 1, timeout=0.5) == []  # nothing sent


def test_rate_paces_the_messages(server, listen) -> None:
    listener = listen(b"pc.rate")
    args = ("pc.rate", "r{{n}} {{unix_ms}}", "--rate", "20", "--count", "5")
    result = publish("-u", server.url, *args)
    assert result.returncode == 0, result.stderr
    got = [p.split() for p in payloads(listener, 5)]
    assert [n for n, _ in got] == [b"r1", b"r2", b"r3", b"r4", b"r5"]
    sent_ms = [int(ms) for _, ms in got]
    assert sent_ms[-1] - sent_ms[0] >= 190  # 4 intervals of 50 ms, not one burst


def test_whole_stdin_and_file_are_one_message(server, listen, tmp_path: Path) -> None:
    listener = listen(b"pc.whole")
    body = b'{\r\n  "a": 1\n}\n\xff'
    assert publish("-u", server.url, "pc.whole", "--whole", stdin=body).returncode == 0
    path = tmp_path / "msg.bin"
    path.write_bytes(b"file {{n}}\n")
    assert publish("-u", server.url, "pc.whole", "--file", str(path)).returncode == 0
    assert payloads(listener, 2) == [body, b"file 1\n"]


def test_stdin_count_limits_lines(server, listen) -> None:
    listener = listen(b"pc.limit")
    result = publish("-u", server.url, "pc.limit", "--count", "2", stdin=b"a\nb\nc\n")
    assert result.returncode == 0 and b"published 2 messages" in result.stderr
    assert payloads(listener, 3, timeout=1) == [b"a", b"b"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("",), "the channel name is empty"),
        (("c", "m", "--file", "x"), "give MESSAGE or --file, not both"),
        (("c", "--file", "/nonexistent/x"), "--file /nonexistent/x: no such file"),
        (("c", "--rate", "5", "--interval", "1"), "not allowed with argument"),
        (("c", "--rate", "-1"), "rate -1 must be above 0"),
        (("c", "--count", "0"), "0 must be at least 1"),
        (("c", "--file", "."), "--file .: is a directory"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: tuple[str, ...], words: str) -> None:
    line = one_line_error(_text(publish("-p", "1", *args)), 2)
    assert words in line


def test_unreachable_server_is_one_line_and_exit_1() -> None:
    line = one_line_error(_text(publish("-p", "1", "c", "m")), 1)
    assert "connection refused" in line


def test_a_refused_publish_stops_and_says_how_many_went(server_factory) -> None:
    """ACL allows ok.* only: with one message at a time nothing after the refusal is sent."""
    target = server_factory("valkey")
    with redis.Redis.from_url(target.url) as admin:
        admin.execute_command("ACL", "SETUSER", "pub", "on", ">pw", "resetchannels", "&ok")
        admin.execute_command("ACL", "SETUSER", "pub", "+publish", "+ping", "+info", "+hello")
    result = publish("-u", target.url, "--user", "pub", "-a", "pw", "--no-auth-warning", "denied",
                     "secret")  # fmt: skip
    line = one_line_error(_text(result), 1)
    assert line.startswith("rps-tui: published 0 messages to denied in")
    assert "then an error" in line and "No permissions" in line and "secret" not in line


def test_a_server_gone_mid_stream_ends_with_exit_1(server_factory) -> None:
    target = server_factory("valkey")
    listener = Listener(target.url, [b"pc.gone"], [], [])
    proc = start("-u", target.url, "pc.gone")
    try:
        proc.stdin.write(b"before\n")
        proc.stdin.flush()
        assert payloads(listener, 1) == [b"before"]
        listener.close()
        target.stop()
        proc.stdin.write(b"after\n")
        proc.stdin.flush()
        assert proc.wait(timeout=15) == 1
        err = proc.stderr.read().decode()
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "published 1 message to pc.gone" in err and "then an error" in err
        assert "1 more may have been sent" in err  # its reply was lost: we cannot know
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 0, "stopped")])  # fmt: skip
def test_ctrl_c_and_sigterm_end_with_the_summary(server, listen, sig, code, word) -> None:
    listener = listen(b"pc.sig")
    proc = start("-u", server.url, "pc.sig", "-v")
    try:
        proc.stdin.write(b"one\n")
        proc.stdin.flush()
        assert payloads(listener, 1) == [b"one"]
        # its reply read (before, the summary rightly said "0 published, 1 more may have
        # been"): it is waiting on stdin now
        assert proc.stdout.readline() == b"1: 1 receiver\n"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == code
        err = proc.stderr.read().decode()
        assert err == f"{err.splitlines()[0]}\n" and "Traceback" not in err
        assert err.startswith(f"rps-tui: {word}: published 1 message to pc.sig")
    finally:
        proc.kill()
        proc.wait()


def test_spublish_reaches_each_slot_owner_on_a_cluster() -> None:
    with start_cluster("valkey") as cluster:
        channels = [f"pc.s{{{i}}}".encode() for i in range(6)]
        owners = {ch: cluster.owner_of(ch) for ch in channels}
        assert len({o.port for o in owners.values()}) >= 2  # really spread out
        listeners = {}
        try:
            for ch, owner in owners.items():
                listeners[ch] = Listener(f"redis://{owner.host}:{owner.port}", [], [], [ch])
            entry = cluster.primaries()[0]
            for ch in channels:
                args = ("-p", str(entry.port), ch.decode(), "m-{{n}}", "--shard", "--count", "2")
                result = publish(*args, "-v")
                assert result.returncode == 0, result.stderr
                assert result.stdout == b"1: 1 receiver\n2: 1 receiver\n"
                assert b"one node" not in result.stderr  # SPUBLISH counts the shard's
            for ch, listener in listeners.items():
                got = listener.collect(2)
                assert [(m[2], m[3]) for m, _ in got] == [(ch, b"m-1"), (ch, b"m-2")]
            classic = publish("-p", str(entry.port), "pc.classic", "x")
            assert b"counted on one node" in classic.stderr
        finally:
            for listener in listeners.values():
                listener.close()


def _text(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """The same result with stdout and stderr as text (for one_line_error)."""
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def test_publish_through_sentinel_reaches_the_master() -> None:
    with start_sentinel_setup("valkey") as setup:
        where = [arg for h, p in setup.sentinels for arg in ("--sentinel", f"{h}:{p}")]
        listener = Listener(
            f"redis://{setup.primary.host}:{setup.primary.port}", [b"pc.sn"], [], []
        )
        try:
            result = publish(*where, "--master", setup.master_name, "pc.sn", stdin=b"x\n\xff\n")
            assert result.returncode == 0, result.stderr
            assert b"published 2 messages to pc.sn" in result.stderr
            assert payloads(listener, 2) == [b"x", b"\xff"]
        finally:
            listener.close()


def test_stopped_while_a_reply_is_awaited_says_it_may_have_been_sent(server_factory) -> None:
    """The race the summary must be honest about: SIGTERM while PUBLISH waits for its reply
    (the server holds writes: CLIENT PAUSE WRITE). It may have been delivered: say so."""
    target = server_factory("valkey")
    with redis.Redis.from_url(target.url) as admin:
        proc = start("-u", target.url, "pc.paused", "-v")
        try:
            proc.stdin.write(b"first\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == b"1: 0 receivers\n"  # in its loop now
            admin.execute_command("CLIENT", "PAUSE", "5000", "WRITE")
            proc.stdin.write(b"held\n")
            proc.stdin.flush()
            time.sleep(1.0)  # read and sent: its reply is what waits
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            err = proc.stderr.read().decode()
            assert err.startswith("rps-tui: stopped: published 1 message to pc.paused")
            assert err.endswith("no errors (1 more may have been sent)\n")
        finally:
            admin.execute_command("CLIENT", "UNPAUSE")
            proc.kill()
            proc.wait()
