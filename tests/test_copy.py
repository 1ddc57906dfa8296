"""`y` / `Y`: what reaches the clipboard (Textual's copy_to_clipboard, i.e. OSC 52) from the
pane and the detail view, and what the notification says, for text, JSON, binary and
control characters; messages published to a real server."""

from __future__ import annotations

import json

import pytest

from rps_tui.core.payload.text import clipboard_text
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.detail import DetailScreen
from tests.support.app import SIZE, active, make_app
from tests.support.wait import async_wait_for

DOC = json.dumps({"id": 7, "note": "ünïcode", "lines": ["a", "b"]}, indent=2).encode()


@pytest.mark.parametrize(
    ("data", "text", "escaped"),
    [
        (b"plain", "plain", False),
        (DOC, DOC.decode(), False),  # line breaks kept: a document pastes back whole
        (b"a\r\nb\tc", "a\r\nb\tc", False),
        (b"\x1b[2Jhi", "\\e[2Jhi", True),  # a control sequence never reaches a paste
        (b"\xff\x00ab\\", "\\xff\\x00ab\\\\", True),  # not UTF-8: the escaped bytes shown
        (b"", "", False),
    ],
)
def test_clipboard_text(data: bytes, text: str, escaped: bool) -> None:
    assert clipboard_text(data) == (text, escaped)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_y_and_Y_copy_from_the_pane_and_the_detail_view(server, redis_client) -> None:
    sub = Subscription(Kind.PATTERN, "cp.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("cp.doc", DOC)
        redis_client.publish("cp.bin", b"\xff\xfe\x1b")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        await pilot.press("y")  # no cursor yet: the newest line, as Enter would open
        assert app.clipboard == "\\xff\\xfe\\x1b"
        assert notes(app)[-1] == (
            "copied the payload of cp.bin as escaped text (3 bytes of binary, 12 characters)"
        )
        await pilot.press("up", "y")
        assert app.clipboard == DOC.decode()
        assert notes(app)[-1] == f"copied the payload of cp.doc ({len(DOC)} bytes)"
        await pilot.press("Y")
        assert app.clipboard == "cp.doc"
        assert notes(app)[-1] == "copied the channel name cp.doc (6 bytes)"
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, DetailScreen))
        app.copy_to_clipboard("")
        await pilot.press("y")
        assert app.clipboard == DOC.decode()
        await pilot.press("Y")
        assert app.clipboard == "cp.doc"


async def test_text_with_controls_is_copied_escaped_and_says_so(server, redis_client) -> None:
    sub = Subscription(Kind.CHANNEL, "cp.ctl")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("cp.ctl", "title\x1b]0;pwned\x07 ok")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        await pilot.press("y")
        assert app.clipboard == "title\\e]0;pwned\\x07 ok"
        assert (
            "as escaped text" in notes(app)[-1] and "text with control characters" in notes(app)[-1]
        )
