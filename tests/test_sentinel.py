"""Following a Sentinel-managed master: the engine, the app and the CLI, against real
primaries, replicas and sentinels (tests/support/topology.py), including real failovers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from redis.sentinel import MasterNotFoundError

from rps_tui.core.connection.sentinel import discover_master
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.embedded.server import free_port
from rps_tui.core.entry import Gap
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.sentinel import CHECK_SECONDS, SentinelEngine
from rps_tui.core.subscriber.sentinel_watch import SentinelWatch
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.publish_box import PublishBox
from tests.support.app import SIZE, active, pane_text
from tests.support.cli import run_cli
from tests.support.engine import running
from tests.support.servers import require
from tests.support.topology import (
    SentinelSetup,
    _binary_for,
    _start_sentinel,
    client_for,
    start_sentinel_setup,
)
from tests.support.wait import async_wait_for, wait_for

KINDS = ("redis", "valkey")


def sentinel_settings(setup: SentinelSetup, master: str | None = None) -> ConnectionSettings:
    return replace(
        ConnectionSettings(), sentinels=tuple(setup.sentinels), master=master or setup.master_name
    )


def running_sentinel_engine(
    settings: ConnectionSettings, *subs: Subscription, wait: bool = True
) -> contextlib.AbstractContextManager[SentinelEngine]:
    """A SentinelEngine in a thread; with `wait`, returns once every subscription is active."""
    return running(SentinelEngine(settings, Store()), *subs, wait=wait)


def addr(server) -> tuple[str, int]:
    return (server.host, server.port)


def numsub(server, channel: str) -> int:
    with client_for(server.host, server.port) as c:
        return int(c.pubsub_numsub(channel)[0][1])


def payloads(engine: SentinelEngine, sub: Subscription) -> list[object]:
    """Payloads (bytes) and gap markers (Gap) of the buffer, oldest first."""
    with engine.store.lock:
        return [e[-2] for e in engine.store.subs[sub].buffer]


def publish_until_received(
    engine: SentinelEngine, sub: Subscription, server, channel: str, timeout: float = 15.0
) -> bytes:
    """Publish on `server` once per iteration until the engine has a message newer than
    the ones it holds; return that message's payload."""
    before = engine.store.subs[sub].total
    deadline = time.monotonic() + timeout
    i = 0
    with client_for(server.host, server.port) as c:
        while engine.store.subs[sub].total == before:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no message through the engine within {timeout} s "
                    f"(state {engine.state}, {engine.state_detail!r}, master {engine.master})"
                )
            i += 1
            # the new master may refuse for a moment; the deadline bounds it
            with contextlib.suppress(redis.RedisError):
                c.publish(channel, f"after-{i}")
            time.sleep(0.1)
    return [p for p in payloads(engine, sub) if isinstance(p, bytes)][-1]


@pytest.fixture(scope="module", params=KINDS)
def setup(request: pytest.FixtureRequest) -> Iterator[SentinelSetup]:
    """One primary + replica + 3 sentinels per kind for the tests that kill nothing."""
    require(request.param)
    with start_sentinel_setup(request.param) as built:
        yield built


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    require(request.param)
    return request.param


# --------------------------------------------------------------------------- discovery


def test_discover_master_names_the_primary_or_says_why_not(setup: SentinelSetup) -> None:
    settings = sentinel_settings(setup)
    assert discover_master(settings) == addr(setup.primary)
    # a sentinel that is down is skipped: the next one answers
    dead = replace(settings, sentinels=(("127.0.0.1", free_port()), *setup.sentinels))
    assert discover_master(dead) == addr(setup.primary)
    with pytest.raises(MasterNotFoundError) as caught:
        discover_master(sentinel_settings(setup, master="nosuch"))
    message = str(caught.value)
    assert "names a live master called 'nosuch'" in message
    assert all(f"{h}:{p}" in message for h, p in setup.sentinels)


def test_messages_published_on_the_master_arrive(setup: SentinelSetup) -> None:
    chan = Subscription(Kind.CHANNEL, "sen.a.plain")
    pat = Subscription(Kind.PATTERN, "sen.a.p.*")
    with running_sentinel_engine(sentinel_settings(setup), chan, pat) as engine:
        assert engine.master == addr(setup.primary)
        assert engine.node == f"{setup.primary.host}:{setup.primary.port}"
        # subscribed on the master, not on the replica (which also relays PUBLISH)
        assert numsub(setup.primary, "sen.a.plain") == 1
        assert numsub(setup.replica, "sen.a.plain") == 0
        with client_for(setup.primary.host, setup.primary.port) as c:
            for i in range(50):
                c.publish("sen.a.plain", f"m{i}")
            c.publish("sen.a.p.x", "px")
        wait_for(lambda: engine.store.subs[chan].total == 50 and engine.store.subs[pat].total == 1)
        assert payloads(engine, chan) == [f"m{i}".encode() for i in range(50)]
        assert payloads(engine, pat) == [b"px"]
        assert engine.store.subs[chan].gaps == 0
        time.sleep(CHECK_SECONDS + 0.5)  # at least one re-ask of the sentinels: no move
        assert engine.state is State.CONNECTED and engine.reconnects == 0


def test_unknown_master_keeps_retrying_and_says_why(setup: SentinelSetup) -> None:
    sub = Subscription(Kind.CHANNEL, "sen.unknown")
    settings = sentinel_settings(setup, master="nosuch")
    with running_sentinel_engine(settings, sub, wait=False) as engine:
        wait_for(lambda: engine.reconnects >= 2)
        assert engine.state is State.RECONNECTING
        assert "names a live master called 'nosuch'" in engine.state_detail
        texts = [e.text for e in engine.events]
        assert len(texts) == 1, texts  # the loss is reported once, not per attempt
        assert "subscriber connection lost" in texts[0] and "'nosuch'" in texts[0]
        assert engine.store.subs[sub].status is Status.PENDING


# --------------------------------------------------------------------------- failover


def test_failover_after_the_primary_dies_is_followed_with_a_gap(kind: str) -> None:
    sub = Subscription(Kind.CHANNEL, "sen.fail")
    with (
        start_sentinel_setup(kind) as setup,
        running_sentinel_engine(sentinel_settings(setup), sub) as engine,
    ):
        with client_for(setup.primary.host, setup.primary.port) as c:
            c.publish("sen.fail", "before")
        wait_for(lambda: engine.store.subs[sub].total == 1)
        setup.wait_discovered()
        setup.primary.kill()
        new = addr(setup.replica)
        wait_for(
            lambda: all(setup.master_addr(i) == new for i in range(len(setup.sentinels))),
            timeout=20,
            interval=0.1,
        )
        received = publish_until_received(engine, sub, setup.replica, "sen.fail")
        assert received.startswith(b"after-")
        entries = payloads(engine, sub)
        assert entries[0] == b"before" and entries[-1] == received
        gaps = [e for e in entries if isinstance(e, Gap)]
        assert len(gaps) == 1 and engine.store.subs[sub].gaps == 1
        assert entries.index(gaps[0]) == 1  # between the last message before and after
        with engine.store.lock:
            marker = engine.store.subs[sub].buffer[1]
        assert marker[0] is None and marker[1] is gaps[0]
        assert gaps[0].seconds > 0
        assert any("reconnected" in e.text for e in engine.events)
        assert any("connection lost" in e.text for e in engine.events)
        assert engine.state is State.CONNECTED
        assert engine.master == new
        assert engine.store.subs[sub].status is Status.ACTIVE
        # backoff, not a busy loop (redis-py's asyncio Sentinel client retried ~15,000
        # times in 2 s in the same situation)
        assert 1 <= engine.reconnects < 20, engine.reconnects


def test_manual_failover_moves_off_a_live_old_master(kind: str) -> None:
    """After SENTINEL FAILOVER the old master lives on (as a replica) and keeps the
    connection open: only re-asking the sentinels notices the move."""
    sub = Subscription(Kind.CHANNEL, "sen.manual")
    with (
        start_sentinel_setup(kind) as setup,
        running_sentinel_engine(sentinel_settings(setup), sub) as engine,
    ):
        setup.wait_discovered()
        host, port = setup.sentinels[0]
        with client_for(host, port) as c:
            assert c.execute_command("SENTINEL", "FAILOVER", setup.master_name)
        new = addr(setup.replica)
        wait_for(lambda: setup.master_addr() == new, timeout=20, interval=0.1)
        received = publish_until_received(engine, sub, setup.replica, "sen.manual")
        assert received.startswith(b"after-")
        assert engine.master == new and engine.state is State.CONNECTED
        (gap,) = [p for p in payloads(engine, sub) if isinstance(p, Gap)]
        assert f"moved the master to {new[0]}:{new[1]}" in gap.reason
        assert setup.primary.is_running()  # nobody killed it: the engine left it
        wait_for(lambda: numsub(setup.primary, "sen.manual") == 0)
        assert numsub(setup.replica, "sen.manual") == 1


def test_unreachable_sentinels_do_not_drop_a_live_master() -> None:
    sub = Subscription(Kind.CHANNEL, "sen.nosentinel")
    with (
        start_sentinel_setup("valkey") as setup,
        running_sentinel_engine(sentinel_settings(setup), sub) as engine,
    ):
        for pid in setup.sentinel_pids:
            os.kill(pid, signal.SIGKILL)
        time.sleep(CHECK_SECONDS + 1)  # at least one re-ask finds no sentinel
        with client_for(setup.primary.host, setup.primary.port) as c:
            c.publish("sen.nosentinel", "still here")
        wait_for(lambda: engine.store.subs[sub].total == 1)
        assert payloads(engine, sub) == [b"still here"]
        assert engine.state is State.CONNECTED and engine.reconnects == 0


# --------------------------------------------------------------------------- the app


async def test_app_shows_messages_through_sentinel(setup: SentinelSetup) -> None:
    sub = Subscription(Kind.CHANNEL, "sen.app")
    app = RpsApp(AppConfig(settings=sentinel_settings(setup), subscriptions=[sub]))
    assert isinstance(app.session.subscriber, SentinelWatch)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        assert numsub(setup.primary, "sen.app") == 1
        with client_for(setup.primary.host, setup.primary.port) as c:
            c.publish("sen.app", "hello via sentinel")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 1)
        await async_wait_for(
            lambda: any(line.strip().endswith("hello via sentinel") for line in pane_text(app))
        )
        # the publish box goes to the master the sentinels name, too
        box = app.query_one(PublishBox)
        await pilot.press("i", *"typed", "enter")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 2)
        await async_wait_for(lambda: "1 receiver" in str(box.query_one("#publish-result").render()))
        await async_wait_for(lambda: any(line.strip().endswith("typed") for line in pane_text(app)))
        # the header names the master and where the sentinels say it is
        primary = f"{setup.primary.host}:{setup.primary.port}"
        await async_wait_for(lambda: primary in str(app.dashboard.status_bar.render()))
        status = str(app.dashboard.status_bar.render())
        assert f"master mymaster at {primary}/0" in status and "● connected" in status
        # the header's count comes from the once-a-second snapshot, as the pane title's
        await async_wait_for(lambda: "2 msgs" in str(app.dashboard.status_bar.render()))
        assert "— 2 msgs" in app.dashboard.pane.titles[0]


# --------------------------------------------------------------------------- the CLI


def test_publishing_at_a_sentinel_port_names_the_masters(setup: SentinelSetup) -> None:
    """The dashboard and tail watch a Sentinel's own events (test_sentinel_events.py);
    publish, replay and bench cannot use one, and say what would work."""
    host, port = setup.sentinels[0]
    try:
        result = run_cli("publish", "-p", str(port), "sen.cli", "x", timeout=6)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            "publish did not exit: it took the sentinel for a data server"
        ) from None
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: ") and "Traceback" not in result.stderr
    assert "is a Sentinel" in lines[0]
    assert f"--sentinel {host}:{port} --master NAME" in lines[0]
    assert "(it monitors: mymaster)" in lines[0]


def test_cli_with_an_unknown_master_name(setup: SentinelSetup) -> None:
    args = [a for h, p in setup.sentinels for a in ("--sentinel", f"{h}:{p}")]
    result = run_cli(*args, "--master", "nosuch", "sen.cli")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: ") and "Traceback" not in result.stderr
    assert "no sentinel" in lines[0] and "names a live master called 'nosuch'" in lines[0]
    assert all(f"{h}:{p}" in lines[0] for h, p in setup.sentinels)


def test_cli_with_no_sentinel_listening() -> None:
    port = free_port()
    result = run_cli("--sentinel", f"127.0.0.1:{port}", "--master", "mymaster", "sen.cli")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: ") and "Traceback" not in result.stderr
    assert lines[0].endswith(f"cannot reach any sentinel (127.0.0.1:{port})")


def test_sentinels_with_their_own_password(setup: SentinelSetup) -> None:
    """Sentinels with `requirepass`: refused without --sentinel-pass (and the message says
    so), followed with it; the data password is never sent to them."""
    locked = _start_sentinel(_binary_for(setup.kind), setup.primary.port, ["requirepass s3cret"])
    try:
        settings = replace(sentinel_settings(setup), sentinels=(("127.0.0.1", locked.port),))
        wait_for(lambda: _answers_with(settings, "s3cret") == addr(setup.primary), timeout=10)
        with pytest.raises(MasterNotFoundError, match=r"refused the login: .*--sentinel-pass"):
            discover_master(replace(settings, password="s3cret"))  # the data password: no
        result = run_cli("--sentinel", f"127.0.0.1:{locked.port}", "--master", "mymaster", "x")
        assert result.returncode == 1 and "--sentinel-pass" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        sub = Subscription(Kind.CHANNEL, "sen.locked")
        engine = SentinelEngine(replace(settings, sentinel_password="s3cret"), Store())
        with running(engine, sub):
            assert engine.master == addr(setup.primary)
    finally:
        locked.stop()


def _answers_with(settings: ConnectionSettings, password: str) -> tuple[str, int] | None:
    try:
        return discover_master(replace(settings, sentinel_password=password))
    except redis.RedisError:
        return None
