"""Hostile input: nothing from the wire reaches the terminal raw, and nothing big or odd breaks
the dashboard.

The first half states the safety rules of `rps_tui.core.payload.text` and `rps_tui.ui.render` as
Hypothesis properties over arbitrary and deliberately nasty bytes (tests/support/strategies.py;
what must never be drawn raw is in tests/support/screen.py). The second half drives the
real app against real servers: a 10 MB payload, 100,000 distinct channels, channel names with
control characters and markup, and channel names that are not UTF-8.
"""

from __future__ import annotations

import time

import redis
from hypothesis import given
from hypothesis import strategies as st

from rps_tui.core.entry import Gap
from rps_tui.core.payload.decoders import SHOW_LIMIT, decode, pretty
from rps_tui.core.payload.text import LINE_LIMIT, PayloadKind, format_line, safe_name, safe_text
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.core.units import human_bytes
from rps_tui.ui.detail import DetailScreen
from rps_tui.ui.render import count_text, entry_line
from rps_tui.ui.screens import SubscribeScreen
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.screen import (
    FORBIDDEN,
    raw_controls,
    screen_lines,
    screen_problems,
    widget_lines,
)
from tests.support.strategies import FAST, byte_names, hostile_text, payloads, str_names
from tests.support.wait import async_wait_for

# -- properties of the formatter ----------------------------------------------------------------


@FAST
@given(payloads)
def test_format_line_is_one_safe_line(data: bytes) -> None:
    formatted = format_line(data)  # never raises, whatever the bytes
    assert raw_controls(formatted.text) == [], formatted
    assert "\n" not in formatted.text
    assert formatted.size == len(data)
    if formatted.kind is PayloadKind.JSON:  # compacted: cut only if the compact form is long
        assert not formatted.truncated or len(data) > LINE_LIMIT
    else:
        assert formatted.truncated == (len(data) > LINE_LIMIT)


@FAST
@given(payloads, st.sampled_from([SHOW_LIMIT, 100]))
def test_the_detail_text_keeps_only_line_breaks_and_tabs(data: bytes, limit: int) -> None:
    formatted = pretty(decode(data, "auto", limit=limit), limit=limit)  # a bomb too: no raise
    assert raw_controls(formatted.text, allow="\n\t") == [], formatted
    assert formatted.size == len(data)
    assert formatted.truncated == (len(data) > limit)


@FAST
@given(byte_names | str_names)
def test_safe_name_is_one_safe_line(name: bytes | str) -> None:
    shown = safe_name(name)
    assert raw_controls(shown) == [], shown
    assert "\n" not in shown


@FAST
@given(
    pattern=byte_names,
    channel=byte_names,
    data=payloads,
    ts=st.floats(0, 4e9),
    with_pattern=st.booleans(),
    show_channel=st.booleans(),
)
def test_entry_line_is_one_safe_line(
    pattern: bytes, channel: bytes, data: bytes, ts: float, with_pattern: bool, show_channel: bool
) -> None:
    entry = (
        [b"pmessage", pattern, channel, data, ts]
        if with_pattern
        else [b"message", channel, data, ts]
    )
    line = entry_line(entry, show_channel=show_channel).plain
    assert raw_controls(line) == [], line
    assert "\n" not in line
    assert line.count(f"[{human_bytes(len(data))}] ") >= format_line(data).truncated


@FAST
@given(reason=hostile_text, seconds=st.floats(0, 1e6))
def test_gap_marker_line_is_one_safe_line(reason: str, seconds: float) -> None:
    """A gap's reason carries error text that may come from the server."""
    line = entry_line([None, Gap(reason, seconds), 0.0], show_channel=True).plain
    assert raw_controls(line) == [], line
    assert "\n" not in line


def test_known_nasties_are_shown_as_visible_escapes() -> None:
    """Examples a reader can check by eye (the properties above say nothing is raw)."""
    assert format_line(b'["\\ud800","\\u202e"]').text == '["\\ud800","\\u202e"]'
    assert safe_text("bad\udcff\udcfe") == "bad\\xff\\xfe"  # surrogate-escaped bytes
    assert safe_name(b"bad\xff\xfe") == "bad\\xff\\xfe"  # the same name, as bytes
    bomb = pretty(decode(b"[" * 5000 + b"]" * 5000))
    assert bomb.kind is PayloadKind.TEXT and bomb.text.startswith("[[[[")


def test_a_backslash_in_text_cannot_pass_for_an_escape() -> None:
    """Six characters `\\u200d` and a real zero-width joiner used to look the same."""
    literal, joiner = format_line(b"a\\u200db").text, format_line("a\u200db".encode()).text
    assert (literal, joiner) == ("a\\\\u200db", "a\\u200db")
    assert format_line(b"C:\\dir\\f").text == "C:\\\\dir\\\\f"
    assert pretty(decode(b"x\\y\nz")).text == "x\\\\y\nz"  # the detail view too
    # JSON keeps its own escapes, which mean what ours do
    assert (
        format_line(b'{"p": "C:\\\\dir", "z": "\\u200d"}').text == '{"p":"C:\\\\dir","z":"\\u200d"}'
    )


def test_every_invisible_or_format_character_is_escaped() -> None:
    """Each control, format (tags, CGJ's kin, invisible musical marks), separator and
    surrogate in the Unicode database, and each default-ignorable one (variation selectors:
    ❤ + VS16 moved the pane's right border), comes out as a visible escape; text that
    draws stays as it is."""
    everything = "".join(
        chr(c) for c in range(0x110000) if FORBIDDEN.fullmatch(chr(c))
    )  # fmt: skip
    assert len(everything) > 6000  # the categories, and the 4,000 tag-block ignorables
    shown = safe_text(everything)
    assert raw_controls(shown) == []
    assert safe_text("x\U000e0074\U000e0061\U000e0067y") == "x\\U000e0074\\U000e0061\\U000e0067y"
    assert (
        safe_text("❤\ufe0f a\u034fb \u180b \U0001d173") == "❤\\ufe0f a\\u034fb \\u180b \\U0001d173"
    )
    visible = "héllo é 中文 😀 🇺🇸 ✓ ß Ω ١٢٣ \u0301"
    assert safe_text(visible) == visible


# -- through the real app ---------------------------------------------------------------------


def pane_title(lines: list[str]) -> str:
    """The screen line that carries the message pane's title."""
    return next((line for line in lines if "─ channel " in line), "(no pane title on screen)")


async def test_a_10_mb_payload_is_counted_cut_and_browsable(server, redis_client) -> None:
    big, quiet = Subscription(Kind.CHANNEL, "hz.big"), Subscription(Kind.CHANNEL, "hz.quiet")
    app = make_app(server.url, big, quiet)
    # 10,000,000 bytes of 3-byte characters: both the line (512 B) and the detail view
    # (1 MiB) are cut in the middle of a character, and must still read as text
    payload = ("€" * 3_333_333).encode() + b"x"
    assert len(payload) == 10_000_000
    async with app.run_test(size=SIZE) as pilot:
        await active(app, big, quiet)
        redis_client.publish("hz.big", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1, timeout=20)
        state = app.session.store.subs[big]
        assert (state.total, state.bytes) == (1, 10_000_000)
        await pilot.pause(0.1)
        line = next(text for text in pane_text(app) if text.strip())
        assert "[9.5 MiB] €€€" in line
        assert "bin" not in line

        started = time.monotonic()
        await pilot.press("right_square_bracket")
        await async_wait_for(lambda: app.dashboard.selected == quiet, timeout=2)
        key_seconds = time.monotonic() - started
        assert key_seconds < 2, key_seconds
        assert app.dashboard.pane.model is not None and app.dashboard.pane.model.lines == []
        await pilot.press("left_square_bracket")
        await async_wait_for(lambda: app.dashboard.selected == big, timeout=2)
        await async_wait_for(lambda: app.dashboard.stats_table.row_count >= 1)  # 1 Hz counts tick

        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen), timeout=10)
        head = str(app.screen.query_one("#detail-head").render())
        assert "hz.big" in head and "text, 9.5 MiB" in head
        assert "cut: showing the first 1 MiB" in head
        body = str(app.screen.query_one("#detail-body Static").render())
        assert body == "€" * (SHOW_LIMIT // 3)  # whole characters only, up to 1 MiB
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard, timeout=5)
        await pilot.press("right_square_bracket")  # and the keys still work afterwards
        await async_wait_for(lambda: app.dashboard.selected == quiet, timeout=2)


async def test_a_json_nesting_bomb_opens_in_the_detail_view(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "hz.bomb")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("hz.bomb", b"[" * 50_000 + b"]" * 50_000)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen), timeout=10)
        assert "text, 97.7 KiB" in str(app.screen.query_one("#detail-head").render())
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard, timeout=5)


def vm_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_100k_distinct_channels_are_counted_exactly_in_bounded_memory(
    server, redis_client
) -> None:
    count, payload = 100_000, b"m"
    pattern = Subscription(Kind.PATTERN, "hz.many.*")
    app = make_app(server.url, pattern, history=1000)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, pattern)
        rss_before = vm_rss()
        pipe = redis_client.pipeline(transaction=False)
        for i in range(count):
            pipe.publish(f"hz.many.{i}", payload)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        store = app.session.store
        await async_wait_for(lambda: store.subs[pattern].total == count, timeout=45)

        rows = store.channel_rows()
        named = [r for r in rows if r.channel is not None]
        rollup = [r for r in rows if r.channel is None]
        assert sum(r.count for r in rows) == count  # exact, the rollup row included
        assert sum(r.bytes for r in rows) == count * len(payload)
        assert len(named) <= store.max_channels
        assert all(r.count == 1 for r in named)  # each channel once: none lost, none doubled
        assert len(rollup) == 1 and rollup[0].count == store.evicted_count
        assert rollup[0].channels == store.other_channels  # the table says how many
        assert store.other_channels + len(named) == count

        # the widget: every channel is a row (a virtual list), the rollup last, exact
        table = app.dashboard.stats_table
        # every channel is a row (a virtual list), the rollup last, exact; the rollup's
        # count is final after the last eviction while new channels may still be folded in
        # without evicting, so wait for the table drawn from the final rows
        await async_wait_for(  # at the channel cap the row count stays while evictions go
            lambda: (  # on: the rollup's count says which snapshot the table was drawn from
                table.row_count == len(rows)
                and table.rows[-1].channel is None
                and table.get_row_at(table.row_count - 1)[1] == count_text(store.evicted_count, 9)
            ),
            timeout=10,
        )
        table.focus()
        await pilot.press("end")  # the last channel is one key away
        assert table.cursor_row == table.row_count - 1
        await async_wait_for(lambda: app.dashboard.pane.border_title.endswith(f"{count:,} msgs"))
        assert len(app.dashboard.pane.model.lines) == 1000  # the history bound
        await pilot.pause(0.1)
        growth = vm_rss() - rss_before
        assert growth < 200 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MiB"


HOSTILE_NAMES = {  # name: how it must read on screen
    "a b": "a b",
    "line\nbreak": "line\\nbreak",
    "[bold]x[/bold]": "[bold]x[/bold]",
    "\x1b[31mred": "\\e[31mred",
    "tab\there": "tab\\there",
}


async def _subscribe_by_keys(pilot, name: str, kind: str = "auto") -> None:
    app = pilot.app
    if not isinstance(app.screen, SubscribeScreen):
        await pilot.press("s")
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
    # the dialog opens by itself from the dashboard's mount: wait until it has composed
    await async_wait_for(lambda: bool(app.screen.query("#subscribe-kind #label")))
    app.screen.query_one("#subscribe-kind").value = kind
    await pilot.press(*name, "enter")
    await async_wait_for(lambda: app.screen is app.dashboard)


async def test_hostile_channel_names_show_as_visible_escapes(server, redis_client) -> None:
    app = make_app(server.url)  # no subscription: the subscribe dialog opens by itself
    subs = [Subscription(Kind.CHANNEL, name) for name in HOSTILE_NAMES]
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: isinstance(app.screen, SubscribeScreen))
        await _subscribe_by_keys(pilot, "a b")
        await _subscribe_by_keys(pilot, "[bold]x[/bold]", kind="channel")  # else a glob
        for sub in subs[1:]:
            if (
                sub not in app.session.subscriber.subscriptions
            ):  # no keys type a newline, tab or ESC
                app.session.subscriber.subscribe(sub)
        await active(app, *subs)
        assert set(app.session.subscriber.subscriptions) == set(subs)
        for name in HOSTILE_NAMES:
            redis_client.publish(name, f"hi {name}")
        await async_wait_for(lambda: all(app.session.store.subs[s].total == 1 for s in subs))
        await async_wait_for(lambda: app.dashboard.stats_table.row_count == len(subs), timeout=5)
        await async_wait_for(
            lambda: all(str(app.dashboard.sub_list.get_row(str(n))[2]) == "1" for n in range(5))
        )

        listed = widget_lines(app.dashboard.sub_list)
        table = widget_lines(app.dashboard.stats_table)
        for shown in HOSTILE_NAMES.values():
            assert any(f" # {shown} " in line for line in listed), (shown, listed)
            assert any(line.startswith(f"{shown} ") for line in table), (shown, table)

        for sub, shown in zip(subs, HOSTILE_NAMES.values(), strict=True):
            await pilot.press(str(app.dashboard.sub_list.subs.index(sub) + 1))
            await async_wait_for(lambda s=sub: app.dashboard.selected == s, timeout=2)
            await async_wait_for(lambda: any(t.strip() for t in pane_text(app)), timeout=2)
            pane = pane_text(app)
            assert any(line.rstrip().endswith(f"hi {shown}") for line in pane), pane
            for widget in (app.dashboard.sub_list, app.dashboard.pane, app.dashboard.stats_table):
                assert raw_controls("".join(widget_lines(widget))) == [], widget
            _, lines = screen_lines(app)
            assert f"─ channel {shown} — 1 msg ─" in pane_title(lines)

        await pilot.press("1")  # "a b": nothing on screen is raw now
        await async_wait_for(lambda: app.dashboard.selected == subs[0], timeout=2)
        assert screen_problems(app) == []
        svg, _ = screen_lines(app)
        for literal in ("line\\nbreak", "tab\\there", "\\e[31mred", "[bold]x[/bold]", "a&#160;b"):
            assert literal in svg, literal  # the escapes are there, literally


async def test_markup_in_a_channel_name_stays_literal_in_the_pane_title(
    server, redis_client
) -> None:
    sub = Subscription(Kind.CHANNEL, "[bold]x[/bold]")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await async_wait_for(lambda: app.dashboard.selected == sub)
        await pilot.pause(0.1)
        _, lines = screen_lines(app)
        assert "─ channel [bold]x[/bold] — " in pane_title(lines)


async def test_no_raw_control_character_on_screen_whichever_channel_is_selected(
    server, redis_client
) -> None:
    not_utf8 = b"bad\xff\xfe".decode("utf-8", "surrogateescape")
    subs = [Subscription(Kind.CHANNEL, name) for name in [*HOSTILE_NAMES, not_utf8]]
    app = make_app(server.url, *subs)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, *subs)
        found: dict[str, list[str]] = {}
        for n, sub in enumerate(subs, start=1):
            await pilot.press(str(n))
            await async_wait_for(lambda s=sub: app.dashboard.selected == s, timeout=2)
            await pilot.pause(0.05)
            bad = screen_problems(app)
            if bad:
                found[sub.name] = bad
        assert found == {}


async def test_invalid_utf8_channel_names_show_escaped(server, redis_client) -> None:
    pattern = Subscription(Kind.PATTERN, "bad*")
    holder = redis.Redis.from_url(server.url).pubsub()
    holder.subscribe(b"bad\xff\xfe")  # so that the subscribe dialog offers it
    app = make_app(server.url, pattern)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, pattern)
            redis_client.publish(b"bad\xff\xfe", b"\xff\x1b[2J payload")
            redis_client.publish(b"bad\xed\xa0\x80", b"ok")  # an encoded surrogate: not UTF-8
            await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
            await async_wait_for(lambda: app.dashboard.stats_table.row_count >= 2, timeout=5)
            await pilot.pause(0.1)
            pane = pane_text(app)
            assert any("bad\\xff\\xfe  bin  \\xff\\x1b[2J payload" in line for line in pane), pane
            assert any(line.rstrip().endswith("bad\\xed\\xa0\\x80  ok") for line in pane), pane
            table = widget_lines(app.dashboard.stats_table)
            assert any(line.startswith("bad\\xff\\xfe ") for line in table), table
            assert any(line.startswith("bad\\xed\\xa0\\x80 ") for line in table), table

            # pick the same channel from the server's active channels: the exact bytes
            await pilot.press("s")
            await async_wait_for(lambda: getattr(app.screen, "loaded", False))
            options = app.screen.query_one("#subscribe-active")
            prompts = [
                str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
            ]
            assert "bad\\xff\\xfe" in prompts, prompts
            await pilot.press("down")
            options.highlighted = prompts.index("bad\\xff\\xfe")
            await pilot.press("enter")
            channel = Subscription(Kind.CHANNEL, b"bad\xff\xfe".decode("utf-8", "surrogateescape"))
            await active(app, pattern, channel)
            assert redis_client.pubsub_numsub(b"bad\xff\xfe") == [(b"bad\xff\xfe", 2)]
            redis_client.publish(b"bad\xff\xfe", b"again")
            await async_wait_for(lambda: app.session.store.subs[channel].total == 1)
            await async_wait_for(lambda: app.dashboard.selected == channel, timeout=3)
            await async_wait_for(lambda: any(t.strip() for t in pane_text(app)), timeout=2)

            listed = widget_lines(app.dashboard.sub_list)
            assert any(" # bad\\xff\\xfe " in line for line in listed), listed
            await async_wait_for(lambda: app.dashboard.pane.titles[0].endswith("— 1 msg"))
            await pilot.pause(0.05)
            _, lines = screen_lines(app)
            assert "─ channel bad\\xff\\xfe — 1 msg ─" in pane_title(lines)
            for widget in (app.dashboard.sub_list, app.dashboard.pane, app.dashboard.stats_table):
                assert raw_controls("".join(widget_lines(widget))) == [], widget
    finally:
        holder.close()
