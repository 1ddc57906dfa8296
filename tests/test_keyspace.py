"""Keyspace notifications: the helper screen (`k`) against a real server, and parsing."""

from __future__ import annotations

import redis

from rps_tui.core.payload import keyspace
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.keyspace import Confirm, KeyspaceScreen
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.wait import async_wait_for


def test_parse_and_flags() -> None:
    space = keyspace.parse(b"__keyspace@0__:user:1", b"set")
    assert space == keyspace.Notification(0, b"user:1", b"set")
    event = keyspace.parse(b"__keyevent@3__:expired", b"session:9")
    assert event == keyspace.Notification(3, b"session:9", b"expired")
    assert keyspace.parse(b"orders", b"x") is None and keyspace.parse(None, b"x") is None
    assert keyspace.parse(b"__keyspace@0__:a\nb", b"del").key == b"a\nb"  # any key bytes
    assert not keyspace.publishes_anything("") and not keyspace.publishes_anything("KE")
    assert not keyspace.publishes_anything("A") and keyspace.publishes_anything("Kx")
    assert keyspace.merged("") == "KEA"
    assert keyspace.merged("Ex") == "ExKA"
    assert keyspace.merged("AKE") == "AKE" and keyspace.merged("g$lshzxetdKE") == "g$lshzxetdKE"


async def test_helper_asks_before_changing_the_server_then_shows_events(server_factory) -> None:
    server = server_factory("valkey")
    admin = redis.Redis.from_url(server.url)
    app = make_app(server.url, Subscription(Kind.CHANNEL, "ks.other"))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, Subscription(Kind.CHANNEL, "ks.other"))
            await pilot.press("k")
            await async_wait_for(
                lambda: isinstance(app.screen, KeyspaceScreen) and app.screen.loaded
            )
            helper = app.screen
            shown = str(helper.query_one("#keyspace-flags").render())
            assert "publishes no notifications" in shown and helper.flags == ""
            await pilot.press("e")  # asks first ...
            await async_wait_for(lambda: isinstance(app.screen, Confirm))
            assert "'KEA'" in str(app.screen.query_one("Static").render())
            await pilot.press("n")  # ... and a "no" changes nothing
            await async_wait_for(lambda: app.screen is helper)
            assert admin.config_get("notify-keyspace-events")["notify-keyspace-events"] == ""
            await pilot.press("e")
            await async_wait_for(lambda: isinstance(app.screen, Confirm))
            await pilot.press("y")
            await async_wait_for(lambda: helper.flags and set(helper.flags) >= {"K", "E", "A"})
            value = admin.config_get("notify-keyspace-events")["notify-keyspace-events"]
            assert set(value) >= {"K", "E", "A"}
            assert "The server publishes notifications" in str(
                helper.query_one("#keyspace-flags").render()
            )
            await pilot.press("s")
            space = Subscription(Kind.PATTERN, "__keyspace@0__:*")
            event = Subscription(Kind.PATTERN, "__keyevent@0__:*")
            await active(app, space, event)
            admin.set("ks:user:1", "ann")
            admin.delete("ks:user:1")
            await async_wait_for(
                lambda: (
                    app.session.store.subs[space].total == 2
                    and app.session.store.subs[event].total == 2
                )
            )
            entries = list(app.session.store.subs[space].buffer)
            parsed = [keyspace.parse(e[-3], e[-2]) for e in entries]
            assert [(n.key, n.event) for n in parsed if n is not None] == [
                (b"ks:user:1", b"set"),
                (b"ks:user:1", b"del"),
            ]
            # shown as key and event, not as a channel name and a payload
            await pilot.press(str(app.dashboard.sub_list.subs.index(space) + 1))
            await async_wait_for(lambda: any("ks:user:1  ← del" in ln for ln in pane_text(app)))
            assert not any("__keyspace@0__:ks" in line for line in pane_text(app))
            await pilot.press(str(app.dashboard.sub_list.subs.index(event) + 1))
            await async_wait_for(lambda: any("set  → ks:user:1" in ln for ln in pane_text(app)))
    finally:
        admin.close()


async def test_helper_says_so_when_config_is_refused(server) -> None:
    """An ACL without CONFIG: one line in the helper, no traceback; subscribing still works."""
    admin = redis.Redis.from_url(server.url)
    admin.execute_command(
        "ACL", "SETUSER", "ks_noconfig", "on", ">pw", "~*", "&*", "+@all", "-config"
    )
    url = server.url.replace("redis://", "redis://ks_noconfig:pw@")
    app = make_app(url, Subscription(Kind.CHANNEL, "ks.refused"))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, Subscription(Kind.CHANNEL, "ks.refused"))
            await pilot.press("k")
            await async_wait_for(
                lambda: isinstance(app.screen, KeyspaceScreen) and app.screen.loaded
            )
            shown = str(app.screen.query_one("#keyspace-flags").render())
            assert shown.startswith("Could not read notify-keyspace-events:") and "\n" not in shown
            assert app.screen.query_one("#keyspace-enable").disabled
            await pilot.press("s")
            await active(app, Subscription(Kind.PATTERN, "__keyspace@0__:*"))
    finally:
        admin.execute_command("ACL", "DELUSER", "ks_noconfig")
        admin.close()


async def test_enable_is_offered_only_when_it_changes_something(server_factory) -> None:
    """With notify-keyspace-events already 'AKE' the helper offered 'Enable KEA (e)'; now
    neither the button nor the key offers it, and with 'Kx' it offers what it adds."""
    server = server_factory("valkey", extra_args=["--notify-keyspace-events", "AKE"])
    admin = redis.Redis.from_url(server.url)
    sub = Subscription(Kind.CHANNEL, "ks.offer")
    app = make_app(server.url, sub)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            await pilot.press("k")
            await async_wait_for(
                lambda: isinstance(app.screen, KeyspaceScreen) and app.screen.loaded
            )
            helper = app.screen
            assert set(helper.flags) == set("AKE")
            button = helper.query_one("#keyspace-enable")
            assert not button.display and button.disabled
            offered = {b.binding.id for b in helper.active_bindings.values() if b.enabled}
            assert "keyspace.enable" not in offered and "keyspace.subscribe" in offered
            await pilot.press("e")
            await pilot.pause(0.2)
            assert app.screen is helper  # no question: nothing to change
            await pilot.press("escape")
            await async_wait_for(lambda: app.screen is app.dashboard)
            admin.config_set("notify-keyspace-events", "Kx")
            await pilot.press("k")
            await async_wait_for(
                lambda: isinstance(app.screen, KeyspaceScreen) and app.screen.loaded
            )
            button = app.screen.query_one("#keyspace-enable")
            assert button.display and not button.disabled
            assert str(button.label) == "Enable EA (e)"
            await pilot.press("e")
            await async_wait_for(lambda: isinstance(app.screen, Confirm))
            assert "'xKEA'" in str(
                app.screen.query_one("Static").render()
            )  # as the server echoes it
    finally:
        admin.close()
