"""The dashboard screen's structure: it starts safely under a flood, follows the theme, and
its monitor reads the channel table safely while the reader changes it."""

from __future__ import annotations

import threading

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.dashboard import DashboardScreen
from tests.support.engine import Flood
from tests.support.wait import async_wait_for

SIZE = (120, 36)


async def test_starting_against_a_server_that_floods_never_crashes(server) -> None:
    """The subscriber and its wake-ups start when every widget exists: ten starts in a row
    while a publisher floods the subscribed channel (a timed draw once ran before the
    publish box had composed, and crashed with NoMatches)."""
    sub = Subscription(Kind.CHANNEL, "dash.flood")
    with Flood(server.url, "dash.flood", b"x" * 50, batch=500) as flood:
        for _ in range(10):
            app = RpsApp(AppConfig(settings=parse_url(server.url), subscriptions=[sub]))
            async with app.run_test(size=SIZE) as pilot:
                await async_wait_for(lambda app=app: app.session.store.appended(sub) > 0)
                await pilot.pause(0.05)
                assert isinstance(app.screen, DashboardScreen) and app.screen is app.dashboard
            assert app.return_code in (None, 0)
    assert flood.published > 0


async def test_a_new_theme_redraws_the_lines_already_drawn(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "dash.theme")
    app = RpsApp(AppConfig(settings=parse_url(server.url), subscriptions=[sub], monitor=False))
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: sub in app.session.store.subs)
        await async_wait_for(lambda: app.session.store.subs[sub].status is Status.ACTIVE)
        redis_client.publish("dash.theme", "hello")
        pane = app.dashboard.pane
        await async_wait_for(lambda: any("hello" in pane.render_line(y).text for y in range(3)))
        before = pane.render_line(0)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause(0.2)
        after = pane.render_line(0)
        assert after.text == before.text  # the same line ...
        # ... in the new theme's colours, not from the cache of the old ones
        assert [seg.style for seg in after] != [seg.style for seg in before]


def test_the_busiest_channels_are_read_safely_while_the_table_changes() -> None:
    """The monitor asks for the busiest channels from its own thread while the reader
    adds channels and evicts old ones (`max_channels`): under the store's lock, never a
    'dictionary changed size during iteration'."""
    store = Store(max_channels=200)
    tally = store.tally()
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        n = 0
        while not stop.is_set():
            with store.lock:
                tally.add(iter([b"c%d" % i for i in range(n, n + 50)]), [1] * 50, float(n))
                store.fold()
            n += 50

    def monitor() -> None:
        try:
            for _ in range(2000):
                store.busiest(10)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=reader), threading.Thread(target=monitor)]
    for t in threads:
        t.start()
    threads[1].join(30)
    stop.set()
    threads[0].join(10)
    assert not errors
    assert store.folded  # evictions did happen meanwhile


async def test_the_header_repaints_without_a_layout_pass() -> None:
    """The header changes with every frame under a flood (its total): a layout pass each time
    cost the app a third more CPU during footprint.py's flood (22% -> 34% of a core)."""
    from textual.app import App, ComposeResult

    from rps_tui.core.subscriber.base import State
    from rps_tui.ui.status_bar import StatusBar

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar()

    app = One()
    async with app.run_test(size=(80, 3)):
        bar = app.query_one(StatusBar)
        layouts: list[bool] = []
        refresh = bar.refresh

        def spy(*args, layout: bool = False, **kwargs):
            layouts.append(layout)
            return refresh(*args, layout=layout, **kwargs)

        bar.refresh = spy  # type: ignore[method-assign]
        for total in (1, 2, 3):
            bar.show(address="a", server="s", state=State.CONNECTED, detail="", total=total)
        assert layouts and not any(layouts), layouts


async def test_a_subscriber_that_dies_says_so_in_the_header_and_a_notification(
    server, redis_client
) -> None:
    """A bug that kills the subscriber thread once it has read a message (here: a sink
    that raises) must not leave a header that says connected while nothing arrives."""
    from rps_tui.core.session import Session
    from rps_tui.core.subscriber.engine import Engine

    settings = parse_url(server.url)
    engine = Engine(settings, Store())
    sub = Subscription(Kind.CHANNEL, "db.dies")

    def sink(batch: list) -> None:
        raise OverflowError("Python int too large to convert to C ssize_t")

    engine.sink = sink
    app = RpsApp(
        AppConfig(settings=settings, subscriptions=[sub], session=Session(settings, engine))
    )
    async with app.run_test():
        await async_wait_for(lambda: redis_client.publish("db.dies", "x") > 0)
        dash = app.dashboard
        await async_wait_for(lambda: dash.header.failed)
        status = str(dash.status_bar.render())
        assert "✖ failed (OverflowError: Python int too large to convert to C ssize_t)" in status
        said = [n.message for n in app._notifications if n.severity == "error"]
        assert said and said[-1].startswith("The subscriber stopped on an error in rps-tui")
