"""The dashboard driven by keys through Textual's pilot, against real servers."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from textual import events
from textual.command import CommandPalette
from textual.widgets import Input

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.detail import DetailScreen
from rps_tui.ui.publish_box import PublishBox
from rps_tui.ui.screens import HelpScreen, SubscribeScreen
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.wait import async_wait_for


async def test_subscribe_and_unsubscribe_by_keys(server, redis_client: redis.Redis) -> None:
    app = make_app(server.url, Subscription(Kind.CHANNEL, "app.first"))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, Subscription(Kind.CHANNEL, "app.first"))
        await pilot.press("s")
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
        await pilot.press(*"app.keys.*", "enter")
        pattern = Subscription(Kind.PATTERN, "app.keys.*")
        await active(app, pattern)
        await async_wait_for(lambda: app.dashboard.selected == pattern)
        numpat_with = redis_client.pubsub_numpat()
        await pilot.press("x")
        await async_wait_for(lambda: redis_client.pubsub_numpat() == numpat_with - 1)
        await pilot.press("s")
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
        await pilot.press(*"app.keys.lit", "enter")
        await active(app, Subscription(Kind.CHANNEL, "app.keys.lit"))
        await async_wait_for(
            lambda: app.dashboard.selected == Subscription(Kind.CHANNEL, "app.keys.lit")
        )
        assert redis_client.pubsub_numsub("app.keys.lit") == [(b"app.keys.lit", 1)]
        await pilot.press("1", "x")
        await async_wait_for(lambda: redis_client.pubsub_numsub("app.first")[0][1] == 0)
        assert app.session.subscriber.subscriptions == [Subscription(Kind.CHANNEL, "app.keys.lit")]


async def test_messages_land_in_their_own_pane_with_exact_counts(server, redis_client) -> None:
    orders = Subscription(Kind.PATTERN, "app.orders.*")
    chat = Subscription(Kind.CHANNEL, "app.chat")
    app = make_app(server.url, orders, chat)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, orders, chat)
        pipe = redis_client.pipeline(transaction=False)
        for i in range(3000):
            pipe.publish(f"app.orders.{i % 3}", f'{{"n": {i}}}')
        pipe.publish("app.chat", "hi there")
        pipe.execute()
        await async_wait_for(lambda: app.session.store.subs[orders].total == 3000)
        await pilot.pause(0.2)
        assert app.dashboard.selected == orders
        # counts come from the once-a-second snapshot that every number is drawn from
        await async_wait_for(lambda: app.dashboard.pane.border_title.endswith("3,000 msgs"))
        lines = pane_text(app)
        assert any('app.orders.2  {"n":2999}' in line for line in lines), lines[-3:]
        assert not any("hi there" in line for line in lines)
        await pilot.press("right_square_bracket")
        await pilot.pause(0.2)
        assert app.dashboard.selected == chat
        assert any(line.strip().endswith("hi there") for line in pane_text(app))
        assert "app.chat" not in "".join(pane_text(app))  # plain channel: name not repeated
        await pilot.press("left_square_bracket")
        assert app.dashboard.selected == orders


async def test_publish_box_reaches_an_independent_subscriber(server) -> None:
    listener = redis.Redis.from_url(server.url).pubsub()
    listener.subscribe("app.pub")
    got: list[bytes] = []

    def listen() -> None:
        for msg in listener.listen():
            if msg["type"] == "message":
                got.append(msg["data"])
                return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    app = make_app(server.url, Subscription(Kind.CHANNEL, "app.pub"))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, Subscription(Kind.CHANNEL, "app.pub"))
        await pilot.pause(0.1)
        box = app.query_one(PublishBox)
        assert box.channel_input.value == "app.pub"  # taken from the selected channel
        await pilot.press("i", *"[red]hello", "enter")
        await async_wait_for(lambda: got == [b"[red]hello"])
        await async_wait_for(
            lambda: "2 receivers" in str(box.query_one("#publish-result").render())
        )
        assert box.message_input.value == ""
        await pilot.press("up")
        assert box.message_input.value == "[red]hello"  # history recall
        box.channel_input.value = ""
        await pilot.press("enter")
        assert "no channel" in str(box.query_one("#publish-result").render())
        assert box.message_input.value == "[red]hello"  # nothing typed is lost
    thread.join(5)
    listener.close()


async def test_pause_clear_and_filter(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "app.pcf")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for word in ("apple", "banana", "Cherry"):
            redis_client.publish("app.pcf", word)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        await pilot.press("p")
        for i in range(5):
            redis_client.publish("app.pcf", f"late{i}")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 8)
        await pilot.pause(0.3)
        assert len(app.dashboard.pane.model.lines) == 3  # frozen display
        await async_wait_for(lambda: "5 new" in app.dashboard.pane.border_subtitle)
        await pilot.press("p")
        await pilot.pause(0.1)
        assert len(app.dashboard.pane.model.lines) == 8
        await pilot.press("slash", *"an")
        await pilot.pause(0.1)
        assert [e[-2] for e in app.dashboard.pane.model.lines] == [b"banana"]
        await pilot.press("enter")
        redis_client.publish("app.pcf", "mango")  # filter applies to new messages too
        redis_client.publish("app.pcf", "kiwi")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 10)
        await pilot.pause(0.2)
        assert [e[-2] for e in app.dashboard.pane.model.lines] == [b"banana", b"mango"]
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"cherry")  # lower case ignores case
        await pilot.pause(0.1)
        assert [e[-2] for e in app.dashboard.pane.model.lines] == [b"Cherry"]
        await pilot.press("escape")  # clears the filter
        await pilot.pause(0.1)
        assert len(app.dashboard.pane.model.lines) == 10
        await pilot.press("c")
        await pilot.pause(0.1)
        assert (
            app.dashboard.pane.model.lines == [] and app.session.store.subs[sub].total == 10
        )  # counts stay
        redis_client.publish("app.pcf", "fresh")
        await async_wait_for(lambda: [e[-2] for e in app.dashboard.pane.model.lines] == [b"fresh"])


HOSTILE = [
    b"\x1b]52;c;aGFja2Vk\x07",  # OSC 52: set the clipboard
    b"\x1b]0;owned\x07",  # OSC 0: window title
    b"\x1b[2J\x1b[H\x1b[10;10Hmoved",  # clear screen, cursor moves
    b"bell\x07nul\x00del\x7f c1\xc2\x9b",
    b"\xff\xfe invalid utf-8 \xc3\x28",
    "bidi \u202eevil\u202c".encode(),
    b"[bold red]not markup[/] [link=http://x]x[/link]",
]


async def test_hostile_payloads_never_reach_the_terminal_raw(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "app.evil.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for payload in HOSTILE:
            redis_client.publish("app.evil.\x1b[31mred\nline", payload)
        big = b"x" * 1_000_000
        redis_client.publish("app.evil.big", big)
        await async_wait_for(lambda: app.session.store.subs[sub].total == len(HOSTILE) + 1)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == len(HOSTILE) + 1)
        await pilot.pause(0.1)
        text = "\n".join(pane_text(app))
        for bad in ("\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u202c"):
            assert bad not in text
        assert "[bold red]not markup[/]" in text
        assert "\\e]52;c;aGFja2Vk\\x07" in text and "\\u202e" in text
        assert "app.evil.\\e[31mred\\nline" in text
        assert "[976.6 KiB] " in text  # a cut line says how big the whole payload is
        await pilot.press("enter")  # detail view of the last (1 MB) message
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)


async def test_no_subscription_offers_the_active_channels(server) -> None:
    client = redis.Redis.from_url(server.url)
    other = client.pubsub()
    other.subscribe("app.active.one")
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: getattr(app.screen, "loaded", False))
        options = app.screen.query_one("#subscribe-active")
        names = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "app.active.one" in names
        await pilot.press("down")  # from the name field into the list
        assert app.focused is options
        options.highlighted = names.index("app.active.one")
        await pilot.press("enter")
        sub = Subscription(Kind.CHANNEL, "app.active.one")
        await active(app, sub)
        assert client.pubsub_numsub("app.active.one") == [(b"app.active.one", 2)]
    other.close()
    client.close()


async def test_subscribe_dialog_rejects_an_empty_name_and_keeps_the_kind(server) -> None:
    app = make_app(server.url, Subscription(Kind.CHANNEL, "app.dialog"))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, Subscription(Kind.CHANNEL, "app.dialog"))
        await pilot.press("s")
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
        await pilot.press("enter")
        assert "cannot be empty" in str(app.screen.query_one("#subscribe-error").render())
        app.screen.query_one("#subscribe-kind").value = "channel"  # force a literal channel
        await pilot.press(*"lit*", "enter")
        await active(app, Subscription(Kind.CHANNEL, "lit*"))


async def test_mouse_selects_subscriptions_and_lines(server, redis_client) -> None:
    first, second = Subscription(Kind.CHANNEL, "app.m1"), Subscription(Kind.CHANNEL, "app.m2")
    app = make_app(server.url, first, second)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, first, second)
        for i in range(3):
            redis_client.publish("app.m2", f"line{i}")
        await pilot.click("#subs", offset=(10, 3))  # the second row
        await async_wait_for(lambda: app.dashboard.selected == second)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        await pilot.pause(0.1)
        await pilot.click("#pane", offset=(20, 2))  # the second message (inside the border)
        assert app.dashboard.pane.model.cursor == 1
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert "line1" in str(app.screen.query_one("#detail-body Static").render())


async def test_publish_error_keeps_the_text(server_factory) -> None:
    srv = server_factory("valkey")
    admin = redis.Redis.from_url(srv.url)
    admin.acl_setuser(
        "reader", enabled=True, passwords=["+pw"], commands=["+@all", "-publish"], channels=["*"]
    )
    url = srv.url.replace("redis://", "redis://reader:pw@")
    app = make_app(url, Subscription(Kind.CHANNEL, "app.denied"))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, Subscription(Kind.CHANNEL, "app.denied"))
        await pilot.press("i", *"keep me", "enter")
        box = app.query_one(PublishBox)
        await async_wait_for(lambda: "not sent" in str(box.query_one("#publish-result").render()))
        assert "no permissions" in str(box.query_one("#publish-result").render())
        assert box.message_input.value == "keep me"
        assert "pw" not in str(box.query_one("#publish-result").render())
    admin.close()


async def test_command_palette_lists_the_actions(server) -> None:
    app = make_app(server.url, Subscription(Kind.CHANNEL, "app.palette"))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, Subscription(Kind.CHANNEL, "app.palette"))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Subscribe", "Unsub", "Pause", "Clear", "Filter", "Publish", "Help"):
            assert title in titles
        await pilot.press("ctrl+p", *"Pause")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await async_wait_for(
            lambda: app.dashboard.pane.model is not None and app.dashboard.pane.model.paused
        )


async def test_keys_typed_faster_than_the_focus_moves_reach_the_input(server) -> None:
    """A burst (a paste, a fast typist, a busy loop): all keys are queued for the pane
    before `i`, `/` or `s` has moved the focus. They must land in the input, and never
    run the screen's bindings (the `x` below would unsubscribe, the `s` open a dialog)."""
    first = Subscription(Kind.CHANNEL, "app.burst")
    app = make_app(server.url, first)

    def burst(*keys: str) -> None:
        for key in keys:
            app.post_message(events.Key(key, key if len(key) == 1 else None))

    async with app.run_test(size=SIZE) as pilot:
        await active(app, first)
        burst("i", *"xs.box")  # the channel is prefilled: `i` goes to the message field
        await async_wait_for(lambda: app.dashboard.publish_box.message_input.value == "xs.box")
        assert app.session.subscriber.subscriptions == [first] and app.screen is app.screen_stack[0]
        await pilot.press("escape")
        burst("slash", *"sx")
        await async_wait_for(lambda: app.dashboard.filter_input.value == "sx")
        assert app.focused is app.dashboard.filter_input
        await pilot.press("escape")
        await async_wait_for(lambda: app.focused is app.dashboard.pane)
        burst("s", *"app.x.s", "enter")
        second = Subscription(Kind.CHANNEL, "app.x.s")
        await active(app, first, second)
        assert app.session.subscriber.subscriptions == [first, second]


async def test_keymap_and_theme_from_the_config(server) -> None:
    sub = Subscription(Kind.CHANNEL, "app.keymap")
    app = make_app(server.url, sub, keymap={"pause": "space", "browse": "B"}, theme="nord")
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        assert app.theme == "nord"
        await pilot.press("space")
        assert app.dashboard.pane.model is not None and app.dashboard.pane.model.paused
        await pilot.press("p")  # rebound: the old key does nothing now
        assert app.dashboard.pane.model.paused
        await pilot.press("space")
        assert not app.dashboard.pane.model.paused
        rows = dict(row for _, rows in app.help_sections() for row in rows)
        assert rows.get("space", "").startswith("Pause")  # help shows the live keys
        assert rows.get("B", "").startswith("Browse") and "p" not in rows


async def test_hints_name_the_keys_bound_now(server, redis_client) -> None:
    """Every hint that names a key names the one the keymap binds: with `pause = "P"` the
    pane's subtitle says "P resumes" (it said "p resumes")."""
    sub = Subscription(Kind.CHANNEL, "app.hints")
    keymap = {
        "pause": "P",
        "decoder": "M",
        "leave": "ctrl+g",
        "pane.next_match": "j",
        "keyspace.enable": "E",
        "keyspace.subscribe": "B",
        "detail.decoder": "v",
        "detail.close": "ctrl+w",
    }
    app = make_app(server.url, sub, keymap=keymap)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        pane = app.dashboard.pane
        redis_client.publish("app.hints", '{"a": 1}')
        await async_wait_for(lambda: pane.model is not None and len(pane.model.lines) == 1)
        await pilot.press("P")
        await async_wait_for(lambda: "P resumes" in str(pane.border_subtitle))
        await pilot.press("M")
        await async_wait_for(lambda: "(M)" in str(pane.border_subtitle))
        assert "p resumes" not in str(pane.border_subtitle)
        assert "Ctrl+G clears it" in app.dashboard.filter_input.placeholder
        rows = dict(dict(app.help_sections())["Dashboard"])  # the tree has a / of its own
        assert rows["/"].endswith("(j / N jump)")
        await pilot.press("k")
        await async_wait_for(lambda: app.screen is not app.dashboard and app.screen.loaded)
        labels = [str(b.label) for b in app.screen.query("Button")]
        assert labels[-1] == "Subscribe to both (B)"
        assert all("(e)" not in label and "(s)" not in label for label in labels)
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)
        pane.focus()
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        hints = str(app.screen.query_one("#detail-keys").render())
        assert hints.endswith("v next · d diff · Ctrl+W closes"), hints  # (the pane says text)


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize(("keymap", "key"), [({}, "q"), ({"quit": "ctrl+x"}, "Ctrl+X")])
async def test_ctrl_c_names_this_apps_quit_key(server, keymap: dict, key: str) -> None:
    """Textual's 'Press ctrl+q to quit the app' named its own key, not this app's q."""
    sub = Subscription(Kind.CHANNEL, "app.ctrlc")
    app = make_app(server.url, sub, keymap=keymap)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("ctrl+c")
        await async_wait_for(lambda: f"Press {key} to quit rps-tui" in notes(app))
        assert not any("ctrl+q" in note for note in notes(app))
        assert app.is_running  # it only says so


async def test_screenshot_from_the_palette_saves_here(server, tmp_path, monkeypatch) -> None:
    """The palette's Screenshot said 'Failed to save screenshot' (Textual's goes to a
    ~/Downloads that may not exist): it saves to the current directory and says where; a
    directory it cannot write to is one line."""
    sub = Subscription(Kind.CHANNEL, "app.shot")
    monkeypatch.chdir(tmp_path)
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("ctrl+p")
        await async_wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await async_wait_for(lambda: any(n.startswith("screenshot saved to") for n in notes(app)))
        (shot,) = tmp_path.glob("rps-tui-*.svg")
        assert f"screenshot saved to {shot}" in notes(app)
        svg = shot.read_text()
        assert "app.shot" in svg and "Search for commands" not in svg  # the screen, no palette
        gone = tmp_path / "gone"
        gone.mkdir()
        monkeypatch.chdir(gone)
        gone.rmdir()
        app.action_screenshot("x.svg")
        said = "cannot save the screenshot to ./x.svg: No such file or directory"
        await async_wait_for(lambda: said in notes(app))


async def test_theme_from_the_command_palette(server) -> None:
    sub = Subscription(Kind.CHANNEL, "app.theme")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        assert app.theme != "gruvbox"
        await pilot.press("ctrl+p")
        await async_wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press(*"gruvbox")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await async_wait_for(lambda: app.theme == "gruvbox")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_help_lists_every_key_by_where_it_works_and_fits_the_screen(
    server, size: tuple[int, int]
) -> None:
    """`?` lists the keys of the dashboard, the pane, the publish box (ctrl+t, the history),
    the filter, the detail view (d, m) and the dialogs, each under where it works; it reads
    at 80x24 (descriptions wrap, the rest scrolls) and at 120x40 (nothing cut)."""
    from tests.support.screen import screen_lines

    sub = Subscription(Kind.CHANNEL, "app.help")
    app = make_app(server.url, sub, monitor=False)
    async with app.run_test(size=size) as pilot:
        await active(app, sub)
        sections = dict(app.help_sections())
        first = ["Everywhere", "Dashboard", "Message pane", "Publish box (i)"]
        assert list(sections)[:4] == first
        publish = dict(sections["Publish box (i)"])
        assert "SPUBLISH" in publish["^t"] and "history" in publish["↑"]
        detail = dict(sections["Detail view (⏎ on a line)"])
        assert "diff" in detail["d"] and "decoder" in detail["m"]
        assert "Close" in detail["esc / ⏎ / q"]
        assert {"Filter (/)", "Subscribe dialog (s)", "Channel browser (b)"} <= set(sections)
        await pilot.press("question_mark")
        await async_wait_for(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        scroll = app.screen.query_one("#help-scroll")
        assert app.focused is scroll and scroll.max_scroll_x == 0
        _, lines = screen_lines(app)
        shown = "\n".join(lines)
        assert "Counts are exact even when the pane is paused, filtered or cleared." in shown
        assert "Esc closes" in shown
        if size == (80, 24):
            assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await async_wait_for(lambda: scroll.scroll_y == scroll.max_scroll_y)
        await pilot.pause()
        _, lines = screen_lines(app)
        assert any("Keyspace helper (k)" in line for line in lines)
        assert any("Subscribe to the keyspace and keyevent patterns" in line for line in lines)
        await pilot.press("escape")
        await async_wait_for(lambda: not isinstance(app.screen, HelpScreen))


@pytest.mark.parametrize("opener", ["i", "s"])
async def test_keys_after_i_or_s_reach_the_field_in_the_order_typed(server, opener: str) -> None:
    """Keys read while `i` (or `s`) was still on its way to the pane went to the pane, came
    back and were sent again behind keys read later, which went straight to the field:
    "typed in x" arrived as "ytped in x" (seen in a browser under load). Here the app's
    loop gets a turn or a few between keys, which reproduced it every time."""
    sub = Subscription(Kind.CHANNEL, "app.order")
    text = "typed in x"
    for turns in range(5):
        app = make_app(server.url, sub)
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            for n, key in enumerate([opener, *text]):
                event = events.Key("space" if key == " " else key, key)
                event.set_sender(app)
                app.post_message(event)
                for _ in range(turns if n < 3 else 0):
                    await asyncio.sleep(0)
            await pilot.pause(0.3)
            if opener == "i":
                field = app.dashboard.publish_box.message_input
            else:
                field = app.screen.query_one("#subscribe-name", Input)
            assert field.value == text, (turns, field.value)
            assert app.session.subscriber.subscriptions == [sub]
