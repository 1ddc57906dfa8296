"""scripts/export_screenshots.py builds its apps the way the app's config takes them now.

The script takes a minute and a half and the suite does not run it, so a keyword the config no
longer accepts (it once still passed `engine=`) showed only when someone regenerated the
screenshots. Here each thing the script builds is built by the script's own functions and each
app is mounted headless until it shows its subscriptions: the demo dashboard on a real Valkey,
and the offline view on a small recording. Nothing is rendered to SVG; a few seconds in all.
"""

from __future__ import annotations

from pathlib import Path

from rps_tui.core.embedded.server import ServerProcess
from rps_tui.core.recording.format import dumps
from scripts import export_screenshots as script
from tests.support.app import active
from tests.support.wait import async_wait_for


async def test_the_demo_app_and_traffic_build_and_the_app_mounts(server_factory) -> None:
    server: ServerProcess = server_factory("valkey")  # what the script starts
    traffic = script.demo_traffic(server.url)  # built, not started: nothing is published
    assert traffic.url == server.url
    app = script.demo_app(server.url)
    async with app.run_test(size=script.SIZE):
        await active(app, *script.SUBS)
        assert app.dashboard.sub_list.subs == script.SUBS


async def test_the_view_app_builds_and_mounts_on_a_recording(tmp_path: Path) -> None:
    recording = tmp_path / "rps-tui-demo.ndjson"
    entries = [
        [b"pmessage", b"demo.orders.*", b"demo.orders.eu", b'{"id": "ord-1", "qty": 3}', 1.0],
        [b"pmessage", b"demo.orders.*", b"demo.orders.us", b'{"id": "ord-2", "qty": 1}', 2.0],
    ]
    recording.write_text("".join(dumps(entry) + "\n" for entry in entries))
    app = script.view_app(recording)
    engine = app.session.subscriber
    async with app.run_test(size=script.SIZE):
        # what the script waits for before its screenshot
        await async_wait_for(lambda: app.dashboard.sub_list.subs == engine.subscriptions)
        assert [s.name for s in engine.subscriptions] == ["demo.orders.*"]
        assert app.session.store.total == len(entries)


async def test_the_tabs_app_builds_and_mounts_every_tab(server_factory) -> None:
    first, second = server_factory("valkey"), server_factory("valkey")
    app = script.tabs_app(first.url, second.url)
    async with app.run_test(size=script.SIZE):
        await async_wait_for(lambda: all(d.is_mounted for d in app.dashboards))
        await active(app, *script.SUBS)
        assert [d.options.label for d in app.dashboards] == ["production", "staging", "analytics"]
