"""The pane's `/` filter: the input above the pane, and why its text is not in force."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import Input

from rps_tui.core.payload.text import safe_text
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.messages import FilterChanged

PLACEHOLDER = (
    "filter: text (lower case ignores case) · re:REGEX · json:JMESPATH, e.g. "
    "json:price > `20` · ch:CHANNEL · Enter keeps it, {leave} clears it"
)  # Enter is the input's own key; {leave}: the key bound to the dashboard's `leave` now


class FilterBar(Input):
    """Posts `FilterChanged` as the user types; shown while a filter is set or being typed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(select_on_focus=False, **kwargs)  # see PublishBox.compose for
        # select_on_focus
        self._error: str | None = None

    def on_mount(self) -> None:
        self.placeholder = PLACEHOLDER.format(leave=keys_of(self)("leave"))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    def show(self, text: str) -> None:
        """The filter of the subscription now shown (kept out of sight when there is none)."""
        self.display = bool(text)
        self.value = text

    def clear_and_hide(self) -> None:
        self.value = ""
        self.display = False

    def show_error(self, error: str | None) -> None:
        """Why the text is not in force (invalid, or a regex that gave up), in red under the
        input; the typed text stays. Set only on change: the setter repaints."""
        if error != self._error:
            self._error = error
            self.set_class(error is not None, "-invalid")
            self.border_subtitle = Text(safe_text(error), style="bold red") if error else None
