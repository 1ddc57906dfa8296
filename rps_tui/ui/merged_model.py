"""What the all view shows: the selected subscription of every tab, merged into one list in
receive-time order, each line knowing which server it came from. No Textual here.

Each source is a tab's store and the subscription selected there now (it follows the tab:
select another subscription in a tab and the all view shows that one from then on, its
history first). Lines are the stores' own entries (no copies); a line's server is looked up
by the entry's identity. New entries of one pull are merged by time (`heapq.merge`; each
store's are in order) and put in place: a server read a moment later than another lands
among the lines already shown, not after them. The view keeps at most `history` lines and,
as a pane does, lets go of what a store let go for its byte caps (`trim`), so it never
holds a large message alive that its own tab has dropped.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rps_tui.core.entry import Entry, time_of
from rps_tui.core.store import Store, SubscriptionRow
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.core.units import plural
from rps_tui.ui.pane_model import PaneModel

ALL = Subscription(Kind.PATTERN, "*", "all")
"""What the merged view stands for where a pane expects a subscription (channels shown)."""


@dataclass
class Source:
    label: str
    store: Store
    selected: Callable[[], Subscription | None]  # the tab's selection now
    counted: Callable[[Subscription], int] | None = None  # its count in the tab's snapshot


@dataclass
class MergedModel(PaneModel):
    sources: Sequence[Source] = ()
    origin: dict[int, int] = field(default_factory=dict)  # id(entry) -> source index
    _seen: list[int] = field(default_factory=list)
    _subs: list[Subscription | None] = field(default_factory=list)

    @classmethod
    def of(cls, sources: Sequence[Source], history: int) -> MergedModel:
        return cls(ALL, history, sources=list(sources))

    def source_of(self, entry: Entry) -> Source:
        return self.sources[self.origin.get(id(entry), 0)]

    def sub_of(self, entry: Entry) -> Subscription:
        return self.source_of(entry).selected() or ALL

    def _sync_sources(self) -> None:
        """Sources added since (a server added with `+`), and selections that changed."""
        while len(self._seen) < len(self.sources):
            self._seen.append(0)
            self._subs.append(None)
        for i, source in enumerate(self.sources):
            sub = source.selected()
            if sub != self._subs[i]:  # another subscription in that tab: start it over
                self._subs[i], self._seen[i] = sub, 0
                self._keep(lambda e, i=i: self.origin.get(id(e)) != i)

    def pull(self, store: Store | None = None) -> bool:
        """Bring in what every source got since the last pull; True if the view changed."""
        if self.paused:
            return False
        before = len(self.lines)
        self._sync_sources()
        changed = len(self.lines) != before
        self._sync_query()
        matches = self.query.matches if self.query is not None else None
        batches: list[list[Entry]] = []
        for i, source in enumerate(self.sources):
            sub = self._subs[i]
            if sub is None or source.store.appended(sub) == self._seen[i]:
                continue
            self._seen[i], fresh, complete = source.store.tail(sub, self._seen[i])
            if not complete:  # some went before we pulled them: what is held is all there is
                self._keep(lambda e, i=i: self.origin.get(id(e)) != i)
            if matches is not None:
                fresh = [e for e in fresh if matches(e)]
            for entry in fresh:
                self.origin[id(entry)] = i
            if fresh:
                batches.append(fresh)
            changed = True
        if batches:
            self._insert(list(heapq.merge(*batches, key=time_of)))
        excess = len(self.lines) - self.history
        if excess > 0:
            self._forget(self.lines[:excess])
            self._drop(excess)
        return changed

    def _insert(self, fresh: list[Entry]) -> None:
        lines = self.lines
        if not lines or time_of(fresh[0]) >= time_of(lines[-1]):
            lines.extend(fresh)  # the usual case: all newer than what is shown
            return
        for entry in fresh:  # a server read late: its lines go in their place
            at = bisect.bisect_right(lines, time_of(entry), key=time_of)
            lines.insert(at, entry)
            if self.cursor is not None and at <= self.cursor:
                self.cursor += 1

    def trim(self, store: Store | None = None) -> bool:
        """Drop lines older than what their store still holds for their subscription."""
        if self.paused or not self.lines:
            return False
        oldest = [
            s.store.oldest_time(sub) if sub is not None else None
            for s, sub in zip(self.sources, self._subs, strict=False)
        ]

        def held(entry: Entry) -> bool:
            limit = oldest[self.origin.get(id(entry), 0)]
            return limit is None or time_of(entry) >= limit

        return self._keep(held)

    def _keep(self, keep: Callable[[Entry], bool]) -> bool:
        """Keep the lines for which `keep` is true; True if some went."""
        kept = [e for e in self.lines if keep(e)]
        if len(kept) == len(self.lines):
            return False
        self._forget([e for e in self.lines if not keep(e)])
        if self.cursor is not None:
            self.cursor = min(self.cursor, len(kept) - 1) if kept else None
        self.lines = kept
        return True

    def _forget(self, gone: list[Entry]) -> None:
        for entry in gone:
            self.origin.pop(id(entry), None)

    def clear(self) -> None:
        self._forget(self.lines)
        super().clear()

    def rebuild(self, store: Store | None = None) -> None:
        """Start over from every source's whole buffer (after the filter changed)."""
        self._forget(self.lines)
        self.lines, self.cursor = [], None
        self._seen = [0] * len(self._seen)
        was_paused, self.paused = self.paused, False
        self.pull()
        self.paused = was_paused

    def toggle_pause(self, store: Store | None = None) -> None:
        self.paused = not self.paused
        self.paused_at = self.total()
        if not self.paused:
            self.pull()

    def set_decoder(self, decoder: str, store: Store | None = None) -> None:
        super().set_decoder(decoder, store)  # type: ignore[arg-type]

    def total(self) -> int:
        """Messages of the selected subscriptions, every server together: the sum of what
        their tabs' pane titles say (each tab's once-a-second snapshot)."""
        count = 0
        for source, sub in zip(self.sources, self._subs, strict=False):
            if sub is None:
                continue
            if source.counted is not None:
                count += source.counted(sub)
            else:
                state = source.store.subs.get(sub)
                count += state.total if state is not None else 0
        return count

    def titles(self, state: SubscriptionRow | None, keys: Callable[[str], str]) -> tuple[str, str]:
        """`all servers — N msgs` and the pane's notes (paused, filter, decoder …)."""
        _, notes = super().titles(None, keys)
        return f"all servers — {plural(self.total(), 'msg')}", notes
