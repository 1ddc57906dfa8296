"""A Sentinel's own events (`rps-tui -p 26379`): the dashboard opens on them instead of
refusing, shows them in words (`m`: the raw text), hides what a Sentinel cannot do and
says why when asked; real sentinels, a frozen master, a real failover."""

from __future__ import annotations

import pytest

from rps_tui.core.connection.probe import ConnectError, reach
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.payload.sentinel import read
from rps_tui.core.subscriptions import Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from tests.support.app import SIZE, active, pane_text
from tests.support.topology import start_sentinel_setup
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
