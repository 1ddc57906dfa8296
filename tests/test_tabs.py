"""Several servers in one dashboard, a tab each: every tab runs from the start (subscriber,
counts, monitor) shown or not, the tab line shows each one's state and rate, a problem on a
hidden tab is seen from another, and the keys switch; real servers, one stopped and
restarted during the test."""

from __future__ import annotations

import json
import signal

import redis

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import time_of
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.all_screen import WhichServer
from rps_tui.ui.app import AppConfig, Connection, RpsApp
from rps_tui.ui.detail import DetailScreen
from rps_tui.ui.merged_model import MergedModel, Source
from tests.support.app import SIZE, pane_text
from tests.support.cli import one_line_error, run_cli
from tests.support.tail import Tail
from tests.support.wait import async_wait_for, wait_for

SUB = Subscription.parse("tab.*")


def two_servers(alpha_url: str, beta_url: str) -> RpsApp:
    return RpsApp(
        AppConfig(
            settings=parse_url(alpha_url),
            subscriptions=[SUB],
            label="alpha",
            more=[Connection(parse_url(beta_url), [SUB], "beta")],
        )
    )


def tab_line(app: RpsApp) -> str:
    return str(app.dashboard.tab_bar.render())


async def test_two_servers_each_in_a_tab(server_factory) -> None:
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    app = two_servers(alpha.url, beta.url)
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.dashboards
        await async_wait_for(
            lambda: all(d.subscriber.state is State.CONNECTED for d in app.dashboards)
        )
        await async_wait_for(lambda: all(d.is_mounted for d in app.dashboards))
        with redis.Redis(port=alpha.port) as a, redis.Redis(port=beta.port) as b:
            await async_wait_for(lambda: a.publish("tab.1", "to alpha") == 1)
            b.publish("tab.1", "to beta")
            b.publish("tab.2", "to beta again")
        # each tab counts its own server's messages, the hidden one too
        await async_wait_for(lambda: (first.store.total, second.store.total) == (1, 2))
        await async_wait_for(lambda: "1 alpha ●" in tab_line(app) and "2 beta ●" in tab_line(app))
        assert app.current == 0 and app.session is first.session
        assert any("to alpha" in line for line in pane_text(app))

        await pilot.press("alt+2")
        await async_wait_for(lambda: app.screen is second)
        assert app.session is second.session
        await async_wait_for(lambda: any("to beta again" in line for line in pane_text(app)))
        assert not any("to alpha" in line for line in pane_text(app))
        # the publish box of a tab publishes to that tab's server
        await pilot.press("i", *"tab.3", "tab", *"typed on beta", "enter")
        await async_wait_for(lambda: second.store.total == 3)
        assert first.store.total == 1

        await pilot.press("ctrl+pageup")  # back to the first, and round again
        await async_wait_for(lambda: app.screen is first)
        await pilot.press("ctrl+pagedown", "ctrl+pagedown")  # beta, then the all view
        await async_wait_for(lambda: app.screen is app.all_view)
        await pilot.press("ctrl+pagedown")
        await async_wait_for(lambda: app.current == 0 and app.screen is first)


async def test_a_server_down_on_a_hidden_tab_shows_on_the_tab_line(server_factory) -> None:
    """Beta stops while alpha is shown: beta's tab reads reconnecting within seconds; back
    up, it reads connected again, and alpha never noticed."""
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    app = two_servers(alpha.url, beta.url)
    async with app.run_test(size=SIZE):
        first = app.dashboards[0]
        await async_wait_for(lambda: "2 beta ● " in tab_line(app), 10)
        beta.stop()
        await async_wait_for(lambda: "2 beta ◌ reconnecting" in tab_line(app), 15)
        assert "1 alpha ● " in tab_line(app) and first.subscriber.state is State.CONNECTED
        beta.restart()
        await async_wait_for(lambda: "2 beta ● " in tab_line(app), 20)
        assert first.subscriber.state is State.CONNECTED


async def test_one_server_has_no_tab_line_and_no_tab_keys(server) -> None:
    app = RpsApp(AppConfig(settings=parse_url(server.url), subscriptions=[SUB]))
    async with app.run_test(size=SIZE) as pilot:
        assert not app.dashboard.tab_bar.display
        await pilot.press("alt+2")  # nothing to switch to: nothing happens
        assert app.current == 0
        keys = {k for _, rows in app.help_sections() for k, _ in rows}
        assert not any("alt+" in k or "ctrl+pg" in k.lower() for k in keys), keys
        assert not any(title.startswith("All view") for title, _ in app.help_sections())


# -- the command line: several servers for the dashboard and tail ------------------------------
def test_tail_of_two_servers_names_each_line_and_skips_one_that_is_down(server_factory) -> None:
    """`-u A -u B -u C` with C down: one line on stderr for C, and every line from A and B
    says which server it came from, first in the record; SIGTERM ends it with 0."""
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    down = "redis://127.0.0.1:1"
    proc = Tail("-u", alpha.url, "-u", beta.url, "-u", down, "tl.*")
    try:
        proc.start_reading()
        with redis.Redis(port=alpha.port) as a, redis.Redis(port=beta.port) as b:
            wait_for(lambda: a.pubsub_numpat() == 1 and b.pubsub_numpat() == 1, 10)
            a.publish("tl.1", "from alpha")
            b.publish("tl.2", "from beta")
        records = [json.loads(line) for line in proc.wait_lines(2)]
        by_server = {r["server"]: r["data"] for r in records}
        assert by_server == {f"127.0.0.1:{alpha.port}": "from alpha",
                             f"127.0.0.1:{beta.port}": "from beta"}  # fmt: skip
        assert all(next(iter(r)) == "server" for r in records)
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.wait_exit() == 0
        said = proc.stderr()
        assert "rps-tui: 127.0.0.1:1: cannot connect to 127.0.0.1:1/0" in said, said
        assert "Traceback" not in said
    finally:
        proc.close()


def test_none_of_several_servers_reachable_is_exit_1_naming_each() -> None:
    for command in ([], ["tail"]):
        line = one_line_error(
            run_cli(*command, "-u", "redis://127.0.0.1:1", "-u", "redis://127.0.0.1:2", "x"), 1
        )
        assert "127.0.0.1:1: cannot connect" in line and "127.0.0.1:2: cannot connect" in line


def test_one_server_commands_refuse_several_in_one_line() -> None:
    two = ["-u", "redis://127.0.0.1:1", "-u", "redis://127.0.0.1:2"]
    for args in (["publish", *two, "ch", "m"], ["bench", *two], ["replay", *two, __file__]):
        assert "talks to one server" in one_line_error(run_cli(*args), 2)
    line = one_line_error(run_cli(*two, "-p", "6380", "x"), 2)
    assert "-h/-p with several servers" in line


async def test_plus_adds_a_server_in_a_tab_of_its_own(server_factory) -> None:
    """`+` asks for a URL or profile: one that is down is said in the dialog and the text
    stays; one that answers opens in a new tab with the command line's subscriptions, and
    the first tab gains the tab line."""
    from rps_tui.cli.options import parse_args
    from rps_tui.cli.run import _connector
    from rps_tui.ui.add_server import AddServerScreen

    alpha, beta = server_factory("valkey"), server_factory("valkey")
    options = parse_args(["-u", alpha.url, "tab.*"])
    app = RpsApp(
        AppConfig(
            settings=options.settings,
            subscriptions=options.subscriptions,
            connect=_connector(options),
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        assert not app.dashboard.tab_bar.display
        await pilot.press("plus")
        await async_wait_for(lambda: isinstance(app.screen, AddServerScreen) and app.focused)
        await pilot.press(*"redis://127.0.0.1:1", "enter")
        status = app.screen.query_one("#add-server-status")
        await async_wait_for(lambda: "cannot connect to 127.0.0.1:1" in str(status.render()), 10)
        field = app.screen.query_one("#add-server-url")
        assert field.value == "redis://127.0.0.1:1" and len(app.dashboards) == 1
        field.value = beta.url
        await pilot.press("enter")
        await async_wait_for(lambda: len(app.dashboards) == 2 and app.screen is app.dashboards[1])
        added = app.dashboards[1]
        assert added.subscriber.subscriptions == [SUB]
        with redis.Redis(port=beta.port) as b:
            await async_wait_for(lambda: b.publish("tab.9", "via plus") == 1)
        await async_wait_for(lambda: any("via plus" in line for line in pane_text(app)))
        assert app.dashboards[0].tab_bar.display and added.tab_bar.display
        await async_wait_for(lambda: f"2 127.0.0.1:{beta.port} ●" in tab_line(app))
        await pilot.press("left_curly_bracket")
        await async_wait_for(lambda: app.screen is app.dashboards[0])


# -- the all view ----------------------------------------------------------------------------
def feed(store: Store, sub: Subscription, items: list[tuple[bytes, float]]) -> None:
    """Messages into `store` as one socket read would bring them (received at each time)."""
    state = store.subs.get(sub) or store.add_subscription(sub)
    for payload, when in items:
        state.total += 1
        store.buffered += state.take([[b"message", sub.key, payload]], len(payload), when)


def test_the_merged_view_orders_by_receive_time_across_servers() -> None:
    """A server read late lands among the lines already there, in its place; each line
    knows its server; a filter keeps what matches from every server; changing a tab's
    selection starts that server over with the new subscription's history."""
    a, b = Store(), Store()
    sub_a, sub_b, other = (Subscription.parse(n) for n in ("ch.a", "ch.b", "ch.other"))
    selected = {"b": sub_b}
    model = MergedModel.of(
        [Source("alpha", a, lambda: sub_a), Source("beta", b, lambda: selected["b"])], 100
    )
    feed(a, sub_a, [(b"a1", 1.0), (b"a3", 3.0)])
    assert model.pull()
    feed(b, sub_b, [(b"b2", 2.0), (b"b4", 4.0)])  # read after a3 was shown
    feed(a, sub_a, [(b"a5", 5.0)])
    assert model.pull()
    assert [e[-2] for e in model.lines] == [b"a1", b"b2", b"a3", b"b4", b"a5"]
    assert [model.source_of(e).label for e in model.lines] == ["alpha", "beta"] * 2 + ["alpha"]
    model.set_filter("b")
    model.rebuild()
    assert [e[-2] for e in model.lines] == [b"b2", b"b4"]
    model.set_filter("")
    model.rebuild()
    feed(b, other, [(b"o6", 6.0)])
    selected["b"] = other  # the beta tab now shows ch.other
    assert model.pull()
    assert [e[-2] for e in model.lines] == [b"a1", b"a3", b"a5", b"o6"]


async def test_the_all_view_shows_every_tab_in_one_pane(server_factory) -> None:
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    app = two_servers(alpha.url, beta.url)
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: all(d.is_mounted for d in app.dashboards))
        await async_wait_for(lambda: all(d.store.subs.get(SUB) for d in app.dashboards))
        with redis.Redis(port=alpha.port) as a, redis.Redis(port=beta.port) as b:
            for n in range(3):  # apart, so each is a socket read of its own, in this order
                await async_wait_for(lambda n=n: a.publish("tab.a", f"alpha {n}") == 1)
                await pilot.pause(0.05)
                b.publish("tab.b", f"beta {n}")
                await pilot.pause(0.05)
        await async_wait_for(lambda: [d.store.total for d in app.dashboards] == [3, 3])
        await async_wait_for(lambda: "3 all ● " in tab_line(app))
        await app.action_tab(2)  # straight to the all view: beta's tab was never shown
        await async_wait_for(lambda: app.screen is app.all_view)
        pane = app.all_view.pane
        await async_wait_for(lambda: len(pane.model.lines) == 6)
        lines = [pane.render_line(y).text for y in range(6)]
        assert [line.split()[0] for line in lines] == ["alpha", "beta"] * 3, lines
        assert all(f"{name} {n}" in lines[2 * n + (name == 'beta')]
                   for n in range(3) for name in ("alpha", "beta"))  # fmt: skip
        times = [time_of(e) for e in pane.model.lines]
        assert times == sorted(times)
        # the title's count is the sum of the tabs' pane titles (their snapshots)
        await async_wait_for(lambda: str(pane.border_title).startswith("all servers — 6 msgs"))
        await pilot.press("slash", *"beta", "enter")
        await async_wait_for(lambda: len(pane.model.lines) == 3)
        await pilot.press("up", "enter")  # the detail view of beta's message
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.subscription == SUB
        await pilot.press("escape")
        await pilot.press("right_curly_bracket")  # round to the first server
        await async_wait_for(lambda: app.screen is app.dashboards[0])


def test_a_recording_of_several_servers_is_viewed_per_server(tmp_path) -> None:
    """What `tail -u A -u B` writes (`"server"` on each line) opens in `view` with a
    subscription per server, named after it; a server's gap marks its own only."""
    from rps_tui.core.session import Session

    lines = [
        '{"server":"a:1","time":1.0,"kind":"pmessage","pattern":"x.*","channel":"x.1","data":"hi","encoding":"utf-8"}',
        '{"server":"b:2","time":2.0,"kind":"pmessage","pattern":"x.*","channel":"x.2","data":"yo","encoding":"utf-8"}',
        '{"server":"b:2","time":3.0,"kind":"gap","reason":"test","seconds":1.0}',
        '{"server":"a:1","time":4.0,"kind":"pmessage","pattern":"x.*","channel":"x.1","data":"ho","encoding":"utf-8"}',
    ]
    path = tmp_path / "two.ndjson"
    path.write_text("\n".join(lines) + "\n")
    store = Session.from_recording(path).store
    a, b = (Subscription(Kind.PATTERN, "x.*", on) for on in ("a:1", "b:2"))
    assert list(store.subs) == [a, b] and a.title == "a:1 · x.*"
    assert [e[-2] for e in store.tail(a, 0)[1]] == [b"hi", b"ho"]
    assert [e[0] for e in store.tail(b, 0)[1]] == [b"pmessage", None]  # b's gap is b's


async def test_i_in_the_all_view_asks_which_server_and_a_wrong_password_stays_on_its_tab(
    server_factory,
) -> None:
    """Beta wants a password and is given a wrong one: its tab says so (reconnecting, the
    server's refusal in its header) and alpha works on; `i` in the all view asks which
    server, then opens that tab with its publish box focused."""
    alpha = server_factory("valkey")
    beta = server_factory("valkey", extra_args=["--requirepass", "right"])
    wrong = parse_url(beta.url.replace("redis://", "redis://:wrong@"))
    app = RpsApp(
        AppConfig(
            settings=parse_url(alpha.url),
            subscriptions=[SUB],
            label="alpha",
            more=[Connection(wrong, [SUB], "beta")],
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.dashboards
        await async_wait_for(lambda: "2 beta ◌ reconnecting" in tab_line(app), 15)
        assert "password" in second.subscriber.state_detail.lower()
        assert first.subscriber.state is State.CONNECTED
        await app.action_tab(2)  # the all view
        await async_wait_for(lambda: app.screen is app.all_view)
        await pilot.press("i")
        await async_wait_for(lambda: isinstance(app.screen, WhichServer))
        await pilot.press("enter")  # the first: alpha
        await async_wait_for(lambda: app.screen is first)
        box = first.publish_box  # its channel field: a pattern gives no channel to prefill
        await async_wait_for(lambda: app.focused in (box.channel_input, box.message_input))


async def test_r_in_the_all_view_records_every_server_each_line_naming_it(
    server_factory, tmp_path, monkeypatch
) -> None:
    """`r` in the all view: one file, every server's messages (the subscriptions its tab
    records, not only the one shown), each line naming its server; a server added while
    it records joins; the header counts the lines; `r` again says how many."""
    monkeypatch.chdir(tmp_path)  # `r` names a new file here
    alpha, beta, gamma = (server_factory("valkey") for _ in range(3))
    app = two_servers(alpha.url, beta.url)
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(
            lambda: all(d.subscriber.state is State.CONNECTED for d in app.dashboards)
        )
        await app.action_tab(2)
        await async_wait_for(lambda: app.screen is app.all_view)
        await pilot.press("r")
        await async_wait_for(lambda: "● REC 0" in str(app.all_view.header.render()))
        app.all_view.refresh_view()
        assert str(app.all_view.tab_bar.render()).endswith("● REC")  # seen from every tab
        assert app.dashboards[0].session.recorder is None  # the tabs' own: not started
        with redis.Redis(port=alpha.port) as a, redis.Redis(port=beta.port) as b:
            await async_wait_for(lambda: a.publish("tab.1", "to alpha") == 1)
            await async_wait_for(lambda: b.publish("tab.2", "to beta") == 1)
        await app.add_tab(Connection(parse_url(gamma.url), [SUB], "gamma"))
        with redis.Redis(port=gamma.port) as g:
            await async_wait_for(lambda: g.publish("tab.3", "to gamma") == 1)
        await app.action_tab(3)  # the all view, after the third server now
        await async_wait_for(lambda: "● REC 3" in str(app.all_view.header.render()))
        await pilot.press("r")
        said = [str(n.message) for n in app._notifications]
        await async_wait_for(lambda: any("recorded 3 lines to" in str(n.message)
                                         for n in app._notifications))  # fmt: skip
        assert not any(n.severity == "error" for n in app._notifications), said
        assert "REC" not in str(app.all_view.header.render())
    (path,) = tmp_path.glob("rps-tui-*.ndjson")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    got = sorted((r["server"], r["channel"], r["data"]) for r in records)
    assert got == [("alpha", "tab.1", "to alpha"), ("beta", "tab.2", "to beta"),
                   ("gamma", "tab.3", "to gamma")]  # fmt: skip
    assert all(next(iter(r)) == "server" for r in records)


def test_record_option_with_several_servers_records_them_all(server_factory, tmp_path) -> None:
    """`rps-tui -u A -u B --record FILE`: every server from the start into FILE, each line
    naming its server; the tab line says it records; the exit line counts FILE's lines."""
    from tests.support.pty import PtyApp

    alpha, beta = server_factory("valkey"), server_factory("valkey")
    path = tmp_path / "both.ndjson"
    app = PtyApp("-u", alpha.url, "-u", beta.url, "--record", str(path), "tab.*")
    try:
        app.wait_text(lambda t: "all ● " in t and "● REC" in t)  # the all tab records
        with redis.Redis(port=alpha.port) as a, redis.Redis(port=beta.port) as b:
            wait_for(lambda: a.publish("tab.1", "to alpha") == 1)
            wait_for(lambda: b.publish("tab.2", "to beta") == 1)
        app.wait_text(lambda t: "to alpha" in t)
        app.send(b"q")
        assert app.wait_exit() == 0
        wait_for(lambda: f"recorded 2 lines to {path}" in app.text().replace("\n", ""), 5)
    finally:
        app.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    alpha_label, beta_label = (f"127.0.0.1:{s.port}" for s in (alpha, beta))
    got = {(r["server"], r["data"]) for r in records}
    assert got == {(alpha_label, "to alpha"), (beta_label, "to beta")} and len(records) == 2


async def test_with_several_servers_r_in_a_tab_records_that_tab_to_a_file_of_its_own(
    server_factory, tmp_path, monkeypatch
) -> None:
    """--record FILE is the all view's; `r` in a tab must not append to FILE beside it."""
    from rps_tui.core.recording.recorder import Recorder

    monkeypatch.chdir(tmp_path)
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    path = tmp_path / "all.ndjson"
    app = two_servers(alpha.url, beta.url)
    app.config.record_path = str(path)  # as the CLI sets it, before the app is built
    app = RpsApp(app.config)
    app.several.record(Recorder(path))
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: app.dashboards[0].is_mounted)
        await pilot.press("r")
        own = app.dashboards[0].session.recorder
        assert own is not None and own.path != str(path) and "rps-tui-" in own.path
        line = "1 alpha ● 0.0/s ● REC │ 2 beta ● 0.0/s │ 3 all ● 0.0/s ● REC"
        await async_wait_for(lambda: tab_line(app) == line)
        await pilot.press("r")
    assert app.recordings()[-1].path == str(path)


async def test_the_all_view_keys_are_in_help_and_the_keymap_and_a_copy_gets_its_own_label(
    server_factory, tmp_path, monkeypatch
) -> None:
    """With several servers help lists the all view's keys; the keymap can move them (the
    hint names the key bound now); a server added twice gets a label of its own, so a
    recording of several servers tells them apart."""
    monkeypatch.chdir(tmp_path)
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    app = two_servers(alpha.url, beta.url)
    app.config.keymap = {"all.record": "R"}
    app = RpsApp(app.config)
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: all(d.is_mounted for d in app.dashboards))
        sections = dict(app.help_sections())
        rows = dict(sections["All view (the last tab)"])
        assert "R" in rows and "record" in rows["R"].lower(), rows
        await app.action_tab(2)
        await async_wait_for(lambda: app.screen is app.all_view)
        await pilot.press("R")
        await async_wait_for(lambda: any("(R stops)" in str(n.message) for n in app._notifications))
        await pilot.press("R")
        await async_wait_for(lambda: app.several.recorder is None)
        await app.add_tab(Connection(parse_url(alpha.url), [SUB], "alpha"))
        assert [d.options.label for d in app.dashboards] == ["alpha", "beta", "alpha (2)"]
        assert [label for label, _ in app.several.members][-1] == "alpha (2)"


async def test_a_server_added_to_one_with_record_does_not_record_into_its_file(
    server_factory, tmp_path
) -> None:
    """`--record FILE` with one server is that tab's; a tab added with `+` records (`r`) to a
    file of its own, never beside it in FILE (unlabelled lines of two servers in one file)."""
    alpha, beta = server_factory("valkey"), server_factory("valkey")
    path = str(tmp_path / "one.ndjson")
    app = RpsApp(AppConfig(settings=parse_url(alpha.url), subscriptions=[SUB], record_path=path))
    async with app.run_test(size=SIZE):
        await app.add_tab(Connection(parse_url(beta.url), [SUB], "beta"))
        first, added = app.dashboards
        assert first.recording.path == path and added.recording.path is None
        assert app.all_recording.path is None  # the all view's `r`: a new file too
