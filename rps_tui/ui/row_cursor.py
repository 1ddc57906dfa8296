"""The cursor of a virtual list of rows under a header line (the channel table and tree):
moving it, paging, and scrolling so it stays on screen."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding

from rps_tui.ui.scrolling import SteadyScrollView


def cursor_bindings(prefix: str) -> list[Binding]:
    """↑ ↓ PgUp PgDn Home End for the actions below, with the ids `PREFIX.up` … `PREFIX.last`."""
    return [
        Binding("up", "cursor(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("down", "cursor(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id=f"{prefix}.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id=f"{prefix}.pagedown"),
        Binding("home", "edge(0)", "First", show=False, id=f"{prefix}.first"),
        Binding("end", "edge(1)", "Last", show=False, id=f"{prefix}.last"),
    ]


class RowCursor(SteadyScrollView):
    """`rows` and `cursor_row` are the subclass's; the first line on screen is the header."""

    rows: Sequence[object]
    cursor_row: int

    def on_focus(self) -> None:
        self.refresh()  # the cursor row: reverse with the focus, underlined without

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor_row = min(len(self.rows) - 1, max(0, self.cursor_row + delta))
            self._reveal()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_edge(self, end: int) -> None:
        self.action_cursor(len(self.rows) if end else -len(self.rows))

    def _reveal(self) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height - 1
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, force=True)
        self.refresh()
