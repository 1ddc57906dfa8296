"""Export the README screenshots of rps-tui as SVG files into ``screenshots/``.

Regenerate them with ``python -m scripts.export_screenshots`` from the repository root. It
starts the embedded Valkey, runs the seeded demo traffic, drives the app headless at 120x40
(main also at 80x24) and saves main, statistics, tree, detail, help, subscribe, hostile,
search, browser, keyspace, plot, plot-values, record, themes, view, tabs and all .svg
(about two minutes).

The apps it drives and the demo traffic are built by `demo_app`, `view_app` and `demo_traffic`,
which tests/test_export_screenshots.py builds and mounts in a few seconds: the suite does not
run this script, and a keyword the app's config no longer takes would otherwise only show here.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from textual.pilot import Pilot
from textual.widgets import Input

from rps_tui.core.connection.probe import probe
from rps_tui.core.connection.settings import parse_url
from rps_tui.core.embedded.demo import DEMO_PATTERNS, DemoTraffic
from rps_tui.core.embedded.server import start_server
from rps_tui.core.session import Session
from rps_tui.core.subscriptions import Subscription
from rps_tui.ui.app import AppConfig, Connection, RpsApp, offline_config

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (120, 40)  # a common terminal; main-80x24.svg shows the smallest one
HOSTILE = b"[bold]not markup[/bold] \x1b[31m escape \x07 bell"
SUBS = [Subscription.parse(p) for p in DEMO_PATTERNS]


def demo_traffic(url: str) -> DemoTraffic:
    """The demo's traffic to `url`, seeded: every run publishes the same messages."""
    return DemoTraffic(url, seed=1)


def demo_app(url: str) -> RpsApp:
    """The dashboard on the demo server at `url`, as `rps-tui --demo` shows it (the address on
    screen fixed, so the screenshots do not change with the port)."""
    settings = parse_url(url)
    return RpsApp(
        AppConfig(
            settings=settings,
            subscriptions=list(SUBS),
            server_label=probe(settings).label,
            note="demo: embedded Valkey with demo traffic",
            address_label="127.0.0.1:6379/0",
        )
    )


DOWN = "redis://127.0.0.1:1"  # the third tab's server: nothing listens there


def tabs_app(url: str, other: str) -> RpsApp:
    """Three servers in tabs, as `rps-tui --profile production --profile staging --profile
    analytics` shows them: two with demo traffic, the third down."""
    return RpsApp(
        AppConfig(
            settings=parse_url(url),
            subscriptions=list(SUBS),
            server_label=probe(parse_url(url)).label,
            address_label="10.0.0.5:6379/0",
            label="production",
            more=[
                Connection(parse_url(other), list(SUBS), "staging", "Valkey 9"),
                Connection(parse_url(DOWN), list(SUBS), "analytics"),
            ],
        )
    )


def view_app(recording: Path) -> RpsApp:
    """`recording` opened offline, as `rps-tui view FILE` does."""
    return RpsApp(offline_config(Session.from_recording(recording)))


async def wait_for(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.05)


async def shoot(pilot: Pilot[int], name: str, written: list[Path]) -> None:
    await pilot.pause(0.2)
    for screen in pilot.app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False
    await pilot.pause()
    written.append(Path(pilot.app.save_screenshot(filename=name, path=str(OUT))))


async def drive(app: RpsApp, url: str) -> list[Path]:
    written: list[Path] = []
    client = redis.Redis.from_url(url)
    listener = client.pubsub()
    try:
        async with app.run_test(size=SIZE) as pilot:
            store = app.session.store
            await wait_for(lambda: all(store.appended(s) for s in SUBS))  # every family in
            await pilot.pause(3.0)  # rates and sparklines start to fill
            await shoot(pilot, "main.svg", written)
            await pilot.resize_terminal(80, 24)
            await pilot.pause(1.2)
            await shoot(pilot, "main-80x24.svg", written)
            await pilot.resize_terminal(*SIZE)
            await pilot.pause(0.5)

            await pilot.press("right_square_bracket")  # demo.metrics.*
            await pilot.pause(5.0)
            await shoot(pilot, "statistics.svg", written)

            # the channel tree, busiest branch first, the metrics branch of web-1 open
            tree = app.dashboard.channel_tree
            await pilot.press("t")
            tree.focus()
            await pilot.press("o")  # by msg/s
            await wait_for(lambda: any(n.key == b"demo.metrics." for n, _ in tree.rows))
            for prefix in (b"demo.metrics.", b"demo.metrics.web-1."):
                tree.cursor_row = next(
                    i for i, (n, _) in enumerate(tree.rows) if n.branch and n.key == prefix
                )
                if prefix not in tree.expanded:
                    await pilot.press("right")
                    await wait_for(lambda p=prefix: p in tree.expanded)
            await pilot.pause(1.2)
            await shoot(pilot, "tree.svg", written)
            await pilot.press("t")
            app.dashboard.pane.focus()

            await pilot.press("1", "up", "enter")  # demo.orders.*: a JSON order
            await wait_for(lambda: type(app.screen).__name__ == "DetailScreen")
            await shoot(pilot, "detail.svg", written)
            await pilot.press("escape", "question_mark")
            await wait_for(lambda: type(app.screen).__name__ == "HelpScreen")
            await shoot(pilot, "help.svg", written)
            # PUBSUB CHANNELS lists channels with a channel subscriber; the demo has none
            listener.subscribe("demo.chat.general", "demo.chat.ops", "billing.events")
            await pilot.press("escape", "end", "s")
            await wait_for(lambda: getattr(app.screen, "loaded", False))
            await shoot(pilot, "subscribe.svg", written)
            await pilot.press("escape", "3")  # demo.chat.*
            listener.unsubscribe()

            chat = SUBS[2]
            before = app.session.store.appended(chat)
            client.publish("demo.chat.lobby", HOSTILE)
            await wait_for(lambda: app.session.store.appended(chat) > before)
            await pilot.pause(1.2)  # one counts tick
            await shoot(pilot, "hostile.svg", written)

            await pilot.press("1")  # demo.orders.*: a JSON filter, matches highlighted
            await pilot.press("slash", *"json:qty > `2`")
            await pilot.pause(0.5)
            await pilot.press("enter", "n")
            await shoot(pilot, "search.svg", written)
            await pilot.press("slash", "ctrl+u", "escape")

            # the browser lists channels with channel subscribers: give it some
            listener.subscribe("demo.chat.general", "billing.events", "audit.log")
            others = [redis.Redis.from_url(url).pubsub() for _ in range(3)]
            for n, other in enumerate(others):
                other.subscribe(*["billing.events", "demo.orders.eu", "demo.orders.us"][: n + 1])
            listener.ssubscribe("cart{42}")
            await pilot.press("b")
            await wait_for(lambda: getattr(app.screen, "refreshes", 0) >= 1)
            await shoot(pilot, "browser.svg", written)
            await pilot.press("escape")
            for other in others:
                other.close()

            await pilot.press("k")
            await wait_for(lambda: getattr(app.screen, "loaded", False))
            await pilot.press("e")
            await wait_for(lambda: type(app.screen).__name__ == "Confirm")
            await pilot.press("y")
            await wait_for(lambda: "publishes notifications" in str(
                app.screen.query_one("#keyspace-flags").render()))  # fmt: skip
            await pilot.press("s")  # subscribes to both patterns, closes the helper
            space = Subscription.parse("__keyspace@0__:*")
            await wait_for(lambda: space in app.dashboard.sub_list.subs)
            await pilot.press(str(app.dashboard.sub_list.subs.index(space) + 1))
            await pilot.pause(0.5)
            for key, value in (("user:1", "ann"), ("cart:42", "3"), ("session:9", "x")):
                client.set(key, value)
            client.expire("session:9", 1)
            client.delete("cart:42")
            await wait_for(lambda: app.session.store.appended(space) >= 4)
            await pilot.pause(1.2)
            await shoot(pilot, "keyspace.svg", written)

            # plots of demo.metrics.*, which has run for half a minute by now
            await pilot.press("2", "g")
            await wait_for(lambda: getattr(app.screen, "draws", 0) >= 1)
            await pilot.pause(1.2)
            await shoot(pilot, "plot.svg", written)
            await pilot.press("v", *"number", "enter")
            await wait_for(lambda: getattr(app.screen, "values", None) is not None)
            await pilot.pause(20.0)  # the history holds the last 10 s: let the lines grow
            await shoot(pilot, "plot-values.svg", written)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is app.dashboard)

            # the publish box: a repeat running (the header says so), the editor open
            box = app.dashboard.publish_box
            await pilot.press("1", "i")
            box.channel_input.value = "demo.orders.eu"
            box.message_input.value = '{"id": "ord-eu-{{n}}",⏎ "sku": "HD-4TB",⏎ "qty": 2}'
            await pilot.press("ctrl+r")
            await wait_for(lambda: type(app.screen).__name__ == "RepeatScreen")
            await pilot.press("ctrl+u", "2", "enter")
            await wait_for(lambda: app.screen is app.dashboard)
            await pilot.press("ctrl+e")
            await wait_for(lambda: type(app.screen).__name__ == "MessageEditor")
            await pilot.pause(2.5)  # a few repeats counted in the header
            await shoot(pilot, "publish.svg", written)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is app.dashboard)
            await pilot.press("ctrl+r")  # stops the repeat
            box.message_input.value = ""
            await pilot.press("escape")
            app.dashboard.pane.focus()

            await pilot.press("1", "r")  # record what arrives, for the offline view below
            await pilot.pause(3.0)
            await shoot(pilot, "record.svg", written)
            await pilot.press("r")

            await pilot.press("ctrl+p", *"theme")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.5)
            await pilot.press(*"nord")
            await pilot.pause(0.5)
            await shoot(pilot, "themes.svg", written)
            await pilot.press("enter")
            await pilot.press("q")
    finally:
        listener.close()
        client.close()
    return written


async def tabs(url: str) -> list[Path]:
    """tabs.svg: the demo server, a second one with its own traffic, and one that is down;
    all.svg: the all view of them."""
    other = start_server("valkey")
    traffic = DemoTraffic(other.url, seed=2)
    app = tabs_app(url, other.url)
    written: list[Path] = []
    try:
        traffic.start()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: all(d.is_mounted for d in app.dashboards))
            await wait_for(lambda: all(app.dashboards[1].store.appended(s) for s in SUBS))
            await pilot.pause(3.0)
            await shoot(pilot, "tabs.svg", written)
            await app.action_tab(len(app.dashboards))  # the all view, the last tab
            await wait_for(lambda: app.screen is app.all_view)
            await pilot.pause(1.0)
            await shoot(pilot, "all.svg", written)
    finally:
        traffic.stop()
        other.stop()
    return written


async def view(recording: Path) -> Path:
    """The recording made above, opened offline as `rps-tui view FILE` does."""
    app = view_app(recording)
    engine = app.session.subscriber
    written: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.dashboard.sub_list.subs == engine.subscriptions)
        await pilot.pause(1.5)
        await shoot(pilot, "view.svg", written)
    return written[0]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    server = start_server("valkey")
    traffic = demo_traffic(server.url)
    try:
        traffic.start()
        app = demo_app(server.url)
        with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
            for path in asyncio.run(drive(app, server.url)):
                print(path)
            (recording,) = Path(scratch).glob("rps-tui-*.ndjson")  # what `r` wrote
            print(asyncio.run(view(recording)))
            for path in asyncio.run(tabs(server.url)):
                print(path)
    finally:
        traffic.stop()
        server.stop()


if __name__ == "__main__":
    main()
