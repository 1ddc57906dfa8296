"""Decoders in the pane and the detail view (folding JSON, hex dump, diff), driven through
Textual's pilot with messages published to a real server."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import zlib

import msgpack
import pytest
import redis
from textual.widgets import Input

from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Entry
from rps_tui.core.payload.decoders import DECODERS
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.detail import DetailScreen, previous_on_channel
from rps_tui.ui.json_tree import PAGE, JsonTree
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.screen import screen_problems
from tests.support.wait import async_wait_for

ORDER = {"id": "ord-7", "qty": 3, "tags": ["a", "b"], "price": 19.5}
COMPACT = json.dumps(ORDER, separators=(",", ":"))


def detail_head(app: RpsApp) -> str:
    return str(app.screen.query_one("#detail-head").render())


def detail_body(app: RpsApp) -> str:
    return str(app.screen.query_one("#detail-body Static").render())


def diff_now(app: RpsApp) -> str:
    return str(app.screen.query_one("#detail-diff-text").render())


async def diff_shown(app: RpsApp) -> str:
    """The diff view's text once the comparison (a thread) has finished."""
    await async_wait_for(lambda: not diff_now(app).startswith("Comparing"))
    return diff_now(app)


async def open_detail(
    app: RpsApp,
    entry: Entry,
    sub: Subscription,
    *,
    decoder: str = "auto",
    with_previous: bool = False,
) -> list[str | None]:
    """Open the detail view as the lead's app will (decoder and previous message passed);
    returns a list that receives the decoder the view is closed with."""
    results: list[str | None] = []
    model = app.dashboard.pane.model
    assert model is not None
    previous = previous_on_channel(model.lines, entry) if with_previous else None
    app.push_screen(DetailScreen(entry, sub, decoder=decoder, previous=previous), results.append)
    await async_wait_for(
        lambda: isinstance(app.screen, DetailScreen) and app.screen.query("#detail-keys")
    )
    await asyncio.sleep(0.05)  # its on_mount (focus) runs after the children are there
    return results


async def test_pane_lines_follow_the_decoder_of_the_subscription(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "dt.codec.*")
    app = make_app(server.url, sub)
    encoded = {
        "msgpack": msgpack.packb(ORDER),
        "gzip": gzip.compress(json.dumps(ORDER).encode()),
        "zlib": zlib.compress(json.dumps(ORDER).encode()),
        "base64": base64.b64encode(json.dumps(ORDER).encode()),
    }
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for name, payload in encoded.items():
            redis_client.publish(f"dt.codec.{name}", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == len(encoded))
        await pilot.pause(0.1)
        model = app.dashboard.pane.model
        auto = pane_text(app)
        assert any(f"dt.codec.gzip  gzip  {COMPACT}" in line for line in auto), auto
        assert any("dt.codec.msgpack  bin " in line for line in auto), auto  # not guessed
        for name in encoded:
            model.decoder = name
            app.dashboard.pane.refresh()
            lines = pane_text(app)
            assert any(f"dt.codec.{name}  {name}  {COMPACT}" in ln for ln in lines), (name, lines)
            others = [ln for ln in lines if "dt.codec." in ln and f"dt.codec.{name} " not in ln]
            # the others are not in that format: a one-line reason, never a traceback
            assert any(f"{name}  ✗ not valid {name}" in ln for ln in others), (name, others)


async def test_detail_view_decodes_and_cycles_the_decoder(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "dt.cycle")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        packed = msgpack.packb(ORDER)
        redis_client.publish("dt.cycle", packed)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        results = await open_detail(app, app.dashboard.pane.model.lines[0], sub)
        assert "binary" in detail_head(app) and "decoder auto" in detail_head(app)
        assert detail_body(app).startswith("00000000  84 a2 69 64")  # a hex dump
        for _ in range(4):  # auto -> text -> json -> hex -> msgpack
            await pilot.press("m")
        await pilot.pause()
        assert app.screen.decoder == "msgpack"
        assert f"json, {len(packed)} B  decoder msgpack" in detail_head(app)
        tree = app.screen.query_one("#detail-tree", JsonTree)
        labels = [node.label.plain for node in tree.root.children]
        assert labels == ['"id": "ord-7"', '"qty": 3', '"tags": [2 items]', '"price": 19.5']
        assert all(node.is_expanded for node in tree.root.children if node.allow_expand)
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)
        assert results == ["msgpack"]  # for the lead to keep on the subscription


@pytest.mark.parametrize(
    ("decoder", "encode"),
    [
        ("gzip", lambda b: gzip.compress(b)),
        ("zlib", lambda b: zlib.compress(b)),
        ("base64", lambda b: base64.b64encode(b)),
        ("auto", lambda b: gzip.compress(b)),  # auto recognises gzip
    ],
)
async def test_detail_view_with_the_subscription_decoder(
    server, redis_client, decoder, encode
) -> None:
    sub = Subscription(Kind.CHANNEL, f"dt.sub.{decoder}")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish(sub.name, encode(json.dumps(ORDER).encode()))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await open_detail(app, app.dashboard.pane.model.lines[0], sub, decoder=decoder)
        await pilot.pause()
        head = detail_head(app)
        assert f"decoder {decoder}" in head and "json," in head
        tree = app.screen.query_one("#detail-tree", JsonTree)
        assert tree.root.children[0].label.plain == '"id": "ord-7"'
        await pilot.press("q")
        await async_wait_for(lambda: app.screen is app.dashboard)


async def test_a_corrupt_gzip_shows_one_line_of_reason(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "dt.corrupt")
    app = make_app(server.url, sub)
    corrupt = gzip.compress(json.dumps(ORDER).encode())
    corrupt = corrupt[:12] + b"\x1b[2J\xff" + corrupt[17:]
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("dt.corrupt", corrupt)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        app.dashboard.pane.model.decoder = "gzip"
        app.dashboard.pane.refresh()
        await pilot.pause(0.1)
        line = next(t for t in pane_text(app) if t.strip())
        assert "gzip  ✗ not valid gzip: " in line and "\\x1f\\x8b\\x08" in line, line
        await open_detail(app, app.dashboard.pane.model.lines[0], sub, decoder="gzip")
        await pilot.pause()
        error = str(app.screen.query_one("#detail-error").render())
        assert error.startswith("✗ not valid gzip: ") and "\n" not in error
        assert "raw bytes follow" in error
        body = detail_body(app)
        assert body.startswith("\\x1f\\x8b\\x08") and "\\e[2J" in body and "\x1b" not in body
        assert "Traceback" not in body + error
        await pilot.press("enter")  # Enter closes when there is no tree to fold
        await async_wait_for(lambda: app.screen is app.dashboard)


async def test_a_large_json_document_folds_and_unfolds(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "dt.big")
    app = make_app(server.url, sub)
    items = [{"i": i, "name": f"item {i}", "tags": ["x", "y"]} for i in range(2000)]
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("dt.big", json.dumps(items))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await pilot.press("enter")  # through the app, as a user opens it
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()
        tree = app.screen.query_one("#detail-tree", JsonTree)
        assert app.focused is tree
        root = tree.root
        assert root.is_expanded and root.label.plain == "[2,000 items]"
        rows = root.children
        assert len(rows) == PAGE + 1  # one page, then a "more" row
        assert rows[-1].label.plain == f"… {2000 - PAGE:,} more: Enter shows the next {PAGE}"
        assert all(not row.is_expanded and not row.children for row in rows[:-1])  # folded
        assert rows[0].label.plain == "0: {3 keys}"

        await pilot.press("down", "enter")  # the first item unfolds, its children made now
        await async_wait_for(lambda: rows[0].is_expanded and len(rows[0].children) == 3)
        assert [c.label.plain for c in rows[0].children] == [
            '"i": 0',
            '"name": "item 0"',
            '"tags": [2 items]',
        ]
        assert isinstance(app.screen, DetailScreen)  # Enter folded, it did not close
        await pilot.press("enter")
        await async_wait_for(lambda: not rows[0].is_expanded)

        tree.move_cursor(rows[-1])  # the "more" row: the next page
        await pilot.press("enter")
        await async_wait_for(lambda: len(root.children) == 2 * PAGE + 1)
        assert root.children[PAGE].label.plain == f"{PAGE}: {{3 keys}}"
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)


async def test_diff_against_the_previous_message_on_the_channel(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "dt.diff.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("dt.diff.a", json.dumps(ORDER))
        redis_client.publish("dt.diff.b", json.dumps({**ORDER, "qty": 99}))  # other channel
        redis_client.publish("dt.diff.a", json.dumps({**ORDER, "qty": 4}))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        lines = app.dashboard.pane.model.lines
        assert previous_on_channel(lines, lines[2]) is lines[0]
        assert previous_on_channel(lines, lines[0]) is None

        await open_detail(app, lines[2], sub, with_previous=True)
        await pilot.press("d")
        diff = await diff_shown(app)
        assert '-  "qty": 3,' in diff and '+  "qty": 4,' in diff, diff
        # the other channel's message is not the previous one ("99" alone also matched the
        # diff header's receive time, 03:13:02.990, and failed a run)
        assert '"qty": 99' not in diff
        assert "--- previous" in diff and "+++ this" in diff
        await pilot.press("d")  # back to the message
        await pilot.pause()
        assert app.screen.query_one("#detail-switch").current == "detail-body"
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)

        await open_detail(app, lines[0], sub, with_previous=True)
        await pilot.press("d")
        assert await diff_shown(app) == "No previous message on this channel."
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)

        redis_client.publish("dt.diff.a", json.dumps({**ORDER, "qty": 4}))  # the same again
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 4)
        await open_detail(app, lines[3], sub, with_previous=True)
        await pilot.press("d")
        assert (await diff_shown(app)).startswith("Identical to the previous message")
        await pilot.press("escape")
        await async_wait_for(lambda: app.screen is app.dashboard)

        await open_detail(app, lines[2], sub, decoder="text", with_previous=True)
        await pilot.press("d")
        assert '-{"id": "ord-7", "qty": 3,' in await diff_shown(app)  # the raw lines
        await pilot.press("m")  # text -> json: the diff follows the decoder
        await async_wait_for(lambda: app.screen.decoder == "json")
        await async_wait_for(lambda: '-  "qty": 3,' in diff_now(app))


async def test_a_binary_payload_shows_a_hex_dump(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "dt.bin")
    app = make_app(server.url, sub)
    payload = bytes(range(32)) + b"\xff\x1b[2J"
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("dt.bin", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert "binary, 37 B" in detail_head(app)
        assert detail_body(app).split("\n") == [
            "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  ................",
            "00000010  10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f  ................",
            "00000020  ff 1b 5b 32 4a                                   ..[2J",
        ]
        await pilot.press("enter")
        await async_wait_for(lambda: app.screen is app.dashboard)


HOSTILE_DOC = {
    "\u202eevil": "\x1b]52;c;aGFja2Vk\x07 [bold]x[/bold]",
    "bad": ["\ud800", "\x00\x7f\x9b", "\u2028\u200b\ufeff"],
}
HOSTILE_PAYLOADS = [
    json.dumps(HOSTILE_DOC).encode(),
    gzip.compress(json.dumps(HOSTILE_DOC, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    msgpack.packb({"k\x1b[2J": b"\x1b[31m", "\u202e": "\x07\x1b[?1049h"}),
    base64.b64encode(b"\x1b]0;owned\x07\xff\xfe"),
    b"\x1b[2J\x1b[H\x9b\xc2\x9b\xff line\nbreak\r",
]


async def test_no_raw_control_character_in_the_detail_view_whatever_the_decoder(
    server, redis_client
) -> None:
    if server.kind != "valkey":
        pytest.skip("what is drawn does not depend on the server kind")
    sub = Subscription(Kind.CHANNEL, "dt.hostile")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for payload in HOSTILE_PAYLOADS:
            redis_client.publish("dt.hostile", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == len(HOSTILE_PAYLOADS))
        found: dict[tuple[int, str, str], list[str]] = {}
        lines = app.dashboard.pane.model.lines
        for n, entry in enumerate(lines):
            await open_detail(app, entry, sub, with_previous=True)
            for name in DECODERS:
                for view in ("body", "diff") if name == "auto" else ("body",):
                    if view == "diff":
                        await pilot.press("d")
                        await diff_shown(app)
                    await pilot.pause()
                    bad = screen_problems(app)
                    if bad:
                        found[(n, app.screen.decoder, view)] = bad
                    if view == "diff":
                        await pilot.press("d")
                await pilot.press("m")
            assert app.screen.decoder == "auto"  # all the way round
            await pilot.press("escape")
            await async_wait_for(lambda: app.screen is app.dashboard)
            model = app.dashboard.pane.model
            for name in DECODERS:  # and the pane, with each decoder
                model.decoder = name
                app.dashboard.pane.refresh()
                await pilot.pause()
                bad = screen_problems(app)
                if bad:
                    found[(n, name, "pane")] = bad
            model.decoder = "auto"
        assert found == {}


def test_detail_bindings_have_ids_and_tooltips() -> None:
    ids = {b.id: b for b in DetailScreen.BINDINGS}
    assert {"detail.close", "detail.decoder", "detail.diff"} <= set(ids)
    assert all(i.startswith("detail.") for i in ids)
    assert ids["detail.decoder"].tooltip and ids["detail.diff"].tooltip


# -- snapshot ---------------------------------------------------------------------------------

FROZEN = 1_764_237_600.25  # as tests/test_snapshots.py
SNAP_SIZE = (140, 40)
SNAP_SUB = Subscription(Kind.CHANNEL, "shop.orders")


def folded_document() -> bytes:
    """An order with a small customer (opens) and 300 lines (too many: starts folded)."""
    return json.dumps(
        {
            "id": "ord-0042",
            "customer": {"name": "Ada", "tier": "gold", "since": 2019},
            "lines": [{"sku": f"KB-{i:03d}", "qty": i % 3 + 1} for i in range(300)],
            "totals": {"net": 1234.5, "vat": 246.9, "paid": True, "coupon": None},
            "note": "[bold]not markup[/bold] \x1b[31m",
        }
    ).encode()


def test_detail_view_with_a_folded_document(snap_compare, server_factory) -> None:
    srv = server_factory("valkey")
    app = RpsApp(
        AppConfig(
            settings=parse_url(srv.url),
            subscriptions=[SNAP_SUB],
            server_label="Valkey 9 (test)",
            clock=lambda: FROZEN,
            monitor=False,
            address_label="127.0.0.1:6379/0",
        )
    )

    async def run_before(pilot) -> None:
        for widget in app.query(Input):
            widget.cursor_blink = False
        await active(app, SNAP_SUB)
        client = redis.Redis.from_url(srv.url)
        client.publish(SNAP_SUB.name, folded_document())
        client.close()
        await async_wait_for(lambda: app.session.store.total == 1)
        await pilot.pause(1.2)  # one counts tick
        app.dashboard.refresh_counts()
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAP_SIZE, run_before=run_before)


async def test_a_long_value_wraps_instead_of_running_off_the_edge(server, redis_client) -> None:
    """A 5 KB string in a JSON tree row is cut at the edge and → does not scroll sideways;
    with the cursor on it, the panel under the tree shows it whole, wrapped. As plain text
    the same 5 KB wraps too."""
    sub = Subscription(Kind.CHANNEL, "dt.long")
    app = make_app(server.url, sub)
    words = " ".join(f"w{i}" for i in range(1200))  # ~5.8 KB
    async with app.run_test(size=(80, 24)) as pilot:
        await active(app, sub)
        redis_client.publish("dt.long", json.dumps({"id": 7, "note": words}))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()
        tree = app.screen.query_one("#detail-tree", JsonTree)
        panel = app.screen.query_one("#json-value")
        assert app.focused is tree and not panel.display  # the root row fits
        await pilot.press("down")  # "id": 7 fits too
        assert not panel.display
        await pilot.press("down", "right", "right")
        assert panel.display and tree.scroll_offset.x == 0
        shown = str(app.screen.query_one("#json-value-text").render())
        assert shown.startswith('"note": (') and shown.endswith("w1199")
        text = app.screen.query_one("#json-value-text")
        assert text.size.width <= panel.size.width and text.virtual_size.height > 10
        await pilot.press("up")
        assert not panel.display
        await pilot.press("escape")
        redis_client.publish("dt.long", words)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        await pilot.press("end", "enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()
        body = app.screen.query_one("#detail-text")
        static = body.query_one("Static")
        assert static.size.width <= body.size.width and static.size.height > 10
        assert body.max_scroll_x == 0
