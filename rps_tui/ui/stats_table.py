"""Per-channel statistics: the busiest channels, updated in place once a second."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from rps_tui.core.payload.text import safe_name, safe_text
from rps_tui.core.store import ChannelRow
from rps_tui.core.units import human_bytes, plural
from rps_tui.ui.render import clock_text, rate_text, sparkline

MAX_ROWS = 200
COLUMNS = ("msgs", "rate", "bytes", "seen", "subs", "node", "spark")


class StatsTable(DataTable):
    """Channels in name order, so a row stays where the eye left it; values update in place.

    With more than `MAX_ROWS` channels, the busiest `MAX_ROWS` (by messages) are shown, chosen
    again every `RESELECT_SECONDS`; the title says how many are not shown. Rebuilding a
    DataTable costs a layout and a full repaint, so it happens only when the set of rows
    changes, never because counts changed.
    """

    RESELECT_SECONDS = 5.0

    def __init__(self, *, show_node: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.show_node = show_node  # a cluster: which node delivered each channel
        self._columns = COLUMNS if show_node else tuple(c for c in COLUMNS if c != "node")
        self._order: list[bytes | None] = []
        self._shown_cells: dict[str, tuple] = {}
        self._chosen: set[bytes | None] = set()
        self._chosen_at = float("-inf")

    def on_mount(self) -> None:
        for label, key, width in (
            ("channel", "channel", 30),
            ("msgs", "msgs", 11),
            ("msg/s", "rate", 6),
            ("bytes", "bytes", 10),
            ("last seen", "seen", 9),
            ("subs", "subs", 4),
            *((("node", "node", 15),) if self.show_node else ()),
            ("last 20 s", "spark", 20),
        ):
            self.add_column(label, key=key, width=width)

    def update_rows(self, rows: list[ChannelRow], now: float | None = None) -> None:
        now = time.time() if now is None else now
        if len(rows) > MAX_ROWS:
            known = {r.channel for r in rows}
            if now - self._chosen_at >= self.RESELECT_SECONDS or not self._chosen <= known:
                busiest = sorted(rows, key=lambda r: -r.count)[:MAX_ROWS]
                self._chosen = {r.channel for r in busiest}
                self._chosen_at = now
            shown = [r for r in rows if r.channel in self._chosen]
        else:
            shown = rows
        shown.sort(key=lambda r: (r.channel is None, r.channel or b""))
        order = [r.channel for r in shown]
        if order != self._order:
            keep = self.cursor_row
            self.clear()
            self._shown_cells.clear()
            for row in shown:
                cells = self._cells(row, now)
                self._shown_cells[self._key(row.channel)] = cells[1:]
                self.add_row(*cells, key=self._key(row.channel))
            self._order = order
            if shown:
                self.move_cursor(row=min(keep, len(shown) - 1), animate=False)
        else:
            for row in shown:
                key = self._key(row.channel)
                cells = self._cells(row, now)[1:]
                previous = self._shown_cells.get(key, ())
                for column, value, old in zip(self._columns, cells, previous, strict=True):
                    if str(value) != str(old):
                        self.update_cell(key, column, value)
                self._shown_cells[key] = cells
        hidden = len(rows) - len(shown)
        subtitle = f"{plural(hidden, 'more channel')} not shown" if hidden > 0 else ""
        if self.border_subtitle != subtitle:  # the setter repaints even when nothing changed
            self.border_subtitle = subtitle

    @staticmethod
    def _key(channel: bytes | None) -> str:
        return "\x00other" if channel is None else channel.hex()

    def _cells(self, row: ChannelRow, now: float) -> tuple:
        node = (safe_text(row.node or ""),) if self.show_node else ()
        if row.channel is None:
            name = Text("(other channels, evicted)", style="italic dim")
            return (name, f"{row.count:,}", "", human_bytes(row.bytes), "", "", *node, "")
        return (
            Text(safe_name(row.channel)),
            f"{row.count:,}",
            rate_text(row.rate),
            human_bytes(row.bytes),
            clock_text(row.last_seen)[:8],
            "—" if row.subscribers is None else str(row.subscribers),
            *node,
            Text(sparkline(row.spark, 20), style="green"),
        )
