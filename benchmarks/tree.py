"""Channel tree benchmark: what one refresh of the tree costs the UI thread, at the table's
20,000-channel bound.

    python -m benchmarks.tree [--channels 20000] [--repeat 15]

The channels are a realistic hierarchy, `tenant-T:REGION.service-S/instance-I` (50 tenants,
4 regions, 10 services, 10 instances: three separators, four levels, mixed as real names are),
each with counts, a rate and a sparkline as a `ChannelRow` from a real `Store` that took one
message per channel (so `last_payloads` has something to find). Timed, median of `--repeat`
runs, in ms:

- detect: `detect_separators` over every name;
- build: `build` (split, branches, aggregates), the first time (every node new) and each
  second after (the previous tree updated in place, as the widget does);
- sort + flatten: every branch expanded (the worst case: all 20,000 leaves are rows), and
  only the top level (the default view), ordered by msg/s;
- refresh: `ChannelTreeView.update_rows` in a headless 120x40 app, all expanded, scrolled to
  the middle: everything the dashboard's `refresh_counts` does for the tree once a second
  (detect, build, flatten, the last payloads of the leaves on screen);
- render: drawing every line on screen (`render_line`), as a repaint does.

The UI-thread share is (refresh + render) per second, against `ui/budget.py`'s 15%.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from textual.app import App, ComposeResult

from rps_tui.core.channel_tree import Order, Splitter, build, detect_separators, flatten
from rps_tui.core.store import ChannelRow, ChannelTally, Store
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.budget import FrameBudget
from rps_tui.ui.channel_tree import ChannelTreeView

REGIONS = ("eu", "us", "apac", "latam")


def names(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        tenant, rest = divmod(i, 400)
        region, rest = divmod(rest, 100)
        service, instance = divmod(rest, 10)
        out.append(
            f"tenant-{tenant}:{REGIONS[region]}.service-{service}/instance-{instance}".encode()
        )
    return out


def store_with(channels: list[bytes]) -> Store:
    """A store that took one message per channel on one pattern subscription, then sampled
    a few seconds, so every row has counts, a rate and a sparkline."""
    store = Store(max_channels=len(channels))
    sub = Subscription(Kind.PATTERN, "*")
    state = store.add_subscription(sub)
    tally = store.tally(ChannelTally())
    now = time.time()
    with store.lock:
        for k, chunk in enumerate(range(0, len(channels), 1000)):
            part = channels[chunk : chunk + 1000]
            replies = [[b"pmessage", b"*", c, b'{"v": %d}' % k] for c in part]
            state.take(replies, sum(len(r[-1]) for r in replies), now)
            tally.add(iter(part), [len(r[-1]) for r in replies], now)
        for _ in range(3):
            store.sample()
    return store


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall ms of `fn`."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


class Bench(App[None]):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        yield ChannelTreeView(self.store.last_payloads, id="tree")


async def in_app(store: Store, rows: list[ChannelRow], repeat: int) -> tuple[float, float]:
    app = Bench(store)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(ChannelTreeView)
        view.update_rows(rows)
        assert view.built is not None
        view.expanded = set(view.built.branches)
        view.update_rows(rows)
        view.scroll_to(y=len(view.rows) // 2, animate=False, force=True)
        await pilot.pause()
        height = view.scrollable_content_region.height

        def refresh() -> None:
            view.update_rows(rows)

        def render() -> None:
            for y in range(height):
                view.render_line(y)

        return timed(refresh, repeat), timed(render, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    channels = names(args.channels)
    store = store_with(channels)
    rows = store.snapshot().channels or []
    separators = detect_separators(r.channel for r in rows)
    splitter = Splitter(separators)
    tree = build(rows, splitter)
    everything, order = set(tree.branches), Order()
    results = {
        "detect": timed(lambda: detect_separators(r.channel for r in rows), args.repeat),
        "build, the first time": timed(lambda: build(rows, splitter), args.repeat),
        "build, each second after": timed(lambda: build(rows, splitter, tree), args.repeat),
        "sort + flatten, all expanded": timed(
            lambda: flatten(tree, everything, "rate", order), args.repeat
        ),
        "sort + flatten, top level": timed(
            lambda: flatten(tree, set(), "rate", order), args.repeat
        ),
    }
    refresh, render = asyncio.run(in_app(store, rows, args.repeat))
    results["refresh (update_rows, in the app)"] = refresh
    results["render (every line on screen, 120x40)"] = render
    leaves = sum(1 for _ in tree.leaves())
    print(f"{leaves:,} channels, {len(tree.branches):,} branches, separators {separators!r}")
    for what, ms in results.items():
        print(f"  {what:<40} {ms:8.1f} ms")
    share = (refresh + render) / 1000
    budget = FrameBudget().share
    print(f"  UI-thread share at one refresh a second: {share:.1%} (budget {budget:.0%})")


if __name__ == "__main__":
    main()
