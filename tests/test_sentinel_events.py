"""A Sentinel's own events (`rps-tui -p 26379`): the dashboard opens on them instead of
refusing, shows them in words (`m`: the raw text), hides what a Sentinel cannot do and
says why when asked; real sentinels, a frozen master, a real failover."""

from __future__ import annotations

import pytest

from rps_tui.core.connection.probe import ConnectError, reach
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import channel_of, payload_of
from rps_tui.core.payload.sentinel import read
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriptions import SENTINEL_EVENTS, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.topology import client_for, start_sentinel_setup
from tests.support.wait import async_wait_for


@pytest.mark.parametrize(
    ("channel", "payload", "shown"),
    [
        (b"+switch-master", b"mymaster 10.0.0.1 6379 10.0.0.2 6379",
         "mymaster 10.0.0.1:6379 → 10.0.0.2:6379"),
        (b"+sdown", b"master mymaster 10.0.0.1 6379", "master mymaster 10.0.0.1:6379"),
        (b"+odown", b"master mymaster 10.0.0.1 6379 #quorum 3/2",
         "master mymaster 10.0.0.1:6379  #quorum 3/2"),
        (b"-sdown", b"slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster 10.0.0.1 6379",
         "replica 10.0.0.2:6379 of mymaster 10.0.0.1:6379"),
        (b"+sentinel", b"sentinel 9c1d 10.0.0.3 26379 @ mymaster ::1 6379",
         "sentinel 10.0.0.3:26379 (9c1d) of mymaster [::1]:6379"),
        (b"+new-epoch", b"7", None),  # not an instance: shown as it is
        (b"+sdown", b"hello", None),  # a channel called +sdown on a data server
        (b"orders", b"master mymaster 10.0.0.1 6379", None),
        (b"+sdown", "master m\u00e9 10.0.0.1 6379".encode(), None),
    ],
)  # fmt: skip
def test_events_in_words(channel: bytes, payload: bytes, shown: str | None) -> None:
    assert read(channel, payload) == shown


async def test_the_dashboard_watches_a_sentinel_through_a_failover() -> None:
    with start_sentinel_setup("valkey") as setup:
        host, port = setup.sentinels[0]
        given = ConnectionSettings(host=host, port=port)
        with pytest.raises(ConnectError, match="is a Sentinel"):
            reach(given)  # publish, replay, bench: refused, naming the masters
        reached = reach(given, events_ok=True)  # the dashboard and tail
        assert reached.settings.watch_sentinel and reached.note == (
            "Sentinel events (monitors: mymaster)"
        )
        sub = Subscription.parse("*")
        app = RpsApp(
            AppConfig(
                settings=reached.settings,
                subscriptions=[sub],
                server_label=reached.info.label,
                note=reached.note,
            )
        )
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            dash = app.dashboard
            assert not dash.publish_box.display
            bound = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
            assert not bound & {"publish", "browse", "keyspace", "repeat"}
            await pilot.press("i")  # hidden, and it says why
            said = [str(n.message) for n in app._notifications]
            assert said[-1] == (
                f"{reached.settings.address} is a Sentinel: it publishes only its own events "
                "(publish to the master it monitors)"
            )
            old = f"{setup.primary.host}:{setup.primary.port}"
            setup.primary.pause()  # frozen: +sdown after 1 s, then a failover
            try:
                await async_wait_for(
                    lambda: any("+switch-master" in line for line in pane_text(app)), 30
                )
            finally:
                setup.primary.resume()
            lines = pane_text(app)
            assert any(f"+sdown  master mymaster {old}" in line for line in lines), lines
            switch = next(line for line in lines if "+switch-master" in line)
            assert f"mymaster {old} → " in switch
            await pilot.press("m")  # the next decoder: the raw text
            await pilot.pause(0.3)
            raw = next(line for line in pane_text(app) if "+switch-master" in line)
            assert f"mymaster {setup.primary.host} {setup.primary.port} " in raw
            header = str(dash.status_bar.render())
            assert "sentinel" in header and "● connected" in header


def help_keys(app: RpsApp) -> set[str]:
    return {keys for _, rows in app.help_sections() for keys, _ in rows}


def entries_of(app: RpsApp, sub: Subscription) -> list[tuple[bytes, bytes]]:
    """(channel, payload) of the messages the subscription holds (gap markers left out)."""
    _, entries, _ = app.session.store.tail(sub, 0)
    return [(channel_of(e), payload_of(e)) for e in entries if e[0] is not None]


async def test_sentinel_events_beside_the_masters_channels_through_a_failover() -> None:
    """`--sentinel … --master … --sentinel-events`: one failover seen from both sides, the
    master's pane with its gap and the new master's messages, the events pane with why;
    neither stream leaks into the other, and `S` takes the events away again."""
    with start_sentinel_setup("valkey") as setup:
        setup.wait_discovered()
        settings = ConnectionSettings(sentinels=tuple(setup.sentinels), master="mymaster")
        data = Subscription.parse("orders.*")
        app = RpsApp(
            AppConfig(settings=settings, subscriptions=[data, SENTINEL_EVENTS], server_label="")
        )
        async with app.run_test(size=SIZE) as pilot:
            await active(app, data, SENTINEL_EVENTS)
            assert "S" in help_keys(app)
            store, subscriber = app.session.store, app.session.subscriber
            old = (setup.primary.host, setup.primary.port)
            with client_for(*old) as primary:
                primary.publish("orders.1", "before")
            await async_wait_for(lambda: store.subs[data].total == 1)
            setup.primary.pause()  # frozen: +sdown, +odown, then a failover
            try:
                await async_wait_for(
                    lambda: any(
                        c == b"+switch-master" for c, _ in entries_of(app, SENTINEL_EVENTS)
                    ),
                    30,
                )
                await async_wait_for(  # the master's side follows to the new master
                    lambda: (
                        subscriber.master not in (None, old)
                        and store.subs[data].status is Status.ACTIVE
                    ),
                    30,
                )
            finally:
                setup.primary.resume()
            new = subscriber.master
            with client_for(*new) as promoted:
                promoted.publish("orders.2", "after")
            await async_wait_for(lambda: store.subs[data].total == 2)
            assert entries_of(app, data) == [(b"orders.1", b"before"), (b"orders.2", b"after")]
            assert all(c.startswith((b"+", b"-")) for c, _ in entries_of(app, SENTINEL_EVENTS))

            await pilot.press("2")  # the events pane, in words
            await pilot.pause(0.3)
            lines = pane_text(app)
            want = f"+switch-master  mymaster {old[0]}:{old[1]} → {new[0]}:{new[1]}"
            assert any(want in line for line in lines), lines
            assert app.dashboard.pane.border_title.startswith("sentinel events — ")
            await pilot.press("1")  # the master's pane: the gap between the two messages
            await pilot.pause(0.3)
            lines = [line for line in pane_text(app) if line.strip()]
            assert "before" in lines[0] and "gap" in lines[1] and "after" in lines[2], lines

            await pilot.press("S")  # the events go; the master's channels stay
            await async_wait_for(lambda: SENTINEL_EVENTS not in store.subs)
            assert subscriber.subscriptions == [data] and subscriber.state is State.CONNECTED
            said = [str(n.message) for n in app._notifications]
            assert said[-1] == "no longer watching the sentinels' events"


async def test_s_on_a_plain_server_says_what_the_sentinels_events_need(server) -> None:
    sub = Subscription.parse("a")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("S")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert said[-1].startswith("the sentinels' events need --sentinel HOST:PORT --master")
        assert app.session.subscriber.subscriptions == [sub]
        assert "S" not in help_keys(app)  # help lists what this connection can do
