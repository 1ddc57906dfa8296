"""The sidebar: one row per subscription with its count and rate; the cursor row is the
subscription whose messages the pane shows."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from rps_tui.core.payload.text import safe_text
from rps_tui.core.store import Snapshot
from rps_tui.core.subscriptions import SENTINELS, Kind, Status, Subscription
from rps_tui.ui.render import count_text, rate_text

STATUS_STYLE = {Status.PENDING: "yellow", Status.ACTIVE: "green", Status.ERROR: "bold red"}


MARKERS = {Kind.CHANNEL: "#", Kind.PATTERN: "*", Kind.SHARD: "§"}
NAME_MIN, NAME_MAX = 12, 28  # the name column fits the longest name within these
NAME_FLOOR = 6  # ... or narrower, down to this, when the room given is less (the counts
# keep every digit: a long name is cut with …, a number never)
COUNT_WIDTH, RATE_WIDTH = 7, 5  # 1,234,567 exactly, then 12.35M (see render.count_text)


class SubscriptionList(DataTable):
    """Rows are keyed by position; `subs` holds the subscriptions in the same order."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.subs: list[Subscription] = []
        self._shown: dict[Subscription, tuple] = {}
        self.name_width = NAME_MIN
        self.room: int | None = None  # the width the side column can give (see fit_to)
        self._snapshot: Snapshot | None = None

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column("#", key="n", width=1)
        self.add_column("subscription", key="name", width=self.name_width)
        self.add_column(Text("msgs", justify="right"), key="msgs", width=COUNT_WIDTH)
        self.add_column(Text("msg/s", justify="right"), key="rate", width=RATE_WIDTH)

    def _fixed_width(self) -> int:
        """Every column but the name's, with their padding and the border."""
        return 1 + COUNT_WIDTH + RATE_WIDTH + 4 * 2 * self.cell_padding + 2

    def fit_to(self, room: int) -> None:
        """The list gets at most `room` columns: the name column narrows to fit (the side
        column is at most 40% of the screen; a server's label in the names of a recording
        of several servers made them long enough that the rate column was cut off)."""
        if room != self.room:
            self.room = room
            if self._name_width() != self.name_width and self._snapshot is not None:
                self.set_subscriptions(self.subs, self._snapshot)

    def _name_width(self) -> int:
        longest = max((len(safe_text(sub.title)) + 2 for sub in self.subs), default=0)
        cap = NAME_MAX if self.room is None else min(NAME_MAX, self.room - self._fixed_width())
        return max(min(NAME_MIN, max(cap, NAME_FLOOR)), min(cap, longest))

    @property
    def content_width(self) -> int:
        """Columns the list needs: its four columns, their padding and its border."""
        return self.name_width + self._fixed_width()

    @property
    def selected(self) -> Subscription | None:
        if not self.subs:
            return None
        return self.subs[min(self.cursor_row, len(self.subs) - 1)]

    def step(self, delta: int) -> None:
        """Move the cursor `delta` rows, wrapping around."""
        if self.subs:
            self.move_cursor(row=(self.cursor_row + delta) % len(self.subs))

    def jump(self, index: int) -> None:
        if index < len(self.subs):
            self.move_cursor(row=index)

    def select(self, sub: Subscription) -> bool:
        """Put the cursor on `sub`; False if it is not listed (yet)."""
        if sub not in self.subs:
            return False
        self.move_cursor(row=self.subs.index(sub))
        return True

    def set_subscriptions(self, subs: list[Subscription], snapshot: Snapshot) -> None:
        """Rebuild after a subscribe or unsubscribe (rare); counts update in place.

        The selection stays on its subscription; when that one is gone, it goes to the row
        that took its place (the one above when it was the last), never back to the top."""
        keep = self.selected
        row = self.subs.index(keep) if keep in self.subs else 0
        self.subs = list(subs)
        self._snapshot = snapshot
        self._shown.clear()
        width = self._name_width()
        if width != self.name_width:  # as narrow as the names allow
            self.name_width = width
            self.clear(columns=True)
            self._add_columns()
        self.clear()
        for index, sub in enumerate(self.subs):
            self.add_row(*self._cells(index, sub, snapshot), key=str(index))
        if keep in self.subs:
            row = self.subs.index(keep)
        if self.subs:
            self.move_cursor(row=min(row, len(self.subs) - 1))

    def _cells(self, index: int, sub: Subscription, snapshot: Snapshot) -> tuple:
        state = snapshot.subs.get(sub)
        status = state.status if state else Status.PENDING
        marker = "⚑" if sub.on == SENTINELS else MARKERS[sub.kind]
        name = Text(f"{marker} ", style=STATUS_STYLE.get(status, ""))
        mark = " ✗" if status is Status.ERROR else ""
        room = self.name_width - 2 - len(mark)
        shown = safe_text(sub.title)
        if len(shown) > room:  # cut visibly, never silently
            shown = shown[: max(1, room - 1)] + "…"
        name.append(shown, "bold" if status is Status.ACTIVE else "")
        if mark:
            name.append(mark, "bold red")
        total = state.total if state else 0
        rate = state.rate if state else 0.0
        return (
            str(index + 1) if index < 9 else "",
            name,
            Text(count_text(total, COUNT_WIDTH), justify="right"),
            Text(rate_text(rate, RATE_WIDTH), justify="right"),
        )

    def refresh_counts(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        changed = False
        for index, sub in enumerate(self.subs):
            cells = self._cells(index, sub, snapshot)
            plain = (
                cells[1].plain,
                cells[1].style,
                str(cells[1].spans),
                cells[2].plain,
                cells[3].plain,
            )
            if self._shown.get(sub) == plain:
                continue
            self._shown[sub] = plain
            for column, value in zip(("name", "msgs", "rate"), cells[1:], strict=True):
                self.update_cell(str(index), column, value)
            changed = True
        if changed:
            self.forget_renders()

    def forget_renders(self) -> None:
        """Let go of the renders the table cached before this update. A DataTable keys every
        cell, row and line it caches by its update count, so after `update_cell` none of them
        is used again, yet they stay until its LRU caches are full (10,000 cells, 1,000 rows
        and lines): about 12 MB for one subscription, reached after some 20 minutes of counts
        that change every second, part of the soak benchmark's RSS rise. Cleared here, they
        hold one frame's worth. (`_clear_caches` is what the DataTable itself calls when a
        sort or a resize makes its renders stale.)"""
        self._clear_caches()
