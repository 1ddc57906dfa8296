"""Per-channel statistics: the busiest channels, updated in place once a second."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from rps_tui.core.payload import human_bytes, safe_name
from rps_tui.core.store import ChannelRow
from rps_tui.ui.render import ago_text, rate_text, sparkline

MAX_ROWS = 200


class StatsTable(DataTable):
    """Top `MAX_ROWS` channels by message count; the rest are summarised in the title."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._order: list[bytes | None] = []

    def on_mount(self) -> None:
        for label, key, width in (
            ("channel", "channel", 30),
            ("msgs", "msgs", 11),
            ("msg/s", "rate", 6),
            ("bytes", "bytes", 10),
            ("last seen", "seen", 9),
            ("subs", "subs", 4),
            ("last 20 s", "spark", 20),
        ):
            self.add_column(label, key=key, width=width)

    def update_rows(self, rows: list[ChannelRow], now: float | None = None) -> None:
        now = time.time() if now is None else now
        rows.sort(key=lambda r: (r.channel is None, -r.count, r.channel or b""))
        shown = rows[:MAX_ROWS]
        order = [r.channel for r in shown]
        if order != self._order:
            keep = self.cursor_row
            self.clear()
            for row in shown:
                self.add_row(*self._cells(row, now), key=self._key(row.channel))
            self._order = order
            if shown:
                self.move_cursor(row=min(keep, len(shown) - 1), animate=False)
        else:
            for row in shown:
                key = self._key(row.channel)
                for column, value in zip(
                    ("msgs", "rate", "bytes", "seen", "subs", "spark"),
                    self._cells(row, now)[1:],
                    strict=True,
                ):
                    self.update_cell(key, column, value)
        hidden = len(rows) - len(shown)
        self.border_subtitle = f"{hidden:,} more channels not shown" if hidden > 0 else ""

    @staticmethod
    def _key(channel: bytes | None) -> str:
        return "\x00other" if channel is None else channel.hex()

    @staticmethod
    def _cells(row: ChannelRow, now: float) -> tuple:
        if row.channel is None:
            name = Text("(other channels, evicted)", style="italic dim")
            return (name, f"{row.count:,}", "", human_bytes(row.bytes), "", "", "")
        return (
            Text(safe_name(row.channel)),
            f"{row.count:,}",
            rate_text(row.rate),
            human_bytes(row.bytes),
            ago_text(now - row.last_seen),
            "—" if row.subscribers is None else str(row.subscribers),
            Text(sparkline(row.spark, 20), style="green"),
        )
