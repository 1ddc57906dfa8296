"""The channel statistics as a tree: names split on separators, counts summed per branch.

Pure functions over the store's `ChannelRow`s (no Textual): the dashboard builds the tree
from the snapshot it takes once a second, and only while the tree is shown.

Splitting. A name splits after every separator character: `orders:eu:berlin` is the
branch `orders:`, its branch `eu:`, and the leaf `berlin`. A branch is its real name prefix,
separator included, so mixed separators stay apart (`orders:` and `orders.` are two branches)
and a branch's pattern is exactly `prefix*` (glob characters of the prefix escaped): a
channel starts with the prefix if and only if it lies under the branch. Empty parts are
kept as levels of their own, never merged, for the same exactness: `a::b` is `a:` → `:` →
`b`, and a trailing separator makes a leaf with an empty label (`a:` is the leaf "" under
the branch `a:`, which is not the same node as that branch). A name with no separator is a
leaf at the top; the rollup row (`ChannelRow(channel=None)`, channels evicted from the
table) is a top-level node of its own.

Detection (`detect_separators`). Candidates are `:` `.` `/`. Each one that occurs in at least
`DETECT_SHARE` (10%) of the names counts, all of them together, in that fixed order: mixed
conventions are common (`demo.metrics.cpu` beside `__keyspace@0__:user:1`), and 10% keeps a
stray dot in a few names (`v1.2`) from splitting them. None over the share: none (every
name is a leaf). The config file's `separators` and `--separators` override it.

Aggregates. A branch shows, over its whole subtree: the number of channels, messages,
msg/s (the sum of its channels' `ChannelRow.rate`, the one rate definition), bytes, and the
newest `last_seen`. So the top level's counts add up to the table's, rollup included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rps_tui.core.store import ChannelRow
from rps_tui.core.subscriptions import channel_name, glob_escape

CANDIDATES = ":./"
DETECT_SHARE = 0.10
ORDERS = ("name", "rate", "msgs")
"""What `o` cycles through: natural name order, then busiest first by msg/s, by messages."""
ROLLUP_LABEL = "(other channels, folded)"


class SeparatorError(ValueError):
    """A `separators` value that cannot split names (the message is one line)."""


def check_separators(text: str) -> str:
    """`text` as separators ("auto": detect, returned as ""), else SeparatorError: one or more
    distinct punctuation characters, none of them a glob character or a space."""
    if text == "auto":
        return ""
    if not text:
        raise SeparatorError('separators must be one or more characters, e.g. ":." (or "auto")')
    for char in text:
        if char.isalnum() or char.isspace() or not char.isprintable():
            raise SeparatorError(f"separators: {char!r} is not a punctuation character")
        if char in "*?[]\\":
            raise SeparatorError(f"separators: {char!r} is a glob character")
    if len(set(text)) != len(text):
        raise SeparatorError(f"separators: {text!r} names a character twice")
    return text


def detect_separators(names: Iterable[bytes | None], share: float = DETECT_SHARE) -> str:
    """The candidates found in at least `share` of the names (see the module docstring)."""
    counts = dict.fromkeys(CANDIDATES.encode(), 0)
    total = 0
    for name in names:
        if name is None:
            continue
        total += 1
        for byte in counts:
            if byte in name:
                counts[byte] += 1
    if not total:
        return ""
    return "".join(chr(b) for b, n in counts.items() if n and n >= share * total)


def natural_key(name: bytes | None) -> tuple:
    """`ch.2` before `ch.10`: digit runs compare as numbers (None, the evicted rollup, last)."""
    if name is None:
        return (1, ())
    text = name.decode("utf-8", "surrogateescape")
    return (0, tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)))


@dataclass(slots=True, eq=False)
class Node:
    """A branch (`children`), a leaf (`row`) or the rollup (`key` None, `row` set).

    `key` is the real name prefix of a branch (it ends with a separator) or a leaf's whole
    channel name; `label` is what it adds to its parent's prefix."""

    key: bytes | None
    label: bytes
    branch: bool
    depth: int = 0
    row: ChannelRow | None = None
    children: list[Node] = field(default_factory=list)
    channels: int = 0
    count: int = 0
    bytes: int = 0
    rate: float = 0.0
    last_seen: float = 0.0

    @property
    def ident(self) -> tuple[bool, bytes | None]:
        """Unique in a tree: a leaf `a:` and the branch `a:` have the same key."""
        return self.branch, self.key

    def take(self, row: ChannelRow) -> None:
        """A leaf's numbers: its row's."""
        self.row = row
        self.count, self.bytes, self.rate = row.count, row.bytes, row.rate
        self.last_seen = row.last_seen


@dataclass(slots=True, eq=False)
class Tree:
    """Kept from one build to the next (`build(previous=...)`): a refresh allocates nodes only
    for new channels, so 20,000 channels a second make no garbage to collect."""

    root: Node
    separators: str
    branches: dict[bytes, Node] = field(default_factory=dict)  # every branch by its prefix
    leaf_nodes: dict[bytes, Node] = field(default_factory=dict)  # every leaf by its channel
    rollup: Node | None = None
    deepest_first: list[Node] = field(default_factory=list)  # the branches, for summing

    def leaves(self) -> Iterable[Node]:
        """Every leaf and the rollup."""
        yield from self.leaf_nodes.values()
        if self.rollup is not None:
            yield self.rollup

    def _leaf(self, name: bytes, ends: tuple[int, ...]) -> Node:
        """A new leaf, under new branches where its prefixes have none yet."""
        parent, start, branches = self.root, 0, self.branches
        for end in ends:
            prefix = name[:end]
            node = branches.get(prefix)
            if node is None:
                node = branches[prefix] = Node(prefix, prefix[start:], True, parent.depth + 1)
                parent.children.append(node)
                self.deepest_first.clear()  # made again before the sums
            parent, start = node, end
        leaf = self.leaf_nodes[name] = Node(name, name[start:], False, parent.depth + 1)
        leaf.channels = 1
        parent.children.append(leaf)
        return leaf

    def _sum(self) -> None:
        """Every branch's aggregates from its children, the deepest branches first."""
        if not self.deepest_first:
            self.deepest_first = sorted(self.branches.values(), key=lambda n: -n.depth)
        for node in (*self.deepest_first, self.root):
            channels = count = size = 0
            rate = seen = 0.0
            for child in node.children:
                channels += child.channels
                count += child.count
                size += child.bytes
                rate += child.rate
                if child.last_seen > seen:
                    seen = child.last_seen
            node.channels, node.count, node.bytes = channels, count, size
            node.rate, node.last_seen = rate, seen


class Splitter:
    """Name → the prefixes of its branches, cached per name (names repeat every second)."""

    def __init__(self, separators: str) -> None:
        self.separators = separators
        seps = separators.encode()
        self._regex = re.compile(b"[" + re.escape(seps) + b"]") if seps else None

    def ends(self, name: bytes) -> tuple[int, ...]:
        """Where each branch prefix of `name` ends (just after each separator)."""
        regex = self._regex
        return () if regex is None else tuple(m.end() for m in regex.finditer(name))


def build(rows: Sequence[ChannelRow], splitter: Splitter, previous: Tree | None = None) -> Tree:
    """The tree of `rows`, every branch's aggregates summed from its leaves. With `previous`
    (the last build, same separators) its nodes are updated in place, new channels added;
    when channels have gone (evicted into the rollup) the tree is built afresh, which is
    rare (the table evicts a quarter of its rows at a time)."""
    tree = previous
    if tree is None or tree.separators != splitter.separators:
        tree = Tree(Node(b"", b"", True), splitter.separators)
    leaves, rollup_row, named = tree.leaf_nodes, None, 0
    for row in rows:
        name = row.channel
        if name is None:
            rollup_row = row
            continue
        named += 1
        leaf = leaves.get(name)
        if leaf is None:
            leaf = tree._leaf(name, splitter.ends(name))
        leaf.take(row)
    if len(leaves) > named:  # some have gone: only what `rows` holds
        return build(rows, splitter)
    if rollup_row is not None:
        if tree.rollup is None:
            tree.rollup = Node(None, ROLLUP_LABEL.encode(), False, 1)
            tree.root.children.append(tree.rollup)
        tree.rollup.take(rollup_row)
        tree.rollup.channels = rollup_row.channels  # how many are out of the table
    tree._sum()
    return tree


class Order:
    """Sorting children for `flatten`, with natural name keys made once per label."""

    def __init__(self) -> None:
        self._keys: dict[bytes, tuple] = {}

    def sort(self, nodes: list[Node], order: str) -> list[Node]:
        keys = self._keys
        if len(keys) > 100_000:
            keys.clear()

        def name(node: Node) -> tuple:
            label = None if node.key is None else node.label
            key = keys.get(label) if label is not None else None
            if key is None:
                key = natural_key(label)
                if label is not None:
                    keys[label] = key
            return key

        out = sorted(nodes, key=name)
        if order == "rate":
            out.sort(key=lambda n: -n.rate)
        elif order == "msgs":
            out.sort(key=lambda n: -n.count)
        return out


def flatten(
    tree: Tree, expanded: set[bytes], order: str, sorter: Order | None = None
) -> list[tuple[Node, int]]:
    """The rows on show, top to bottom: (node, depth); children of an expanded branch (by
    prefix) follow it, sorted by `order`."""
    sorter = sorter or Order()
    out: list[tuple[Node, int]] = []
    stack = [(n, 0) for n in reversed(sorter.sort(tree.root.children, order))]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        if node.branch and node.key in expanded:
            children = sorter.sort(node.children, order)
            stack.extend((child, depth + 1) for child in reversed(children))
    return out


def branch_pattern(node: Node) -> str:
    """The PSUBSCRIBE pattern of exactly the channels under a branch: its prefix with glob
    characters escaped, then `*`."""
    if not node.branch or node.key is None:
        raise ValueError("only a branch has a pattern")
    return glob_escape(channel_name(node.key)) + "*"


def leaf_channels(node: Node) -> list[bytes]:
    """The channel names under `node` (itself, for a leaf), busiest first."""
    leaves, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.branch:
            stack.extend(current.children)
        elif current.key is not None:
            leaves.append(current)
    return [leaf.key for leaf in sorted(leaves, key=lambda n: -n.count) if leaf.key is not None]
