"""Classic and sharded Pub/Sub on a real 3 + 3 cluster: through any node, through a
failover (kill -9) and through a slot move (CLUSTER SETSLOT)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace

import pytest
import redis

from rps_tui.core.connection.commands import Commands
from rps_tui.core.connection.probe import adopt_mode, probe
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.embedded.server import ServerProcess
from rps_tui.core.entry import Gap
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.cluster import ClusterEngine
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.channel_tree import layout as tree_layout
from rps_tui.ui.screens import SubscribeScreen
from tests.support.engine import running
from tests.support.servers import SERVER_KINDS, require
from tests.support.topology import Cluster, client_for, start_cluster
from tests.support.wait import async_wait_for, wait_for

NEWS = Subscription(Kind.CHANNEL, "cl.news")
EVERYTHING = Subscription(Kind.PATTERN, "cl.*")


def settings_for(node: ServerProcess) -> ConnectionSettings:
    return replace(ConnectionSettings(host=node.host, port=node.port), cluster=True)


def name(node: ServerProcess) -> str:
    return f"{node.host}:{node.port}"


def shard_subs(cluster: Cluster, prefix: str) -> dict[int, Subscription]:
    """One sharded channel owned by each primary (port -> subscription)."""
    found: dict[int, Subscription] = {}
    for i in range(200):
        channel = f"{prefix}{{{i}}}"
        owner = cluster.owner_of(channel.encode())
        found.setdefault(owner.port, Subscription(Kind.SHARD, channel))
        if len(found) == len(cluster.primaries()):
            return found
    raise AssertionError("could not find a channel for every primary")


def running_cluster(
    settings: ConnectionSettings, *subs: Subscription
) -> AbstractContextManager[ClusterEngine]:
    return running(ClusterEngine(settings), *subs)


def spublish(cluster: Cluster, sub: Subscription, data: bytes) -> int:
    owner = cluster.owner_of(sub.key)
    with client_for(owner.host, owner.port) as c:
        return int(c.execute_command("SPUBLISH", sub.key, data))


def gaps(engine: ClusterEngine, sub: Subscription) -> list[Gap]:
    return [e[1] for e in engine.store.subs[sub].buffer if e[0] is None]


@pytest.fixture(scope="module", params=SERVER_KINDS)
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """One healthy cluster per kind, shared by the tests that do not break it (the slot
    move comes last and leaves it healthy)."""
    require(request.param)
    with start_cluster(request.param) as built:
        yield built


def test_a_cluster_node_is_recognised_without_the_flag(cluster: Cluster) -> None:
    """Valkey 8+ says `server_mode`, Redis `redis_mode`: both must be read."""
    node = cluster.nodes[0]
    plain = ConnectionSettings(host=node.host, port=node.port)
    info = probe(plain)
    assert info.mode == "cluster"
    settings, note = adopt_mode(plain, info, "")
    assert settings.cluster and note == "cluster mode detected"
    assert adopt_mode(settings_for(node), info, "")[0].cluster


def test_classic_and_sharded_arrive_through_every_node(cluster: Cluster) -> None:
    shards = shard_subs(cluster, "cl.shd")
    seed = cluster.replicas()[0]  # any node will do, even a replica
    with running_cluster(settings_for(seed), NEWS, EVERYTHING, *shards.values()) as engine:
        for node in cluster.nodes:
            with client_for(node.host, node.port) as c:
                c.publish("cl.news", f"via {node.port}")
        for port, sub in shards.items():
            assert spublish(cluster, sub, f"to {port}".encode()) == 1
        subs = engine.store.subs
        wait_for(lambda: subs[NEWS].total == len(cluster.nodes))
        wait_for(lambda: all(subs[s].total == 1 for s in shards.values()))
        assert subs[EVERYTHING].total == len(cluster.nodes)
        # one connection per owning primary, and the table says which node served what
        assert set(engine.links) == {f"127.0.0.1:{port}" for port in shards}
        for port, sub in shards.items():
            assert engine.home_of(sub) == f"127.0.0.1:{port}"
            assert engine.store.channels[sub.key].node == f"127.0.0.1:{port}"
        assert engine.store.channels[b"cl.news"].node == engine.classic.node
        assert engine.store.total == 2 * len(cluster.nodes) + len(shards)


def test_counts_are_summed_over_the_nodes(cluster: Cluster) -> None:
    """Each node counts only its own subscribers: a single node's NUMSUB would be wrong."""
    shard = next(iter(shard_subs(cluster, "cl.count").values()))
    with running_cluster(settings_for(cluster.nodes[0]), NEWS, shard) as engine:
        other = next(n for n in cluster.nodes if name(n) != engine.classic.node)
        extra = client_for(other.host, other.port).pubsub()
        extra.subscribe("cl.news")
        wait_for(lambda: extra.get_message(timeout=0.1) is not None)

        async def ask() -> tuple:
            commands = Commands(settings_for(cluster.nodes[0]))
            commands.nodes = engine.nodes
            try:
                return (
                    await commands.numsub([b"cl.news"]),
                    await commands.numsub([shard.key], sharded=True),
                    await commands.active_channels("cl.*"),
                    await commands.active_channels("cl.*", sharded=True),
                    await commands.publish(shard.name, "through RedisCluster", sharded=True),
                )
            finally:
                await commands.close()

        try:
            numsub, shardnumsub, active, active_sharded, receivers = asyncio.run(ask())
        finally:
            extra.close()
        assert numsub == {b"cl.news": 2}
        assert shardnumsub == {shard.key: 1}
        assert b"cl.news" in active
        assert active_sharded == [shard.key]
        assert receivers == 1  # SPUBLISH routed to the slot owner
        wait_for(lambda: engine.store.subs[shard].total == 1)


async def test_app_subscribes_and_spublishes_on_a_cluster(cluster: Cluster) -> None:
    if cluster.kind != "valkey":
        pytest.skip("the screen is the same on both kinds: one run is enough")
    shard = next(iter(shard_subs(cluster, "cl.app").values()))
    app = RpsApp(AppConfig(settings=settings_for(cluster.nodes[1]), monitor=False))
    async with app.run_test(size=(160, 45)) as pilot:
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
        await pilot.press(*shard.name)
        app.screen.query_one("#subscribe-kind").value = Kind.SHARD.value
        await pilot.press("enter")
        await async_wait_for(
            lambda: (
                shard in app.session.store.subs
                and app.session.store.subs[shard].status is Status.ACTIVE
            )
        )
        await async_wait_for(lambda: app.dashboard.selected == shard)
        box = app.dashboard.publish_box
        assert box.sharded and box.channel_input.value == shard.name
        await pilot.press("i", *"hello shard", "enter")
        await async_wait_for(lambda: app.session.store.subs[shard].total == 1)
        await async_wait_for(lambda: "1 receiver" in str(box.query_one("#publish-result").render()))
        app.dashboard.refresh_counts()
        await pilot.pause(0.1)
        owner = cluster.owner_of(shard.key)
        assert app.dashboard.stats_table.get_cell(shard.key, "node") == name(owner)
        await pilot.press("escape", "t")  # out of the publish box; the tree names the node too
        tree = app.dashboard.channel_tree
        row = next(i for i, (node, _) in enumerate(tree.rows) if node.key == shard.key)
        columns = [c.key for c, _ in tree_layout(tree.scrollable_content_region.width, True)]
        assert dict(zip(columns, tree.get_row_at(row), strict=True))["node"] == name(owner)


async def test_the_server_monitor_watches_the_classic_connection(cluster: Cluster) -> None:
    """The header's rounds on a cluster: the buffer of the classic connection on its node,
    the round trip, and no fault of the monitor's own."""
    from rps_tui.core.connection.commands import Commands
    from rps_tui.core.monitor import ServerMonitor

    settings = settings_for(cluster.nodes[0])
    engine = ClusterEngine(settings)
    commands = Commands(settings)
    commands.nodes = engine.nodes
    monitor = ServerMonitor(commands, engine, engine.store)
    with running(engine, NEWS):
        try:
            await monitor.round()
            await monitor.round()
        finally:
            await commands.close()
    assert monitor.omem is not None and monitor.omem.value == 0
    assert monitor.rtt_ms is not None and monitor.rounds == 2
    assert not [e for e in engine.events if "server monitor" in e.text]


def test_a_moved_reply_to_ssubscribe_is_reported(cluster: Cluster) -> None:
    """A connection that reaches the wrong node (a stale map) hands the channel back to
    the coordinator instead of calling it refused."""
    shard = next(iter(shard_subs(cluster, "cl.stale").values()))
    wrong = next(p for p in cluster.primaries() if p.port != cluster.owner_of(shard.key).port)
    reported: list[tuple[Subscription, str]] = []
    engine = Engine(ConnectionSettings(host=wrong.host, port=wrong.port))
    engine.on_moved = lambda sub, reason: reported.append((sub, reason))
    with running(engine, wait=False):
        engine.subscribe(shard)
        wait_for(lambda: reported)
    assert reported == [(shard, "the node answered MOVED")]
    assert (
        engine.store.subs[shard].status is Status.PENDING and engine.store.subs[shard].error is None
    )


def test_keyspace_notifications_are_heard_from_every_primary(cluster: Cluster) -> None:
    """Each primary publishes the events of its own keys only: one classic connection
    would hear a third of them."""
    primaries = cluster.primaries()
    keys = {}  # primary port -> a key it owns
    for i in range(300):
        keys.setdefault(cluster.owner_of(f"ks{{{i}}}".encode()).port, f"ks{{{i}}}")
    assert len(keys) == len(primaries)
    for node in cluster.nodes:
        with client_for(node.host, node.port) as c:
            c.config_set("notify-keyspace-events", "KEA")
    space = Subscription(Kind.PATTERN, "__keyspace@0__:ks*")
    try:
        with running_cluster(settings_for(cluster.nodes[0]), space, NEWS) as engine:
            assert set(engine.links) == {name(p) for p in primaries}
            # "active" once one node confirmed it: wait until every primary listens (a key
            # set on a primary whose link had not subscribed yet made this test flake once)
            wait_for(lambda: all(_numpat(p) == 1 for p in primaries))
            for port, key in keys.items():
                with client_for("127.0.0.1", port) as c:
                    c.set(key, "v")
            wait_for(lambda: engine.store.subs[space].total == len(keys))
            served = {
                engine.store.channels[f"__keyspace@0__:{k}".encode()].node for k in keys.values()
            }
            assert served == {f"127.0.0.1:{port}" for port in keys}
            engine.unsubscribe(space)
            wait_for(lambda: space not in engine.store.subs)
            wait_for(lambda: all(_numpat(p) == 0 for p in primaries))
            wait_for(lambda: not engine.links)  # nothing left to listen to on the primaries
    finally:
        for node in cluster.nodes:
            with client_for(node.host, node.port) as c:
                c.config_set("notify-keyspace-events", "")


def _numpat(node: ServerProcess) -> int:
    with client_for(node.host, node.port) as c:
        return int(c.execute_command("PUBSUB", "NUMPAT"))


def begin_move(
    cluster: Cluster, shard: Subscription
) -> tuple[ServerProcess, ServerProcess, int, str]:
    """Start moving the channel's slot to another primary (IMPORTING, MIGRATING), after
    deleting its keys (another test's `ks{0}` shares `cl.move{0}`'s slot, and a node refuses
    to give away a slot that holds keys); (source, target, slot, target id)."""
    source = cluster.owner_of(shard.key)
    target = next(p for p in cluster.primaries() if p.port != source.port)
    slot = cluster.keyslot(shard.key)
    source_id, target_id = cluster.ids[source.port], cluster.ids[target.port]
    with client_for(source.host, source.port) as c:
        keys = c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        if keys:
            c.delete(*keys)
    with client_for(target.host, target.port) as c:
        c.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    with client_for(source.host, source.port) as c:
        c.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    return source, target, slot, target_id


def test_slot_move_rehomes_the_sharded_channel(cluster: Cluster) -> None:
    shard = next(iter(shard_subs(cluster, "cl.move").values()))
    with running_cluster(settings_for(cluster.nodes[0]), shard) as engine:
        assert spublish(cluster, shard, b"before") == 1
        source, target, slot, target_id = begin_move(cluster, shard)
        for node in (target, source, *cluster.primaries()):
            with client_for(node.host, node.port) as c:
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        # the server pushes sunsubscribe; the engine re-reads the map and moves the channel
        wait_for(lambda: engine.home_of(shard) == name(target), timeout=10)
        wait_for(lambda: engine.store.subs[shard].status is Status.ACTIVE)
        assert cluster.owner_of(shard.key).port == target.port
        assert spublish(cluster, shard, b"after") == 1
        wait_for(lambda: engine.store.subs[shard].total == 2)
        payloads = [e[-2] for e in engine.store.subs[shard].buffer if e[0] is not None]
        assert payloads == [b"before", b"after"]
        (gap,) = gaps(engine, shard)
        assert gap.reason == f"its slot moved, {name(source)} → {name(target)}"
        assert any("moved from" in e.text for e in engine.events)


def test_a_slot_move_the_map_shows_late_is_still_named_as_a_move(cluster: Cluster) -> None:
    """The source and target agree on the move (the source pushes sunsubscribe) 1.5 s before
    the other nodes learn of it: a map read from one of those sends the engine back to the
    source, which answers MOVED; the gap still names the move itself (a flake of the test
    above, provoked on purpose here)."""
    shard = next(iter(shard_subs(cluster, "cl.late").values()))
    with running_cluster(settings_for(cluster.nodes[0]), shard) as engine:
        source, target, slot, target_id = begin_move(cluster, shard)
        for node in (target, source):  # the order redis-cli uses when it reshards
            with client_for(node.host, node.port) as c:
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        time.sleep(1.5)  # the third primary (and the replicas) still name the source
        for node in cluster.primaries():
            with client_for(node.host, node.port) as c:
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        wait_for(lambda: engine.home_of(shard) == name(target), timeout=10)
        wait_for(lambda: engine.store.subs[shard].status is Status.ACTIVE)
        found = gaps(engine, shard)
        assert len(found) == 1, found
        assert found[0].reason == f"its slot moved, {name(source)} → {name(target)}"


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_primary_killed_replica_promoted_subscriptions_restored(kind: str) -> None:
    require(kind)
    with start_cluster(kind) as cluster:
        victim = cluster.nodes[0]
        shards = shard_subs(cluster, "cl.fail")
        doomed = shards[victim.port]
        for node in cluster.nodes:  # keyspace events, on the replicas too: one is promoted
            with client_for(node.host, node.port) as c:
                c.config_set("notify-keyspace-events", "KEA")
        sets = Subscription(Kind.CHANNEL, "__keyevent@0__:set")
        # seeded at the victim: the classic connection starts there and must move too
        subs = (NEWS, sets, *shards.values())
        with running_cluster(settings_for(victim), *subs) as engine:
            assert engine.classic.node == name(victim)
            assert engine.home_of(doomed) == name(victim)
            victim.kill()
            started = time.monotonic()
            wait_for(lambda: cluster.owner_of(doomed.key).port != victim.port, timeout=20)
            promoted = cluster.owner_of(doomed.key)
            wait_for(lambda: engine.home_of(doomed) == name(promoted), timeout=10)
            wait_for(lambda: engine.store.subs[doomed].status is Status.ACTIVE)
            wait_for(lambda: engine.store.subs[NEWS].status is Status.ACTIVE)
            wait_for(lambda: engine.state is State.CONNECTED)
            recovered = time.monotonic() - started
            assert engine.classic.node != name(victim)
            assert spublish(cluster, doomed, b"after failover") == 1
            survivor = next(n for n in cluster.nodes if n.is_running())
            with client_for(survivor.host, survivor.port) as c:
                c.publish("cl.news", "after failover")
            wait_for(lambda: engine.store.subs[doomed].total == 1)
            wait_for(lambda: engine.store.subs[NEWS].total == 1)
            (gap,) = gaps(engine, doomed)
            assert gap.reason == f"its node failed, {name(victim)} → {name(promoted)}"
            assert gap.seconds < recovered + 1
            assert len(gaps(engine, NEWS)) == 1
            for port, sub in shards.items():  # the other shards were not disturbed
                if port != victim.port:
                    assert gaps(engine, sub) == []
                    assert engine.home_of(sub) == f"127.0.0.1:{port}"
            assert victim.port not in {int(n.rsplit(":", 1)[1]) for n in engine.links}
            # keyspace events of the promoted node's keys are heard there now
            wait_for(lambda: name(promoted) in (engine.home_of(sets) or ""))
            wait_for(lambda: engine.store.subs[sets].status is Status.ACTIVE)
            with client_for(promoted.host, promoted.port) as c:
                c.set(doomed.key, "after failover")  # a key in the slot the victim owned
            wait_for(lambda: engine.store.subs[sets].total == 1)
            (gap,) = gaps(engine, sets)
            assert gap.reason == f"its node {name(victim)} failed"
        with pytest.raises(redis.ConnectionError):
            client_for(victim.host, victim.port).ping()
