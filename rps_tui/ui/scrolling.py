"""A ScrollView whose scrollbar is always drawn where the view is scrolled to."""

from __future__ import annotations

from textual.scroll_view import ScrollView


class SteadyScrollView(ScrollView):
    """Textual moves a scrollbar's thumb when `scroll_y` changes only while the bar is shown.
    A view that scrolls to its end in the same step as it starts to overflow (a burst of
    lines into a pane that fitted) sets `scroll_y` before the bar exists, and the bar then
    appears with its thumb at the top, under the newest lines, until the next scroll. So the
    thumb is put in place when the bar appears."""

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        if shown:
            self.vertical_scrollbar.position = self.scroll_y
