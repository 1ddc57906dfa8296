"""One truth: every count and rate on the screen comes from one definition and one snapshot,
so the header, the subscription list, the pane title and the channel table agree, under a
flood too. Real servers; the screen read through Textual's pilot."""

from __future__ import annotations

import re
import time

import pytest

from rps_tui.core.store import RATE_WINDOW
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp
from tests.support.app import SIZE, active, make_app
from tests.support.engine import Flood, running_engine
from tests.support.wait import async_wait_for, wait_for


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def header_total(app: RpsApp) -> int:
    found = re.search(r"([\d,]+) msgs?\b", str(app.dashboard.status_bar.render()))
    assert found, str(app.dashboard.status_bar.render())
    return _number(found[1])


def listed_totals(app: RpsApp) -> dict[Subscription, int]:
    sub_list = app.dashboard.sub_list
    return {
        sub: _number(str(sub_list.get_cell(str(i), "msgs"))) for i, sub in enumerate(sub_list.subs)
    }


def table_total(app: RpsApp) -> int:
    table = app.dashboard.stats_table
    return sum(_number(str(table.get_row_at(i)[1])) for i in range(table.row_count))


def test_a_subscription_and_its_channels_share_one_rate(server, redis_client) -> None:
    """Three messages on three channels within milliseconds: the pattern's msg/s is the sum
    of its channels' (one window, the same for every meter; a young meter counts its
    missing seconds as zero), whatever the age of each meter."""
    sub = Subscription(Kind.PATTERN, "rate.*")
    with running_engine(server.url, sub) as engine:
        store = engine.store
        time.sleep(2.2)  # the subscription's meter is seconds older than the channels'
        for name in ("rate.a", "rate.b", "rate.c"):
            redis_client.publish(name, "x")
        wait_for(lambda: store.subs[sub].total == 3)
        time.sleep(1.2)
        store.sample()
        snapshot = store.snapshot()
        assert snapshot.channels is not None
        rates = {row.channel: row.rate for row in snapshot.channels}
        assert rates == {
            c: pytest.approx(1 / RATE_WINDOW) for c in (b"rate.a", b"rate.b", b"rate.c")
        }
        assert snapshot.subs[sub].rate == pytest.approx(3 / RATE_WINDOW)
        assert snapshot.rate == pytest.approx(sum(rates.values()))


async def test_every_total_on_screen_agrees_under_a_flood(server) -> None:
    """Two floods, a pattern over both channels and a channel subscription on one: the
    header, the sum of the list, the sum of the table and the selected pane's title agree
    at every refresh (deliveries: a message on both subscriptions counts for each)."""
    pattern = Subscription(Kind.PATTERN, "agree.*")
    plain = Subscription(Kind.CHANNEL, "agree.a")
    app = make_app(server.url, pattern, plain)
    async with app.run_test(size=SIZE):
        await active(app, pattern, plain)
        with Flood(server.url, "agree.a", b"a" * 40), Flood(server.url, "agree.b", b"b" * 60):
            seen = [0]
            for _ in range(3):  # three refreshes (under a flood: every third second)
                await async_wait_for(lambda: header_total(app) > seen[-1], timeout=15)
                listed = listed_totals(app)
                header = header_total(app)
                title = _number(re.search(r"— ([\d,]+) msgs", app.dashboard.pane.titles[0])[1])
                assert header == sum(listed.values()) == table_total(app)
                assert title == listed[app.dashboard.selected]
                seen.append(header)
        assert seen == sorted(seen) and seen[1] > 0


async def test_the_header_counts_only_current_subscriptions(server, redis_client) -> None:
    """After `x` the header no longer counts the removed subscription (the list and the
    header agree); the channel table keeps every delivery since the start."""
    keep = Subscription(Kind.CHANNEL, "cur.keep")
    drop = Subscription(Kind.CHANNEL, "cur.drop")
    app = make_app(server.url, keep, drop)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, keep, drop)
        redis_client.publish("cur.keep", "1")
        for _ in range(3):
            redis_client.publish("cur.drop", "2")
        await pilot.pause(1.1)
        assert header_total(app) == 4
        app.dashboard.sub_list.select(drop)
        await pilot.press("x")
        await pilot.pause(1.1)
        assert drop not in app.dashboard.sub_list.subs
        assert header_total(app) == 1 == sum(listed_totals(app).values())
        assert table_total(app) == 4
