"""The channel browser (`b`), live against a real server."""

from __future__ import annotations

import re

import redis

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.browser import ChannelBrowser
from tests.support.app import SIZE, active, make_app
from tests.support.wait import async_wait_for


def rows(screen: ChannelBrowser) -> dict[str, tuple[str, str, str]]:
    table = screen.query_one("#browser-table")
    found = {}
    for row in range(table.row_count):
        kind, name, subs, mark = (str(c) for c in table.get_row_at(row))
        found[name] = (kind, subs, mark)
    return found


async def test_browser_lists_live_channels_and_enter_subscribes(server) -> None:
    mine = Subscription(Kind.CHANNEL, "br.mine")
    app = make_app(server.url, mine)
    clients = [redis.Redis.from_url(server.url) for _ in range(3)]
    listeners = [c.pubsub() for c in clients]
    try:
        listeners[0].subscribe("br.one")
        listeners[1].subscribe("br.one", "br.two")
        listeners[2].ssubscribe("br.sharded")
        listeners[2].psubscribe("br.pat.*")
        async with app.run_test(size=SIZE) as pilot:
            await active(app, mine)
            await pilot.press("b")
            await async_wait_for(lambda: isinstance(app.screen, ChannelBrowser))
            browser = app.screen
            await async_wait_for(lambda: browser.refreshes >= 1)
            found = rows(browser)
            assert found["br.one"] == ("channel", "2", "")
            assert found["br.two"] == ("channel", "1", "")
            assert found["br.mine"] == ("channel", "1", "✓ subscribed")
            assert found["br.sharded"] == ("sharded", "1", "")
            summary = str(browser.query_one("#browser-summary").render())
            # the shared server's count varies; the noun agrees with it ("1 pattern subscription")
            counted = re.search(r"(\d+) pattern subscription(s?) \(PUBSUB NUMPAT\)", summary)
            assert counted and (counted[1] == "1") == (counted[2] == ""), summary
            # live: a new channel shows up on a later refresh, without touching anything
            listeners[0].subscribe("br.three")
            seen = browser.refreshes
            await async_wait_for(lambda: browser.refreshes > seen and "br.three" in rows(browser))
            # narrow, then Enter subscribes to the highlighted row
            await pilot.press(*"two")
            await async_wait_for(lambda: list(rows(browser)) == ["br.two"])
            await pilot.press("down", "enter")  # from the filter into the table, then pick
            two = Subscription(Kind.CHANNEL, "br.two")
            await active(app, two)
            await async_wait_for(lambda: rows(browser)["br.two"][2] == "✓ subscribed", 5)
            await pilot.press("escape")
            await async_wait_for(lambda: not isinstance(app.screen, ChannelBrowser))
            assert app.session.subscriber.subscriptions == [mine, two]
            # sharded rows subscribe with SSUBSCRIBE
            await pilot.press("b")
            await async_wait_for(lambda: isinstance(app.screen, ChannelBrowser))
            browser = app.screen
            await async_wait_for(lambda: browser.refreshes >= 1)
            await pilot.press(*"sharded", "down", "enter")
            await active(app, Subscription(Kind.SHARD, "br.sharded"))
    finally:
        for listener in listeners:
            listener.close()
        for client in clients:
            client.close()


async def test_a_click_on_a_row_subscribes(server) -> None:
    mine = Subscription(Kind.CHANNEL, "br.click.mine")
    app = make_app(server.url, mine)
    client = redis.Redis.from_url(server.url)
    listener = client.pubsub()
    try:
        listener.subscribe("br.click.target")
        async with app.run_test(size=SIZE) as pilot:
            await active(app, mine)
            await pilot.press("b")
            await async_wait_for(lambda: isinstance(app.screen, ChannelBrowser))
            browser = app.screen
            await pilot.press(*"br.click.t")
            await async_wait_for(lambda: list(rows(browser)) == ["br.click.target"])
            table = browser.query_one("#browser-table")
            await pilot.click(table, offset=(12, 1))  # the first row, under the header
            await pilot.pause(0.2)
            assert (
                Subscription(Kind.CHANNEL, "br.click.target")
                not in app.session.subscriber.subscriptions
            )
            await pilot.click(table, offset=(12, 1))  # a click on the highlighted row picks it
            await active(app, Subscription(Kind.CHANNEL, "br.click.target"))
    finally:
        listener.close()
        client.close()
