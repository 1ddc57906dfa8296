"""Driving the dashboard in tests: build an app on a real server, wait until subscriptions
are active, read what the message pane shows."""

from __future__ import annotations

from textual import events

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.subscriptions import Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from tests.support.wait import async_wait_for

SIZE = (160, 45)


def make_app(url: str, *subs: Subscription, **kw) -> RpsApp:
    return RpsApp(AppConfig(settings=parse_url(url), subscriptions=list(subs), **kw))


def pane_text(app: RpsApp) -> list[str]:
    pane = app.dashboard.pane
    height = pane.scrollable_content_region.height
    return [pane.render_line(y).text for y in range(height)]


async def active(app: RpsApp, *subs: Subscription) -> None:
    """Until every subscription is confirmed and the list on screen shows them all."""
    await async_wait_for(
        lambda: (
            all(
                s in app.session.store.subs and app.session.store.subs[s].status is Status.ACTIVE
                for s in subs
            )
            and app.dashboard.sub_list.subs == app.session.subscriber.subscriptions
        )
    )


def burst(app: RpsApp, *keys: str) -> None:
    """Keys as a terminal delivers a fast burst: all queued before the first is handled
    (`pilot.press` waits for each key, which hides the race)."""
    for key in keys:
        char = key if len(key) == 1 else {"tab": "\t", "enter": "\r"}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)  # as the driver sends it (Pilot too): bindings see it
        app.post_message(event)
