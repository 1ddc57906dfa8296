"""Snapshot tests: the screens as SVG, with a frozen clock and fixed data from a real server.

Update on purpose with `pytest tests/test_snapshots.py --snapshot-update` and review the diff.
"""

from __future__ import annotations

import json

import pytest
import redis
from textual.widgets import Input

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.detail import DetailScreen
from tests.support.wait import async_wait_for

FROZEN = 1_764_237_600.25  # 2025-11-27 10:00:00.250 UTC
SIZE = (140, 40)
SUBS = [
    Subscription(Kind.PATTERN, "shop.orders.*"),
    Subscription(Kind.CHANNEL, "chat.lobby"),
    Subscription(Kind.PATTERN, "sensors.*"),
]


def messages() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for i in range(12):
        region = ("eu", "us", "apac")[i % 3]
        order = {"id": f"ord-{i:04d}", "sku": "KB-101", "qty": i % 4 + 1, "price": 19.5 + i}
        out.append((f"shop.orders.{region}", json.dumps(order).encode()))
    out.append(("chat.lobby", b"hello [bold]not markup[/bold] \x1b[31mred?"))
    out.append(("sensors.t1", b"\x00\x01\xfe\xff binary"))
    return out


@pytest.fixture
def snapshot_app(server_factory):
    srv = server_factory("valkey")
    app = RpsApp(
        AppConfig(
            settings=parse_url(srv.url),
            subscriptions=list(SUBS),
            server_label="Valkey 9 (test)",
            clock=lambda: FROZEN,
            monitor=False,
            address_label="127.0.0.1:6379/0",
        )
    )
    return srv, app


def prepare(srv):
    async def run_before(pilot) -> None:
        app: RpsApp = pilot.app
        for widget in app.query(Input):
            widget.cursor_blink = False
        await async_wait_for(
            lambda: all(
                s in app.session.store.subs and app.session.store.subs[s].status is Status.ACTIVE
                for s in SUBS
            )
        )
        client = redis.Redis.from_url(srv.url)
        for channel, payload in messages():
            client.publish(channel, payload)
        client.close()
        await async_wait_for(lambda: app.session.store.total == len(messages()))
        await pilot.pause(1.2)  # one counts tick
        app.dashboard.refresh_counts()
        await pilot.pause()
        # a pane that follows scrolls to its end after the layout settles (it moved at the
        # narrow sizes): let that scroll and its scrollbar repaint land before the picture
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40), SIZE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, snapshot_app, size) -> None:
    """The layouts: stacked under 110 columns, side by side from there."""
    srv, app = snapshot_app
    assert snap_compare(app, terminal_size=size, run_before=prepare(srv))


def test_help_screen(snap_compare, snapshot_app) -> None:
    srv, app = snapshot_app
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_subscribe_dialog(snap_compare, snapshot_app) -> None:
    srv, app = snapshot_app
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        client = redis.Redis.from_url(srv.url)
        listener = client.pubsub()
        listener.subscribe("billing.events", "audit.log")  # active channels to pick from
        await pilot.press("s")
        await async_wait_for(lambda: getattr(pilot.app.screen, "loaded", False))
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.press(*"billing.*")
        await pilot.pause()
        listener.close()
        client.close()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_detail_view(snap_compare, snapshot_app) -> None:
    srv, app = snapshot_app
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        await pilot.press("down", "enter")  # the first ↓ selects the newest
        await async_wait_for(lambda: isinstance(pilot.app.screen, DetailScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    ("size", "zoom"),
    [((80, 24), False), ((80, 24), True), ((120, 40), False)],
    ids=["80x24", "80x24-zoomed", "120x40"],
)
def test_channel_tree(snap_compare, snapshot_app, size, zoom) -> None:
    """`t`: the tree in the table's slot, shop.orders. open, the cursor on a leaf."""
    srv, app = snapshot_app
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        await pilot.press("t")
        app.dashboard.channel_tree.focus()
        await pilot.pause()
        # chat., sensors., shop.: open shop. and its orders., onto orders.eu
        await pilot.press("down", "down", "enter", "down", "right", "down", "down")
        if zoom:
            await pilot.press("z")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


SAVED = """# saved by hand
[[message]]
name = "new order"
channel = "shop.orders.eu"
message = '''{
  "id": "ord-0001",
  "qty": 2
}'''

[[message]]
name = "lobby hello"
channel = "chat.lobby"
message = "hello from rps-tui"

[[message]]
name = "cart (sharded)"
channel = "cart{42}"
sharded = true
message = '{"items": 3}'
"""


def test_saved_messages_picker(snap_compare, snapshot_app, tmp_path) -> None:
    """ctrl+o in the publish box at 80x24, narrowed by typing."""
    srv, app = snapshot_app
    (tmp_path / "saved-messages.toml").write_text(SAVED, encoding="utf-8")
    app.dashboard.options.saved_path = tmp_path / "saved-messages.toml"
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        await pilot.press("i", "ctrl+o")
        await async_wait_for(lambda: pilot.app.screen.query("#saved-filter"))
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.press("o")  # "new order" and "lobby hello", not the cart
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_message_editor(snap_compare, snapshot_app, tmp_path) -> None:
    """ctrl+e in the publish box at 80x24: a JSON message that is not JSON yet."""
    from textual import events
    from textual.widgets import TextArea

    srv, app = snapshot_app
    app.dashboard.options.saved_path = tmp_path / "saved-messages.toml"
    base = prepare(srv)

    async def run_before(pilot) -> None:
        await base(pilot)
        await pilot.press("i", *"shop.orders.eu", "tab")
        box = pilot.app.dashboard.publish_box
        box.message_input.post_message(events.Paste('{\n  "id": "ord-0001",\n  "qty": 2,\n}'))
        await async_wait_for(lambda: "⏎" in box.message_input.value)
        await pilot.press("ctrl+e")
        await async_wait_for(lambda: pilot.app.screen.query("#editor-text"))
        pilot.app.screen.query_one(TextArea).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
