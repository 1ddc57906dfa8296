"""The subscriber engine against real servers: counts, buffers, confirmations, reconnects."""

from __future__ import annotations

import threading

import redis

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Status, Subscription
from tests.support.engine import running_engine
from tests.support.wait import wait_for


def test_channel_and_pattern_counts_are_exact(server, redis_client: redis.Redis) -> None:
    chan = Subscription(Kind.CHANNEL, "eng.plain")
    pat = Subscription(Kind.PATTERN, "eng.p.*")
    with running_engine(server.url, chan, pat, history=100) as engine:
        assert redis_client.pubsub_numsub("eng.plain") == [(b"eng.plain", 1)]
        assert redis_client.pubsub_numpat() >= 1
        pipe = redis_client.pipeline(transaction=False)
        for i in range(20_000):
            pipe.publish(f"eng.p.{i % 7}", f"m{i}")
        pipe.publish("eng.plain", "hello")
        pipe.execute()
        store = engine.store
        wait_for(lambda: store.subs[pat].total == 20_000 and store.subs[chan].total == 1)
        assert len(store.subs[pat].buffer) == 100  # bounded by history
        assert store.subs[pat].buffer[-1][:4] == [b"pmessage", b"eng.p.*", b"eng.p.0", b"m19999"]
        per_channel = {c: s.count for c, s in store.channels.items() if c.startswith(b"eng.p.")}
        assert sum(per_channel.values()) == 20_000 and len(per_channel) == 7
        assert store.channels[b"eng.plain"].bytes == 5


def test_unsubscribe_is_seen_by_the_server(server, redis_client: redis.Redis) -> None:
    chan = Subscription(Kind.CHANNEL, "eng.unsub")
    with running_engine(server.url, chan) as engine:
        engine.unsubscribe(chan)
        wait_for(lambda: redis_client.pubsub_numsub("eng.unsub") == [(b"eng.unsub", 0)])
        assert chan not in engine.store.subs and engine.subscriptions == []


def test_binary_names_and_payloads_round_trip(server, redis_client: redis.Redis) -> None:
    sub = Subscription(Kind.PATTERN, "eng.bin.*")
    with running_engine(server.url, sub) as engine:
        payload = bytes(range(256)) * 4
        redis_client.publish(b"eng.bin.\xff\n[x]", payload)
        wait_for(lambda: engine.store.subs[sub].total == 1)
        channel, data = engine.store.subs[sub].buffer[0][-3:-1]
        assert (channel, data) == (b"eng.bin.\xff\n[x]", payload)


def test_refused_subscription_does_not_stop_the_others(server_factory) -> None:
    srv = server_factory("valkey")
    admin = redis.Redis.from_url(srv.url)
    admin.acl_setuser(
        "limited", enabled=True, passwords=["+pw"], commands=["+@all"], channels=["ok.*"]
    )
    ok = Subscription(Kind.CHANNEL, "ok.1")
    denied = Subscription(Kind.CHANNEL, "secret")
    url = srv.url.replace("redis://", "redis://limited:pw@")
    engine = Engine(parse_url(url), Store())
    engine.subscribe(denied)
    engine.subscribe(ok)
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: engine.store.subs[denied].status is Status.ERROR)
        assert "NOPERM" in (engine.store.subs[denied].error or "")
        wait_for(lambda: engine.store.subs[ok].status is Status.ACTIVE)
        admin.publish("ok.1", "fine")
        wait_for(lambda: engine.store.subs[ok].total == 1)
        assert any("refused" in e.text for e in engine.events)
    finally:
        engine.stop()
        thread.join(5)
        admin.close()


def test_restart_reconnects_resubscribes_and_marks_a_gap(server_factory) -> None:
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "eng.restart")
    with running_engine(srv.url, sub) as engine:
        client = redis.Redis.from_url(srv.url)
        client.publish("eng.restart", "before")
        wait_for(lambda: engine.store.subs[sub].total == 1)
        srv.kill()
        wait_for(lambda: engine.state in (State.RECONNECTING, State.CONNECTING))
        srv.restart()
        wait_for(
            lambda: (
                engine.state is State.CONNECTED and engine.store.subs[sub].status is Status.ACTIVE
            )
        )
        client = redis.Redis.from_url(srv.url)
        assert client.pubsub_numsub("eng.restart") == [(b"eng.restart", 1)]
        client.publish("eng.restart", "after")
        wait_for(lambda: engine.store.subs[sub].total == 2)
        kinds = [type(e[-2]) for e in engine.store.subs[sub].buffer]
        assert kinds == [bytes, Gap, bytes]
        client.close()
