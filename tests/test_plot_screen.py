"""The plot screen (`g`): opened over the dashboard on a real server and over a recording
offline, its keys (w, v, e, Esc), the export and its error, what an idle plot costs, and
snapshots of both plots at 80x24 and 120x40 (a recording with fixed times: deterministic)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import redis

from rps_tui.core.recording.format import dumps
from rps_tui.core.session import Session
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import RpsApp, offline_config
from rps_tui.ui.plot_screen import FLAT_REDRAW, PlotScreen
from tests.support.app import SIZE, active, burst, make_app
from tests.support.recordings import SUBS, record_live
from tests.support.wait import async_wait_for

T0 = 1_764_237_600.0  # 2025-11-27 10:00:00 UTC
HOSTS = ("web-1", "web-2", "db-1")


def write_recording(path: Path, seconds: int = 150) -> int:
    """Fixed traffic on `m.*`: per second 1-3 JSON messages a host, cpu rising in a saw."""
    lines = 0
    with open(path, "w") as out:
        for s in range(seconds):
            for k, host in enumerate(HOSTS):
                for j in range(1 + (s + k) % 3):
                    when = T0 + s + j * 0.2 + k * 0.05
                    doc = {"cpu": 20 + 10 * k + (s % 10) + j, "ok": s % 2 == 0}
                    entry = [b"pmessage", b"m.*", f"m.{host}".encode(), json.dumps(doc).encode()]
                    out.write(dumps([*entry, when]) + "\n")
                    lines += 1
    return lines


def offline_app(path: Path) -> RpsApp:
    session = Session.from_recording(path)
    return RpsApp(offline_config(session, clock=lambda: T0 + 600))


async def open_plot(pilot) -> PlotScreen:
    app = pilot.app
    await async_wait_for(lambda: app.dashboard.selected is not None)
    await pilot.press("g")
    await async_wait_for(lambda: isinstance(app.screen, PlotScreen))
    await pilot.pause()
    return app.screen


async def test_throughput_and_values_of_a_live_subscription(
    server, redis_client: redis.Redis, tmp_path: Path, monkeypatch
) -> None:
    sub = Subscription(Kind.PATTERN, "live.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        plot = await open_plot(pilot)
        assert plot.sub == sub and "msg/s" in str(plot.title_bar.render())
        for i in range(10):
            redis_client.publish(f"live.{i % 2}", json.dumps({"v": i, "up": i % 3 == 0}))
        store = app.session.store
        # the dashboard goes on counting under the plot, and the plot reads the samples
        await async_wait_for(lambda: store.total == 10)
        await async_wait_for(lambda: sum(plot.throughput.total.values) == 10, timeout=10)
        assert {s.name for s in plot.shown()} == {"live.*", "live.0", "live.1"}
        assert sum(plot.throughput.channels[b"live.0"].values) == 5
        legend = str(plot.legend.render())
        assert "live.*" in legend and "max" in legend and "mean" in legend

        # w cycles the window: 1, 5, 15 minutes and back
        for minutes in (5, 15, 1):
            await pilot.press("w")
            assert plot.window == minutes * 60
            assert f"last {minutes} min" in str(plot.title_bar.render())

        # v asks for a field; an invalid one is one line and the text stays
        await pilot.press("v")
        await async_wait_for(lambda: plot.focused is plot.field)
        await pilot.press(*"json:v[", "enter")
        assert plot.field.value == "json:v[" and plot.values is None
        error = str(plot.error.render())
        assert error.startswith("json:") and "\n" not in error.strip()
        await pilot.press("escape")  # leaves the field, not the plot; v brings the text back
        assert app.screen is plot and not plot.field.has_class("-shown")
        await pilot.press("v")
        await async_wait_for(lambda: plot.focused is plot.field)
        assert plot.field.value == "json:v["
        plot.field.value = "json:up"
        await pilot.press("enter")
        assert plot.values is not None and plot.focused is None
        assert not plot.error.has_class("-shown")
        points = {s.name: list(s.values) for s in plot.values.series.values()}
        assert set(points) == {"live.0", "live.1"}
        assert all(v in (0.0, 1.0) for vs in points.values() for v in vs)  # booleans as 0/1

        # e writes the series drawn; the notification names the file
        monkeypatch.chdir(tmp_path)
        await pilot.press("e")
        (written,) = tmp_path.glob("rps-tui-plot-*.csv")
        with open(written, newline="") as f:
            rows = list(csv.DictReader(f))
        drawn = sum(len(s.window(plot._end() - plot.window)[0]) for s in plot.shown())
        assert len(rows) == drawn > 0 and {r["channel"] for r in rows} <= {"live.0", "live.1"}
        assert all(r["time"].endswith("Z") and float(r["value"]) in (0, 1) for r in rows)
        assert any(written.name in str(n.message) for n in app._notifications)

        # a write error is one line, and the plot stays
        gone = tmp_path / "gone"
        gone.mkdir()
        os.chdir(gone)
        gone.rmdir()
        await pilot.press("e")
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "\n" not in str(errors[-1].message)
        assert str(errors[-1].message).startswith("export failed")
        assert app.screen is plot
        monkeypatch.chdir(tmp_path)

        # t goes back to msg/s; Esc closes and the dashboard has counted all along
        await pilot.press("t")
        assert plot.values is None
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_a_field_typed_in_one_burst_after_v_goes_into_the_field(
    server, redis_client: redis.Redis, tmp_path: Path, monkeypatch
) -> None:
    """`v` then `number` and Enter, faster than the screen refreshes: every letter lands in
    the field (none is taken as a key of the plot: `e` would export, `w` change the window),
    because `v` focuses the field at once, not after the next refresh."""
    monkeypatch.chdir(tmp_path)
    sub = Subscription(Kind.PATTERN, "burst.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("burst.a", "1.5")
        await async_wait_for(lambda: app.session.store.appended(sub) == 1)
        plot = await open_plot(pilot)
        window = plot.window
        burst(app, "v", *"number", "enter")
        await async_wait_for(lambda: plot.values is not None)
        assert plot.field_text == "number"
        assert plot.window == window
        assert not list(tmp_path.glob("rps-tui-*.csv"))  # the e of number exported nothing


async def test_while_the_reader_catches_up_the_plot_reads_every_third_second(server) -> None:
    """As the dashboard's counts: the reader needs the time more than the plot."""
    sub = Subscription(Kind.PATTERN, "busy.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        plot = await open_plot(pilot)
        reads = []
        update = plot.throughput.update
        plot.throughput.update = lambda store: reads.append(1) or update(store)
        plot.catching_up.busy = lambda: True
        for _ in range(6):
            plot.refresh_data()
        assert len(reads) == 2
        plot.catching_up.busy = lambda: False
        plot.refresh_data()
        plot.refresh_data()
        assert len(reads) == 4


async def test_an_idle_plot_does_not_draw_again(server) -> None:
    sub = Subscription(Kind.CHANNEL, "idle.plot")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        plot = await open_plot(pilot)
        now = [plot.clock()]  # the plot's clock, held still: its axis moves only on purpose
        plot.clock = lambda: now[0]
        store = app.session.store

        async def next_sample() -> None:
            seen = store.samples
            await async_wait_for(lambda: store.samples > seen, timeout=10)
            plot.refresh_data()

        await next_sample()
        drawn = plot.draws
        for _ in range(3):  # more samples, all zero: the picture is the same
            await next_sample()
        assert plot.draws == drawn
        app.dashboard.refresh_counts()  # the dashboard underneath repaints: not the plot
        await pilot.pause()
        assert plot.draws == drawn
        now[0] += FLAT_REDRAW  # ... until its time axis is due to move on
        await next_sample()
        assert plot.draws == drawn + 1


async def test_a_recording_plots_on_its_own_timeline(server, tmp_path: Path) -> None:
    path = tmp_path / "live.ndjson"
    store = record_live(server.url, path, pause=0.3)
    app = RpsApp(offline_config(Session.from_recording(path)))
    async with app.run_test(size=SIZE) as pilot:
        plot = await open_plot(pilot)
        assert plot.offline and "recording" in str(plot.title_bar.render())
        state = store.subs[plot.sub]
        assert sum(plot.throughput.total.values) == state.total
        last = max(e[-1] for e in app.session.store.subs[plot.sub].buffer)
        assert plot._end() == last  # the x axis ends at the recording's last message
        assert plot.sub in SUBS


async def test_offline_values_from_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "m.ndjson"
    total = write_recording(path, seconds=30)
    app = offline_app(path)
    async with app.run_test(size=SIZE) as pilot:
        plot = await open_plot(pilot)
        assert sum(plot.throughput.total.values) == total
        assert plot.throughput.total.times[0] == T0
        await pilot.press("v")
        await async_wait_for(lambda: plot.focused is plot.field)
        await pilot.press(*"json:cpu", "enter")
        values = plot.values
        assert values is not None and values.read == total
        assert values.extracted == 30 * len(HOSTS)  # one per channel per second
        assert values.sampled and "sampled" in str(plot.title_bar.render())
        web1 = values.series[b"m.web-1"]
        assert int(web1.times[0]) == T0 and len(web1.values) == 30


def snapshot_run(field: str | None):
    async def run_before(pilot) -> None:
        plot = await open_plot(pilot)
        if field:
            await pilot.press("v")
            await async_wait_for(lambda: plot.focused is plot.field)
            plot.field.cursor_blink = False
            await pilot.press(*field, "enter")
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("field", [None, "json:cpu"], ids=["throughput", "values"])
def test_plot_snapshots(snap_compare, tmp_path: Path, size, field, monkeypatch) -> None:
    # the CPU alarm counts the whole process's time: with other threads busy it could
    # stop json:cpu on a slow machine, and this picture is about the look
    monkeypatch.setattr("rps_tui.core.payload.query.TIME_LIMIT", 5.0)
    path = tmp_path / "m.ndjson"
    write_recording(path)
    assert snap_compare(offline_app(path), terminal_size=size, run_before=snapshot_run(field))
