"""Test harnesses for Redis Cluster and Sentinel topologies, built from server binaries alone.

No ``redis-cli --cluster`` and no other tooling: slots, meet and replication are set up with
plain commands, and every wait is bounded in time. Every process started here is stopped by
``stop()`` (also when building fails) and dies with the test process (parent-death signal).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.embedded.server import (
    ServerError,
    ServerProcess,
    _binary_for,  # private, but the one place that knows where each kind's binary lives
    _make_preexec,  # private: the same parent-death hook start_server uses
    free_port,
    start_server,
)

__all__ = [
    "SLOTS",
    "Cluster",
    "SentinelSetup",
    "TopologyError",
    "client_for",
    "start_cluster",
    "start_sentinel_setup",
]

HOST = "127.0.0.1"
SLOTS = 16384
_T = TypeVar("_T")
# Diskless full sync waits 5 s by default for more replicas to join; start it at once.
_FAST_SYNC = ("--repl-diskless-sync-delay", "0")


class TopologyError(Exception):
    """A cluster or sentinel setup did not come up in time."""


def client_for(host: str, port: int, timeout: float = 1.0) -> redis.Redis:
    """A plain client with short timeouts and no retries (callers poll on their own)."""
    return redis.Redis(
        host=host,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _wait(what: str, probe: Callable[[], _T | None], timeout: float) -> _T:
    """Poll ``probe`` until it returns something truthy; errors count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
        except (redis.RedisError, OSError) as exc:
            value, last = None, exc
        else:
            last = value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TopologyError(f"{what}: not within {timeout:g}s (last: {last!r})")
        time.sleep(0.05)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------- cluster


@dataclass(eq=False)
class Cluster:
    """A running cluster: ``nodes[:primaries]`` started as primaries, the rest as replicas."""

    kind: str
    nodes: list[ServerProcess]
    ids: dict[int, str] = field(default_factory=dict)  # port -> node id
    initial_primaries: int = 0
    _stopped: bool = field(default=False, repr=False)

    def client(self, node: ServerProcess) -> redis.Redis:
        return client_for(node.host, node.port)

    def _alive(self) -> list[ServerProcess]:
        return [n for n in self.nodes if n.is_running()]

    def _roles(self) -> dict[int, str]:
        """port -> "master" | "slave" as the live nodes see it now (dead nodes are left out)."""
        for node in self._alive():
            try:
                with self.client(node) as c:
                    text = _text(c.execute_command("CLUSTER", "NODES"))
            except redis.RedisError:
                continue
            roles: dict[int, str] = {}
            for line in text.splitlines():
                parts = line.split()
                port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
                flags = parts[2].split(",")
                if "fail" in flags or "fail?" in flags:
                    continue
                roles[port] = "master" if "master" in flags else "slave"
            return roles
        raise TopologyError("no cluster node answers")

    def primaries(self) -> list[ServerProcess]:
        """Live nodes that are primaries now (after a failover, a promoted replica counts)."""
        roles = self._roles()
        return [n for n in self._alive() if roles.get(n.port) == "master"]

    def replicas(self) -> list[ServerProcess]:
        roles = self._roles()
        return [n for n in self._alive() if roles.get(n.port) == "slave"]

    def node_for_slot(self, slot: int) -> ServerProcess:
        """The node serving ``slot`` now, from CLUSTER SLOTS on the first node that answers."""
        by_port = {n.port: n for n in self.nodes}
        for node in self._alive():
            try:
                with self.client(node) as c:
                    ranges = c.execute_command("CLUSTER", "SLOTS")
            except redis.RedisError:
                continue
            for entry in ranges:
                # redis-py may parse this into a dict {(start, end): {...}}; handle both shapes
                if isinstance(ranges, dict):
                    start, end = entry
                    port = int(ranges[entry]["primary"][1])
                else:
                    start, end, primary = int(entry[0]), int(entry[1]), entry[2]
                    port = int(primary[1])
                if start <= slot <= end:
                    return by_port[port]
            raise TopologyError(f"slot {slot} is not served")
        raise TopologyError("no cluster node answers")

    def keyslot(self, key: bytes) -> int:
        for node in self._alive():
            try:
                with self.client(node) as c:
                    return int(c.execute_command("CLUSTER", "KEYSLOT", key))
            except redis.RedisError:
                continue
        raise TopologyError("no cluster node answers")

    def owner_of(self, channel: bytes) -> ServerProcess:
        """The primary owning ``channel``'s slot (where SPUBLISH / SSUBSCRIBE must go)."""
        return self.node_for_slot(self.keyslot(channel))

    def stop(self) -> None:
        """Stop every node (also killed ones: removes their temp dirs). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for node in reversed(self.nodes):
            with contextlib.suppress(Exception):
                node.stop(timeout=2.0)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _slot_ranges(primaries: int) -> list[tuple[int, int]]:
    step, extra = divmod(SLOTS, primaries)
    ranges, start = [], 0
    for i in range(primaries):
        end = start + step + (1 if i < extra else 0) - 1
        ranges.append((start, end))
        start = end + 1
    return ranges


def start_cluster(
    kind: str = "redis", primaries: int = 3, replicas_each: int = 1, timeout: float = 20
) -> Cluster:
    """Start ``primaries * (1 + replicas_each)`` nodes and join them into one healthy cluster.

    Returns once every node reports ``cluster_state:ok`` and sees every other node, each
    replica follows its primary and its replication link is up.
    """
    if primaries < 1 or replicas_each < 0:
        raise ValueError("need at least one primary and a non-negative replica count")
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    total = primaries * (1 + replicas_each)
    cluster = Cluster(kind=kind, nodes=[], initial_primaries=primaries)
    try:
        for _ in range(total):
            args = [
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "1000",
                # the bus port defaults to port + 10000, which may be taken or above 65535
                "--cluster-port", str(free_port()),
                *_FAST_SYNC,
            ]  # fmt: skip
            cluster.nodes.append(start_server(kind, extra_args=args, timeout=left()))
        clients = [cluster.client(n) for n in cluster.nodes]
        try:
            _build(cluster, clients, primaries, replicas_each, left)
        finally:
            for c in clients:
                c.close()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _build(
    cluster: Cluster,
    clients: list[redis.Redis],
    primaries: int,
    replicas_each: int,
    left: Callable[[], float],
) -> None:
    nodes = cluster.nodes
    for node, c in zip(nodes, clients, strict=True):
        cluster.ids[node.port] = _text(c.execute_command("CLUSTER", "MYID"))
    for c, (start, end) in zip(clients, _slot_ranges(primaries), strict=False):
        c.execute_command("CLUSTER", "ADDSLOTSRANGE", start, end)
    first = nodes[0]
    for c in clients[1:]:
        bus_port = first.extra_args[first.extra_args.index("--cluster-port") + 1]
        c.execute_command("CLUSTER", "MEET", first.host, first.port, bus_port)

    def joined() -> bool:
        for c in clients:
            info = _text(c.execute_command("CLUSTER", "INFO"))
            if "cluster_state:ok" not in info:
                return False
            if len(_text(c.execute_command("CLUSTER", "NODES")).splitlines()) != len(nodes):
                return False
        return True

    _wait("cluster_state:ok on every node", joined, left())

    pairs: list[tuple[int, int]] = []  # (replica index, primary index)
    for r in range(replicas_each):
        for p in range(primaries):
            pairs.append((primaries + r * primaries + p, p))
    for ri, pi in pairs:
        primary_id = cluster.ids[nodes[pi].port]
        # the replica may not know the primary's id for a moment after the join
        _wait(
            f"CLUSTER REPLICATE on :{nodes[ri].port}",
            lambda ri=ri, pid=primary_id: clients[ri].execute_command("CLUSTER", "REPLICATE", pid),
            left(),
        )

    def replicating() -> bool:
        for ri, pi in pairs:
            want = cluster.ids[nodes[pi].port]
            me = cluster.ids[nodes[ri].port]
            for c in clients:  # every node must see the replica as a slave of its primary
                line = next(
                    (ln for ln in _text(c.execute_command("CLUSTER", "NODES")).splitlines()
                     if ln.startswith(me)),
                    "",
                )  # fmt: skip
                parts = line.split()
                if len(parts) < 4 or "slave" not in parts[2] or parts[3] != want:
                    return False
            if clients[ri].info("replication").get("master_link_status") != "up":
                return False
        return True

    if pairs:
        _wait("replicas following their primaries", replicating, left())


# --------------------------------------------------------------------------- sentinel


_LIVE_SENTINELS: set[_Sentinel] = set()  # stopped at exit, like start_server's servers


@atexit.register
def _stop_sentinels_at_exit() -> None:
    for sentinel in list(_LIVE_SENTINELS):
        with contextlib.suppress(Exception):
            sentinel.stop(timeout=1.0)


@dataclass(eq=False)
class _Sentinel:
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path

    def stop(self, timeout: float = 2.0) -> None:
        _LIVE_SENTINELS.discard(self)
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5.0)
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass(eq=False)
class SentinelSetup:
    """One primary, one replica and three sentinels monitoring them as ``mymaster``."""

    kind: str
    primary: ServerProcess
    replica: ServerProcess
    _sentinels: list[_Sentinel] = field(default_factory=list, repr=False)
    master_name: str = "mymaster"
    _stopped: bool = field(default=False, repr=False)

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """The sentinels' (host, port) addresses."""
        return [(HOST, s.port) for s in self._sentinels]

    @property
    def sentinel_pids(self) -> list[int]:
        return [s.process.pid for s in self._sentinels]

    def master_addr(self, index: int = 0) -> tuple[str, int] | None:
        """What sentinel ``index`` says the master's address is (None if it has no answer)."""
        host, port = self.sentinels[index]
        with client_for(host, port) as c:
            reply = c.execute_command("SENTINEL", "get-master-addr-by-name", self.master_name)
        if not reply:
            return None
        if isinstance(reply, (tuple, list)):
            return _text(reply[0]), int(reply[1])
        return None

    def wait_discovered(self, timeout: float = 10.0) -> None:
        """Wait until every sentinel knows the replica and the two other sentinels.

        Sentinels find each other through hello messages every 2 s; a failover needs that.
        """

        def known() -> bool:
            for host, port in self.sentinels:
                with client_for(host, port) as c:
                    others = c.execute_command("SENTINEL", "sentinels", self.master_name)
                    replicas = c.execute_command("SENTINEL", "replicas", self.master_name)
                if len(others) < len(self.sentinels) - 1 or not replicas:
                    return False
            return True

        _wait("sentinels discovering each other", known, timeout)

    def stop(self) -> None:
        """Stop sentinels, replica and primary (killed ones too). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for s in self._sentinels:
            with contextlib.suppress(Exception):
                s.stop()
        for server in (self.replica, self.primary):
            with contextlib.suppress(Exception):
                server.stop(timeout=2.0)

    def __enter__(self) -> SentinelSetup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _start_sentinel(binary: Path, master_port: int, extra: Sequence[str] = ()) -> _Sentinel:
    """Run ``<binary> <conf> --sentinel``.

    Not through start_server: its command line puts options first, and the config path must
    come first (the server rewrites that file, so it lives in the sentinel's own temp dir).
    """
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"rps-tui-sentinel-{port}-"))
    conf = workdir / "sentinel.conf"
    conf.write_text(
        "\n".join(
            [
                f"port {port}",
                f"bind {HOST}",
                f"dir {workdir}",
                f"logfile {workdir / 'server.log'}",
                "daemonize no",
                f"sentinel monitor mymaster {HOST} {master_port} 2",
                "sentinel down-after-milliseconds mymaster 1000",
                "sentinel failover-timeout mymaster 5000",
                *extra,
                "",
            ]
        )
    )
    with open(workdir / "stdout.log", "ab") as out:
        proc = subprocess.Popen(
            [str(binary), str(conf), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            close_fds=True,
            start_new_session=True,
            preexec_fn=_make_preexec(os.getpid()),
        )
    sentinel = _Sentinel(port=port, process=proc, workdir=workdir)
    _LIVE_SENTINELS.add(sentinel)
    return sentinel


def start_sentinel_setup(kind: str = "redis", timeout: float = 15.0) -> SentinelSetup:
    """Start a primary, a replica of it and three sentinels; return once all three answer
    ``SENTINEL get-master-addr-by-name mymaster``."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    binary = _binary_for(kind)
    primary = start_server(kind, extra_args=_FAST_SYNC, timeout=left())
    replica: ServerProcess | None = None
    sentinels: list[_Sentinel] = []
    setup: SentinelSetup | None = None
    try:
        args = ["--replicaof", primary.host, str(primary.port), *_FAST_SYNC]
        replica = start_server(kind, extra_args=args, timeout=left())
        for _ in range(3):
            sentinels.append(_start_sentinel(binary, primary.port))
        setup = SentinelSetup(kind=kind, primary=primary, replica=replica, _sentinels=sentinels)

        def answering() -> bool:
            for s in sentinels:
                if s.process.poll() is not None:
                    log = (s.workdir / "stdout.log").read_text(errors="replace").strip()
                    raise ServerError(f"sentinel on :{s.port} exited: {log[-300:]}")
            return all(setup.master_addr(i) for i in range(len(sentinels)))

        _wait("sentinels answering get-master-addr-by-name", answering, left())
    except BaseException:
        if setup is not None:
            setup.stop()
        else:
            for s in sentinels:
                s.stop()
            if replica is not None:
                replica.stop(timeout=2.0)
            primary.stop(timeout=2.0)
        raise
    return setup
