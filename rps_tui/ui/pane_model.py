"""What one subscription's pane shows: its filtered view of the store's history, pause state,
decoder and cursor. No Textual here: the `MessagePane` widget draws the model it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rps_tui.core.entry import Entry
from rps_tui.core.payload.query import JsonQuery, Query, QueryError, parse_query
from rps_tui.core.payload.text import safe_text
from rps_tui.core.store import Store, SubscriptionRow
from rps_tui.core.subscriptions import SENTINELS, Subscription
from rps_tui.core.units import plural


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
    column: int = 0  # how far the lines are scrolled sideways (← →), past the receive time
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

    def titles(self, state: SubscriptionRow | None, keys: Callable[[str], str]) -> tuple[str, str]:
        """The pane's title and subtitle: what it shows, and each way the view differs
        from a live tail of everything, with the key that undoes it (`keys`: binding id ->
        the key bound now, `keymap.Keys`). `state` comes from the snapshot every other
        number on the screen is drawn from."""
        total = state.total if state else 0
        sub = self.sub
        what = sub.title if sub.on == SENTINELS else f"{sub.kind.value} {sub.title}"
        title = f"{safe_text(what)} — {plural(total, 'msg')}"
        notes = []
        if self.paused:
            new = max(0, total - self.paused_at)  # paused after the snapshot: none yet
            notes.append(f"⏸ PAUSED — {new:,} new ({keys('pause')} resumes)")
        if self.filter:
            notes.append(f"filter: {len(self.lines):,} shown")
        if self.decoder != "auto":
            notes.append(f"decoder {self.decoder} ({keys('decoder')})")
        if state is not None and state.let_go:
            notes.append(f"{state.let_go:,} older let go for size")
        if state is not None and state.error:
            notes.append(f"refused: {safe_text(state.error)}")
        if not self.follow and not self.paused:
            notes.append(f"scrolled ({keys('pane.follow')} follows)")
        if self.column:
            notes.append(f"→ {self.column} columns ({keys('pane.left')} back)")
        return title, "  ·  ".join(notes)

    def rebuild(self, store: Store) -> None:
        """Start over from the whole buffer, e.g. after the filter changed."""
        self._sync_query()
        self.lines, self.seen = [], 0
        self.cursor = None
        was_paused, self.paused = self.paused, False
        self.pull(store)
        self.paused = was_paused
