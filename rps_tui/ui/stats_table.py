"""The channel table: every channel, in natural name order or sorted by a column, drawn as a
virtual list (only the rows on screen are rendered), so 20,000 channels cost no more to
show than 20.

Columns that do not fit are dropped whole, never cut, in this order: the sparkline, the
node (a cluster), subs, last seen, bytes; channel, msgs and msg/s always show, and with
120 columns or more every column does. msgs shrinks to units (1.23M) rather than lose a
digit. The sparklines share one scale (the busiest second of any channel in the seconds
shown), said in the column's header. "last seen" is the receive time of the channel's newest
message, as the pane's clock shows times: exact, and no redraw while nothing arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from rps_tui.core.channel_tree import natural_key
from rps_tui.core.payload.text import safe_name, safe_text
from rps_tui.core.store import ChannelRow, rollup_label
from rps_tui.core.units import human_bytes
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.messages import ExportChannels, OpenChannel
from rps_tui.ui.render import SPARK_BLOCKS, clock_text, count_text, rate_text
from rps_tui.ui.row_cursor import RowCursor, cursor_bindings

SORTS = ("name", "msgs", "rate", "seen")
"""What `o` cycles through: natural name order, then busiest first by each measure."""
SORT_LABEL = {"name": "name", "msgs": "msgs ↓", "rate": "msg/s ↓", "seen": "last seen ↓"}
SPARK_MAX = 60  # seconds a sparkline can show (the meters keep a minute)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int  # 0: takes what is left (channel, sparkline)
    drop: int  # the order columns are dropped in when the table is narrow (1 first)


COLUMNS = (
    Column("channel", "channel", 0, 99),
    Column("msgs", "msgs", 9, 99),
    Column("rate", "msg/s", 6, 99),
    Column("bytes", "bytes", 10, 5),
    Column("seen", "last seen", 9, 4),
    Column("subs", "subs", 4, 3),
    Column("node", "node", 21, 2),
    Column("spark", "", 0, 1),
)
CHANNEL_MIN, CHANNEL_MAX, SPARK_MIN = 18, 40, 10
GAP = 2  # columns between two columns


def drop_columns(
    columns: list[Column], width: int, needs: Callable[[list[Column]], int], keep: int
) -> tuple[list[Column], int]:
    """Whole columns dropped in their `drop` order until the flexible ones (width 0) get the
    `needs(columns)` cells they want, keeping at least `keep` columns; the columns, and the
    cells left for the flexible ones. The channel table and the tree both fit this way."""
    columns = list(columns)
    while True:
        fixed = sum(c.width for c in columns) + GAP * (len(columns) - 1)
        if width - fixed >= needs(columns) or len(columns) <= keep:
            return columns, width - fixed
        columns.remove(min(columns, key=lambda c: c.drop))


def layout(width: int, show_node: bool) -> list[tuple[Column, int]]:
    """The columns that fit in `width`, with their widths: whole columns dropped in order.
    The sparkline takes up to a minute of room, the channel name the rest."""
    columns, left = drop_columns(
        [c for c in COLUMNS if show_node or c.key != "node"],
        width,
        lambda cs: CHANNEL_MIN + (SPARK_MIN if any(c.key == "spark" for c in cs) else 0),
        keep=3,
    )
    spark = any(c.key == "spark" for c in columns)
    spark_width = min(SPARK_MAX, max(SPARK_MIN, left - CHANNEL_MAX)) if spark else 0
    widths = {"channel": max(CHANNEL_MIN, left - spark_width), "spark": spark_width}
    return [(c, c.width or widths[c.key]) for c in columns]


class StatsTable(RowCursor, can_focus=True):
    """Rows are `ChannelRow`s from the dashboard's snapshot; nothing is kept per row but the
    sorted list, so a row stays where the eye left it unless the sort moves it."""

    BINDINGS = [
        *cursor_bindings("channels"),
        Binding(
            "enter",
            "open",
            "Messages",
            id="channels.open",
            tooltip="Show this channel's messages (filters the subscription that delivers it)",
        ),
        Binding("o", "sort", "Sort", id="channels.sort", tooltip="Sort by name, msgs, msg/s…"),
        Binding(
            "e",
            "export",
            "Export",
            id="channels.export",
            tooltip="Write the channel statistics to a CSV file in the current directory",
        ),
    ]

    sort: reactive[str] = reactive("name")

    def __init__(self, *, show_node: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.show_node = show_node  # a cluster: which node delivered each channel
        self.rows: list[ChannelRow] = []
        self.cursor_row = 0
        self.now = time.time()
        self._keys: dict[bytes | None, tuple] = {}  # natural sort keys, made once per name
        self._peak = 0

    # -- data --------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def update_rows(self, rows: list[ChannelRow], now: float | None = None) -> None:
        """A new snapshot's rows: sorted, the cursor kept on its channel."""
        self.now = time.time() if now is None else now
        current = self.rows[self.cursor_row].channel if self.rows else None
        self.rows = self._sorted(rows)
        if current is not None:
            index = next((i for i, r in enumerate(self.rows) if r.channel == current), None)
            if index is not None:
                self.cursor_row = index
        self.cursor_row = min(self.cursor_row, max(0, len(self.rows) - 1))
        self.virtual_size = Size(0, len(self.rows) + 1)  # + the header line
        self._peak = self._shared_peak()
        self.refresh()

    def _shared_peak(self) -> int:
        """The busiest second of any channel in the seconds the sparklines show: one scale
        for all of them (a 2 msg/s channel no longer draws as tall as a 500 msg/s one)."""
        columns = layout(self.scrollable_content_region.width or 200, self.show_node)
        seconds = next((w for c, w in columns if c.key == "spark"), 0)
        if not seconds:
            return 0
        return max((max(r.spark[-seconds:], default=0) for r in self.rows), default=0)

    def _sorted(self, rows: list[ChannelRow]) -> list[ChannelRow]:
        keys = self._keys
        if len(keys) > 4 * len(rows) + 1000:  # evicted channels: forget their keys
            keys.clear()
        for row in rows:
            if row.channel not in keys:
                keys[row.channel] = natural_key(row.channel)
        name = keys.__getitem__
        rows = sorted(rows, key=lambda r: name(r.channel))
        if self.sort == "msgs":
            rows.sort(key=lambda r: -r.count)
        elif self.sort == "rate":
            rows.sort(key=lambda r: -r.rate)
        elif self.sort == "seen":
            rows.sort(key=lambda r: -r.last_seen)
        return rows

    def watch_sort(self) -> None:
        self.rows = self._sorted(self.rows)
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False)
        self._retitle()
        self.refresh()

    def _retitle(self) -> None:
        sort = keys_of(self)("channels.sort")
        self.border_title = f"channels · by {SORT_LABEL[self.sort]} ({sort})"

    def get_row_at(self, index: int) -> list[str]:
        """The cells of row `index` as drawn (tests, and what the screen shows)."""
        columns = layout(self.scrollable_content_region.width or 200, self.show_node)
        return [cell.plain for cell in self._cells(self.rows[index], columns, self._peak)]

    def get_cell(self, channel: bytes, key: str) -> str:
        row = next(r for r in self.rows if r.channel == channel)
        column = next(c for c in COLUMNS if c.key == key)
        return self._cells(row, [(column, column.width or 40)], self._peak)[0].plain

    # -- drawing -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout(width, self.show_node)
        if y == 0:
            return strip_line(self, self._header(columns), width, Style(bold=True))
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        style = Style(reverse=True) if index == self.cursor_row and self.has_focus else None
        line = join_cells(self._cells(self.rows[index], columns, self._peak), columns)
        if index == self.cursor_row and not self.has_focus:
            style = Style(underline=True)
        return strip_line(self, line, width, style)

    def _header(self, columns: list[tuple[Column, int]]) -> Text:
        labels = []
        for column, width in columns:
            if column.key == "spark":  # the longest label that fits: the scale matters most
                peak = count_text(self._peak, 7)
                options = [f"last {width} s, █ = {peak}/s", f"{width} s █={peak}/s", f"█={peak}/s"]
                if not self._peak:
                    options = [f"last {width} s", f"{width} s"]
                labels.append(Text(next((o for o in options if len(o) <= width), "")))
            else:
                labels.append(Text(column.label, justify=_justify(column.key)))
        return join_cells(labels, columns)

    def _cells(self, row: ChannelRow, columns: list[tuple[Column, int]], peak: int) -> list[Text]:
        cells = []
        for column, width in columns:
            key = column.key
            if key == "channel":
                if row.channel is None:
                    cell = Text(f"({rollup_label(row)})", style="italic dim")
                else:
                    cell = Text(safe_name(row.channel))
            elif key == "msgs":
                cell = Text(count_text(row.count, width))
            elif row.channel is None:
                cell = Text(human_bytes(row.bytes) if key == "bytes" else "")
            elif key == "rate":
                cell = Text(rate_text(row.rate, width))
            elif key == "bytes":
                cell = Text(human_bytes(row.bytes))
            elif key == "seen":
                cell = Text(clock_text(row.last_seen)[:8])
            elif key == "subs":
                cell = Text("—" if row.subscribers is None else str(row.subscribers))
            elif key == "node":
                cell = Text(safe_text(row.node or ""))
            else:
                spark = _spark(row.spark[-width:], peak)
                cell = Text(spark.rjust(width), style="green")  # now is at the right edge
            cell.justify = _justify(key)
            cells.append(cell)
        return cells

    def on_mount(self) -> None:
        self._retitle()

    def on_resize(self, event: events.Resize) -> None:
        self._peak = self._shared_peak()  # the sparklines may show more or fewer seconds
        self.refresh()

    # -- keys ------------------------------------------------------------------------------
    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def action_export(self) -> None:
        self.post_message(ExportChannels(list(self.rows)))

    def action_open(self) -> None:
        if self.rows and self.rows[self.cursor_row].channel is not None:
            self.post_message(OpenChannel(self.rows[self.cursor_row].channel))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self.rows):
            if index == self.cursor_row and event.chain >= 2:
                self.action_open()
            self.cursor_row = index
            self.refresh()


def join_cells(cells: list[Text], columns: list[tuple[Column, int]]) -> Text:
    """Cells into one line: each cut to its column's width (…), padded, GAP apart."""
    line = Text(no_wrap=True, end="")
    for i, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True)):
        if i:
            line.append(" " * GAP)
        cell.truncate(width, overflow="ellipsis")
        pad = " " * (width - cell.cell_len)
        if cell.justify == "right":
            line.append(pad)
            line.append_text(cell)
        else:
            line.append_text(cell)
            line.append(pad)
    return line


def strip_line(widget: Widget, text: Text, width: int, style: Style | None) -> Strip:
    """A line of a virtual panel: `text` in the widget's style, `style` over it (the cursor)."""
    text.truncate(width, pad=True)
    segments = list(text.render(widget.app.console))
    strip = Strip(Segment.apply_style(segments, widget.rich_style), width)
    if style is not None:
        strip = strip.apply_style(style)
    return strip.crop_extend(0, width, widget.rich_style)


def _justify(key: str) -> str:
    return "right" if key in ("msgs", "rate", "bytes", "subs") else "left"


def _spark(values: tuple[int, ...], peak: int) -> str:
    """Per-second counts as blocks on the table's shared scale (`peak` = a full block)."""
    if not values:
        return ""
    top = len(SPARK_BLOCKS) - 1
    if peak <= 0:
        return SPARK_BLOCKS[1] * len(values)
    return "".join(
        SPARK_BLOCKS[max(1, round(v / peak * top))] if v else SPARK_BLOCKS[1] for v in values
    )
