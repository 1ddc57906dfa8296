"""`rps-tui bench` against real servers: counts, outputs, a server killed mid-run, a cluster,
Ctrl-C, usage errors. Each run is short: a few thousand messages or a couple of seconds."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rps_tui.cli import parse_command
from rps_tui.core.connection.settings import UsageError
from rps_tui.core.embedded.server import ServerProcess
from tests.support.cli import one_line_error, run_cli
from tests.support.topology import start_cluster, start_sentinel_setup

LATENCY_ORDER = ("p50", "p90", "p99", "p99.9", "max")


def bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_cli("bench", *args, timeout=timeout)


def bench_json(*args: str) -> dict:
    result = bench(*args, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_short_run_delivers_everything_once(server: ServerProcess) -> None:
    data = bench_json(
        "-p", str(server.port), "--publishers", "2", "--subscribers", "2", "--channels", "3",
        "--messages", "2000",
    )  # fmt: skip
    assert data["complete"] and data["error"] is None
    assert data["published"] == 2000
    assert data["expected"] == data["delivered"] == 4000
    assert data["lost"] == data["duplicates"] == 0
    assert [s["delivered"] for s in data["subscribers"]] == [2000, 2000]
    latency = data["latency_us"]
    assert latency["count"] == 4000
    values = [latency[k] for k in LATENCY_ORDER]
    assert values == sorted(values) and values[0] > 0


def test_table_says_ok(server: ServerProcess) -> None:
    result = bench("-p", str(server.port), "--messages", "500", "--pattern", "--channels", "2")
    assert result.returncode == 0, result.stderr
    assert "OK: no loss, no duplicates (500 of 500 delivered)" in result.stdout
    for word in ("published", "subscriber 1", "p99.9", "omem"):
        assert word in result.stdout


def test_json_schema(server: ServerProcess) -> None:
    data = bench_json("-p", str(server.port), "--rate", "2000", "--duration", "0.5", "--size", "20")
    types = {
        "schema": str, "server": str, "address": str, "config": dict, "complete": bool,
        "interrupted": bool, "seconds": float, "published": int, "published_per_s": float,
        "expected": int, "delivered": int, "delivered_per_s": float, "lost": int,
        "duplicates": int, "latency_us": dict, "subscribers": list, "max_omem": int,
        "limit_disconnections": (int, type(None)),
    }  # fmt: skip
    assert set(data) == {*types, "error"}
    for key, kind in types.items():
        assert isinstance(data[key], kind), key
    assert data["schema"] == "rps-tui-bench/1"
    assert data["config"] == {
        "publishers": 1, "subscribers": 1, "channels": 1, "size": 20, "rate": 2000.0,
        "duration": 0.5, "messages": None, "pattern": False, "shard": False,
    }  # fmt: skip
    assert data["published"] == 1000  # at a fixed rate: rate x duration, on time
    assert set(data["latency_us"]) == {*LATENCY_ORDER, "mean", "count"}
    (sub,) = data["subscribers"]
    assert set(sub) == {
        "delivered", "delivered_per_s", "lost", "duplicates", "omem", "dropped", "dropped_reason",
    }  # fmt: skip


def test_csv_appends_a_row_per_run(server: ServerProcess, tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    for _ in range(2):
        result = bench("-p", str(server.port), "--messages", "300", "--csv", str(path))
        assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2
    assert path.read_text().count("server,address,") == 1
    assert all(r["published"] == "300" and r["lost"] == "0" for r in rows)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rps_tui", "bench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's job
    )


def _wait_publishing(
    proc: subprocess.Popen, processes: int, timeout: float = 30, settle: float = 1.5
) -> set[int]:
    """The bench's processes once they are all up (and a moment for publishing to start)."""
    deadline = time.monotonic() + timeout
    kids: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        kids |= _children(proc.pid)
        if len(kids) >= processes:
            time.sleep(settle)
            return kids | _children(proc.pid)
        time.sleep(0.1)
    raise AssertionError(f"the bench's processes did not start: {kids}")


def test_server_killed_mid_run(server_factory, tmp_path: Path) -> None:
    """Exit 1, one line on stderr, the partial counts on stdout, no process left behind."""
    victim = server_factory("valkey")
    proc = _start("-p", str(victim.port), "--publishers", "2", "--subscribers", "2",
                  "--rate", "5000", "--duration", "60", "--json")  # fmt: skip
    try:
        kids = _wait_publishing(proc, 4)
        victim.kill()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rps-tui: bench stopped: "), err
    data = json.loads(out)
    assert not data["complete"] and data["error"]
    assert data["published"] > 0
    deadline = time.monotonic() + 5
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [k for k in kids if _alive(k)]


def test_ctrl_c_stops_everything(server: ServerProcess) -> None:
    """Ctrl-C as a terminal sends it, to the whole group: the partial counts, exit 130, no
    traceback from any process, none left behind."""
    proc = _start("-p", str(server.port), "--rate", "2000", "--duration", "60")
    try:
        kids = _wait_publishing(proc, 2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "INTERRUPTED" in out and err == ""
    time.sleep(0.5)
    assert not [k for k in kids if _alive(k)]


def test_cluster_delivers_everything() -> None:
    """--shard (SPUBLISH to each slot's owner, a subscriber connection per owner), then
    classic PUBLISH with --pattern (broadcast; subscribers spread over the primaries)."""
    with start_cluster("valkey", primaries=3, replicas_each=0) as cluster:
        port = str(cluster.nodes[0].port)
        sharded = bench_json(
            "-p", port, "--shard", "--channels", "6", "--publishers", "2",
            "--subscribers", "2", "--messages", "3000",
        )  # fmt: skip
        classic = bench_json("-p", port, "--pattern", "--channels", "3", "--subscribers", "3",
                             "--messages", "1000")  # fmt: skip
    assert sharded["server"].endswith("cluster")
    assert sharded["published"] == 3000
    assert sharded["delivered"] == sharded["expected"] == 6000
    assert sharded["lost"] == sharded["duplicates"] == 0
    assert classic["delivered"] == classic["expected"] == 3000
    assert classic["lost"] == classic["duplicates"] == 0


def test_sentinel_master() -> None:
    with start_sentinel_setup("valkey") as setup:
        setup.wait_discovered()
        host, port = setup.sentinels[0]
        data = bench_json(
            "--sentinel", f"{host}:{port}", "--master", setup.master_name,
            "--messages", "2000", "--subscribers", "2",
        )  # fmt: skip
    assert data["address"].startswith("sentinel ")
    assert data["delivered"] == data["expected"] == 4000 and data["lost"] == 0


def _named(pids: set[int], comm: str) -> list[int]:
    found = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                found.append(pid)
        except OSError:
            continue
    return found


def test_dropped_subscriber_is_loss_not_failure(server_factory, server_kind: str) -> None:
    """A subscriber the server drops (its process stopped for a second while 20 MB/s go to a
    server with a 256 KB limit): a completed run, exit 0, that says LOSS and which subscriber was
    dropped; Valkey counts the drop for the limit."""
    limit = ("--client-output-buffer-limit", "pubsub 256kb 128kb 1")
    tiny = server_factory(server_kind, extra_args=limit)
    proc = _start("-p", str(tiny.port), "--size", "1000", "--subscribers", "2",
                  "--rate", "20000", "--duration", "3", "--json")  # fmt: skip
    try:
        _wait_publishing(proc, 3, settle=0.3)
        # a spawned child names itself once its interpreter is up: on a loaded machine that
        # took longer than the 0.3 s above (a full run found none named yet)
        deadline = time.monotonic() + 15
        while not (stopped := _named(_children(proc.pid), "rps-bench-sub")[:1]):
            assert time.monotonic() < deadline, "no process named rps-bench-sub"
            time.sleep(0.05)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(1.0)
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    data = json.loads(out)
    assert data["complete"] and data["lost"] > 0
    dropped = [s for s in data["subscribers"] if s["dropped"]]
    assert len(dropped) == 1 and dropped[0]["lost"] > 0
    assert "server" in dropped[0]["dropped_reason"]
    if server_kind == "valkey":
        assert data["limit_disconnections"] >= 1
        assert "client-output-buffer-limit" in dropped[0]["dropped_reason"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--size", "19"], "--size 19 is below the message header's 20 bytes"),
        (["--rate", "100", "--max"], "not allowed with argument --rate"),
        (["--messages", "10", "--duration", "1"], "not allowed with argument --messages"),
        (["--embedded", "-p", "6379"], "--embedded starts its own server"),
        (["--csv", "/nonexistent-dir/runs.csv"], "--csv /nonexistent-dir/runs.csv: no such"),
        (["--pattern", "--shard"], "not allowed with argument --pattern"),
    ],
)
def test_usage_errors(args: list[str], words: str) -> None:
    line = one_line_error(bench(*args), 2)
    assert words in line


def test_bench_is_a_subcommand_word() -> None:
    """As a bare dashboard SUBSCRIPTION it is refused with the hint, like tail."""
    with pytest.raises(UsageError, match="is a subcommand and goes first"):
        parse_command(["orders", "bench"])
    assert "rps-tui bench [options]" in run_cli("--help").stdout


def test_unreachable_server_is_one_line() -> None:
    line = one_line_error(bench("-p", "1", "--messages", "10"), 1)
    assert "connection refused" in line
