"""The channel tree's core (no terminal, no server): splitting, detection, aggregation,
ordering, flattening, branch patterns, and the store's bounded last-payload lookup."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rps_tui.core.channel_tree import (
    Node,
    SeparatorError,
    Splitter,
    Tree,
    branch_pattern,
    build,
    check_separators,
    detect_separators,
    flatten,
)
from rps_tui.core.store import ChannelRow, Store
from rps_tui.core.subscriptions import Kind, Subscription, glob_escape, glob_matches
from tests.support.strategies import FAST


def row(name: bytes | None, count: int = 1, rate: float = 0.0, seen: float = 0.0) -> ChannelRow:
    return ChannelRow(name, count, 10 * count, rate, seen, None, ())


def walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(walk(child))
    return out


def leaves_under(node: Node) -> list[Node]:
    return [n for n in walk(node) if not n.branch and n.key is not None]


def test_detection_takes_each_separator_in_a_tenth_of_the_names() -> None:
    names = [f"orders:eu:{i}".encode() for i in range(8)] + [b"demo.metrics.cpu", b"plain"]
    assert detect_separators(names) == ":."  # 80% and 10%: both, in a fixed order
    assert detect_separators([*names, *(b"x%d" % i for i in range(10))]) == ":"  # . is 5%
    assert detect_separators([b"a/b", b"c/d", None]) == "/"  # the rollup is no name
    assert detect_separators([b"plain", b"words"]) == ""
    assert detect_separators([]) == ""


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", 'separators must be one or more characters, e.g. ":." (or "auto")'),
        ("a", "separators: 'a' is not a punctuation character"),
        (": ", "separators: ' ' is not a punctuation character"),
        ("*", "separators: '*' is a glob character"),
        ("::", "separators: '::' names a character twice"),
    ],
)
def test_bad_separators_are_one_line(text: str, error: str) -> None:
    with pytest.raises(SeparatorError) as caught:
        check_separators(text)
    assert str(caught.value) == error


def test_good_separators() -> None:
    assert check_separators(":.") == ":."
    assert check_separators("auto") == ""  # detect


def test_prefixes_keep_their_real_separators_and_empty_parts() -> None:
    rows = [row(b"orders:eu:berlin", 3), row(b"orders.us", 2), row(b"a::b"), row(b"a:")]
    rows.append(row(b"plain", 5))
    tree = build(rows, Splitter(":."))
    top = {(n.branch, n.key): n for n in tree.root.children}
    assert set(top) == {(True, b"orders:"), (True, b"orders."), (True, b"a:"), (False, b"plain")}
    a = top[True, b"a:"]
    assert [(c.branch, c.key, c.label) for c in a.children] == [
        (True, b"a::", b":"),  # the empty part between the two colons is a level of its own
        (False, b"a:", b""),  # a trailing separator: a leaf with an empty label
    ]
    assert branch_pattern(top[True, b"orders:"]) == "orders:*"
    assert tree.root.count == 12 and tree.root.channels == 5


def test_the_rollup_is_a_top_level_node_and_counts_add_up() -> None:
    rollup = ChannelRow(None, 40, 400, 0.0, 0.0, None, (), channels=5)  # 5 evicted
    rows = [row(b"x.a", 2), row(b"x.b", 3), rollup]
    tree = build(rows, Splitter("."))
    assert tree.rollup is not None and tree.rollup in tree.root.children
    assert tree.rollup.channels == 5
    assert tree.root.count == 45 and tree.root.channels == 7
    assert [n.key for n, _ in flatten(tree, set(), "name")] == [b"x.", None]  # rollup last
    assert [n.key for n, _ in flatten(tree, set(), "msgs")] == [None, b"x."]  # busiest first


def test_flatten_shows_expanded_branches_in_order() -> None:
    rows = [row(b"t.10", 1, 9.0), row(b"t.2", 5, 1.0), row(b"t.x.y", 2, 3.0), row(b"u", 1)]
    tree = build(rows, Splitter("."))
    by_name = [(n.label, d) for n, d in flatten(tree, {b"t."}, "name")]
    assert by_name == [(b"t.", 0), (b"2", 1), (b"10", 1), (b"x.", 1), (b"u", 0)]
    by_rate = [n.label for n, _ in flatten(tree, {b"t.", b"t.x."}, "rate")]
    assert by_rate == [b"t.", b"10", b"x.", b"y", b"2", b"u"]
    by_msgs = [n.label for n, _ in flatten(tree, {b"t."}, "msgs")]
    assert by_msgs == [b"t.", b"2", b"x.", b"10", b"u"]


def test_a_rebuild_updates_in_place_and_forgets_evicted_channels() -> None:
    splitter = Splitter(".")
    first = build([row(b"a.x", 1), row(b"a.y", 1)], splitter)
    node = first.branches[b"a."]
    second = build([row(b"a.x", 4), row(b"a.y", 1), row(b"b.z", 2)], splitter, first)
    assert second is first and second.branches[b"a."] is node and node.count == 5
    third = build([row(b"b.z", 2), row(None, 5)], splitter, second)  # a.* evicted
    assert third is not second and set(third.branches) == {b"b."}
    assert third.root.count == 7


names = st.lists(
    st.text(alphabet="ab:.*?[]\\", min_size=1, max_size=8), min_size=1, max_size=25, unique=True
)


@FAST
@given(names, st.sampled_from([":", ".", ":.", ".:"]), st.integers(0, 1000))
def test_every_branch_sums_its_leaves_and_its_pattern_matches_exactly_them(
    texts: list[str], separators: str, seed: int
) -> None:
    rows = [
        row(t.encode(), count=(seed + i) % 17 + 1, rate=float(i % 5), seen=float(i))
        for i, t in enumerate(texts)
    ]
    tree = build(rows, Splitter(separators))
    assert tree.root.count == sum(r.count for r in rows)
    assert tree.root.channels == len(rows)
    everything = {r.channel for r in rows}
    for branch in tree.branches.values():
        under = leaves_under(branch)
        assert branch.channels == len(under)
        assert branch.count == sum(n.count for n in under)
        assert branch.bytes == sum(n.bytes for n in under)
        assert branch.rate == pytest.approx(sum(n.rate for n in under))
        assert branch.last_seen == max(n.last_seen for n in under)
        pattern = branch_pattern(branch).encode("utf-8", "surrogateescape")
        matched = {c for c in everything if glob_matches(pattern, c)}
        assert matched == {n.key for n in under}
    # a rebuild over the last tree gives the same numbers as a fresh one
    again = build(rows, Splitter(separators), tree)
    assert {k: b.count for k, b in again.branches.items()} == {
        k: b.count for k, b in build(rows, Splitter(separators)).branches.items()
    }


@FAST
@given(st.text(alphabet="ab*?[]\\^-", max_size=12), st.text(alphabet="ab*?[]\\^-", max_size=12))
def test_an_escaped_name_matches_only_itself(name: str, other: str) -> None:
    pattern = glob_escape(name).encode()
    assert glob_matches(pattern, name.encode())
    assert glob_matches(pattern, other.encode()) == (name == other)


def test_only_a_branch_has_a_pattern() -> None:
    tree: Tree = build([row(b"solo")], Splitter(":"))
    with pytest.raises(ValueError):
        branch_pattern(tree.root.children[0])


def test_last_payloads_scans_newest_first_and_is_bounded() -> None:
    store = Store()
    sub = Subscription(Kind.PATTERN, "*")
    state = store.add_subscription(sub)
    state.take([[b"pmessage", b"*", b"a", b"old"], [b"pmessage", b"*", b"b", b"b1"]], 5, 1.0)
    state.take([[b"pmessage", b"*", b"a", b"new"]], 3, 2.0)
    state.take([[b"pmessage", b"*", b"c", b"x"] for _ in range(10)], 10, 3.0)
    assert store.last_payloads([b"a", b"b", b"gone"]) == {b"a": (b"new", 2.0), b"b": (b"b1", 1.0)}
    assert store.last_payloads([b"a"], limit=10) == {}  # the bound: 10 messages looked at
    other = store.add_subscription(Subscription(Kind.CHANNEL, "b"))
    other.take([[b"message", b"b", b"b2"]], 2, 5.0)
    assert store.last_payloads([b"b"]) == {b"b": (b"b2", 5.0)}  # the newest over all subs
