"""The sidebar: one row per subscription with its count and rate; the cursor row is the
subscription whose messages the pane shows."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from rps_tui.core.payload.text import safe_text
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.render import rate_text

STATUS_STYLE = {Status.PENDING: "yellow", Status.ACTIVE: "green", Status.ERROR: "bold red"}


MARKERS = {Kind.CHANNEL: "#", Kind.PATTERN: "*", Kind.SHARD: "§"}


class SubscriptionList(DataTable):
    """Rows are keyed by position; `subs` holds the subscriptions in the same order."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.subs: list[Subscription] = []
        self._shown: dict[Subscription, tuple] = {}

    def on_mount(self) -> None:
        self.add_column("#", key="n", width=1)
        self.add_column("subscription", key="name", width=19)
        self.add_column("msgs", key="msgs", width=9)
        self.add_column("msg/s", key="rate", width=5)

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

    def set_subscriptions(self, subs: list[Subscription], store: Store) -> None:
        """Rebuild after a subscribe or unsubscribe (rare); counts update in place.

        The selection stays on its subscription; when that one is gone, it goes to the row
        that took its place (the one above when it was the last), never back to the top."""
        keep = self.selected
        row = self.subs.index(keep) if keep in self.subs else 0
        self.subs = list(subs)
        self._shown.clear()
        self.clear()
        for index, sub in enumerate(self.subs):
            self.add_row(*self._cells(index, sub, store), key=str(index))
        if keep in self.subs:
            row = self.subs.index(keep)
        if self.subs:
            self.move_cursor(row=min(row, len(self.subs) - 1))

    def _cells(self, index: int, sub: Subscription, store: Store) -> tuple:
        state = store.subs.get(sub)
        status = state.status if state else Status.PENDING
        marker = MARKERS[sub.kind]
        name = Text(f"{marker} ", style=STATUS_STYLE.get(status, ""))
        name.append(safe_text(sub.name), "bold" if status is Status.ACTIVE else "")
        if status is Status.ERROR:
            name.append(" ✗", "bold red")
        total = state.total if state else 0
        rate = state.meter.rate if state else 0.0
        return (str(index + 1) if index < 9 else "", name, f"{total:,}", rate_text(rate))

    def refresh_counts(self, store: Store) -> None:
        for index, sub in enumerate(self.subs):
            cells = self._cells(index, sub, store)
            plain = (cells[1].plain, cells[1].style, str(cells[1].spans), cells[2], cells[3])
            if self._shown.get(sub) == plain:
                continue
            self._shown[sub] = plain
            for column, value in zip(("name", "msgs", "rate"), cells[1:], strict=True):
                self.update_cell(str(index), column, value)
