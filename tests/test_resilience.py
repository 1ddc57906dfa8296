"""Stalls, drops and restarts, against real servers the tests freeze, flood and restart."""

from __future__ import annotations

import re
import time

import redis

from rps_tui.core.connection.probe import probe
from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.detail import DetailScreen
from tests.support.engine import running_engine
from tests.support.wait import async_wait_for, wait_for


def gaps(engine, sub: Subscription) -> list[Gap]:
    return [e[-2] for e in engine.store.subs[sub].buffer if isinstance(e[-2], Gap)]


def test_frozen_server_is_reported_stalled_then_recovered(server_factory) -> None:
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "res.frozen")
    with running_engine(srv.url, sub) as engine:
        srv.pause()
        frozen_at = time.monotonic()
        try:
            wait_for(lambda: engine.state is State.STALLED, timeout=8)
            assert time.monotonic() - frozen_at < 5.0
            longest = _longest_unchanged(lambda: engine.state_detail, 2.5)
            assert engine.state is State.STALLED  # stays stalled while the server is frozen
            # live: a countdown, then the attempt's seconds (each attempt waits ~3 s on the
            # frozen server, and once said "retrying in 0.2 s" all along)
            assert longest < 1.5, longest
        finally:
            srv.resume()
        wait_for(lambda: engine.state is State.CONNECTED, timeout=20)
        wait_for(lambda: engine.store.subs[sub].status is Status.ACTIVE)
        client = redis.Redis.from_url(srv.url)
        client.publish("res.frozen", "after")
        wait_for(lambda: engine.store.subs[sub].total == 1)
        client.close()
        (gap,) = gaps(engine, sub)
        assert "no reply to PING" in gap.reason and gap.seconds >= 5  # from the last read


def _longest_unchanged(read, seconds: float) -> float:
    """The longest stretch (s) for which `read()` gave the same text, sampled for `seconds`."""
    start = time.monotonic()
    last, since, longest = read(), start, 0.0
    while (now := time.monotonic()) - start < seconds:
        value = read()
        if value != last:
            last, since = value, now
        longest = max(longest, now - since)
        time.sleep(0.05)
    return longest


SENT = 200_000


def test_dropped_for_output_buffer_is_named_in_the_gap(server_factory) -> None:
    srv = server_factory("valkey", extra_args=["--client-output-buffer-limit", "pubsub 256kb 0 0"])
    sub = Subscription(Kind.PATTERN, "res.drop.*")
    with running_engine(srv.url, sub) as engine:
        client = redis.Redis.from_url(srv.url)
        with engine.store.lock:  # the reader blocks: the server's buffer for it fills up
            pipe = client.pipeline(transaction=False)
            for i in range(SENT):  # ~30 MB: more than the kernel's socket buffers hold
                pipe.publish(f"res.drop.{i % 10}", b"x" * 100)
                if i % 10_000 == 9_999:
                    pipe.execute()
            pipe.execute()
        wait_for(lambda: engine.reconnects >= 1, timeout=10)
        wait_for(lambda: engine.state is State.CONNECTED and gaps(engine, sub), timeout=15)
        (gap,) = gaps(engine, sub)
        assert "client-output-buffer-limit" in gap.reason
        assert engine.store.subs[sub].total < SENT  # what the server dropped is really lost
        client.publish("res.drop.1", "after")
        wait_for(lambda: engine.store.subs[sub].buffer[-1][-2] == b"after")
        assert any("reconnected" in e.text for e in engine.events)
        client.close()


async def test_status_shows_the_subscribers_output_buffer(server) -> None:
    from tests.support.app import SIZE, active, make_app

    sub = Subscription(Kind.CHANNEL, "res.obuf")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE):
        await active(app, sub)
        app.dashboard.server_monitor.poke()
        await async_wait_for(lambda: app.dashboard.header.omem is not None)
        assert isinstance(app.session.subscriber.client_id, int)
        await async_wait_for(
            lambda: "obuf 0 B of 8.0 MiB" in str(app.dashboard.status_bar.render())
        )


async def test_restart_seen_on_screen_with_gap_and_counts_kept(server_factory) -> None:
    from tests.support.app import SIZE, active, make_app, pane_text

    srv = server_factory("valkey")
    sub = Subscription(Kind.PATTERN, "res.app.*")
    app = make_app(srv.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        client = redis.Redis.from_url(srv.url)
        for i in range(3):
            client.publish(f"res.app.{i}", "before")
        client.close()
        await async_wait_for(lambda: app.session.store.subs[sub].total == 3)
        srv.kill()
        await async_wait_for(lambda: "reconnecting" in str(app.dashboard.status_bar.render()))
        srv.restart()
        await async_wait_for(
            lambda: "connected" in str(app.dashboard.status_bar.render()), timeout=15
        )
        await async_wait_for(lambda: app.session.store.subs[sub].status is Status.ACTIVE)
        client = redis.Redis.from_url(srv.url)
        assert client.pubsub_numpat() == 1
        client.publish("res.app.9", "after")
        client.close()
        await async_wait_for(lambda: app.session.store.subs[sub].total == 4)
        await async_wait_for(lambda: any("after" in line for line in pane_text(app)))
        lines = [line for line in pane_text(app) if line.strip()]
        assert re.search(r"── gap \d+\.\d s: ", lines[-2]) and "not listening" in lines[-2]
        await async_wait_for(lambda: app.dashboard.pane.border_title.endswith("4 msgs"))
        await pilot.press("up", "enter")  # the gap marker's detail view explains it
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert "gap marker" in str(app.screen.query_one("#detail-head").render())


async def test_the_header_counts_down_to_the_next_attempt(server) -> None:
    """Nothing listens on the port: the header's "retrying in 1.7 s" counts down on its own
    (no data, no 1 Hz tick needed); connected, nothing extra is scheduled."""
    import asyncio
    import socket

    from tests.support.app import SIZE, active, make_app

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    sub = Subscription(Kind.CHANNEL, "res.countdown")
    app = make_app(f"redis://127.0.0.1:{port}/0", sub, monitor=False)
    async with app.run_test(size=SIZE):
        dashboard = app.dashboard

        def header() -> str:
            return str(dashboard.status_bar.render())

        def left() -> float:
            found = re.search(r"retrying in (\d+\.\d) s", header())
            return float(found.group(1)) if found else 0.0

        await async_wait_for(lambda: left() >= 1.2, timeout=20)  # the backoff has grown
        seen = [left()]
        for _ in range(6):
            await asyncio.sleep(0.1)
            seen.append(left())
        assert seen == sorted(seen, reverse=True) and len(set(seen)) >= 4, seen
        assert dashboard.header._countdown is not None
    live = make_app(server.url, sub, monitor=False)
    async with live.run_test(size=SIZE) as pilot:
        await active(live, sub)
        await pilot.pause(0.3)
        assert live.session.subscriber.retry_at is None and live.dashboard.header._countdown is None


async def test_refused_commands_blank_one_field_and_the_rest_works(server_factory) -> None:
    """A user who may subscribe and publish but not run PUBSUB, CLIENT, CONFIG or INFO."""
    from tests.support.app import SIZE, active, make_app

    srv = server_factory("valkey")
    admin = redis.Redis.from_url(srv.url)
    admin.acl_setuser(
        "narrow",
        enabled=True,
        passwords=["+pw"],
        channels=["*"],
        commands=["+@all", "-pubsub", "-client", "-config", "-info"],
    )
    sub = Subscription(Kind.CHANNEL, "res.narrow")
    url = srv.url.replace("redis://", "redis://narrow:pw@")
    assert probe(parse_url(url)).label == "server (INFO refused)"  # the CLI's check passes
    app = make_app(url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        app.dashboard.server_monitor.poke()
        await async_wait_for(lambda: app.dashboard.header.rtt_ms is not None)
        assert app.dashboard.header.omem is None and "obuf" not in str(
            app.dashboard.status_bar.render()
        )
        await pilot.press("s")  # PUBSUB CHANNELS refused: the dialog says so and still works
        await async_wait_for(lambda: getattr(app.screen, "loaded", False))
        assert "Could not list active channels" in str(
            app.screen.query_one("#subscribe-note").render()
        )
        await pilot.press(*"res.second", "enter")
        await active(app, Subscription(Kind.CHANNEL, "res.second"))
        admin.publish("res.second", "still flowing")
        await async_wait_for(
            lambda: app.session.store.subs[Subscription(Kind.CHANNEL, "res.second")].total == 1
        )
    admin.close()
