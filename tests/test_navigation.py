"""Moving around the dashboard with keys: the pane's cursor and the subscription list's
selection, on a real server through Textual's pilot."""

from __future__ import annotations

import redis

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp
from tests.support.app import SIZE, active, burst, make_app, pane_text
from tests.support.wait import async_wait_for


def selected_line(app: RpsApp) -> str | None:
    """The text of the line drawn reversed (the cursor), if one is on screen."""
    pane = app.dashboard.pane
    for y in range(pane.scrollable_content_region.height):
        strip = pane.render_line(y)
        if any(segment.style and segment.style.reverse for segment in strip):
            return strip.text
    return None


async def test_the_first_arrow_moves_from_where_the_eye_is(server, redis_client: redis.Redis):
    """Following the tail, the first ↑ selects the line before the newest (the newest is
    where the eye is), after End too; the first ↓ selects the newest."""
    sub = Subscription(Kind.CHANNEL, "nav.cursor")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for i in range(5):
            redis_client.publish("nav.cursor", f"line-{i}")
        await async_wait_for(lambda: any("line-4" in line for line in pane_text(app)))
        model = app.dashboard.pane.model
        assert model is not None and model.cursor is None and model.follow
        await pilot.press("up")
        assert model.cursor == 3 and not model.follow
        assert "line-3" in (selected_line(app) or "")
        await pilot.press("end", "up")
        assert model.cursor == 3
        await pilot.press("end", "down")
        assert model.cursor == 4 and model.follow
        await pilot.press("end", "up", "up")
        assert model.cursor == 2


async def test_a_scrolled_pane_moves_from_its_bottom_line(server, redis_client: redis.Redis):
    """Scrolled away (the wheel) with no cursor yet: the arrows start at the bottom line on
    screen, not at the newest line out of sight."""
    sub = Subscription(Kind.CHANNEL, "nav.scrolled")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for i in range(200):
            redis_client.publish("nav.scrolled", f"n{i}")
        await async_wait_for(lambda: any(" n199 " in line + " " for line in pane_text(app)))
        pane = app.dashboard.pane
        pane.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        model = pane.model
        assert model is not None and not model.follow and model.cursor is None
        height = pane.scrollable_content_region.height
        await pilot.press("up")
        assert model.cursor == height - 2
        assert pane.scroll_offset.y == 0  # nothing jumped: the cursor is in sight


async def test_unsubscribing_selects_the_neighbour(server) -> None:
    """`x` leaves the selection on the row that took the removed one's place, or on the one
    above when the last row went, not on row 1."""
    subs = [Subscription(Kind.CHANNEL, f"nav.x.{n}") for n in "abc"]
    a, _, c = subs
    app = make_app(server.url, *subs)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, *subs)
        dashboard = app.dashboard
        await pilot.press("2", "x")
        await async_wait_for(lambda: dashboard.sub_list.subs == [a, c])
        await pilot.pause()
        assert dashboard.selected == c and dashboard.pane.model.sub == c
        await pilot.press("x")  # c is the last row: the one above takes the selection
        await async_wait_for(lambda: dashboard.sub_list.subs == [a])
        await pilot.pause()
        assert dashboard.selected == a and dashboard.pane.model.sub == a


async def test_the_browser_and_the_keyspace_helper_select_what_they_subscribe(server) -> None:
    from rps_tui.ui.browser import ChannelBrowser
    from rps_tui.ui.keyspace import KeyspaceScreen

    first = Subscription(Kind.CHANNEL, "nav.sel.first")
    app = make_app(server.url, first)
    client = redis.Redis.from_url(server.url)
    listener = client.pubsub()
    try:
        listener.subscribe("nav.sel.browsed")
        async with app.run_test(size=SIZE) as pilot:
            await active(app, first)
            await pilot.press("b")
            await async_wait_for(
                lambda: isinstance(app.screen, ChannelBrowser) and app.screen.refreshes >= 1
            )
            await pilot.press(*"nav.sel.browsed", "down", "enter")
            browsed = Subscription(Kind.CHANNEL, "nav.sel.browsed")
            await active(app, first, browsed)
            await async_wait_for(lambda: app.dashboard.selected == browsed)
            await pilot.press("escape")
            await async_wait_for(lambda: app.screen is app.dashboard)
            await async_wait_for(
                lambda: (
                    app.dashboard.pane.model is not None and app.dashboard.pane.model.sub == browsed
                )
            )
            await pilot.press("1")
            await pilot.press("k")
            await async_wait_for(
                lambda: isinstance(app.screen, KeyspaceScreen) and app.screen.loaded
            )
            await pilot.press("s")  # both patterns; the last one asked for is selected
            event = Subscription(Kind.PATTERN, "__keyevent@0__:*")
            await active(app, event)
            await async_wait_for(lambda: app.dashboard.selected == event)
            # the pane comes with the selection (no RowHighlighted round trip)
            await async_wait_for(
                lambda: (
                    app.dashboard.pane.model is not None and app.dashboard.pane.model.sub == event
                )
            )
    finally:
        listener.close()
        client.close()


async def test_the_subscribe_dialog_marks_what_is_subscribed(server) -> None:
    """As the browser does: an active channel of ours says so in the `s` list."""
    from rps_tui.ui.screens import SubscribeScreen

    mine = Subscription(Kind.CHANNEL, "nav.mark.mine")
    app = make_app(server.url, mine)
    client = redis.Redis.from_url(server.url)
    listener = client.pubsub()
    try:
        listener.subscribe("nav.mark.other")
        async with app.run_test(size=SIZE) as pilot:
            await active(app, mine)
            await pilot.press("s")
            await async_wait_for(
                lambda: isinstance(app.screen, SubscribeScreen) and app.screen.loaded
            )
            options = app.screen.query_one("#subscribe-active")
            prompts = [
                str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
            ]
            assert "nav.mark.mine  ✓ subscribed" in prompts
            assert "nav.mark.other" in prompts
    finally:
        listener.close()
        client.close()


async def test_a_filter_typed_in_one_burst_is_kept_and_enter_returns_to_the_pane(
    server, redis_client: redis.Redis
) -> None:
    """`/eu` and Enter faster than the focus moves (a terminal delivers them at once): the
    letters go into the filter, and Enter, which reaches the filter only after `/` has
    focused it, still keeps the filter and goes back to the pane (it was lost: the filter
    kept the focus, and the next keys typed went into it)."""
    sub = Subscription(Kind.PATTERN, "burst.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("burst.eu", "one")
        redis_client.publish("burst.us", "two")
        await async_wait_for(lambda: app.session.store.appended(sub) == 2)
        dashboard = app.dashboard
        model = dashboard.pane.model
        assert model is not None and app.focused is dashboard.pane
        burst(app, "slash", "e", "u", "enter")
        await async_wait_for(lambda: model.filter == "eu")
        await pilot.pause()
        assert app.focused is dashboard.pane
        assert dashboard.filter_input.value == "eu"
        await async_wait_for(lambda: any("one" in line for line in pane_text(app)))
        assert not any("two" in line for line in pane_text(app))
        await pilot.press("p")  # a key of the pane again, not a letter of the filter
        assert model.paused and dashboard.filter_input.value == "eu"
