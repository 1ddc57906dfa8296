"""The message pane: a virtual list that renders only the lines on screen.

Each subscription has a `PaneModel` (`pane_model.py`: its filtered view, pause state,
decoder, cursor); the one pane widget shows the selected model. Models of hidden
subscriptions are not touched until they are selected again; their messages wait in the
store's bounded buffer. What the user does to the shown view (pause, clear, decoder) goes
through the pane, which redraws and posts `PaneChanged` so the dashboard retitles it.

The filter (`/`) is a `core.payload.query.Query`: it decides which entries a model keeps, and
its spans are highlighted when a line is rendered (only lines on screen, then cached).
`n` / `N` move the cursor to the next / previous matching line.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip

from rps_tui.core.entry import Entry, Gap, payload_of, time_of
from rps_tui.core.payload.decoders import next_decoder
from rps_tui.core.payload.query import Query
from rps_tui.core.store import Store
from rps_tui.ui.clipboard import copy_channel, copy_payload
from rps_tui.ui.detail import DetailScreen, previous_on_channel
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.messages import PaneChanged
from rps_tui.ui.pane_model import PaneModel
from rps_tui.ui.render import clock_text, entry_line
from rps_tui.ui.scrolling import SteadyScrollView

CLOCK = len("00:00:00.000  ")  # the receive time and its gap, never scrolled sideways
SIDEWAYS = 20  # columns a ← or → moves the lines

MATCH_STYLE = Style(color="black", bgcolor="yellow", bold=True)
"""Matched text in a line (as `less` and vim show search hits)."""


class MessagePane(SteadyScrollView, can_focus=True):
    """Lines are drawn from `model.lines` on demand; nothing is stored per line but a cache."""

    BINDINGS = [
        Binding(
            "up",
            "cursor(-1)",
            "Up",
            show=False,
            id="pane.up",
            tooltip="Cursor up (the first: the line above the bottom one on screen)",
        ),
        Binding("down", "cursor(1)", "Down", show=False, id="pane.down", tooltip="Cursor down"),
        Binding("pageup", "cursor(-20)", "Page up", show=False, id="pane.pageup"),
        Binding("pagedown", "cursor(20)", "Page down", show=False, id="pane.pagedown"),
        Binding("home", "top", "Top", show=False, id="pane.top", tooltip="The oldest line"),
        Binding(
            "end",
            "follow",
            "Follow",
            show=False,
            id="pane.follow",
            tooltip="Follow the newest line again (the cursor goes)",
        ),
        Binding("enter", "open", "Detail", id="pane.detail", tooltip="Show the whole message"),
        Binding(
            "y",
            "copy",
            "Copy",
            show=False,
            id="pane.copy",
            tooltip="Copy the payload under the cursor to the clipboard",
        ),
        Binding(
            "Y",
            "copy_channel",
            "Copy channel",
            show=False,
            id="pane.copy_channel",
            tooltip="Copy the channel name of the line under the cursor",
        ),
        Binding("right", "sideways(1)", "Right", show=False, id="pane.right"),
        Binding("left", "sideways(-1)", "Left", show=False, id="pane.left"),
        Binding(
            "n",
            "match(1)",
            "Next match",
            show=False,
            id="pane.next_match",
            tooltip="Next line below the cursor that matches the filter (wraps)",
        ),
        Binding(
            "N",
            "match(-1)",
            "Previous match",
            show=False,
            id="pane.previous_match",
            tooltip="Previous line above the cursor that matches the filter (wraps)",
        ),
    ]

    titles: reactive[tuple[str, str]] = reactive(("", ""), layout=False)
    """Title and subtitle (`PaneModel.titles`); drawn as text, never markup."""

    def __init__(self, store: Store, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store  # the models' lines come from it
        self.model: PaneModel | None = None
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)
        self._detail_key = "Enter"  # the key bound to pane.detail, once mounted

    def on_mount(self) -> None:
        self._detail_key = keys_of(self)("pane.detail")

    def watch_titles(self, titles: tuple[str, str]) -> None:
        # Text, never markup: a channel may be called "[bold]x"
        self.border_title, self.border_subtitle = Text(titles[0]), Text(titles[1])

    def notify_style_update(self) -> None:
        """The theme or a style changed: lines drawn in the old colours must go (their
        cache key does not hold the style; Textual's own Log clears its cache the same way)."""
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        """A pane that follows the tail keeps the newest line in sight when it changes size
        (going narrow moves it and shrinks it: the old scroll offset would show older lines)."""
        if self.model is not None and self.model.follow:
            self.call_after_refresh(self.sync)

    def show(self, model: PaneModel | None) -> None:
        self.model = model
        self._cache.clear()
        self.sync()

    def sync(self) -> None:
        """Resize the virtual canvas to the view and keep the tail in sight when following."""
        count = len(self.model.lines) if self.model else 0
        self.virtual_size = Size(0, count)  # lines are cut to the width: no sideways scrolling
        if self.model and self.model.follow:
            self.scroll_to(y=count, animate=False, force=True)  # clamped to the last page
        self.refresh()

    # -- what the user does to the shown view ---------------------------------------------
    def toggle_pause(self) -> None:
        model = self.model
        if model is not None:
            model.toggle_pause(self.store)
            if not model.paused:
                self.sync()
            self.post_message(PaneChanged())

    def clear(self) -> None:
        """Forget the shown subscription's history (the store's too)."""
        model = self.model
        if model is not None:
            self.store.clear(model.sub)
            model.clear()
            self.show(model)
            self.post_message(PaneChanged())

    def set_decoder(self, model: PaneModel, decoder: str) -> None:
        """`model` shows its payloads with `decoder` from now on (it may be hidden: the
        detail view's choice lands after the detail view is gone)."""
        if decoder != model.decoder:
            model.set_decoder(decoder, self.store)
            if model is self.model:
                self.sync()  # the line cache is keyed by decoder
            self.post_message(PaneChanged())

    def next_decoder(self) -> None:
        if self.model is not None:
            self.set_decoder(self.model, next_decoder(self.model.decoder))

    def set_filter(self, text: str) -> str | None:
        """Filter the shown view by `text` (an invalid text is kept; the view stays as it
        was); why the text is not in force, if it is not."""
        model = self.model
        if model is None:
            return None
        if model.filter != text:
            before = model.query
            model.set_filter(text)
            if model.query is not before:  # unchanged while the text is invalid: no rescan
                model.rebuild(self.store)
                model.follow = True
                self.sync()
            self.post_message(PaneChanged())
        return model.error

    def open_detail(self, entry: Entry) -> None:
        """The detail view of `entry`; the decoder chosen there sticks for the subscription."""
        model = self.model
        if model is None:
            return
        previous = previous_on_channel(model.lines, entry)
        self.app.push_screen(
            DetailScreen(entry, model.sub, decoder=model.decoder, previous=previous),
            lambda decoder: decoder and self.set_decoder(model, decoder),
        )

    def render_line(self, y: int) -> Strip:
        model = self.model
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if model is None or index >= len(model.lines):
            return Strip.blank(width, self.rich_style)
        entry = model.lines[index]
        selected = index == model.cursor
        query = model.query
        prefix = self.prefix(entry)
        key = (
            prefix.plain if prefix is not None else None,
            id(entry),
            time_of(entry),
            width,
            selected,
            model.sub.is_pattern,
            model.decoder,
            query,
            model.column,
        )
        strip = self._cache.get(key)
        if strip is None:
            text = entry_line(
                entry,
                show_channel=model.sub.is_pattern,
                decoder=model.decoder,
                detail_key=self._detail_key,
            )
            if query is not None and not isinstance(payload_of(entry), Gap):
                _highlight(text, query, clock_text(time_of(entry)))
            if model.column:  # the receive time stays; what follows it moves left
                text = text[:CLOCK] + text[CLOCK + model.column :]
            if prefix is not None:
                text = prefix + text
            text.truncate(width, overflow="ellipsis", pad=True)
            segments = list(text.render(self.app.console))
            strip = Strip(Segment.apply_style(segments, self.rich_style), width)
            if selected:
                strip = strip.apply_style(Style(reverse=True))
            strip = strip.crop_extend(0, width, self.rich_style)
            self._cache[key] = strip
        return strip

    def prefix(self, entry: Entry) -> Text | None:
        """What goes before a line (the all view: its server); None here."""
        return None

    # -- navigation ----------------------------------------------------------------------
    def _eye(self) -> int:
        """Where a cursor not shown yet stands: the bottom line on screen, so the newest
        while following. The first ↑ then selects the line above it (the one before the
        newest), the first ↓ the line below (at the tail: the newest itself), as if the
        cursor had been there all along; Enter opens that line."""
        model = self.model
        assert model is not None and model.lines
        last = len(model.lines) - 1
        if model.follow:
            return last
        bottom = self.scroll_offset.y + self.scrollable_content_region.height - 1
        return max(0, min(last, bottom))

    def action_cursor(self, delta: int) -> None:
        model = self.model
        if not model or not model.lines:
            return
        start = model.cursor if model.cursor is not None else self._eye()
        last = len(model.lines) - 1
        model.cursor = min(last, max(0, start + delta))
        model.follow = model.cursor == last and delta > 0
        self._reveal(model.cursor)
        self.post_message(PaneChanged())

    def action_sideways(self, step: int) -> None:
        """Scroll the lines sideways by `SIDEWAYS` columns (each pane keeps its own offset):
        long payloads are cut at the right edge, and this reads on."""
        model = self.model
        if model is not None:
            column = max(0, model.column + step * SIDEWAYS)
            if column != model.column:
                model.column = column
                self.refresh()
                self.post_message(PaneChanged())

    def action_top(self) -> None:
        if self.model and self.model.lines:
            self.model.cursor, self.model.follow = 0, False
            self._reveal(0)
            self.post_message(PaneChanged())

    def action_follow(self) -> None:
        if self.model:
            self.model.follow, self.model.cursor = True, None
            self.sync()
            self.post_message(PaneChanged())

    def current(self) -> Entry | None:
        """The line under the cursor, or before the cursor shows, the one it would start on
        (what Enter opens and `y` copies)."""
        model = self.model
        if not model or not model.lines:
            return None
        return model.lines[model.cursor if model.cursor is not None else self._eye()]

    def action_open(self) -> None:
        entry = self.current()
        if entry is not None:
            self.open_detail(entry)

    def action_copy(self) -> None:
        entry = self.current()
        if entry is not None:
            copy_payload(self.app, entry)

    def action_copy_channel(self) -> None:
        entry = self.current()
        if entry is not None:
            copy_channel(self.app, entry)

    def action_match(self, step: int) -> None:
        """Move the cursor to the next (step 1) or previous (-1) message matching the filter,
        wrapping around. With no cursor (following the tail), `n` starts at the oldest line
        and `N` at the newest. Gap markers are stepped over. Under a filter every line shown
        matches, so this steps line by line; the scan is bounded by the lines held."""
        model = self.model
        if model is None or not model.lines:
            return
        query = model.query
        if query is None:
            self.notify(f"No filter to match: press {keys_of(self)('filter')} first", timeout=2)
            return
        count, cursor = len(model.lines), model.cursor
        if cursor is None:
            first: range = range(count) if step > 0 else range(count - 1, -1, -1)
            then: range = range(0)
        elif step > 0:
            first, then = range(cursor + 1, count), range(0, cursor + 1)
        else:
            first, then = range(cursor - 1, -1, -1), range(count - 1, cursor - 1, -1)
        lines, matches = model.lines, query.matches
        for wrapped, indexes in ((False, first), (True, then)):
            for index in indexes:
                entry = lines[index]
                if not isinstance(payload_of(entry), Gap) and matches(entry):
                    if index == cursor:
                        self.notify("No other match", timeout=2)
                    elif wrapped:
                        where = "top" if step > 0 else "bottom"
                        self.notify(f"Search wrapped to the {where}", timeout=2)
                    model.cursor, model.follow = index, False
                    self._reveal(index)
                    self.post_message(PaneChanged())
                    return
        self.notify("No more matches", severity="warning", timeout=2)

    def _reveal(self, index: int) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, force=True)
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        model = self.model
        offset = event.get_content_offset(self)  # inside the border, or None on it
        if model is None or offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < len(model.lines):
            if model.cursor == index and event.chain >= 2:
                self.open_detail(model.lines[index])
            model.cursor, model.follow = index, False
            self.refresh()
            self.post_message(PaneChanged())

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        model = self.model
        if model is None:
            return
        follow = model.follow
        if new < old and new < self.max_scroll_y:
            model.follow = False  # the user scrolled up: stop chasing the tail
        elif new >= self.max_scroll_y and model.cursor is None:
            model.follow = True
        if model.follow != follow:
            self.post_message(PaneChanged())


def _highlight(text: Text, query: Query, clock: str) -> None:
    """Style the query's spans in a rendered line, after its receive time (a digit in a
    filter should not light up the clock)."""
    skip = len(clock) + 2 if text.plain.startswith(clock) else 0
    for start, end in query.spans(text.plain[skip:]):
        text.stylize(MATCH_STYLE, skip + start, skip + end)
