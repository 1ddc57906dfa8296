"""The message pane: a virtual list that renders only the lines on screen.

Each subscription has a `PaneModel` (its filtered view, pause state, cursor); the one pane
widget shows the selected model. Models of hidden subscriptions are not touched until they
are selected again; their messages wait in the store's bounded buffer.

The filter (`/`) is a `core.payload.query.Query`: it decides which entries a model keeps, and
its spans are highlighted when a line is rendered (only lines on screen, then cached).
`n` / `N` move the cursor to the next / previous matching line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rps_tui.core.entry import Entry, Gap, payload_of, time_of
from rps_tui.core.payload.query import JsonQuery, Query, QueryError, parse_query
from rps_tui.core.payload.text import safe_text
from rps_tui.core.store import Store, SubscriptionState
from rps_tui.core.subscriptions import Subscription
from rps_tui.ui.render import clock_text, entry_line

MATCH_STYLE = Style(color="black", bgcolor="yellow", bold=True)
"""Matched text in a line (as `less` and vim show search hits)."""


@dataclass
class PaneModel:
    sub: Subscription
    history: int
    lines: list[Entry] = field(default_factory=list)
    seen: int = 0  # appended count already pulled from the store
    filter: str = ""
    paused: bool = False
    paused_at: int = 0  # store total when paused
    follow: bool = True
    cursor: int | None = None
    decoder: str = "auto"  # how payloads are shown: see rps_tui.core.payload.decoders
    query: Query | None = field(default=None, init=False, repr=False)  # None: no filter
    _parse_error: str | None = field(default=None, init=False, repr=False)
    _parsed: str = field(default="", init=False, repr=False)  # the text `query` came from

    def set_filter(self, text: str) -> str | None:
        """Take new filter text; the one-line error if it is not a valid query, else None.
        An invalid text is kept (it is what the user typed) and the last valid query stays
        in force, so the view does not flicker while a regex is half typed. The caller
        rebuilds (`rebuild`) to apply it to the history."""
        self.filter = text
        self._sync_query()
        return self.error

    @property
    def error(self) -> str | None:
        """Why the filter text is not in force: a parse error, or a query that gave up."""
        self._sync_query()
        if self._parse_error:
            return self._parse_error
        return self.query.failure if self.query is not None else None

    def _sync_query(self) -> None:
        """Parse `filter` if it changed since the last parse (the app may set it directly)."""
        if self.filter == self._parsed:
            return
        self._parsed = self.filter
        if not self.filter:
            self.query, self._parse_error = None, None
            return
        try:
            self.query, self._parse_error = parse_query(self.filter), None
        except QueryError as exc:
            self._parse_error = str(exc)
        self._query_decoder()

    def _query_decoder(self) -> None:
        if isinstance(self.query, JsonQuery):
            self.query.decoder = self.decoder  # json: reads payloads as the pane shows them

    def set_decoder(self, decoder: str, store: Store) -> None:
        """Show payloads with another decoder; a json: filter then reads them that way too,
        so it is applied again to the history."""
        self.decoder = decoder
        if isinstance(self.query, JsonQuery):
            self._query_decoder()
            self.rebuild(store)
            self.follow = True

    def pull(self, store: Store) -> bool:
        """Bring in what arrived since the last pull; True if the view changed."""
        if self.paused or store.appended(self.sub) == self.seen:
            return False
        self.seen, fresh, complete = store.tail(self.sub, self.seen)
        if not complete:
            self.lines = []
            self.cursor = None
        self._sync_query()
        query = self.query
        if query is not None:
            matches = query.matches
            fresh = [e for e in fresh if matches(e)]
        self.lines.extend(fresh)
        excess = len(self.lines) - self.history
        if excess > 0:
            self._drop(excess)
        self.trim(store)
        return True

    def trim(self, store: Store) -> bool:
        """Drop lines older than anything the store still holds for the subscription, so
        a view never keeps alive what the store let go for its byte caps (a filtered view
        would otherwise hold up to `history` large messages of its own). A paused view
        keeps what it shows. True if lines went."""
        lines = self.lines
        oldest = store.oldest_time(self.sub)
        if self.paused or not lines or oldest is None or lines[0][-1] >= oldest:
            return False
        count = 0  # from the front, not a bisection: receive times need not be sorted
        while count < len(lines) and lines[count][-1] < oldest:
            count += 1
        self._drop(count)
        return True

    def _drop(self, count: int) -> None:
        del self.lines[:count]
        if self.cursor is not None:
            self.cursor = max(0, self.cursor - count)

    def toggle_pause(self, store: Store) -> None:
        """Pause (the view holds still; counting goes on), or resume and catch up."""
        self.paused = not self.paused
        state = store.subs.get(self.sub)
        self.paused_at = state.total if state else 0
        if not self.paused:
            self.pull(store)

    def clear(self) -> None:
        """Forget what the view shows (the caller clears the store's buffer)."""
        self.lines.clear()
        self.cursor, self.follow = None, True

    def titles(self, state: SubscriptionState | None) -> tuple[str, str]:
        """The pane's title and subtitle: what it shows, and each way the view differs
        from a live tail of everything."""
        total = state.total if state else 0
        title = f"{self.sub.kind.value} {safe_text(self.sub.name)} — {total:,} msgs"
        notes = []
        if self.paused:
            notes.append(f"⏸ PAUSED — {total - self.paused_at:,} new (p resumes)")
        if self.filter:
            notes.append(f"filter: {len(self.lines):,} shown")
        if self.decoder != "auto":
            notes.append(f"decoder {self.decoder} (m)")
        if state is not None and state.let_go:
            notes.append(f"{state.let_go:,} older let go for size")
        if state is not None and state.error:
            notes.append(f"refused: {safe_text(state.error)}")
        if not self.follow and not self.paused:
            notes.append("scrolled (End follows)")
        return title, "  ·  ".join(notes)

    def rebuild(self, store: Store) -> None:
        """Start over from the whole buffer, e.g. after the filter changed."""
        self._sync_query()
        self.lines, self.seen = [], 0
        self.cursor = None
        was_paused, self.paused = self.paused, False
        self.pull(store)
        self.paused = was_paused


class MessagePane(ScrollView, can_focus=True):
    """Lines are drawn from `model.lines` on demand; nothing is stored per line but a cache."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="pane.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="pane.down"),
        Binding("pageup", "cursor(-20)", "Page up", show=False, id="pane.pageup"),
        Binding("pagedown", "cursor(20)", "Page down", show=False, id="pane.pagedown"),
        Binding("home", "top", "Top", show=False, id="pane.top"),
        Binding("end", "follow", "Follow", show=False, id="pane.follow"),
        Binding("enter", "open", "Detail", id="pane.detail", tooltip="Show the whole message"),
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

    class Moved(Message):
        """The cursor or the scroll position changed (the view may now follow the tail, or
        no longer): the pane's title says so."""

    class Open(Message):
        """The user asked for the detail view of one entry."""

        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    titles: reactive[tuple[str, str]] = reactive(("", ""), layout=False)
    """Title and subtitle (`PaneModel.titles`); drawn as text, never markup."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: PaneModel | None = None
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)

    def watch_titles(self, titles: tuple[str, str]) -> None:
        # Text, never markup: a channel may be called "[bold]x"
        self.border_title, self.border_subtitle = Text(titles[0]), Text(titles[1])

    def notify_style_update(self) -> None:
        """The theme or a style changed: lines drawn in the old colours must go (their
        cache key does not hold the style; Textual's own Log clears its cache the same way)."""
        super().notify_style_update()
        self._cache.clear()

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

    def render_line(self, y: int) -> Strip:
        model = self.model
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if model is None or index >= len(model.lines):
            return Strip.blank(width, self.rich_style)
        entry = model.lines[index]
        selected = index == model.cursor
        query = model.query
        key = (
            id(entry),
            time_of(entry),
            width,
            selected,
            model.sub.is_pattern,
            model.decoder,
            query,
        )
        strip = self._cache.get(key)
        if strip is None:
            text = entry_line(entry, show_channel=model.sub.is_pattern, decoder=model.decoder)
            if query is not None and not isinstance(payload_of(entry), Gap):
                _highlight(text, query, clock_text(time_of(entry)))
            text.truncate(width, overflow="ellipsis", pad=True)
            segments = list(text.render(self.app.console))
            strip = Strip(Segment.apply_style(segments, self.rich_style), width)
            if selected:
                strip = strip.apply_style(Style(reverse=True))
            strip = strip.crop_extend(0, width, self.rich_style)
            self._cache[key] = strip
        return strip

    # -- navigation ----------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        model = self.model
        if not model or not model.lines:
            return
        start = model.cursor if model.cursor is not None else len(model.lines) - 1
        model.cursor = min(
            len(model.lines) - 1, max(0, start + (delta if model.cursor is not None else 0))
        )
        model.follow = model.cursor == len(model.lines) - 1 and delta > 0
        self._reveal(model.cursor)
        self.post_message(self.Moved())

    def action_top(self) -> None:
        if self.model and self.model.lines:
            self.model.cursor, self.model.follow = 0, False
            self._reveal(0)
            self.post_message(self.Moved())

    def action_follow(self) -> None:
        if self.model:
            self.model.follow, self.model.cursor = True, None
            self.sync()
            self.post_message(self.Moved())

    def action_open(self) -> None:
        model = self.model
        if model and model.lines:
            index = model.cursor if model.cursor is not None else len(model.lines) - 1
            self.post_message(self.Open(model.lines[index]))

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
            self.notify("No filter to match: press / first", timeout=2)
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
                    self.post_message(self.Moved())
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
                self.post_message(self.Open(model.lines[index]))
            model.cursor, model.follow = index, False
            self.refresh()
            self.post_message(self.Moved())

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
            self.post_message(self.Moved())


def _highlight(text: Text, query: Query, clock: str) -> None:
    """Style the query's spans in a rendered line, after its receive time (a digit in a
    filter should not light up the clock)."""
    skip = len(clock) + 2 if text.plain.startswith(clock) else 0
    for start, end in query.spans(text.plain[skip:]):
        text.stylize(MATCH_STYLE, skip + start, skip + end)
