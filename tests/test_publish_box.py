"""The publish box as a user types and pastes into it: a pasted multi-line message goes out
whole, a fast burst across fields lands in the right fields, an error is readable whole, and
a result never outlives the message it was about. A real server, a real subscriber."""

from __future__ import annotations

import redis
from textual import events

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.publish_box import PublishBox
from tests.support.app import SIZE, active, burst, make_app
from tests.support.publish import Collector, result
from tests.support.wait import async_wait_for


async def test_a_pasted_multi_line_message_is_published_whole(server) -> None:
    listener = Collector(server.url, "pb.paste")
    sub = Subscription(Kind.CHANNEL, "pb.paste")
    app = make_app(server.url, sub)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.query_one(PublishBox)
            await pilot.press("i")
            box.message_input.post_message(events.Paste('{\n  "a": 1\n}'))
            await async_wait_for(lambda: "⏎" in box.message_input.value)
            assert box.message_input.value == '{⏎  "a": 1⏎}'  # one line, the breaks shown
            await pilot.press("enter")
            await async_wait_for(lambda: listener.got == [(b"pb.paste", b'{\n  "a": 1\n}')])
            await async_wait_for(lambda: "3 lines" in result(box))
    finally:
        listener.close()


async def test_a_burst_across_the_fields_lands_in_the_right_fields(server) -> None:
    """`chan1`, Tab, `msg1`, Enter typed faster than the fields take focus: the channel is
    chan1, the message msg1."""
    listener = Collector(server.url, "pb.chan1")
    sub = Subscription(Kind.PATTERN, "pb.*")  # a pattern: the channel field starts empty
    app = make_app(server.url, sub)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.query_one(PublishBox)
            await pilot.press("i")
            burst(app, *"pb.chan1", "tab", *"msg1", "enter")
            await async_wait_for(lambda: listener.got == [(b"pb.chan1", b"msg1")])
            assert box.channel_input.value == "pb.chan1"
            box.channel_input.value = ""
            await pilot.press("shift+tab")
            burst(app, *"pb.chan1", "enter", *"two", "enter")
            await async_wait_for(lambda: listener.got[-1:] == [(b"pb.chan1", b"two")])
    finally:
        listener.close()


async def test_a_refused_publish_is_told_whole_and_a_result_goes_with_its_message(
    server_factory,
) -> None:
    srv = server_factory("valkey")
    admin = redis.Redis.from_url(srv.url)
    admin.acl_setuser(
        "reader", enabled=True, passwords=["+pw"], commands=["+@all", "-publish"], channels=["*"]
    )
    admin.close()
    sub = Subscription(Kind.CHANNEL, "pb.denied")
    app = make_app(srv.url.replace("redis://", "redis://reader:pw@"), sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("i", *"keep me", "enter")
        box = app.query_one(PublishBox)
        await async_wait_for(lambda: "not sent" in result(box))
        told = [str(n.message) for n in app._notifications]
        assert any("not sent" in t and "publish" in t.lower() for t in told), told
        assert box.message_input.value == "keep me"  # nothing typed is lost
        await pilot.press("!")  # the result was about the text before the edit
        await async_wait_for(lambda: result(box) == "")
