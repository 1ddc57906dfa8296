"""The dashboard never becomes the problem: history bounded by bytes, a drop for falling
behind seen at once (through a throttling proxy), a monitor that works over a slow link, and
nothing redrawn while nothing changes. Real servers, a real TCP proxy in between."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from rps_tui.core.connection.commands import Commands
from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.store import DEFAULT_MAX_BYTES, MIB, Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import LIMIT_REASON
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Status, Subscription
from tests.support.app import SIZE, active, make_app
from tests.support.engine import monitoring, running
from tests.support.proxy import FaultProxy
from tests.support.wait import async_wait_for, wait_for


def gaps(store: Store, sub: Subscription) -> list[Gap]:
    return [e[-2] for e in store.subs[sub].buffer if e[0] is None]


# -- history bounded by bytes ----------------------------------------------------------------
def test_large_payloads_are_bounded_by_bytes_and_still_counted(server) -> None:
    sub = Subscription(Kind.CHANNEL, "safe.big")
    client = redis.Redis.from_url(server.url)
    store = Store()
    payload = b"x" * MIB
    sent = 100  # 100 MiB through a 64 MiB history
    try:
        with running(Engine(parse_url(server.url), store), sub):
            for i in range(sent):  # at most 8 MiB in flight: under the server's 32 MiB limit
                wait_for(lambda i=i: store.subs[sub].total >= i - 8)
                client.publish("safe.big", payload)
            wait_for(lambda: store.subs[sub].total == sent, timeout=30)
            state = store.subs[sub]
            assert state.bytes == sent * MIB  # counts and bytes stay exact
            assert state.held <= DEFAULT_MAX_BYTES
            assert store.buffered == state.held
            assert len(state.buffer) < sent and state.let_go == sent - len(state.buffer)
            assert store.channels[b"safe.big"].count == sent
    finally:
        client.close()


def test_many_subscriptions_share_one_global_byte_cap(server) -> None:
    subs = [Subscription(Kind.CHANNEL, f"safe.wide.{i}") for i in range(10)]
    client = redis.Redis.from_url(server.url)
    store = Store(max_bytes=8 * MIB, max_total_bytes=32 * MIB)  # 10 x 8 MiB would be 80
    payload = b"y" * (100 * 1024)
    try:
        with running(Engine(parse_url(server.url), store), *subs):
            for i in range(100):  # at most ~8 MB in flight, as above
                wait_for(lambda i=i: store.total >= (i - 8) * 10)
                pipe = client.pipeline(transaction=False)
                for sub in subs:
                    pipe.publish(sub.name, payload)
                pipe.execute()
            wait_for(lambda: store.total == 1000, timeout=30)
            assert store.buffered <= store.max_total_bytes
            assert store.buffered == sum(store.subs[s].held for s in subs)
            assert all(store.subs[s].total == 100 for s in subs)
            assert all(store.subs[s].buffer for s in subs)  # no subscription wiped out
    finally:
        client.close()


async def test_the_pane_says_older_messages_were_let_go_for_size(server) -> None:
    sub = Subscription(Kind.CHANNEL, "safe.pane")
    app = make_app(server.url, sub, history_bytes=4 * MIB)
    client = redis.Redis.from_url(server.url)
    try:
        async with app.run_test(size=SIZE):
            await active(app, sub)
            for i in range(20):
                client.publish("safe.pane", f"{i:04d}".encode() + b"z" * MIB)
            await async_wait_for(lambda: app.session.store.subs[sub].total == 20, timeout=20)
            await async_wait_for(
                lambda: "let go for size" in str(app.dashboard.pane.border_subtitle)
            )
            model = app.dashboard.models[sub]
            await async_wait_for(
                lambda: len(model.lines) == len(app.session.store.subs[sub].buffer)
            )
            assert len(model.lines) < 20
            assert model.lines[-1][-2].startswith(b"0019")
            assert "20 msgs" in str(app.dashboard.pane.border_title)  # the count is exact
    finally:
        client.close()


def test_a_filtered_view_lets_go_of_what_the_store_let_go(server) -> None:
    from rps_tui.ui.pane_model import PaneModel

    sub = Subscription(Kind.CHANNEL, "safe.view")
    store = Store(max_bytes=2 * MIB)
    client = redis.Redis.from_url(server.url)
    model = PaneModel(sub, 10_000)
    model.set_filter("keep")
    try:
        with running(Engine(parse_url(server.url), store), sub):
            for i in range(12):
                client.publish("safe.view", b"keep %d " % i + b"k" * (MIB // 2))
                wait_for(lambda i=i: store.subs[sub].total == i + 1)
                model.pull(store)
            oldest = store.subs[sub].buffer[0][-1]
            assert model.lines and all(line[-1] >= oldest for line in model.lines)
            assert len(model.lines) == len(store.subs[sub].buffer)
    finally:
        client.close()


# -- a drop for falling behind, seen at once -------------------------------------------------


@contextmanager
def behind_a_slow_link(
    port: int, sub: Subscription, period: float
) -> Iterator[tuple[Engine, Store, ServerMonitor]]:
    """An engine and its monitor, both through a proxy that passes 100 KB/s to them."""
    with FaultProxy("127.0.0.1", port) as proxy:
        proxy.set_throttle(100_000)
        store = Store()
        engine = Engine(parse_url(proxy.url()), store)
        monitor = ServerMonitor(Commands(parse_url(proxy.url())), engine, store, period=period)
        with running(engine, sub), monitoring(monitor):
            yield engine, store, monitor


def client_ids(client: redis.Redis) -> set[int]:
    return {int(c["id"]) for c in client.client_list() if c.get("name") == "rps-tui-sub"}


def test_a_drop_for_falling_behind_is_seen_at_once_and_named(server_factory, server_kind) -> None:
    """A buffer that fills over seconds: the monitor sees the subscriber gone from CLIENT
    LIST and the engine listens again while the old connection still delivers."""
    srv = server_factory(server_kind, extra_args=["--client-output-buffer-limit", "pubsub 1mb 0 0"])
    sub = Subscription(Kind.PATTERN, "safe.drop.*")
    direct = redis.Redis(port=srv.port)
    stop = threading.Event()

    def flood() -> None:  # ~400 KB/s into a 100 KB/s link: the buffer grows ~300 KB/s
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            pipe = direct.pipeline(transaction=False)
            for i in range(40):
                pipe.publish(f"safe.drop.{i % 4}", b"d" * 100)
            pipe.execute()
            time.sleep(0.01)

    with behind_a_slow_link(srv.port, sub, period=1.0) as (engine, store, monitor):
        first = engine.client_id
        wait_for(lambda: monitor.omem is not None)
        publisher = threading.Thread(target=flood, daemon=True)
        publisher.start()
        try:
            wait_for(lambda: first not in client_ids(direct), timeout=30)
            dropped_at = time.monotonic()
            # listening again on a new connection while the old one still delivers
            wait_for(lambda: engine.client_id != first, timeout=10)
            assert any(t.is_alive() for t in engine._drainers), "noticed only at EOF"
            noticed = time.monotonic() - dropped_at
        finally:
            stop.set()
            publisher.join(10)
        assert noticed < 5.0  # the monitor's period, not the old socket's tens of seconds
        check_the_gap(engine, store, sub, direct, limit=1_000_000)
        wait_for(lambda: not any(t.is_alive() for t in engine._drainers), timeout=30)
        assert any("more messages at its end" in e.text for e in engine.events)
    direct.close()


def test_a_sudden_drop_is_named_the_same_way(server_factory, server_kind) -> None:
    """A burst fills the buffer between two looks of the monitor (its last look saw it
    empty): on Redis 7.0, which counts no drops, the reason still says so, from the
    server's memory of recent buffers (INFO clients); on Valkey from its counter. (A burst
    that passes the limit within one tick of the server's cron leaves no trace on Redis
    7.0: then the gap says only that the server closed the connection.)"""
    srv = server_factory(server_kind, extra_args=["--client-output-buffer-limit", "pubsub 1mb 0 0"])
    sub = Subscription(Kind.PATTERN, "safe.burst.*")
    direct = redis.Redis(port=srv.port)
    with behind_a_slow_link(srv.port, sub, period=3.0) as (engine, store, monitor):
        first = engine.client_id
        wait_for(lambda: monitor.omem is not None and monitor.omem.value == 0)
        for _ in range(150):  # ~2 MB/s for 1.5 s: full within a second, seen by no look
            pipe = direct.pipeline(transaction=False)
            for i in range(200):
                pipe.publish(f"safe.burst.{i % 4}", b"b" * 100)
            pipe.execute()
            time.sleep(0.01)
        wait_for(lambda: engine.client_id != first, timeout=30)
        check_the_gap(engine, store, sub, direct, limit=1_000_000)
    direct.close()


def check_the_gap(
    engine: Engine, store: Store, sub: Subscription, direct: redis.Redis, limit: int
) -> None:
    wait_for(lambda: store.subs[sub].status is Status.ACTIVE and gaps(store, sub), timeout=15)
    (gap,) = gaps(store, sub)
    assert gap.reason == LIMIT_REASON  # Redis 7.0 (no counter) as Valkey
    assert gap.discarded is not None and gap.discarded >= limit
    assert "discarded" in gap.describe()
    assert engine.state is State.CONNECTED
    direct.publish(f"{sub.name[:-1]}x", "after")  # (the old connection may still deliver)
    wait_for(lambda: any(e[-2] == b"after" for e in list(store.subs[sub].buffer)[-50:]))


# -- the monitor over a slow link --------------------------------------------------------------
async def test_the_monitor_finishes_its_rounds_over_a_slow_link(server_factory) -> None:
    srv = server_factory("valkey", extra_args=["--client-output-buffer-limit", "pubsub 4mb 0 0"])
    sub = Subscription(Kind.CHANNEL, "safe.slow")
    direct = redis.Redis(port=srv.port)
    with FaultProxy("127.0.0.1", srv.port) as proxy:
        app = make_app(proxy.url(), sub)
        async with app.run_test(size=SIZE):
            await active(app, sub)
            proxy.set_delay(0.6)  # a 1.2 s round trip
            proxy.set_throttle(10_000)
            pipe = direct.pipeline(transaction=False)
            for _ in range(3_600):  # ~1 MB goes into socket buffers, over half the limit stays
                pipe.publish("safe.slow", b"s" * 1000)
            pipe.execute()
            await async_wait_for(lambda: (app.dashboard.header.rtt_ms or 0) >= 1200, timeout=30)
            await async_wait_for(
                lambda: (app.dashboard.header.omem or 0) >= 2 * MIB, timeout=30
            )  # 4mb / 2

            # The header shows a round's readings when the round ends (rtt is measured first,
            # obuf second, each a slow round trip here): wait for the screen, not the monitor.
            def shown_rtt() -> float:
                found = re.search(r"rtt ([\d,.]+) ms", str(app.dashboard.status_bar.render()))
                return float(found[1].replace(",", "")) if found else 0.0

            await async_wait_for(lambda: shown_rtt() >= 1200, timeout=15)
            assert "obuf" in str(app.dashboard.status_bar.render())
            await async_wait_for(
                lambda: any("growing backlog" in str(n.message) for n in app._notifications),
                timeout=15,
            )
            rounds = app.dashboard.server_monitor.rounds
            await async_wait_for(lambda: app.dashboard.server_monitor.rounds > rounds, timeout=30)
    direct.close()


def test_an_old_reading_shows_its_age() -> None:
    from rps_tui.core.monitor import Reading
    from rps_tui.core.subscriber.base import State as S
    from rps_tui.ui.status_bar import StatusBar

    bar = StatusBar()
    shown: list[str] = []
    bar.update = lambda text, **_: shown.append(str(text))  # type: ignore[method-assign]
    readings = {"rtt": Reading(1003.1, 100.0), "omem": Reading(5 * MIB, 100.0)}
    common = {"address": "a", "server": "", "state": S.CONNECTED, "detail": "", "total": 1}
    bar.show(**common, **readings, limit=(32 * MIB, 8 * MIB, 60), now=103.0)
    assert "rtt 1,003.1 ms" in shown[-1] and "ago" not in shown[-1]
    bar.show(**common, **readings, limit=(32 * MIB, 8 * MIB, 60), now=300.0)
    assert "rtt 1,003.1 ms (200 s ago)" in shown[-1]
    assert "obuf 5.0 MiB of 8.0 MiB (200 s ago)" in shown[-1]


# -- nothing redrawn while nothing changes ----------------------------------------------------
def test_idle_channels_stop_costing_once_their_sparklines_are_flat(server) -> None:
    sub = Subscription(Kind.PATTERN, "safe.idle.*")
    client = redis.Redis.from_url(server.url)
    store = Store()
    try:
        with running(Engine(parse_url(server.url), store), sub):
            pipe = client.pipeline(transaction=False)
            for i in range(2_000):
                pipe.publish(f"safe.idle.{i}", b"1")
            pipe.execute()
            wait_for(lambda: store.total == 2_000)
        assert len(store.hot) == 2_000
        for samples in range(1, 70):  # noqa: B007 (read after the loop) the engine may have taken one
            store.sample()
            if len(store.hot) < 2_000:
                break
        assert samples >= 59  # the sparkline still showed them until then
        assert not store.hot  # flat for a whole sparkline: no longer sampled
        version = store.version
        store.sample()
        assert store.version == version  # nothing changed: the UI has nothing to redraw
        stats = store.channels[b"safe.idle.7"]
        assert stats.count == 1 and stats.meter.rate == 0.0  # its sparkline has rolled flat
        assert list(stats.meter.history) == [0] * 60
    finally:
        client.close()


@pytest.mark.parametrize("channels", [2_000])
async def test_the_channel_table_is_not_rebuilt_while_nothing_changes(server, channels) -> None:
    sub = Subscription(Kind.PATTERN, "safe.table.*")
    app = make_app(server.url, sub, monitor=False)
    client = redis.Redis.from_url(server.url)
    try:
        async with app.run_test(size=SIZE):
            await active(app, sub)
            pipe = client.pipeline(transaction=False)
            for i in range(channels):
                pipe.publish(f"safe.table.{i}", b"1")
            pipe.execute()
            await async_wait_for(lambda: app.session.store.total == channels)
            calls: list[int] = []
            update = app.dashboard.stats_table.update_rows
            app.dashboard.stats_table.update_rows = lambda *a: calls.append(1) or update(*a)  # type: ignore[method-assign]
            traffic, repaints = app.dashboard.traffic, []
            repaint = traffic.refresh
            traffic.refresh = lambda *a, **k: repaints.append(1) or repaint(*a, **k)  # type: ignore[method-assign]
            with app.session.store.lock:
                for _ in range(61):
                    app.session.store.sample()  # a minute on: every sparkline is flat
            app.dashboard.refresh_counts()
            shown, painted = len(calls), len(repaints)
            for _ in range(5):
                app.dashboard.refresh_counts()
            assert len(calls) == shown  # no rows built, nothing redrawn
            assert len(repaints) == painted  # the traffic chart neither (a snapshot a second)
            client.publish("safe.table.new", b"1")
            await async_wait_for(lambda: app.session.store.total == channels + 1)
            app.dashboard.refresh_counts()
            assert len(calls) == shown + 1
    finally:
        client.close()


async def test_the_subscription_list_follows_a_status_change_without_traffic(
    server_factory,
) -> None:
    """Counts and tables are redrawn only when something changed; a subscription that goes
    from active to pending (the server went away) is such a change, with no message."""
    from rps_tui.ui.subscription_list import STATUS_STYLE

    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "safe.quiet")
    app = make_app(srv.url, sub, monitor=False)
    async with app.run_test(size=SIZE):
        await active(app, sub)

        def style() -> object:
            return app.dashboard.sub_list._shown.get(sub, (None, None))[1]

        await async_wait_for(lambda: style() == STATUS_STYLE["active"], timeout=5)
        srv.kill()
        await async_wait_for(
            lambda: app.session.store.subs[sub].status is Status.PENDING, timeout=10
        )
        await async_wait_for(lambda: style() == STATUS_STYLE["pending"], timeout=5)


def test_a_late_message_for_a_removed_subscription_holds_no_bytes(server) -> None:
    """A cluster forgets a subscription before each of its connections has let it go: a
    message still in flight must not count into the bytes held (it would never leave)."""
    sub = Subscription(Kind.CHANNEL, "safe.removed")
    client = redis.Redis.from_url(server.url)
    store = Store()
    try:
        with running(Engine(parse_url(server.url), store), sub):
            with store.lock:
                store.remove(sub)  # as ClusterEngine._tick does, before the link's unsub
            client.publish("safe.removed", b"r" * 1000)
            wait_for(lambda: store.channels.get(b"safe.removed") is not None)
            assert store.buffered == sum(s.held for s in store.subs.values()) == 0
    finally:
        client.close()


async def test_a_subscriber_never_seen_listed_is_not_reported_dropped(server_factory) -> None:
    """Behind a load balancer the command connection may reach another server, which has
    never listed our subscriber: that is no drop, and no reason to reconnect."""
    here, elsewhere = server_factory("valkey"), server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "safe.elsewhere")
    store = Store()
    engine = Engine(parse_url(here.url), store)
    commands = Commands(parse_url(elsewhere.url))
    monitor = ServerMonitor(commands, engine, store)
    with running(engine, sub):
        try:
            for _ in range(3):
                await monitor.round()
        finally:
            await commands.close()
        time.sleep(0.5)  # a reconnect, had one been asked for, starts at once
        assert engine.reconnects == 0 and not gaps(store, sub)
        assert monitor.omem is None  # nothing known about its buffer: nothing shown


def test_one_message_over_every_cap_does_not_empty_the_other_histories(server) -> None:
    big, small = Subscription(Kind.CHANNEL, "safe.huge"), Subscription(Kind.CHANNEL, "safe.tiny")
    client = redis.Redis.from_url(server.url)
    store = Store(max_bytes=MIB, max_total_bytes=4 * MIB)
    try:
        with running(Engine(parse_url(server.url), store), big, small):
            for _ in range(30):
                client.publish("safe.tiny", b"t" * 30_000)
            client.publish("safe.huge", b"h" * (6 * MIB))  # over both caps on its own
            wait_for(lambda: store.subs[big].total == 1 and store.subs[small].total == 30)
            assert len(store.subs[big].buffer) == 1  # the newest message is always kept
            assert len(store.subs[small].buffer) > 20  # ~0.9 MiB of 30 KB messages
    finally:
        client.close()
