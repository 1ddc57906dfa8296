"""A JSON document as a folding tree that opens as fast for 16 MiB as for 16 bytes.

A small document opens fully, a large one only as far as `FOLD_BUDGET` rows allow, and a
container's children are created when it is first unfolded, `PAGE` at a time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from rps_tui.core.payload.decoders import scalar_text
from rps_tui.core.units import plural

FOLD_BUDGET = 200
"""Rows a JSON document may open with; containers that would pass it start folded."""

OPEN_DEPTH = 6
"""Containers deeper than this start folded, however small the document."""

PAGE = 500
"""Children of one container created at a time; a "more" row creates the next page."""

_json_highlighter = JSONHighlighter()


# -- the JSON tree ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    """A tree row's JSON value; `loaded` counts the children created so far."""

    value: Any
    depth: int
    loaded: int = 0


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
        label.append(scalar_text(value), "green")
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


class JsonTree(Tree[Any]):
    """A JSON object or array that folds (Enter, space or a click on a row)."""

    DEFAULT_CSS = """
    JsonTree { height: 1fr; background: $surface; }
    """

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
            child_data = _Node(child, data.depth + 1)
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
