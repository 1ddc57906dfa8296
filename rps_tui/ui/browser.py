"""The channel browser: what is live on the server right now, refreshed while it is open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from rps_tui.core.payload.text import safe_name
from rps_tui.core.session import ChannelSnapshot as Snapshot
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.core.units import plural
from rps_tui.ui.keymap import keys_of

REFRESH_SECONDS = 2.0
MAX_ROWS = 1000  # PUBSUB CHANNELS can name millions; the busiest are what a person reads


Reader = Callable[[], Awaitable[Snapshot]]


class ChannelBrowser(ModalScreen[None]):
    """Active channels (and sharded ones) with their subscribers; Enter subscribes.

    Rows are ordered by subscribers, then name; the first `MAX_ROWS` are shown. The table
    is updated in place every `REFRESH_SECONDS` while the browser is open, and not at all
    once it is closed.
    """

    DEFAULT_CSS = """
    ChannelBrowser { align: center middle; }
    #browser {
        width: 90%; height: 85%; border: thick $accent; background: $surface; padding: 0 1;
    }
    #browser-filter { margin: 1 0 0 0; }
    #browser-table { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="browser.close"),
        Binding("f5", "refresh", "Refresh now", id="browser.refresh"),
        Binding("down", "to_table", "Into the table", show=False, id="browser.table"),
    ]
    AUTO_FOCUS = "#browser-filter"

    def __init__(
        self,
        reader: Reader,
        subscribe: Callable[[Subscription], None],
        subscribed: Callable[[], list[Subscription]],
    ) -> None:
        super().__init__()
        self.reader = reader
        self.subscribe = subscribe
        self.subscribed = subscribed
        self.snapshot: Snapshot | None = None
        self.refreshes = 0  # readings shown so far (tests wait on it)
        self._rows: list[tuple[str, bytes]] = []

    def compose(self) -> ComposeResult:
        key = keys_of(self)  # Enter is the table's own key, not one a keymap rebinds
        with Vertical(id="browser"):
            yield Label(Text("Active channels on the server", style="bold"))
            yield Label("Reading PUBSUB CHANNELS…", id="browser-summary")
            yield Input(
                placeholder="type to narrow (substring of the name); "
                f"{key('browser.table')} or Enter: the list",
                id="browser-filter",
                select_on_focus=False,
            )
            yield DataTable(cursor_type="row", zebra_stripes=True, id="browser-table")
            yield Label(
                Text(
                    "Enter (or a click on the highlighted row) subscribes · "
                    f"{key('browser.close')} closes · "
                    "refreshed every "
                    f"{REFRESH_SECONDS:.0f} s",
                    style="dim",
                )
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("kind", key="kind", width=8)
        table.add_column("channel", key="channel", width=48)
        table.add_column("subscribers", key="subs", width=11)
        table.add_column("", key="mine", width=12)
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self.action_refresh)

    @work(exclusive=True, group="browser", exit_on_error=False)
    async def action_refresh(self) -> None:
        self.snapshot = await self.reader()
        self._show()
        self.refreshes += 1

    def action_to_table(self) -> None:
        table = self.query_one(DataTable)
        if not table.has_focus and table.row_count:
            table.focus()

    @on(Input.Submitted, "#browser-filter")
    def _filter_done(self) -> None:
        self.action_to_table()

    @on(Input.Changed, "#browser-filter")
    def _narrow(self) -> None:
        self._show()

    def _show(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        needle = self.query_one("#browser-filter", Input).value.lower().encode()
        rows = [("channel", name, n) for name, n in snap.channels.items()]
        rows += [("sharded", name, n) for name, n in snap.shard_channels.items()]
        rows = [r for r in rows if needle in r[1].lower()]
        rows.sort(key=lambda r: (-r[2], r[1]))
        shown = rows[:MAX_ROWS]
        mine = {(s.kind.value, s.key) for s in self.subscribed()}
        table = self.query_one(DataTable)
        wanted = [(kind, name) for kind, name, _ in shown]
        if wanted != self._rows:  # the set or order changed: rebuild, keeping the cursor
            keep = table.cursor_row
            table.clear()
            for kind, name, n in shown:
                table.add_row(*self._cells(kind, name, n, mine), key=f"{kind}:{name.hex()}")
            self._rows = wanted
            if shown:
                table.move_cursor(row=min(keep, len(shown) - 1), animate=False)
        else:  # same rows: only the counts and marks can differ
            for kind, name, n in shown:
                key = f"{kind}:{name.hex()}"
                _, _, subs, mark = self._cells(kind, name, n, mine)
                table.update_cell(key, "subs", subs)
                table.update_cell(key, "mine", mark)
        total = len(snap.channels) + len(snap.shard_channels)
        summary = Text(plural(len(snap.channels), "channel"))
        if snap.shard_channels:
            summary.append(f", {len(snap.shard_channels):,} sharded")
        if snap.patterns is not None:
            summary.append(f" · {plural(snap.patterns, 'pattern subscription')} (PUBSUB NUMPAT)")
        if len(rows) > len(shown) or len(rows) < total:
            summary.append(f" · showing {len(shown):,} of {total:,}", "dim")
        if snap.error:
            summary.append(f" · {snap.error}", "bold red")
        self.query_one("#browser-summary", Label).update(summary)

    @staticmethod
    def _cells(kind: str, name: bytes, n: int, mine: set[tuple[str, bytes]]) -> tuple:
        subscribed = (Kind.SHARD.value if kind == "sharded" else kind, name) in mine
        return (
            Text(kind, style="magenta" if kind == "sharded" else "dim"),
            Text(safe_name(name)),
            f"{n:,}",
            Text("✓ subscribed", style="green") if subscribed else "",
        )

    @on(DataTable.RowSelected, "#browser-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        kind, _, hex_name = str(event.row_key.value).partition(":")
        name = bytes.fromhex(hex_name).decode("utf-8", "surrogateescape")
        sub = Subscription(Kind.SHARD if kind == "sharded" else Kind.CHANNEL, name)
        self.subscribe(sub)
        self.notify(f"subscribed to {safe_name(sub.key)}", markup=False, timeout=2)
        self._show()
