"""The subscription list over a long run: its counts change every second, and what it keeps
to draw them must not grow with the number of updates (the soak benchmark's RSS rose for 15
minutes while a DataTable kept every stale render until its caches were full). No server:
the list is fed snapshots directly."""

from __future__ import annotations

import gc
import tracemalloc

from textual.app import App, ComposeResult

from rps_tui.core.store import Snapshot, SubscriptionRow
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.render import count_text
from rps_tui.ui.subscription_list import COUNT_WIDTH, SubscriptionList
from tests.support.app import SIZE

SUB = Subscription(Kind.PATTERN, "soak.*")


def snapshot(second: int) -> Snapshot:
    """What a flood of 50,000 msg/s looks like `second` seconds in."""
    row = SubscriptionRow(50_000 * second, 50_000.0 + second % 7, 200 * 50_000 * second,
                          Status.ACTIVE, None, 0)  # fmt: skip
    return Snapshot(float(second), row.total, {SUB: row}, None, row.rate)


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SubscriptionList(id="subs")


async def test_counts_updated_every_second_do_not_pile_up_renders() -> None:
    """300 more seconds of changing counts, each drawn, hold no more memory than before
    them (measured: 4.1 MB more before the fix, 0.14 MB after)."""
    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SubscriptionList)
        table.set_subscriptions([SUB], snapshot(0))
        second = 0

        async def seconds(n: int) -> None:
            nonlocal second
            for _ in range(n):
                second += 1
                table.refresh_counts(snapshot(second))
                await pilot.pause()  # drawn, as each second is on screen

        await seconds(50)
        assert table.get_row_at(0)[2].plain == count_text(50_000 * second, COUNT_WIDTH)
        tracemalloc.start()
        try:
            await seconds(20)
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            await seconds(300)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert grown < 500_000, f"{grown:,} bytes more after 300 updates"
