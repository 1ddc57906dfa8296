"""Under a flood: counts stay exact, memory stays bounded, and the screen work is batched.

Nothing here is timed; speed lives in benchmarks/ (drain.py, footprint.py).
"""

from __future__ import annotations

import redis

from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.message_pane import MessagePane
from tests.support.engine import running_engine
from tests.support.wait import async_wait_for, wait_for

FLOOD = 200_000


def flood(client: redis.Redis, count: int, channels: int, prefix: str) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.publish(f"{prefix}{i % channels}", b"p" * (i % 7 + 1))  # mixed sizes
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def test_counts_stay_exact_under_a_flood(server, redis_client) -> None:
    pattern = Subscription(Kind.PATTERN, "fh.exact.*")
    with running_engine(server.url, pattern, history=1000) as engine:
        flood(redis_client, FLOOD, 100, "fh.exact.")
        store = engine.store
        wait_for(lambda: store.subs[pattern].total == FLOOD, timeout=60)
        rows = {r.channel: r for r in store.channel_rows() if r.channel.startswith(b"fh.exact.")}
        assert sum(r.count for r in rows.values()) == FLOOD
        assert all(r.count == FLOOD // 100 for r in rows.values())
        expected_bytes = sum(i % 7 + 1 for i in range(FLOOD))
        assert sum(r.bytes for r in rows.values()) == expected_bytes == store.subs[pattern].bytes
        assert len(store.subs[pattern].buffer) == 1000  # the history bound


def test_channel_table_is_bounded_and_still_adds_up(server, redis_client) -> None:
    pattern = Subscription(Kind.PATTERN, "fh.many.*")
    with running_engine(server.url, pattern, max_channels=50) as engine:
        flood(redis_client, 10_000, 1000, "fh.many.")
        wait_for(lambda: engine.store.subs[pattern].total == 10_000, timeout=30)
        rows = engine.store.channel_rows()
        named = [r for r in rows if r.channel is not None]
        assert len(named) <= 50
        # 10 rounds over the 1,000 channels: the rollup counts those out of the table, once
        assert engine.store.other_channels == 1000 - len(named)
        assert sum(r.channels for r in rows) == 1000
        assert sum(r.count for r in rows) == 10_000  # the rollup row keeps the sum exact


async def test_screen_updates_are_batched_not_per_message(server, redis_client) -> None:
    from tests.support.app import SIZE, active, make_app

    pattern = Subscription(Kind.PATTERN, "fh.ui.*")
    app = make_app(server.url, pattern)
    syncs = 0
    original = MessagePane.sync

    def counting_sync(self: MessagePane) -> None:
        nonlocal syncs
        syncs += 1
        original(self)

    MessagePane.sync = counting_sync  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE):
            await active(app, pattern)
            before = syncs
            flood(redis_client, 50_000, 10, "fh.ui.")
            await async_wait_for(
                lambda: app.session.store.subs[pattern].total == 50_000, timeout=60
            )
            await async_wait_for(lambda: app.dashboard.pane.border_title.endswith("50,000 msgs"))
            frames = syncs - before
            assert 1 <= frames <= 200, frames  # budgeted frames: a few, not 50,000
            assert len(app.dashboard.pane.model.lines) == 10_000  # the default history
    finally:
        MessagePane.sync = original  # type: ignore[method-assign]
