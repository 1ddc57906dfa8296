"""Which plotting widget: textual-plotext against textual-plot, as the plot screen uses one.

Redraw cost of 8 series x 900 points (15 minutes a second) in a headless app at 80x24 and
120x40: the series set again and the screen painted (`pilot.pause()`), 40 times; ms per
redraw, wall and CPU, and the cost of a pause alone to subtract. Screenshots of each go to
/tmp/plot-widgets-*.svg (render with cairosvg to compare the looks). textual-plotext is not a
dependency of rps-tui: `pip install textual-plotext` first.

    python -m benchmarks.plot_widgets
"""

from __future__ import annotations

import asyncio
import math
import time

from textual.app import App, ComposeResult
from textual_plot import HiResMode, PlotWidget

try:
    from textual_plotext import PlotextPlot
except ImportError:  # pragma: no cover - a benchmark's own requirement
    raise SystemExit("pip install textual-plotext to compare it") from None

POINTS, SERIES, FRAMES = 900, 8, 40
XS = list(range(POINTS))


def data(k: int) -> list[list[float]]:
    return [[50 + 40 * math.sin((x + 37 * s + k) / 30) + s * 5 for x in XS] for s in range(SERIES)]


class Bench(App[None]):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield PlotextPlot() if self.kind == "textual-plotext" else PlotWidget()


def draw(widget: PlotextPlot | PlotWidget, k: int) -> None:
    ys = data(k)
    if isinstance(widget, PlotextPlot):
        plt = widget.plt
        plt.clear_data()
        for s in range(SERIES):
            plt.plot(XS, ys[s], label=f"ch{s}")
        widget.refresh()
    else:
        widget.clear()
        for s in range(SERIES):
            widget.plot(XS, ys[s], line_style=f"color({s + 1})", hires_mode=HiResMode.BRAILLE)


async def measure(kind: str, size: tuple[int, int]) -> None:
    app = Bench(kind)
    async with app.run_test(size=size) as pilot:
        widget = app.query_one(PlotextPlot if kind == "textual-plotext" else PlotWidget)
        draw(widget, 0)
        await pilot.pause()
        wall, cpu = time.perf_counter(), time.process_time()
        for k in range(1, FRAMES + 1):
            draw(widget, k)
            await pilot.pause()
        wall = (time.perf_counter() - wall) / FRAMES * 1000
        cpu = (time.process_time() - cpu) / FRAMES * 1000
        print(f"{kind:16} {size[0]}x{size[1]}: {wall:5.1f} ms wall, {cpu:5.1f} ms CPU a redraw")
        app.save_screenshot(f"/tmp/plot-widgets-{kind}-{size[0]}x{size[1]}.svg")


async def baseline() -> None:
    app = Bench("textual-plot")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        for _ in range(FRAMES):
            await pilot.pause()
        print(f"a pause alone: {(time.perf_counter() - start) / FRAMES * 1000:.1f} ms wall")


def main() -> None:
    for kind in ("textual-plotext", "textual-plot"):
        for size in ((80, 24), (120, 40)):
            asyncio.run(measure(kind, size))
    asyncio.run(baseline())


if __name__ == "__main__":
    main()
