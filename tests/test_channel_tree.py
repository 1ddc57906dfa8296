"""The channel tree (`t`) on real servers: exact sums, keys, subscribe and filter to a branch,
the evicted rollup, `rps-tui view`, and the separators option (config file and CLI)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import redis

from rps_tui.cli import Options, ViewOptions, parse_command
from rps_tui.core.channel_tree import Node
from rps_tui.core.config import ConfigError, load
from rps_tui.core.connection.settings import UsageError
from rps_tui.core.session import Session
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp, offline_config
from rps_tui.ui.channel_tree import ChannelTreeView
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.cli import one_line_error, run_cli
from tests.support.recordings import record_live
from tests.support.wait import async_wait_for

HIERARCHY = {  # channel -> messages published to it
    "tt:acme:eu.api": 3,
    "tt:acme:eu.db": 2,
    "tt:acme:us.api": 5,
    "tt:globex:eu.api": 1,
    "tt:globex:eu.web": 8,
    "tt:globex:apac.api": 2,
    "tt:solo": 6,
}


def publish(client: redis.Redis, counts: dict[str, int]) -> int:
    for channel, n in counts.items():
        for i in range(n):
            client.publish(channel, f"{channel}#{i}")
    return sum(counts.values())


async def show_tree(app: RpsApp, pilot, channels: int) -> ChannelTreeView:
    """`t`, focus on the tree, and a refresh once the store has every channel."""
    dashboard = app.dashboard
    await async_wait_for(lambda: app.session.store.snapshot().channel_count >= channels)
    await pilot.press("t")
    tree = dashboard.channel_tree
    assert tree.display and not dashboard.stats_table.display
    tree.focus()
    dashboard.refresh_counts()
    await pilot.pause()
    return tree


async def hierarchy(app: RpsApp, pilot, client: redis.Redis) -> tuple[ChannelTreeView, int]:
    """HIERARCHY published to the app's `tt:*` and received, then the tree shown."""
    await active(app, *app.config.subscriptions)
    total = publish(client, HIERARCHY)
    await async_wait_for(lambda: app.session.store.total == total)
    return await show_tree(app, pilot, len(HIERARCHY)), total


def cursor_to(tree: ChannelTreeView, ident: tuple[bool, bytes | None]) -> None:
    tree.cursor_row = next(i for i, (n, _) in enumerate(tree.rows) if n.ident == ident)


def leaves(node: Node) -> list[Node]:
    if not node.branch:
        return [node]
    return [leaf for child in node.children for leaf in leaves(child)]


async def test_branches_add_up_to_their_leaves_and_the_store(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "tt:*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        tree, total = await hierarchy(app, pilot, redis_client)
        built = tree.built
        assert built is not None and tree.separators == ":."  # both in over 10% of names
        snapshot = app.dashboard.snapshot
        assert built.root.count == snapshot.total == total
        assert built.root.channels == len(HIERARCHY) == snapshot.channel_count
        for branch in built.branches.values():
            under = leaves(branch)
            assert branch.count == sum(n.count for n in under)
            assert branch.count == sum(HIERARCHY[n.key.decode()] for n in under)
            assert branch.channels == len(under)
            assert branch.rate == pytest.approx(sum(n.rate for n in under))
        acme = built.branches[b"tt:acme:"]
        assert (acme.count, acme.channels) == (10, 3)
        # on screen: the lone top branch opened by itself, then its children by name
        assert [n.label for n, _ in tree.rows] == [b"tt:", b"acme:", b"globex:", b"solo"]
        cells = tree.get_row_at(1)
        assert cells[0].strip() == "▸ acme:" and cells[1:3] == ["3", "10"]
        await pilot.press("o", "o")  # by msgs: busiest first
        assert [n.label for n, _ in tree.rows][1:] == [b"globex:", b"acme:", b"solo"]
        assert "by msgs ↓ (o)" in str(tree.border_title)


async def test_expansion_and_cursor_survive_refreshes(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "tt:*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        tree, total = await hierarchy(app, pilot, redis_client)
        cursor_to(tree, (True, b"tt:globex:"))
        await pilot.press("enter", "down", "down", "right", "down")  # globex: open, eu. open
        assert tree.current is not None and tree.current.key == b"tt:globex:eu.api"
        assert {b"tt:globex:", b"tt:globex:eu."} <= tree.expanded
        payload = tree.get_row_at(tree.cursor_row)[-1]
        assert payload == "tt:globex:eu.api#0"  # its last message, from the store's reads
        # new channels that sort above the cursor, and a refresh
        publish(redis_client, {"tt:aaa:x": 1, "tt:globex:ab.x": 2})
        await async_wait_for(lambda: app.session.store.total == total + 3)
        app.dashboard.refresh_counts()
        await pilot.pause()
        assert tree.current is not None and tree.current.key == b"tt:globex:eu.api"
        assert {b"tt:globex:", b"tt:globex:eu."} <= tree.expanded
        await pilot.press("left", "left")  # to its branch, then that branch folds
        assert tree.current is not None and tree.current.key == b"tt:globex:eu."
        assert b"tt:globex:eu." not in tree.expanded
        await pilot.press("t")  # back to the table, the focus with it
        assert app.focused is app.dashboard.stats_table


async def test_s_on_a_branch_psubscribes_to_exactly_that_branch(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "ps:*")
    app = make_app(server.url, sub)
    counts = {"ps:a*b:1": 1, "ps:other:1": 1}  # a glob character in a real name
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        numpat = redis_client.execute_command("PUBSUB", "NUMPAT")
        publish(redis_client, counts)
        await async_wait_for(lambda: app.session.store.total == 2)
        tree = await show_tree(app, pilot, 2)
        cursor_to(tree, (True, b"ps:a*b:"))
        await pilot.press("s")
        branch = Subscription(Kind.PATTERN, "ps:a\\*b:*")
        await active(app, sub, branch)
        assert redis_client.execute_command("PUBSUB", "NUMPAT") == numpat + 1
        await async_wait_for(lambda: app.dashboard.selected == branch)  # the pane shows it
        publish(redis_client, {"ps:a*b:2": 1, "ps:aXb:2": 1, "ps:other:2": 1})
        store = app.session.store
        await async_wait_for(lambda: store.subs[sub].total == 5)
        assert store.subs[branch].total == 1  # ps:a*b:2 only: not aXb, not other
        await async_wait_for(lambda: any("ps:a*b:2#0" in line for line in pane_text(app)))
        # on a leaf, s subscribes to the channel
        cursor_to(tree, (True, b"ps:other:"))
        await pilot.press("right", "down", "s")
        leaf = Subscription(Kind.CHANNEL, "ps:other:1")
        await active(app, sub, branch, leaf)


async def test_slash_filters_the_pane_to_the_branch(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "tt:*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        tree, _ = await hierarchy(app, pilot, redis_client)
        cursor_to(tree, (True, b"tt:acme:"))
        await pilot.press("slash")
        model = app.dashboard.pane.model
        assert model is not None
        await async_wait_for(lambda: model.filter == "ch:tt:acme:*")
        assert len(model.lines) == 10 and app.focused is app.dashboard.pane
        assert all(e[-3].startswith(b"tt:acme:") for e in model.lines)


async def test_slash_on_a_branch_the_pane_does_not_deliver_shows_one_that_does(
    server, redis_client
) -> None:
    """The pane shows `other.*`; `/` on a branch of `tt:*` selects `tt:*` and filters it,
    rather than filtering a pane that can never show that branch down to nothing."""
    sub, other = Subscription(Kind.PATTERN, "tt:*"), Subscription(Kind.PATTERN, "other.*")
    app = make_app(server.url, sub, other)
    async with app.run_test(size=SIZE) as pilot:
        tree, _ = await hierarchy(app, pilot, redis_client)
        await pilot.press("2")
        assert app.dashboard.selected == other
        tree.focus()
        await pilot.pause()
        cursor_to(tree, (True, b"tt:acme:"))
        await pilot.press("slash")
        await async_wait_for(lambda: app.dashboard.selected == sub)
        model = app.dashboard.pane.model
        assert model is not None and model.sub == sub
        await async_wait_for(lambda: model.filter == "ch:tt:acme:*")
        assert len(model.lines) == 10


async def test_slash_never_puts_an_unsafe_name_into_the_filter(server, redis_client) -> None:
    """The filter is an Input, which draws its value as it is: a branch whose name holds
    terminal escapes is not typed into it."""
    sub = Subscription(Kind.PATTERN, "esc:*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        publish(redis_client, {"esc:\x1b[2J:x": 1})
        await async_wait_for(lambda: app.session.store.total == 1)
        tree = await show_tree(app, pilot, 1)
        cursor_to(tree, (True, b"esc:\x1b[2J:"))
        await pilot.press("slash")
        await pilot.pause()
        assert app.dashboard.filter_input.value == "" and app.focused is tree


async def test_evicted_channels_are_one_top_level_node(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "ev.*")
    app = make_app(server.url, sub)
    app.session.store.max_channels = 8  # a quarter (2) folds into the rollup when full
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        total = publish(redis_client, {f"ev.g{i % 3}.c{i}": 1 for i in range(20)})
        await async_wait_for(lambda: app.session.store.total == total)
        tree = await show_tree(app, pilot, 1)
        built = tree.built
        assert built is not None and built.rollup is not None
        assert built.root.count == total  # the rollup keeps the sum exact
        assert built.rollup.count == total - sum(n.count for n in built.leaf_nodes.values())
        evicted = app.session.store.other_channels
        assert built.rollup.channels == evicted > 0
        assert built.root.channels == evicted + len(built.leaf_nodes) == 20  # every channel
        last = tree.get_row_at(len(tree.rows) - 1)
        assert last[0].strip() == "(other channels, folded)"
        assert last[1] == str(evicted)  # how many, in the chans column
        assert last[2] == str(built.rollup.count)


async def test_e_exports_the_channel_statistics_to_csv(
    server, redis_client, tmp_path: Path, monkeypatch
) -> None:
    """From the table in its sort order, from the tree by name; the evicted rollup is the
    row with no channel and the number of channels it stands for; a write error is one
    line, and nothing else changes."""
    monkeypatch.chdir(tmp_path)
    sub = Subscription(Kind.PATTERN, "ex.*")
    app = make_app(server.url, sub)
    app.session.store.max_channels = 8
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        counts = {f"ex.c{i}": i + 1 for i in range(12)}
        counts["ex.é\xff"] = 2  # a name that is not UTF-8 goes out as its bytes
        publish(redis_client, {k: v for k, v in counts.items() if "\xff" not in k})
        for _ in range(2):
            redis_client.publish(b"ex.\xc3\xa9\xff", b"x")
        total = sum(counts.values())
        store = app.session.store
        await async_wait_for(lambda: store.total == total)
        dashboard = app.dashboard
        dashboard.refresh_counts()
        await pilot.pause()
        table = dashboard.stats_table
        table.focus()
        await pilot.press("o")  # by msgs: the file keeps the table's order
        await pilot.press("e")
        await async_wait_for(lambda: list(tmp_path.glob("rps-tui-channels-*.csv")))
        (path,) = tmp_path.glob("rps-tui-channels-*.csv")
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.DictReader(f))
        assert [r["channel"] for r in rows] == [
            "" if r.channel is None else r.channel.decode("utf-8", "surrogateescape")
            for r in table.rows
        ]
        assert sum(int(r["messages"]) for r in rows) == total  # the rollup keeps it exact
        assert sum(int(r["channels"]) for r in rows) == len(counts)
        (rollup,) = [r for r in rows if r["channel"] == ""]
        assert int(rollup["channels"]) == store.other_channels > 0
        named = {r["channel"].encode("utf-8", "surrogateescape"): r for r in rows if r["channel"]}
        for name, row in named.items():
            assert int(row["messages"]) == store.channels[name].count
            assert row["last_seen"].endswith("Z")
        assert b"ex.\xc3\xa9\xff" in named or store.other_channels  # its own bytes
        # the tree writes the same rows, by name
        await pilot.press("t", "e")
        await async_wait_for(lambda: len(list(tmp_path.glob("rps-tui-channels-*.csv"))) == 2)
        # a directory that is gone: one line, the tree stays
        gone = tmp_path / "gone"
        gone.mkdir()
        os.chdir(gone)
        gone.rmdir()
        await pilot.press("e")
        await async_wait_for(
            lambda: any("export failed" in str(n.message) for n in app._notifications)
        )
        assert dashboard.channel_tree.display


async def test_a_recording_shows_the_tree_without_s(server, tmp_path: Path) -> None:
    path = tmp_path / "tree.ndjson"
    record_live(server.url, path)
    session = Session.from_recording(path)
    app = RpsApp(offline_config(session))
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.dashboard
        await async_wait_for(lambda: dashboard.sub_list.subs == session.subscriber.subscriptions)
        subs = len(session.subscriber.subscriptions)
        tree = await show_tree(app, pilot, 5)
        assert tree.built is not None and tree.built.root.count == app.session.store.total
        bound = {b.binding.id for b in app.screen.active_bindings.values() if b.enabled}
        assert "tree.filter" in bound and "tree.subscribe" not in bound
        assert "subscribe" not in bound
        cursor_to(tree, (True, b"rec."))
        await pilot.press("s")
        await pilot.pause(0.2)
        assert app.screen is app.screen_stack[0] and len(session.subscriber.subscriptions) == subs
        await pilot.press("slash")  # kept offline: it reads what the recording holds
        model = dashboard.pane.model
        assert model is not None
        await async_wait_for(lambda: model.filter == "ch:rec.*")


# -- the separators option -----------------------------------------------------------------


def test_separators_from_the_cli_win_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('separators = "/"\n')
    chosen = parse_command(["--config", str(config), "--separators", ":.", "x"])
    assert isinstance(chosen, Options) and chosen.separators == ":."
    from_file = parse_command(["--config", str(config), "x"])
    assert isinstance(from_file, Options) and from_file.separators == "/"
    auto = parse_command(["--config", str(config), "--separators", "auto", "x"])
    assert isinstance(auto, Options) and auto.separators == ""  # detected
    view = parse_command(["view", str(config), "--config", str(config)])
    assert isinstance(view, ViewOptions) and view.separators == "/"
    view = parse_command(["view", str(config), "--separators", ":"])
    assert isinstance(view, ViewOptions) and view.separators == ":"
    assert load(config).separators == "/"


def test_bad_separators_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="separators: 'a' is not a punctuation character"):
        parse_command(["--separators", "a", "x"])
    line = one_line_error(run_cli("--separators", "*", "x"), 2)
    assert "separators: '*' is a glob character" in line
    line = one_line_error(run_cli("view", "nofile", "--separators", ""), 2)
    assert "separators must be one or more characters" in line
    config = tmp_path / "config.toml"
    config.write_text('separators = "::"\n')
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert str(caught.value) == f"{config}: separators: '::' names a character twice"
    line = one_line_error(run_cli("--config", str(config), "x"), 2)
    assert line.startswith(f"rps-tui: {config}: separators")
    config.write_text("separators = 3\n")
    line = one_line_error(run_cli("--config", str(config), "x"), 2)
    assert "separators must be a string" in line
