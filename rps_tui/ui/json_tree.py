"""A JSON document as a folding tree that opens as fast for 16 MiB as for 16 bytes.

A small document opens fully, a large one only as far as `FOLD_BUDGET` rows allow, and a
container's children are created when it is first unfolded, `PAGE` at a time.

A tree row is one line, cut at the right edge (the tree does not scroll sideways: one column
per → is no way to read 5 KB). When the row under the cursor is cut, the panel under the tree
(`JsonView`) shows its value whole, wrapped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from rps_tui.core.payload.decoders import SHOW_LIMIT, scalar_text
from rps_tui.core.payload.text import safe_text
from rps_tui.core.units import plural

FOLD_BUDGET = 200
"""Rows a JSON document may open with; containers that would pass it start folded."""

OPEN_DEPTH = 6
"""Containers deeper than this start folded, however small the document."""

PAGE = 500
"""Children of one container created at a time; a "more" row creates the next page."""

SCALAR_SHOWN = 300
"""Characters of a string a tree row holds (the panel under the tree shows the rest)."""

_json_highlighter = JSONHighlighter()


# -- the JSON tree ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    """A tree row's JSON value; `loaded` counts the children created so far."""

    value: Any
    depth: int
    loaded: int = 0
    key: str | int | None = None  # its key in the parent (None: the root)


@dataclass(slots=True)
class _More:
    """The row after a page of children: selecting it creates the next page."""

    remaining: int


def is_container(value: Any) -> bool:
    return isinstance(value, dict | list)


def _rows(value: dict | list) -> int:
    """Rows a container adds when it opens: one page of children, and a "more" row."""
    return min(len(value), PAGE) + (len(value) > PAGE)


def node_label(key: str | int | None, value: Any) -> Text:
    """One tree row: the key, then a scalar or a container's size. Safe text, never markup."""
    label = Text(no_wrap=True, overflow="ellipsis", end="")
    if isinstance(key, str):
        label.append(scalar_text(key, 120), "bold blue")
        label.append(": ")
    elif isinstance(key, int):
        label.append(str(key), "dim")
        label.append(": ", "dim")
    if isinstance(value, dict):
        label.append("{", "bold")
        label.append(plural(len(value), "key"), "dim italic")
        label.append("}", "bold")
    elif isinstance(value, list):
        label.append("[", "bold")
        label.append(plural(len(value), "item"), "dim italic")
        label.append("]", "bold")
    elif isinstance(value, str):
        label.append(scalar_text(value, SCALAR_SHOWN), "green")
    elif value is True or value is False:
        label.append(scalar_text(value), "bright_green italic" if value else "bright_red italic")
    elif value is None:
        label.append("null", "magenta italic")
    else:
        label.append(scalar_text(value), "cyan bold")
    return label


def _more_label(remaining: int) -> Text:
    shown = min(remaining, PAGE)
    return Text(f"… {remaining:,} more: Enter shows the next {shown:,}", style="dim italic", end="")


def value_text(key: str | int | None, value: Any, limit: int = SHOW_LIMIT) -> Text:
    """A scalar whole, for the panel under the tree: its key, then the value; a string as
    its text (line breaks kept, the rest escaped), cut at `limit` characters."""
    out = Text(end="")
    if key is not None:
        out.append(scalar_text(key, 120) if isinstance(key, str) else str(key), "bold blue")
        out.append(": ")
    if isinstance(value, str):
        out.append(f"({len(value):,} chars; Tab to scroll them)\n", "dim")
        out.append(safe_text(value[:limit], keep_newlines=True), "green")
        if len(value) > limit:
            out.append(f"\n… {len(value) - limit:,} more chars not shown", "dim italic")
    else:
        out.append(scalar_text(value, limit))
    return out


class JsonView(Vertical):
    """The tree, and under it the value of the row under the cursor when that row is cut."""

    DEFAULT_CSS = """
    JsonView { height: 1fr; }
    JsonView > #json-value {
        height: auto; max-height: 50%; border-top: solid $primary-darken-2; display: none;
    }
    JsonView > #json-value.-shown { display: block; }
    """

    def __init__(self, value: dict | list, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value

    def compose(self) -> ComposeResult:
        yield JsonTree(self.value, id="detail-tree")
        with VerticalScroll(id="json-value"):
            yield Static(id="json-value-text")

    @property
    def tree(self) -> JsonTree:
        return self.query_one(JsonTree)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        self.show_value(event.node)

    def on_resize(self, event: events.Resize) -> None:
        self.show_value(self.tree.cursor_node)

    def show_value(self, node: TreeNode[Any] | None) -> None:
        """Show `node`'s value under the tree if its row is cut; hide the panel if not."""
        panel = self.query_one("#json-value")
        data = node.data if node is not None else None
        cut = isinstance(data, _Node) and not is_container(data.value) and self.tree.is_cut(node)
        if cut and node is not None and isinstance(data, _Node):
            key = data.key
            self.query_one("#json-value-text", Static).update(value_text(key, data.value))
            panel.scroll_home(animate=False)
        panel.set_class(cut, "-shown")


class JsonTree(Tree[Any]):
    """A JSON object or array that folds (Enter, space or a click on a row)."""

    DEFAULT_CSS = """
    JsonTree { height: 1fr; background: $surface; overflow-x: hidden; }
    """

    def is_cut(self, node: TreeNode[Any]) -> bool:
        """The row of `node` is wider than the tree, or its label holds only part of it."""
        data = node.data
        if (
            isinstance(data, _Node)
            and isinstance(data.value, str)
            and len(data.value) > SCALAR_SHOWN
        ):
            return True
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        levels = depth if self.show_root else max(0, depth - 1)
        width = levels * self.guide_depth + self.get_label_width(node)
        return width > self.scrollable_content_region.width

    def __init__(self, value: dict | list, **kwargs: Any) -> None:
        super().__init__(node_label(None, value), data=_Node(value, 0), **kwargs)
        self.guide_depth = 3
        self._unfold()

    def _unfold(self) -> None:
        """Open breadth first while the rows shown stay within `FOLD_BUDGET`."""
        shown = 1 + _rows(self.root.data.value)  # the root is always open
        queue: deque[TreeNode[Any]] = deque([self.root])
        self.root.expand()
        while queue:  # bounded: only nodes that fitted the budget are queued
            node = queue.popleft()
            for child in self._load(node):
                data = child.data
                if not isinstance(data, _Node) or not child.allow_expand:
                    continue
                rows = _rows(data.value)
                if data.depth <= OPEN_DEPTH and shown + rows <= FOLD_BUDGET:
                    shown += rows
                    child.expand()
                    queue.append(child)

    def _load(self, node: TreeNode[Any]) -> list[TreeNode[Any]]:
        """Create the next page of `node`'s children (and a "more" row if some remain)."""
        data = node.data
        if not isinstance(data, _Node) or not is_container(data.value):
            return []
        value, start = data.value, data.loaded
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        added = []
        for key, child in islice(pairs, start, start + PAGE):
            child_data = _Node(child, data.depth + 1, key=key)
            if is_container(child) and child:
                added.append(node.add(node_label(key, child), data=child_data))
            else:
                added.append(node.add_leaf(node_label(key, child), data=child_data))
        data.loaded = start + len(added)
        remaining = len(value) - data.loaded
        if remaining > 0:
            node.add_leaf(_more_label(remaining), data=_More(remaining))
        return added

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        data = event.node.data
        if isinstance(data, _Node) and data.loaded == 0:
            self._load(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        node = event.node
        if isinstance(node.data, _More) and node.parent is not None:
            parent = node.parent
            node.remove()  # the cursor stays on this line: the first row of the next page
            self._load(parent)
