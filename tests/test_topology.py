"""Self-tests of the cluster and sentinel harnesses in tests/support/topology.py, on real
processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from rps_tui.core.embedded.server import ServerProcess
from tests.support.servers import require
from tests.support.topology import Cluster, client_for, start_cluster, start_sentinel_setup

KINDS = ("redis", "valkey")


def _client(node: ServerProcess) -> redis.Redis:
    return client_for(node.host, node.port)


def _next_message(pubsub: redis.client.PubSub, timeout: float = 5.0) -> dict[str, Any] | None:
    """The next data message (subscribe confirmations skipped), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is not None:
            return msg
    return None


def _wait_until(predicate: Callable[[], object], timeout: float) -> float:
    """Poll ``predicate`` (errors count as false); return the seconds it took."""
    start = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except redis.RedisError:
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="module", params=KINDS)
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A shared 3 + 3 cluster per kind for the tests that do not kill anything."""
    require(request.param)
    with start_cluster(request.param) as built:
        yield built


def test_cluster_reaches_ok(cluster: Cluster) -> None:
    assert len(cluster.nodes) == 6
    assert len(cluster.primaries()) == 3
    assert len(cluster.replicas()) == 3
    for node in cluster.nodes:
        with _client(node) as c:
            info = c.execute_command("CLUSTER", "INFO")
        text = info.decode() if isinstance(info, bytes) else str(info)
        assert "cluster_state:ok" in text
    assert cluster.node_for_slot(0) is cluster.nodes[0]
    assert cluster.node_for_slot(16383) is cluster.nodes[2]


def test_publish_is_broadcast_across_nodes(cluster: Cluster) -> None:
    subscriber_node, publisher_node = cluster.nodes[1], cluster.nodes[0]
    with _client(subscriber_node) as sub_client, _client(publisher_node) as pub_client:
        pubsub = sub_client.pubsub()
        try:
            pubsub.subscribe("topo:broadcast")
            assert _next_message(pubsub, timeout=0.2) is None  # drains the confirmation
            pub_client.publish("topo:broadcast", b"hello")
            msg = _next_message(pubsub)
        finally:
            pubsub.close()
    assert msg is not None, "PUBLISH did not reach a subscriber on another node"
    assert msg["data"] == b"hello"


def test_spublish_reaches_ssubscribe_on_slot_owner(cluster: Cluster) -> None:
    channel = b"topo:sharded"
    owner = cluster.owner_of(channel)
    assert owner in cluster.primaries()
    with _client(owner) as sub_client, _client(owner) as pub_client:
        pubsub = sub_client.pubsub()
        try:
            pubsub.ssubscribe(channel)
            assert _next_message(pubsub, timeout=0.2) is None
            receivers = pub_client.spublish(channel, b"sharded hello")
            msg = _next_message(pubsub)
        finally:
            pubsub.close()
    assert receivers == 1
    assert msg is not None and msg["type"] == "smessage"
    assert msg["data"] == b"sharded hello"


@pytest.mark.parametrize("kind", KINDS)
def test_killing_a_primary_promotes_its_replica(kind: str) -> None:
    require(kind)
    with start_cluster(kind) as built:
        primary, replica = built.nodes[0], built.nodes[3]  # replica i follows primary i % 3
        assert replica in built.replicas()
        primary.kill()
        with _client(replica) as c:
            took = _wait_until(lambda: c.info("replication")["role"] == "master", timeout=10)
        _wait_until(lambda: replica in built.primaries(), timeout=5)
        assert built.node_for_slot(0) is replica
    print(f"{kind} cluster failover took {took:.1f}s")


@pytest.mark.parametrize("kind", KINDS)
def test_sentinels_answer_get_master_addr(kind: str) -> None:
    require(kind)
    with start_sentinel_setup(kind) as setup:
        assert len(setup.sentinels) == 3
        for i in range(len(setup.sentinels)):
            assert setup.master_addr(i) == (setup.primary.host, setup.primary.port)


@pytest.mark.parametrize("kind", KINDS)
def test_sentinels_fail_over_to_the_replica(kind: str) -> None:
    require(kind)
    with start_sentinel_setup(kind) as setup:
        setup.wait_discovered(timeout=10)
        setup.primary.kill()
        replica_addr = (setup.replica.host, setup.replica.port)
        took = _wait_until(
            lambda: all(setup.master_addr(i) == replica_addr for i in range(3)), timeout=15
        )
        with _client(setup.replica) as c:
            _wait_until(lambda: c.info("replication")["role"] == "master", timeout=5)
    print(f"{kind} sentinel failover took {took:.1f}s")
