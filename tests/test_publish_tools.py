"""The publish box's tools as a user drives them: saved messages (ctrl+s, ctrl+o) through the
file and a second app, the repeat (ctrl+r) seen by an independent subscriber and in the
header, and the multi-line editor (ctrl+e). Real servers; the saved messages in a tmp dir."""

from __future__ import annotations

import tomllib
from pathlib import Path

import redis
from textual import events
from textual.widgets import Input, TextArea

from rps_tui.core.saved import FILE_NAME
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp
from rps_tui.ui.message_editor import MessageEditor
from rps_tui.ui.publish_box import PublishBox
from rps_tui.ui.repeat import RepeatScreen
from rps_tui.ui.saved_picker import SavedPicker, SaveScreen
from tests.support.app import SIZE, active, make_app
from tests.support.publish import Collector, result
from tests.support.wait import async_wait_for

MULTI = '{\n  "greeting": "grüß dich 😀",\n  "path": "C:\\\\tmp"\n}'  # a backslash too


def header(app: RpsApp) -> str:
    shown = app.dashboard.status_bar._shown
    return "" if shown is None else shown.plain


def notes(app: RpsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_saved_message_goes_through_the_file_into_another_app(
    server, tmp_path: Path
) -> None:
    saved = tmp_path / FILE_NAME
    sub = Subscription(Kind.PATTERN, "pt.*")  # a pattern: the channel field starts empty
    app = make_app(server.url, sub, saved_path=saved)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        box = app.query_one(PublishBox)
        await pilot.press("i", *"pt.orders", "tab")
        box.message_input.post_message(events.Paste(MULTI))
        await async_wait_for(lambda: "⏎" in box.message_input.value)
        await pilot.press("ctrl+s")
        await async_wait_for(lambda: isinstance(app.screen, SaveScreen))
        app.screen.query_one(Input).post_message(events.Paste("Order ✓"))  # replaces ""
        await pilot.press("enter")
        await async_wait_for(lambda: not isinstance(app.screen, SaveScreen))
        box.channel_input.value, box.message_input.value = "pt.plain", "plain"
        await pilot.press("ctrl+t", "ctrl+s")  # sharded, and a second name
        await async_wait_for(lambda: isinstance(app.screen, SaveScreen))
        await pilot.press(*"other", "enter")
        await async_wait_for(lambda: "saved as other" in result(box))
    data = tomllib.loads(saved.read_text(encoding="utf-8"))["message"]
    assert data == [
        {"name": "Order ✓", "channel": "pt.orders", "sharded": False, "message": MULTI},
        {"name": "other", "channel": "pt.plain", "sharded": True, "message": "plain"},
    ]
    assert "'''{\n" in saved.read_text(encoding="utf-8")  # its lines, as a person writes

    again = make_app(server.url, sub, saved_path=saved)
    async with again.run_test(size=SIZE) as pilot:
        await active(again, sub)
        box = again.query_one(PublishBox)
        await pilot.press("i", "ctrl+o")
        await async_wait_for(lambda: isinstance(again.screen, SavedPicker))
        picker = again.screen
        assert [e.name for e in picker.shown] == ["Order ✓", "other"]
        await pilot.press(*"ORD")  # case-insensitive, narrowed as typed
        await async_wait_for(lambda: [e.name for e in picker.shown] == ["Order ✓"])
        await pilot.press("enter")
        await async_wait_for(lambda: box.message_input.message == MULTI)
        assert box.channel_input.value == "pt.orders" and not box.sharded
        await pilot.press("ctrl+o")
        await async_wait_for(lambda: isinstance(again.screen, SavedPicker))
        await pilot.press("down", "enter")  # the second, by the keys
        await async_wait_for(lambda: box.message_input.message == "plain")
        assert box.sharded


async def test_a_broken_file_is_one_line_and_a_save_never_writes_over_it(
    server, tmp_path: Path
) -> None:
    saved = tmp_path / FILE_NAME
    broken = b'[[message]]\nname = "half\n'
    saved.write_bytes(broken)
    sub = Subscription(Kind.CHANNEL, "pt.broken")
    app = make_app(server.url, sub, saved_path=saved)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("i", *"hello", "ctrl+s")
        await async_wait_for(lambda: any("not saved" in t for t in notes(app)))
        await pilot.press("ctrl+o")
        await async_wait_for(lambda: any("cannot open" in t for t in notes(app)))
        assert not isinstance(app.screen, SaveScreen | SavedPicker)
        told = [t for t in notes(app) if FILE_NAME in t]
        assert len(told) == 2 and all("\n" not in t and "not valid TOML" in t for t in told)
    assert saved.read_bytes() == broken


async def test_a_save_keeps_a_persons_comments_and_asks_before_replacing(
    server, tmp_path: Path
) -> None:
    saved = tmp_path / FILE_NAME
    saved.write_text(
        '# written by hand\n[[message]]\nname = "ping"  # the usual\n'
        'channel = "pt.x"\nmessage = "old"\n',
        encoding="utf-8",
    )
    sub = Subscription(Kind.CHANNEL, "pt.keep")
    app = make_app(server.url, sub, saved_path=saved)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        box = app.query_one(PublishBox)
        await pilot.press("i", *"new", "ctrl+s")
        await async_wait_for(lambda: isinstance(app.screen, SaveScreen))
        await pilot.press(*"ping", "enter")
        status = app.screen.query_one("#saved-status")
        await async_wait_for(lambda: "Enter again replaces" in str(status.render()))
        assert "old" in saved.read_text(encoding="utf-8")
        await pilot.press("enter")
        await async_wait_for(lambda: "saved as ping" in result(box))
    text = saved.read_text(encoding="utf-8")
    assert "# written by hand" in text and "# the usual" in text
    assert tomllib.loads(text)["message"] == [
        {"name": "ping", "channel": "pt.keep", "message": "new", "sharded": False}
    ]


async def test_the_repeat_fills_in_n_shows_in_the_header_and_stops(server, tmp_path) -> None:
    listener = Collector(server.url, "pt.tick")
    sub = Subscription(Kind.CHANNEL, "pt.tick")
    app = make_app(server.url, sub, saved_path=tmp_path / FILE_NAME)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            await pilot.press("i", *"#{{n}} at {{ unix_ms }}", "ctrl+r")
            await async_wait_for(lambda: isinstance(app.screen, RepeatScreen))
            for bad, said in (("abc", "not a number"), ("0", "from 0.01")):
                app.screen.query_one(Input).value = bad
                await pilot.press("enter")
                error = app.screen.query_one("#repeat-error")
                await async_wait_for(lambda s=said, e=error: s in str(e.render()))
            app.screen.query_one(Input).value = "1"
            await pilot.press("ctrl+shift+a", *"0.1", "enter")  # typing replaces the selection
            await pilot.press("escape")  # the focus leaves the box: the repeat goes on
            await async_wait_for(lambda: len(listener.got) >= 4)
            for n, (channel, data) in enumerate(listener.got[:4], 1):
                head, _, ms = data.partition(b" at ")
                assert (channel, head) == (b"pt.tick", b"#%d" % n) and ms.isdigit()
            assert "⟳ repeat #" in header(app) and "every 0.1 s → pt.tick" in header(app)
            assert "(Ctrl+R stops)" in header(app)
            await pilot.press("ctrl+r")  # from the pane: stops
            await async_wait_for(lambda: "repeat" not in header(app))
            await pilot.pause(0.3)
            count = len(listener.got)
            await pilot.pause(0.4)
            assert len(listener.got) == count
            # Enter sends the braces as typed: no template
            await pilot.press("i", "enter")
            await async_wait_for(
                lambda: listener.got[-1] == (b"pt.tick", b"#{{n}} at {{ unix_ms }}")
            )
    finally:
        listener.close()


async def test_an_unknown_placeholder_is_refused_before_it_repeats(server, tmp_path) -> None:
    sub = Subscription(Kind.CHANNEL, "pt.typo")
    app = make_app(server.url, sub, saved_path=tmp_path / FILE_NAME)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("i", *"{{nn}}", "ctrl+r")
        await async_wait_for(lambda: any("unknown placeholder {{nn}}" in t for t in notes(app)))
        assert not isinstance(app.screen, RepeatScreen)
        assert not any("--no-template" in t for t in notes(app))  # the CLI's, not here


async def test_a_publish_error_stops_the_repeat_and_says_why(server_factory, tmp_path) -> None:
    srv = server_factory("valkey")
    admin = redis.Redis.from_url(srv.url)
    admin.acl_setuser(
        "reader", enabled=True, passwords=["+pw"], commands=["+@all", "-publish"], channels=["*"]
    )
    admin.close()
    sub = Subscription(Kind.CHANNEL, "pt.denied")
    url = srv.url.replace("redis://", "redis://reader:pw@")
    app = make_app(url, sub, saved_path=tmp_path / FILE_NAME)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("i", *"x", "ctrl+r")
        await async_wait_for(lambda: isinstance(app.screen, RepeatScreen))
        await pilot.press("enter")  # every 1 s: the first at once
        await async_wait_for(lambda: any("repeat stopped" in t for t in notes(app)))
        told = next(t for t in notes(app) if "repeat stopped" in t)
        assert "after 0 messages" in told and "publish" in told.lower() and "\n" not in told
        await async_wait_for(lambda: "repeat" not in header(app))
        assert not app.query_one(PublishBox).repeater.running


async def test_the_editor_publishes_and_keeps_exactly_and_tells_json(server, tmp_path) -> None:
    listener = Collector(server.url, "pt.edit")
    sub = Subscription(Kind.CHANNEL, "pt.edit")
    app = make_app(server.url, sub, saved_path=tmp_path / FILE_NAME)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.query_one(PublishBox)
            await pilot.press("i")
            box.message_input.post_message(events.Paste(MULTI))
            await async_wait_for(lambda: "⏎" in box.message_input.value)
            await pilot.press("ctrl+e")
            await async_wait_for(lambda: isinstance(app.screen, MessageEditor))
            editor = app.screen
            area = editor.query_one(TextArea)
            status = editor.query_one("#editor-status")
            assert area.text == MULTI
            await async_wait_for(lambda: "valid JSON" in str(status.render()))
            assert "4 lines" in str(status.render())
            await pilot.press("x")  # at the start: x{
            await async_wait_for(
                lambda: "not JSON: line 1 col 1: Expecting value" in str(status.render())
            )
            await pilot.press("escape")  # keeps it, unsent
            await async_wait_for(lambda: box.message_input.message == "x" + MULTI)
            assert listener.got == []
            await pilot.press("ctrl+e")
            await async_wait_for(lambda: isinstance(app.screen, MessageEditor))
            await pilot.press("delete", "end", "enter", *"more")
            await pilot.press("f5")
            sent = MULTI.replace("{\n", "{\nmore\n", 1)
            await async_wait_for(lambda: listener.got == [(b"pt.edit", sent.encode())])
            await async_wait_for(lambda: box.message_input.value == "")  # sent: cleared
    finally:
        listener.close()


async def test_a_slow_server_skips_beats_and_never_overlaps_sends(server_factory, tmp_path) -> None:
    """CLIENT PAUSE holds the publishes: the beats meanwhile are skipped and counted, and
    what arrives is 1, 2, 3 … without a gap or a repeat."""
    srv = server_factory("valkey")
    listener = Collector(srv.url, "pt.slow")
    sub = Subscription(Kind.CHANNEL, "pt.slow")
    app = make_app(srv.url, sub, saved_path=tmp_path / FILE_NAME)
    admin = redis.Redis.from_url(srv.url)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            await pilot.press("i", *"{{n}}", "ctrl+r")
            await async_wait_for(lambda: isinstance(app.screen, RepeatScreen))
            app.screen.query_one(Input).value = "0.05"
            await pilot.press("enter")
            await async_wait_for(lambda: len(listener.got) >= 3)
            admin.execute_command("CLIENT", "PAUSE", "800", "WRITE")
            run = app.query_one(PublishBox).repeater.current
            assert run is not None
            await async_wait_for(lambda: run.skipped >= 5 and "skipped" in header(app))
            count = len(listener.got)
            await async_wait_for(lambda: len(listener.got) >= count + 3)
            await pilot.press("ctrl+r")
            await async_wait_for(lambda: "repeat" not in header(app))
            await pilot.pause(0.3)
        numbers = [int(data) for _, data in listener.got]
        assert numbers == list(range(1, len(numbers) + 1))
    finally:
        admin.close()
        listener.close()
