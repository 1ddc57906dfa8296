"""The channel tree: the channel statistics grouped by name prefix (`t` switches the table and
the tree in one slot), for "which part of the namespace floods the server".

Built by `core.channel_tree` from the dashboard's once-a-second snapshot, only while shown,
and drawn like `StatsTable`: a virtual list (only the rows on screen are rendered), the same
columns and number formats, columns dropped whole when narrow (node, last seen, bytes, in
that order); the tree, msgs, msg/s and the last payload always show. Branches fold with
▸/▾ and say how many channels they hold; a leaf shows its channel's last payload on one
escaped line, read for the leaves on screen only (`Store.last_payloads`, bounded): a dim
"—" when that message is no longer held. Expansion and the cursor are kept by name across
refreshes, so a branch stays where the eye left it unless the order moves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip

from rps_tui.core.channel_tree import (
    ORDERS,
    Node,
    Order,
    Splitter,
    Tree,
    branch_pattern,
    build,
    detect_separators,
    flatten,
    leaf_channels,
    natural_key,
)
from rps_tui.core.payload.text import format_line, safe_name, safe_text
from rps_tui.core.store import ChannelRow
from rps_tui.core.subscriptions import channel_name, glob_escape
from rps_tui.core.units import human_bytes
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.messages import ExportChannels, FilterPane, OpenChannel, SubscribeTo
from rps_tui.ui.render import clock_text, count_text, rate_text
from rps_tui.ui.row_cursor import RowCursor, cursor_bindings
from rps_tui.ui.stats_table import Column, drop_columns, join_cells, strip_line

ORDER_LABEL = {"name": "name", "rate": "msg/s ↓", "msgs": "msgs ↓"}
COLUMNS = (
    Column("name", "channel", 0, 99),
    Column("chans", "chans", 6, 99),
    Column("msgs", "msgs", 9, 99),
    Column("rate", "msg/s", 6, 99),
    Column("bytes", "bytes", 10, 3),
    Column("seen", "last seen", 9, 2),
    Column("node", "node", 21, 1),
    Column("payload", "last payload", 0, 99),
)
NAME_MIN, NAME_MAX, PAYLOAD_MIN = 18, 44, 14
PAYLOAD_BYTES = 300  # of a payload formatted for its line (a line shows less)
Payloads = Callable[[Iterable[bytes]], dict[bytes, tuple[bytes, float]]]


def layout(width: int, show_node: bool) -> list[tuple[Column, int]]:
    """The columns that fit in `width`, with their widths: the name gets up to half of what
    the fixed columns leave, the last payload the rest."""
    columns, left = drop_columns(
        [c for c in COLUMNS if show_node or c.key != "node"],
        width,
        lambda _: NAME_MIN + PAYLOAD_MIN,
        keep=5,
    )
    name = max(NAME_MIN, min(NAME_MAX, left // 2))
    widths = {"name": name, "payload": max(1, left - name)}
    return [(c, c.width or widths[c.key]) for c in columns]


class ChannelTreeView(RowCursor, can_focus=True):
    """Rows are the tree's visible nodes (`core.channel_tree.flatten`)."""

    BINDINGS = [
        *cursor_bindings("tree"),
        Binding(
            "enter",
            "open",
            "Open",
            id="tree.open",
            tooltip="Expand or collapse a branch; on a channel, show its messages",
        ),
        Binding("right", "expand", "Expand", show=False, id="tree.expand"),
        Binding(
            "left",
            "collapse",
            "Collapse",
            show=False,
            id="tree.collapse",
            tooltip="Collapse the branch (on a channel: to its branch)",
        ),
        Binding("o", "sort", "Order", id="tree.sort", tooltip="Order by name, msg/s, msgs"),
        Binding(
            "s",
            "subscribe",
            "Subscribe",
            id="tree.subscribe",
            tooltip="Subscribe to the branch as a pattern (orders:eu:*), or to the channel",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="tree.filter",
            key_display="/",
            tooltip="Filter the pane to the branch (ch:orders:eu:*) or the channel",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="tree.export",
            tooltip="Write the channel statistics to a CSV file in the current directory",
        ),
    ]

    order: reactive[str] = reactive("name")

    def __init__(
        self,
        payloads: Payloads,
        *,
        separators: str = "",
        show_node: bool = False,
        offline: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.payloads = payloads  # the store's `last_payloads`
        self.fixed_separators = separators  # "": detected from the names at each build
        self.show_node = show_node
        self.offline = offline  # a recording: nothing to subscribe to
        self.built: Tree | None = None
        self.source: list[ChannelRow] = []  # the rows the tree was built from
        self.rows: list[tuple[Node, int]] = []
        self.expanded: set[bytes] = set()  # branches by prefix
        self.cursor_row = 0
        self.now = time.time()
        self._splitter = Splitter(separators)
        self._sorter = Order()
        self._folded: set[bytes] = set()  # branches the user folded (not opened by themselves)
        self._last: dict[bytes, tuple[bytes, float] | None] = {}  # leaves read since the build

    # -- data --------------------------------------------------------------------------------
    @property
    def separators(self) -> str:
        return self._splitter.separators

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def update_rows(self, rows: list[ChannelRow], now: float | None = None) -> None:
        """A new snapshot's rows: the tree built, flattened as expanded, the cursor kept on
        its node, the last payloads of the leaves on screen read again."""
        self.now = time.time() if now is None else now
        separators = self.fixed_separators or detect_separators(r.channel for r in rows)
        if separators != self._splitter.separators:
            self._splitter = Splitter(separators)
        self.source = rows
        self.built = build(rows, self._splitter, self.built)
        self.expanded &= self.built.branches.keys()  # a branch all evicted is forgotten
        self._open_lone_branches()
        self._last = {}
        self._reflatten()
        self._retitle()

    def _open_lone_branches(self) -> None:
        """A branch alone at its level (`demo.` holding every channel) opens by itself, and
        so on down while each level is one branch, unless the user folded it: one key less
        before anything is seen."""
        node = self.built.root if self.built else None
        while node is not None and len(node.children) == 1 and node.children[0].branch:
            node = node.children[0]
            if node.key in self._folded:
                return
            self.expanded.add(node.key or b"")

    def _reflatten(self, keep: tuple[bool, bytes | None] | None = None) -> None:
        current = keep or (self.rows[self.cursor_row][0].ident if self.rows else None)
        self.rows = [] if self.built is None else flatten(self.built, self.expanded, self.order)
        if current is not None:
            index = next((i for i, (n, _) in enumerate(self.rows) if n.ident == current), None)
            if index is not None:
                self.cursor_row = index
        self.cursor_row = min(self.cursor_row, max(0, len(self.rows) - 1))
        self.virtual_size = Size(0, len(self.rows) + 1)  # + the header line
        self._read_payloads()
        self.refresh()

    def _read_payloads(self) -> None:
        """The last payloads of the leaves on screen not read since the build (one bounded
        scan of the store; after a scroll, only the leaves that came into view)."""
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height - 1)
        wanted = [
            n.key
            for n, _ in self.rows[top : top + height]
            if not n.branch and n.key is not None and n.key not in self._last
        ]
        if wanted:
            found = self.payloads(wanted)
            for channel in wanted:
                self._last[channel] = found.get(channel)

    @property
    def current(self) -> Node | None:
        return self.rows[self.cursor_row][0] if self.rows else None

    def watch_order(self) -> None:
        self._reflatten()
        self._reveal()
        self._retitle()

    def _retitle(self) -> None:
        keys = keys_of(self)
        split = f"split on {self.separators}" if self.separators else "no separators"
        self.border_title = (
            f"channel tree · {split} · by {ORDER_LABEL[self.order]} ({keys('tree.sort')})"
            f" · {keys('tree')} table"
        )

    def get_row_at(self, index: int) -> list[str]:
        """The cells of row `index` as drawn (tests, and what the screen shows)."""
        columns = layout(self.scrollable_content_region.width or 200, self.show_node)
        node, depth = self.rows[index]
        return [cell.plain for cell in self._cells(node, depth, columns)]

    # -- drawing -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout(width, self.show_node)
        if y == 0:
            labels = [Text(c.label, justify=_justify(c.key)) for c, _ in columns]
            return strip_line(self, join_cells(labels, columns), width, Style(bold=True))
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        node, depth = self.rows[index]
        line = join_cells(self._cells(node, depth, columns), columns)
        style = None
        if index == self.cursor_row:
            style = Style(reverse=True) if self.has_focus else Style(underline=True)
        return strip_line(self, line, width, style)

    def _cells(self, node: Node, depth: int, columns: list[tuple[Column, int]]) -> list[Text]:
        cells = []
        for column, width in columns:
            key = column.key
            if key == "name":
                cell = self._name_cell(node, depth)
            elif key == "chans":
                cell = Text(self._channels_text(node, width), "dim")
            elif key == "msgs":
                cell = Text(count_text(node.count, width))
            elif key == "bytes":
                cell = Text(human_bytes(node.bytes))
            elif node.key is None:  # the rollup: counts only, as in the table
                cell = Text("")
            elif key == "rate":
                cell = Text(rate_text(node.rate, width))
            elif key == "seen":
                cell = Text(clock_text(node.last_seen)[:8])
            elif key == "node":
                row = node.row
                cell = Text(safe_text(row.node or "") if row is not None else "")
            else:
                cell = self._payload_cell(node)
            cell.justify = _justify(key)  # type: ignore[assignment]
            cells.append(cell)
        return cells

    @staticmethod
    def _channels_text(node: Node, width: int) -> str:
        """A branch's channels, or the rollup's (with `+` where only a lower bound is known)."""
        if node.key is None:  # the rollup
            if node.row is not None and node.row.at_least:
                return count_text(node.channels, width - 1) + "+"
            return count_text(node.channels, width)
        return count_text(node.channels, width) if node.branch else ""

    def _name_cell(self, node: Node, depth: int) -> Text:
        cell = Text("  " * depth, no_wrap=True)
        if node.key is None:
            cell.append("  (other channels, folded)", "italic dim")
        elif node.branch:
            cell.append("▾ " if node.key in self.expanded else "▸ ", "dim")
            cell.append(safe_name(node.label), "bold")
        elif node.label:
            cell.append("  " + safe_name(node.label))
        else:
            cell.append("  (empty)", "italic dim")  # a name that ends with a separator
        return cell

    def _payload_cell(self, node: Node) -> Text:
        if node.branch:
            return Text("")
        last = self._last.get(node.key or b"")
        if last is None:
            return Text("—", "dim")
        return Text(format_line(last[0], PAYLOAD_BYTES).text, "dim" if node.rate == 0 else "")

    # -- events ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._retitle()

    def on_resize(self, event: events.Resize) -> None:
        self._read_payloads()
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._read_payloads()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A recording has no server: `s` is hidden (and the dashboard's with it)."""
        return not (self.offline and action == "subscribe")

    # -- keys --------------------------------------------------------------------------------
    def action_sort(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]

    def action_open(self) -> None:
        node = self.current
        if node is None or node.key is None:
            return
        if node.branch:
            self._fold(node, node.key not in self.expanded)
        else:
            self.post_message(OpenChannel(node.key))

    def action_expand(self) -> None:
        node = self.current
        if node is not None and node.branch and node.key is not None:
            if node.key in self.expanded:
                self.action_cursor(1)  # already open: into its first child
            else:
                self._fold(node, True)

    def action_collapse(self) -> None:
        """Fold the branch; on a leaf or a folded branch, up to the branch it is in."""
        node = self.current
        if node is None:
            return
        if node.branch and node.key in self.expanded:
            self._fold(node, False)
            return
        depth = self.rows[self.cursor_row][1]
        for index in range(self.cursor_row - 1, -1, -1):
            if self.rows[index][1] < depth:
                self.cursor_row = index
                self._reveal()
                return

    def _fold(self, node: Node, open_: bool) -> None:
        assert node.key is not None
        (self.expanded.add if open_ else self.expanded.discard)(node.key)
        (self._folded.discard if open_ else self._folded.add)(node.key)
        self._reflatten(node.ident)
        self._reveal()

    def action_subscribe(self) -> None:
        node = self.current
        if node is None or node.key is None:
            return
        if node.branch:
            self.post_message(SubscribeTo("pattern", branch_pattern(node)))
        else:
            self.post_message(SubscribeTo("channel", channel_name(node.key)))

    def action_export(self) -> None:
        """The channels as the table has them by name (a CSV has no tree)."""
        self.post_message(ExportChannels(sorted(self.source, key=lambda r: natural_key(r.channel))))

    def action_filter(self) -> None:
        node = self.current
        if node is None or node.key is None:
            return
        glob = branch_pattern(node) if node.branch else glob_escape(channel_name(node.key))
        self.post_message(FilterPane(f"ch:{glob}", leaf_channels(node)))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self.rows):
            again = index == self.cursor_row
            self.cursor_row = index
            if again and (event.chain >= 2 or self.rows[index][0].branch):
                self.action_open()
            self.refresh()


def _justify(key: str) -> str:
    return "right" if key in ("chans", "msgs", "rate", "bytes") else "left"
