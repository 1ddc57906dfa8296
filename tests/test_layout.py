"""The dashboard at the sizes people's terminals have (80x24 to 220x60): the pane gets most of
the width, counts never lose a digit, the channel table drops whole columns and reaches
every channel, the key bar always offers help and quit, and z / tab / ← → work. Real
servers; the screen read through Textual's pilot."""

from __future__ import annotations

import re

import pytest
import redis

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.render import count_text
from rps_tui.ui.stats_table import COLUMNS, layout, natural_key
from tests.support.app import active, make_app, pane_text
from tests.support.screen import screen_lines
from tests.support.wait import async_wait_for

SIZES = [(80, 24), (100, 30), (120, 40), (160, 45), (220, 60)]
PAYLOAD = '{"order":"' + "x" * 30 + '","price":12.5,"qty":3,"note":"' + "y" * 60 + '"}'


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_size_gives_the_pane_most_of_the_width(server, redis_client, size) -> None:
    """A pattern subscription's line shows time, channel and at least 40 characters of
    payload; the key bar shows help and quit; the channel table cuts no column; the
    subscription list cuts a long name, never its counts."""
    width = size[0]
    sub = Subscription(Kind.PATTERN, f"lay{width}.*")
    long = Subscription(Kind.CHANNEL, f"lay{width}.a-channel-name-longer-than-the-list-is-wide")
    app = make_app(server.url, sub, long)
    async with app.run_test(size=size) as pilot:
        await active(app, sub, long)
        redis_client.publish(f"lay{width}.orders", PAYLOAD)
        await async_wait_for(lambda: any(PAYLOAD[:20] in line for line in pane_text(app)))
        await pilot.pause(1.1)  # a snapshot: the table has its row
        line = next(line for line in pane_text(app) if PAYLOAD[:20] in line)
        shown = line.split(f"lay{width}.orders", 1)[1].strip().rstrip("…")
        assert len(shown) >= 40, line
        pane, side = app.dashboard.pane, app.query_one("#side")
        assert pane.size.width > width // 2
        if width >= 110:  # beside the pane, narrower than it (else above it)
            assert side.size.width < pane.size.width
        _, lines = screen_lines(app)
        keys = lines[-1]
        assert "? " in keys and " Help" in keys and "q " in keys and " Quit" in keys, keys
        listed = [app.dashboard.sub_list.render_line(y).text for y in range(3)]
        assert listed[0].rstrip().endswith("msgs  msg/s"), listed
        assert listed[2].rstrip().endswith("0    0.0") and "…" in listed[2], listed
        table = app.dashboard.stats_table
        header = table.render_line(0).text
        assert "…" not in header, header
        for column, _ in layout(table.scrollable_content_region.width, False):
            if column.label:  # drawn whole, never cut
                assert column.label in header, (column.key, header)
        if width >= 120:
            assert all(c.label in header for c in COLUMNS if c.key not in ("node", "spark"))
            assert "last " in header


async def test_counts_shrink_to_units_instead_of_losing_digits() -> None:
    assert count_text(25_000_000, 7) == "25.00M"
    assert count_text(25_000_000, 5) == "25.0M"
    assert count_text(1_234_567, 9) == "1,234,567"
    assert count_text(999_999, 5) == "1.00M"  # rounded up to the next unit, not "1000k"
    for n in (0, 9, 99_999, 123_456_789, 10**15):
        for width in (4, 5, 7, 9):
            shown = count_text(n, width)
            assert len(shown) <= width, (n, width, shown)


async def test_the_channel_table_is_natural_sortable_and_opens_a_channel(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.PATTERN, "nat.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=(120, 40)) as pilot:
        await active(app, sub)
        for n, times in ((10, 1), (2, 3), (1, 2)):
            for _ in range(times):
                redis_client.publish(f"nat.ch.{n}", f"m{n}")
        table = app.dashboard.stats_table
        await async_wait_for(lambda: table.row_count == 3)
        names = [r.channel for r in table.rows]
        assert names == [b"nat.ch.1", b"nat.ch.2", b"nat.ch.10"]  # 2 before 10
        assert sorted(names, key=natural_key) == names
        table.focus()
        await pilot.press("o")  # by msgs, busiest first
        assert [r.channel for r in table.rows] == [b"nat.ch.2", b"nat.ch.1", b"nat.ch.10"]
        assert "msgs ↓" in str(table.border_title)
        await pilot.press("down", "down", "enter")  # nat.ch.10: delivered by the pattern
        model = app.dashboard.pane.model
        await async_wait_for(lambda: model.filter == "ch:nat.ch.10")
        assert [e[-2] for e in model.lines] == [b"m10"]
        assert app.focused is app.dashboard.pane


async def test_zoom_focus_and_sideways(server, redis_client: redis.Redis) -> None:
    sub = Subscription(Kind.CHANNEL, "zoom.a")
    app = make_app(server.url, sub)
    async with app.run_test(size=(80, 24)) as pilot:
        await active(app, sub)
        payload = " ".join(f"w{i:03d}" for i in range(60))  # every offset reads differently
        redis_client.publish("zoom.a", payload)
        await async_wait_for(lambda: any("w000" in line for line in pane_text(app)))
        dashboard = app.dashboard
        await pilot.press("z")
        assert dashboard.maximized is dashboard.pane
        await pilot.press("z")
        assert dashboard.maximized is None
        await pilot.press("tab")  # from the pane to the channel table
        assert app.focused is dashboard.stats_table
        await pilot.press("z")
        assert dashboard.maximized is dashboard.stats_table
        await pilot.press("escape")
        assert dashboard.maximized is None
        dashboard.pane.focus()
        await pilot.pause()
        before = next(line for line in pane_text(app) if "w000" in line)
        await pilot.press("right")
        after = next(line for line in pane_text(app) if "w00" in line)
        assert after[:12] == before[:12]  # the receive time stays put
        assert after[14:].startswith(before[14 + 20 : 14 + 40])  # the rest moved 20 left
        assert re.search(r"→ 20 columns", dashboard.pane.titles[1])


async def test_the_key_bar_shows_only_keys_that_work_there(server) -> None:
    sub = Subscription(Kind.CHANNEL, "keys.a")
    app = make_app(server.url, sub)
    async with app.run_test(size=(80, 24)) as pilot:
        await active(app, sub)
        await pilot.press("i")  # typing in the publish box: letters type
        await pilot.pause()
        _, lines = screen_lines(app)
        keys = lines[-1]
        assert "Subscribe" not in keys and "Filter" not in keys, keys
        assert "esc" in keys and "^q" in keys and "Quit" in keys and "Help" in keys, keys


async def test_a_pane_that_follows_still_shows_the_newest_after_a_resize(
    server, redis_client: redis.Redis
) -> None:
    """Going narrow moves the pane and shrinks it: a pane that follows the tail must still
    end on the newest line (a snapshot at 80x24 once caught it showing the oldest)."""
    sub = Subscription(Kind.CHANNEL, "resize.a")
    app = make_app(server.url, sub)
    async with app.run_test(size=(160, 45)) as pilot:
        await active(app, sub)
        for n in range(40):
            redis_client.publish("resize.a", f"line {n:02d}")
        await async_wait_for(lambda: any("line 39" in line for line in pane_text(app)))
        for size in ((80, 24), (120, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            shown = [line for line in pane_text(app) if "line " in line]
            assert shown and "line 39" in shown[-1], (size, shown)


async def test_the_scrollbar_follows_a_pane_that_starts_to_overflow(
    server, redis_client: redis.Redis
) -> None:
    """A pane whose lines fit, then overflow in one pull, scrolls to its end before its
    scrollbar exists; the thumb must still be drawn at the end (Textual moves a scrollbar
    only while it is shown: the thumb stayed at the top, under the newest lines, until the
    next message; the 80x24 snapshot caught it one run in two)."""
    sub = Subscription(Kind.CHANNEL, "overflow")
    app = make_app(server.url, sub)
    async with app.run_test(size=(80, 24)) as pilot:
        await active(app, sub)
        pane = app.dashboard.pane
        redis_client.publish("overflow", "first")
        await async_wait_for(lambda: any("first" in line for line in pane_text(app)))
        await pilot.pause()
        assert not pane.show_vertical_scrollbar  # one line fits
        await pilot.press("p")  # paused: what comes next is drawn in one pull, on resume
        for n in range(30):
            redis_client.publish("overflow", f"line {n}")
        await async_wait_for(lambda: app.session.store.appended(sub) == 31)
        await pilot.press("p")
        await async_wait_for(lambda: any("line 29" in line for line in pane_text(app)))
        await pilot.pause()
        await pilot.pause()
        assert pane.show_vertical_scrollbar
        assert pane.scroll_y == pane.max_scroll_y > 0
        assert pane.vertical_scrollbar.position == pane.scroll_y
