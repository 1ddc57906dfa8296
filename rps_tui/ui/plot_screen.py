"""The plot screen (`g`): throughput or values of the selected subscription over time.

A screen pushed over the dashboard, not a panel among the others: at 80x24 a panel would
leave a plot a few rows tall. The dashboard keeps counting underneath (the engine counts,
the dashboard's timers go on); Esc or q come back to it.

- Throughput (the default): msg/s per second for the subscription and, for a pattern, its
  busiest channels, from the rate meters' per-second samples (`core.plots.throughput`):
  the numbers the dashboard's msg/s column is made of.
- Values (`v`): a field of the payloads (`json:EXPR` as in the filter, or `number`), one
  series per channel, sampled under a bound (`core.plots.values`; the title says
  "sampled: ..." when it was).
- `w` cycles the window (1, 5, 15 min), `e` writes the series drawn to CSV.

Offline (`rps-tui view FILE`) the x axis is the recording's time, and the series come from
the messages it holds (throughput: their receive times bucketed per second).

Cost: one 1 Hz timer reads what is new; the plot is drawn again only when a series or the
window changed (a flat zero line that gets more zeros is drawn again only every 15 s, for
its time axis), and not for the dashboard's repaints underneath (`refresh`).

The plotting widget is textual-plot (`PlotWidget`), chosen over textual-plotext after
measuring both (`python -m benchmarks.plot_widgets`: 8 series x 900 points set again and
painted in a headless app): textual-plot took 54 ms of CPU a redraw at 80x24 and 76 ms at
120x40, textual-plotext 87 and 145 ms; neither reaches 20 Hz on 7,200 points, so the lines
are thinned to two points a cell first (`series.thin`: 15 ms at 80x24, 27 ms at 120x40),
and drawn at most once a second. textual-plot draws braille lines (2x4 dots a cell), puts
ticks on round numbers, and styles its axes from the theme ($primary, $secondary: dark and
light themes alike), where plotext follows only the theme's background and foreground and
draws with half blocks. The legend is ours (a Static under the plot): names escaped with
`safe_text`, never markup, with min / max / last / mean; the line colours come from the
theme too ($primary, $accent, $success, $error, then four fixed ones).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Self

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Input, Static
from textual_plot import AxisFormatter, HiResMode, PlotWidget

from rps_tui.core.export import export_name, write_csv
from rps_tui.core.payload.query import QueryError
from rps_tui.core.payload.text import safe_text
from rps_tui.core.plots.series import WINDOWS, Series, mean_text, short_number, thin
from rps_tui.core.plots.throughput import Throughput
from rps_tui.core.plots.values import EXTRACT_LIMIT, Values
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Subscription
from rps_tui.core.units import plural
from rps_tui.ui.bindings import PLOT_BINDINGS
from rps_tui.ui.frames import CatchingUp
from rps_tui.ui.key_bar import KeyBar

OFFLINE_EXTRACT_LIMIT = 20 * EXTRACT_LIMIT
"""A recording is read once, when the field is set: a larger bound than a live second's."""

FLAT_REDRAW = 15  # seconds: how often an idle plot (all zeros) moves its time axis on
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_THEME_COLOURS = ("primary", "accent", "success", "error")  # distinct in every built-in theme
_FALLBACK = ("#c678dd", "#56b6c2", "#e5c07b", "#98c379")  # for series 5 to 8


_HALF_LABEL = 5  # cells right of a tick that its HH:MM:SS label takes, and a space


class ClockFormatter(AxisFormatter):
    """x ticks on round seconds or minutes of the clock, labelled HH:MM:SS (local time,
    as the pane's receive times), as many as fit the width."""

    def __init__(self) -> None:
        self.max_ticks = 6
        self.edge = 0.0  # seconds at the right end where a centred label would be cut

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        span = max(max_ - min_, 1.0)
        step = next((s for s in _STEPS if span / s <= self.max_ticks), _STEPS[-1])
        first = math.ceil(min_ / step) * step
        last = max_ - self.edge
        return [float(t) for t in range(int(first), int(max_) + 1, step) if t <= last]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [time.strftime("%H:%M:%S", time.localtime(t)) for t in ticks]


class NumberFormatter(AxisFormatter):
    """y ticks on round numbers (1, 2, 5 x 10^n), labelled to fit the margin."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        span = max_ - min_
        if not span > 0:
            return [min_]
        raw = span / 4
        power = 10 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        first = math.ceil(min_ / step)
        return [k * step for k in range(first, math.floor(max_ / step) + 1)]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [short_number(t, 6) for t in ticks]


class PlotScreen(Screen[None]):
    """Throughput or values of one subscription; see the module docstring."""

    AUTO_FOCUS = ""  # nothing: the screen's keys work at once (the field is focused by `v`)
    DEFAULT_CSS = """
    PlotScreen { background: $surface; }
    #plot-title { height: 1; background: $panel; padding: 0 1; }
    #plot-canvas { height: 1fr; }
    #plot-legend { height: auto; max-height: 9; padding: 0 1; text-wrap: nowrap; }
    #plot-field { height: 3; }
    #plot-error { height: auto; color: $error; text-style: bold; padding: 0 1; display: none; }
    #plot-error.-shown { display: block; }
    """

    BINDINGS = PLOT_BINDINGS

    def __init__(
        self,
        store: Store,
        sub: Subscription,
        *,
        decoder: str = "auto",
        offline: bool = False,
        clock: Callable[[], float] = time.time,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__()
        self.catching_up = CatchingUp(busy)  # the reader catching up: every third second
        self._error: str | None = None  # the one-line error shown under the field
        self.store = store
        self.sub = sub
        self.decoder = decoder
        self.offline = offline
        self.clock = clock
        self.window = WINDOWS[0]
        self.throughput = self._new_throughput()
        self.values: Values | None = None  # None: the throughput plot
        self.field_text = ""  # the field as last typed (kept on error)
        self._drawn_key: object = None  # what the drawn picture was made of
        self._drawn_title = ""
        self.draws = 0  # how many times the plot was drawn (tests check idle costs nothing)

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.title_bar = Static(id="plot-title", markup=False)
        self.plot = PlotWidget(id="plot-canvas", allow_pan_and_zoom=False)
        self.plot.can_focus = False  # its zoom and pan keys are not ours
        self.legend = Static(id="plot-legend", markup=False)
        self.field = Input(placeholder="json:EXPR or number, Enter plots it", id="plot-field")
        self.field.display = False  # until `v`
        self.error = Static(id="plot-error", markup=False)
        yield self.title_bar
        yield self.plot
        yield self.legend
        yield self.field
        yield self.error
        yield KeyBar()

    def on_mount(self) -> None:
        self.x_axis = ClockFormatter()
        plot = self.plot
        plot.margin_top, plot.margin_bottom, plot.margin_left = 1, 1, 8
        plot.set_x_formatter(self.x_axis)
        plot.set_y_formatter(NumberFormatter())
        self.set_interval(1.0, self.refresh_data, name="plot")
        self.refresh_data()
        self.call_after_refresh(self.redraw, force=True)  # once the canvas has its size

    def on_resize(self) -> None:
        self.redraw(force=True)

    def refresh(self, *regions: Region, **kwargs: bool) -> Self:
        """Not for the dashboard's repaints underneath: Textual passes a screen below's
        dirty regions up to the top one (for see-through dialogs), which made this opaque
        screen render every line of the plot again at each second's counts (0.4% of a
        core, idle). Our own widgets refresh themselves, not the screen by region."""
        if regions and not any(kwargs.values()) and self.styles.background.a == 1:
            return self
        return super().refresh(*regions, **kwargs)

    # -- data ----------------------------------------------------------------------------
    def _new_throughput(self) -> Throughput:
        if self.offline:
            state = self.store.subs.get(self.sub)
            return Throughput.from_entries(self.sub, state.buffer if state else [])
        return Throughput(self.sub)

    def refresh_data(self) -> None:
        """Once a second: read what is new, draw if it changed anything. While the reader
        catches up a backlog, every third second, as the dashboard's counts: the reader
        needs the time more (measured with a values plot open over a 5M-message drain:
        1.50x redis-cli against 1.63x without the plot), and no sample is lost by waiting
        (throughput comes from the meters' per-second history, values say they were
        sampled)."""
        if self.offline:
            return  # a recording does not change
        if self.catching_up.skip():
            return
        if self.values is not None:
            changed = self.values.update(self.store)
            self._show_error(self.values.failure)
        else:
            changed = self.throughput.update(self.store)
        if changed:
            self.redraw()

    def _end(self) -> float:
        """The right end of the x axis: now, or the recording's last moment."""
        if not self.offline:
            return self.clock()
        state = self.store.subs.get(self.sub)
        return state.reads[-1].time if state and state.reads else self.clock()

    def shown(self) -> list[Series]:
        """The series drawn now (what `e` exports)."""
        start = self._end() - self.window
        if self.values is not None:
            return self.values.shown(start)
        return self.throughput.series(start)

    # -- drawing -------------------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        """Draw the plot, the title and the legend again, unless nothing they show changed."""
        end = self._end()
        start = end - self.window
        series = self.shown()
        windows = [s.window(start) for s in series]
        flat = all(not any(values) for _, values in windows)
        # a flat zero line that only got more zeros looks the same: drawn again only for
        # its time axis, every `FLAT_REDRAW` seconds
        if flat and not self.values:
            key: object = ("flat", self.window, len(series), int(end // FLAT_REDRAW))
        else:
            key = (end, self.window)
        key = (key, self.values is not None, self._counts())
        if key == self._drawn_key and not force:
            self._title(end)
            return
        self._drawn_key = key
        self.draws += 1
        plot, palette = self.plot, self._palette()
        self.x_axis.max_ticks = max(2, (self.size.width - 10) // 12)
        plot.clear()
        cells = max(1, plot.size.width - plot.margin_left)  # 2 braille dots a cell: 2 points
        self.x_axis.edge = (end - start) * _HALF_LABEL / cells  # HH:MM:SS centred on its tick
        for index, (times, values) in enumerate(windows):
            if times:
                style = palette[index % len(palette)]
                xs, ys = thin(times, values, start, end, cells)
                plot.plot(xs, ys, line_style=style, hires_mode=HiResMode.BRAILLE)
        plot.set_xlimits(start, end)
        top = max((max(v) for _, v in windows if v), default=0.0)
        if self.values is None:
            plot.set_ylimits(0, max(1.0, top * 1.1))
        else:
            low = min((min(v) for _, v in windows if v), default=0.0)
            pad = (top - low) * 0.05 or 1.0
            plot.set_ylimits(low - pad, top + pad)
        self._title(end)
        self._legend(series, start, palette)

    def _counts(self) -> tuple[int, ...]:
        v = self.values
        return () if v is None else (v.read, v.missing, v.not_numeric, v.lost)

    def _palette(self) -> list[str]:
        """Line colours from the theme (so they follow it, dark or light)."""
        variables = self.app.theme_variables
        return [variables.get(name, "white") for name in _THEME_COLOURS] + list(_FALLBACK)

    def _title(self, end: float) -> None:
        minutes = f"last {self.window // 60} min"
        kind = self.sub.kind.value
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        if self.values is None:
            title.append("msg/s", "bold")
        else:
            title.append(safe_text(self.values.text), "bold")
        title.append(f"  {kind} ", "dim")
        title.append(safe_text(self.sub.title), "bold cyan")
        title.append(f"  {minutes}", "dim")
        if self.offline:
            title.append("  recording", "dim")
        if self.values is not None and self.values.sampled:
            v = self.values
            note = f"  sampled: {v.extracted:,} of {v.read:,}" + (
                f", {v.lost:,} let go" if v.lost else ""
            )
            rule = " (the last value per channel per second)"
            room = self.size.width - 2 - title.cell_len  # the longest wording that fits
            title.append(note + rule if len(note + rule) <= room else note, "bold yellow")
        if title.markup != self._drawn_title:  # an update repaints: only on a change
            self._drawn_title = title.markup
            self.title_bar.update(title)

    def _legend(self, series: list[Series], start: float, palette: list[str]) -> None:
        width = max(20, self.size.width - 3)  # the padding, and the last column free
        number = 7 if width >= 70 else 5
        stats_width = 4 * number + len(" min  max  last  mean ")
        name_width = max(8, min(40, width - 3 - stats_width))
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for index, one in enumerate(series):
            if index:
                out.append("\n")
            out.append("━━ ", palette[index % len(palette)])
            name = safe_text(one.name)
            if len(name) > name_width:
                name = name[: name_width - 1] + "…"
            total = index == 0 and self.values is None  # the subscription's own line
            out.append(name.ljust(name_width), "bold" if total else "")
            stats = one.stats(start)
            if stats is None:
                out.append("  no values in this window", "dim")
                continue
            shown = [short_number(x, number) for x in (stats.min, stats.max, stats.last)]
            shown.append(mean_text(stats.mean, shown, number))
            for label, text in zip(("min", "max", "last", "mean"), shown, strict=True):
                out.append(f" {label} ", "dim")
                out.append(text.rjust(number))
        notes = self._notes(start)
        if notes:
            out.append(("\n" if series else "") + notes, "dim italic")
        elif not series:
            out.append("no values yet" if self.values else "no samples yet", "dim italic")
        self.legend.update(out)

    def _notes(self, start: float) -> str:
        parts = []
        if self.values is not None:
            v = self.values
            left = v.left_out(start)
            if left:
                parts.append(f"{plural(left, 'more channel')} not drawn")
            if v.missing:
                parts.append(f"{v.missing:,} missing")
            if v.not_numeric:
                parts.append(f"{v.not_numeric:,} not numeric")
            if v.other_channels:
                parts.append(f"{v.other_channels:,} values of further channels not kept")
        else:
            left = self.throughput.left_out()
            if left:
                parts.append(f"{plural(left, 'more channel')} not drawn")
        return " · ".join(parts)

    # -- keys ----------------------------------------------------------------------------
    def action_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.redraw()

    def action_values(self) -> None:
        self.field.value = self.field_text or self.field.value
        # shown and focused at once, not after a refresh (as a CSS class would): what is
        # typed right after `v`, Enter included, is the field's
        self.field.display = True
        self.set_focus(self.field)

    def action_throughput(self) -> None:
        if self.values is not None:
            self.values = None
            self.redraw()

    def action_close(self) -> None:
        if self.focused is self.field:  # Esc in the field: leave it, keep the plot
            self._hide_field()
            return
        self.dismiss()

    def _hide_field(self) -> None:
        self.field.display = False
        self.set_focus(None)

    @on(Input.Submitted, "#plot-field")
    def _field_submitted(self, event: Input.Submitted) -> None:
        self.field_text = event.value
        try:
            values = Values.start(self.sub, event.value, self.decoder)
        except QueryError as exc:
            self._show_error(str(exc))  # the typed text stays in the field
            return
        self._show_error(None)
        self.values = values
        if self.offline:
            values.limit, values.seconds = OFFLINE_EXTRACT_LIMIT, 0.5
        values.update(self.store)
        self._show_error(values.failure)  # a runaway expression gives up at once
        self._hide_field()
        self.redraw(force=True)

    def _show_error(self, error: str | None) -> None:
        """Called each second with the values plot's state: it repaints (and lays the
        screen out again) only when that changes, so an idle plot draws nothing."""
        if error == self._error:
            return
        self._error = error
        self.error.update(safe_text(error or ""))
        self.error.set_class(error is not None, "-shown")

    def action_export(self) -> None:
        start = self._end() - self.window
        path = "rps-tui-plot-….csv"
        try:
            path = export_name(self.clock())
            rows = write_csv(path, self.shown(), start)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            said = f"export failed: {reason}: {safe_text(str(path))}"
            self.notify(said, severity="error", markup=False)
            return
        self.notify(f"wrote {plural(rows, 'row')} to {safe_text(str(path))}", markup=False)
