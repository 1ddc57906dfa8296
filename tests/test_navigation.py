"""Moving around the dashboard with keys: the pane's cursor and the subscription list's
selection, on a real server through Textual's pilot."""

from __future__ import annotations

import redis

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp
from tests.helpers import async_wait_for
from tests.support.app import SIZE, active, make_app, pane_text


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
