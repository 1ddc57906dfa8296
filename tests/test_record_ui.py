"""Recording from the dashboard (`r`, --record) and browsing a recording offline (`view`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import redis
from rich.text import Text
from textual.app import App, ComposeResult

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.recording.recorder import CLOSE_SECONDS, Recorder
from rps_tui.core.session import Session
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp, offline_config
from rps_tui.ui.status_bar import StatusBar
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.wait import async_wait_for, wait_for


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


async def test_the_record_key_starts_and_stops_a_recording(
    server, redis_client: redis.Redis, tmp_path: Path
) -> None:
    sub = Subscription(Kind.PATTERN, "rec.ui.*")
    path = tmp_path / "ui.ndjson"
    app = make_app(server.url, sub, record_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("rec.ui.before", "not recorded")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 1)
        await pilot.press("r")
        assert (
            app.session.recorder is not None and app.session.subscriber.sink is app.session.recorder
        )
        for i in range(3):
            redis_client.publish("rec.ui.x", f"m{i}")
        redis_client.publish("rec.ui.bin", b"\xff\x00")
        await async_wait_for(lambda: app.session.recorder.lines == 4)
        app.dashboard.refresh_counts()
        assert "● REC 4" in str(app.dashboard.status_bar.render())
        await pilot.press("r")
        assert app.session.recorder is None and app.session.subscriber.sink is None
        redis_client.publish("rec.ui.after", "not recorded either")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 6)
        assert "REC" not in str(app.dashboard.status_bar.render())
    records = lines(path)
    assert [r["data"] for r in records] == ["m0", "m1", "m2", "/wA="]
    assert records[-1]["encoding"] == "base64" and records[0]["pattern"] == "rec.ui.*"
    assert {r["kind"] for r in records} == {"pmessage"}


async def test_a_recorder_given_at_start_records_until_quit(
    server, redis_client: redis.Redis, tmp_path: Path
) -> None:
    sub = Subscription(Kind.CHANNEL, "rec.start")
    path = tmp_path / "start.ndjson"
    recorder = Recorder(path)
    session = Session.live(parse_url(server.url), recorder=recorder)
    app = make_app(server.url, sub, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("rec.start", "one")
        await async_wait_for(lambda: recorder.lines == 1)
        await pilot.press("q")
    wait_for(lambda: not recorder.active, 5)
    assert [r["data"] for r in lines(path)] == ["one"]


def make_recording(url: str, path: Path) -> None:
    """A real recording: an engine with a Recorder while a client publishes."""
    from rps_tui.core.connection.settings import parse_url
    from rps_tui.core.subscriber.engine import Engine
    from tests.support.engine import running

    engine = Engine(parse_url(url), Store())
    recorder = Recorder(path)
    engine.sink = recorder
    subs = [Subscription(Kind.PATTERN, "off.*"), Subscription(Kind.CHANNEL, "off.plain")]
    with running(engine, *subs):
        client = redis.Redis.from_url(url)
        for i in range(5):
            client.publish("off.orders", json.dumps({"n": i}))
        client.publish("off.plain", "hello offline")
        client.close()
        wait_for(lambda: engine.store.total == 7)  # off.plain matches the pattern too
    recorder.close()


async def test_a_recording_opens_offline(server, tmp_path: Path) -> None:
    path = tmp_path / "offline.ndjson"
    make_recording(server.url, path)
    session = Session.from_recording(path)
    engine = session.subscriber
    app = RpsApp(offline_config(session))
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_for(lambda: app.dashboard.sub_list.subs == engine.subscriptions)
        assert [s.name for s in app.dashboard.sub_list.subs] == ["off.*", "off.plain"]
        assert not app.dashboard.publish_box.display  # nothing to publish to
        await async_wait_for(lambda: any('{"n":4}' in line for line in pane_text(app)))
        status = str(app.dashboard.status_bar.render())
        assert "offline" in status and "rtt" not in status and engine.state is State.OFFLINE
        await pilot.press("s", "i", "b", "k", "r")  # need a server: disabled, nothing opens
        await pilot.pause(0.2)
        assert app.screen is app.screen_stack[0] and app.session.recorder is None
        footer_keys = {b.binding.id for b in app.screen.active_bindings.values() if b.enabled}
        assert "subscribe" not in footer_keys and "decoder" in footer_keys
        await pilot.press("right_square_bracket")
        await async_wait_for(lambda: any("hello offline" in line for line in pane_text(app)))
        assert app.session.store.subs[Subscription(Kind.PATTERN, "off.*")].total == 6


async def test_a_recording_hides_what_acts_on_a_live_feed(server, tmp_path: Path) -> None:
    """Offline, `x` would say "unsubscribed" while the row stays, and `p` would show
    "PAUSED — 0 new" on a file that never changes: both are hidden, and so is `c` (what it
    dropped could not come back); the keys do nothing, and no list offers them."""
    path = tmp_path / "offline-keys.ndjson"
    make_recording(server.url, path)
    session = Session.from_recording(path)
    engine = session.subscriber
    app = RpsApp(offline_config(session))
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.dashboard
        await async_wait_for(lambda: dashboard.sub_list.subs == engine.subscriptions)
        await async_wait_for(lambda: any('{"n":4}' in line for line in pane_text(app)))
        shown = pane_text(app)
        await pilot.press("x", "p", "c")
        await pilot.pause(0.3)
        model = dashboard.pane.model
        assert model is not None and not model.paused and "PAUSED" not in model.titles(None, str)[1]
        assert dashboard.sub_list.subs == engine.subscriptions and len(engine.subscriptions) == 2
        assert pane_text(app) == shown  # nothing cleared
        assert not any("unsubscribed" in str(n.message) for n in app._notifications)
        hidden = {"unsubscribe", "pause", "clear"}
        footer = {b.binding.id for b in app.screen.active_bindings.values() if b.enabled}
        assert not hidden & footer
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert not {"Unsub", "Pause", "Clear"} & titles and "Decoder" in titles
        sections = dict(app.help_sections())
        described = " ".join(text for rows in sections.values() for _, text in rows).lower()
        assert "unsubscribe" not in described and "pause" not in described
        assert "Publish box (i)" not in sections and "Detail view (⏎ on a line)" in sections


# ------------------------------------------------- a target that does not keep up (FIFO)


class BarApp(App):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_the_header_says_how_many_messages_were_not_recorded() -> None:
    app = BarApp()
    async with app.run_test(size=(100, 3)):
        bar = app.query_one(StatusBar)
        shown = {
            "address": "127.0.0.1:6379",
            "server": "Valkey 8.0",
            "state": State.CONNECTED,
            "detail": "",
            "total": 120_000,
        }
        bar.show(**shown, recording=95_600)
        assert "● REC 95,600" in str(bar.render()) and "not recorded" not in str(bar.render())
        bar.show(**shown, recording=95_600, recording_dropped=12_345)
        assert "● REC 95,600 · 12,345 not recorded" in str(bar.render())
        text = bar._shown  # the Text it was given: one line, cut with an ellipsis if need be
        assert isinstance(text, Text) and text.no_wrap and "\n" not in str(text)
        start = str(text).index("12,345 not recorded")
        styles = {str(s.style) for s in text.spans if s.start <= start < s.end}
        assert styles == {"bold red"}, text.spans  # the drop count is as loud as REC
        bar.show(**shown, recording=None, recording_dropped=5)  # not recording: nothing
        assert "REC" not in str(bar.render()) and "not recorded" not in str(bar.render())


def notifications(app: RpsApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_the_record_key_says_a_fifo_has_no_reader(server, tmp_path: Path) -> None:
    sub = Subscription(Kind.CHANNEL, "rec.nofifo")
    path = tmp_path / "nobody.fifo"
    os.mkfifo(path)
    app = make_app(server.url, sub, record_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        start = time.monotonic()
        await pilot.press("r")  # a blocking open() would wait here for a reader, forever
        assert time.monotonic() - start < 2
        assert app.session.recorder is None and app.session.subscriber.sink is None
        said = f"cannot record to {path}: no process is reading that FIFO"
        await async_wait_for(lambda: said in notifications(app), 5)


async def test_a_stuck_fifo_costs_the_dashboard_nothing(
    server, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """Recording into a FIFO whose reader never reads: every message still reaches the
    dashboard, the header counts those left out of the recording, and `r` stops at once."""
    sub = Subscription(Kind.CHANNEL, "rec.stuckui")
    path = tmp_path / "stuck.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never read
    try:
        recorder = Recorder(path, max_pending=500)
        app = make_app(
            server.url, sub, session=Session.live(parse_url(server.url), recorder=recorder)
        )
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            pipe = redis_client.pipeline(transaction=False)
            for i in range(3000):
                pipe.publish("rec.stuckui", b"%d " % i + b"x" * 100)
            assert pipe.execute() == [1] * 3000
            await async_wait_for(lambda: app.session.store.subs[sub].total == 3000)
            assert recorder.dropped > 0 and recorder.active
            assert recorder.accounted == 3000

            def header() -> str:
                app.dashboard.refresh_counts()
                return str(app.dashboard.status_bar.render())

            said = f"● REC {recorder.lines:,} · {recorder.dropped:,} not recorded"
            await async_wait_for(lambda: said in header(), 5)
            # stop: the UI does not wait for the FIFO at all. Only the key's handler is
            # timed (a press also waits for a repaint, which a loaded CI machine slows): it
            # takes microseconds, or the writer's whole CLOSE_SECONDS had it waited.
            control, took = app.dashboard.recording, []
            stop = control.stop

            def timed_stop(*, say: bool) -> None:
                start = time.monotonic()
                stop(say=say)
                took.append(time.monotonic() - start)

            control.stop = timed_stop  # type: ignore[method-assign]
            await pilot.press("r")
            assert len(took) == 1 and took[0] < CLOSE_SECONDS / 2, took
            assert app.session.recorder is None and not recorder.active
            # the writer gives up on the FIFO within a second, and the app says so
            await async_wait_for(lambda: recorder.finished, 10)
            assert "lines were not written" in (recorder.error or "")
            await async_wait_for(
                lambda: any("not written" in str(n.message) for n in app._notifications), 3
            )
            assert (
                app.session.subscriber.state is State.CONNECTED
                and app.session.subscriber.reconnects == 0
            )
    finally:
        os.close(reader)


async def test_recording_again_appends_and_counts_the_file(
    server, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """r, 2 messages, r, r, 1 message, r: the second recording goes into the same file and
    says so ("appending to"), and the counts are the file's: the header's REC goes on from
    2, and the second stop says both (1 now, 3 in the file)."""
    sub = Subscription(Kind.CHANNEL, "rec.again")
    path = tmp_path / "again.ndjson"
    app = make_app(server.url, sub, record_path=str(path))

    def header() -> str:
        app.dashboard.refresh_counts()
        return str(app.dashboard.status_bar.render())

    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        await pilot.press("r")
        await async_wait_for(lambda: f"recording to {path} (r stops)" in notifications(app))
        redis_client.publish("rec.again", "one")
        redis_client.publish("rec.again", "two")
        await async_wait_for(lambda: "● REC 2" in header())
        await pilot.press("r")
        await async_wait_for(lambda: f"recorded 2 lines to {path}" in notifications(app))
        await pilot.press("r")
        await async_wait_for(lambda: f"appending to {path} (r stops)" in notifications(app))
        redis_client.publish("rec.again", "three")
        await async_wait_for(lambda: "● REC 3" in header())
        await pilot.press("r")
        said = f"recorded 1 line to {path} (3 in it from 2 recordings: 2 + 1)"
        await async_wait_for(lambda: said in notifications(app))
    assert [r["data"] for r in lines(path)] == ["one", "two", "three"]


async def test_view_says_recording_once_and_counts_one_message_in_the_singular(
    tmp_path: Path,
) -> None:
    """`rps-tui view FILE` as the CLI builds it: the header read 'recording FILE  recording
    ■ offline (1 messages …)  1 msgs'; now the file is named once, and one is one."""
    from rps_tui.cli import parse_command
    from rps_tui.cli.run import view_app

    path = tmp_path / "one.ndjson"
    path.write_text(
        '{"time":1700000000.5,"kind":"message","pattern":null,"channel":"one.ch",'
        '"data":"only","encoding":"utf-8"}\n'
    )
    app = view_app(parse_command(["view", str(path)]))
    async with app.run_test(size=SIZE):
        await async_wait_for(lambda: any("only" in line for line in pane_text(app)))
        app.dashboard.refresh_counts()
        status = str(app.dashboard.status_bar.render())
        assert status.replace(str(path), "FILE").count("recording") == 1, status
        assert f"recording {path}  ■ offline (1 message over 0.0 s)  1 msg" in status, status
        assert "msgs" not in status
        assert str(app.dashboard.pane.border_title).endswith("— 1 msg")


async def test_view_opens_a_damaged_recording_and_names_the_lines_it_skipped(
    tmp_path: Path,
) -> None:
    """rps-tui's own recording after a disk-full stop ends mid-line, and one line in the
    middle is damaged: the good lines open, the header counts the skipped ones, and a
    notification names each."""
    from rps_tui.cli import parse_command
    from rps_tui.cli.run import view_app

    good = [
        '{"time":1700000000.5,"kind":"message","pattern":null,"channel":"dm.ch",'
        f'"data":"m{i}","encoding":"utf-8"}}'
        for i in range(3)
    ]
    path = tmp_path / "damaged.ndjson"
    path.write_text(f'{good[0]}\n{{"time": NaN}}\n{good[1]}\n{good[2]}\n{good[0][:30]}')
    app = view_app(parse_command(["view", str(path)]))
    async with app.run_test(size=SIZE):
        await async_wait_for(lambda: sum("m" in line for line in pane_text(app)) >= 3)
        app.dashboard.refresh_counts()
        status = str(app.dashboard.status_bar.render())
        assert "■ offline (3 messages over 0.0 s, 2 lines skipped)" in status, status
        said = [n.message for n in app._notifications]
        assert f"{path}, line 2: field 'time' is not a time (nan: seconds since 1970 wanted): " \
            "skipped" in said  # fmt: skip
        assert f"{path}, line 5: cut off at the end of the file: skipped" in said


def test_view_of_records_that_are_all_bad_is_one_line_and_exit_1(tmp_path: Path) -> None:
    from tests.support.cli import one_line_error, run_cli

    for time_text in ("NaN", "1e400", "-1e18"):
        path = tmp_path / "bad-time.ndjson"
        path.write_text(
            f'{{"time": {time_text}, "kind": "message", "channel": "c", "data": "x", '
            '"encoding": "utf-8"}\n'
        )
        line = one_line_error(run_cli("view", str(path)), 1)
        assert line.startswith(f"rps-tui: {path}, line 1: field 'time' is not a time (")
