"""`y` and `Y`: the payload or the channel name of a message, to the clipboard.

Through Textual's `copy_to_clipboard`, which sends OSC 52: the terminal puts the text on
the system clipboard, over SSH too. Some terminals need it allowed (tmux: `set -g
set-clipboard on`), and some cut long copies; the notification says what was sent.
Text that could act on a terminal is copied as the escaped text shown (see
`core.payload.text.clipboard_text`), and the notification says so.
"""

from __future__ import annotations

from textual.app import App

from rps_tui.core.entry import Entry, channel_of, is_gap, payload_of
from rps_tui.core.payload.text import clipboard_text, safe_name
from rps_tui.core.units import plural

LARGE = 100_000  # characters; xterm and others refuse or cut longer OSC 52 copies


def copy_payload(app: App, entry: Entry) -> None:
    if _gap(app, entry, "payload"):
        return
    data = payload_of(entry)
    text, escaped = clipboard_text(data)
    what = f"the payload of {safe_name(channel_of(entry))}"
    if escaped:
        kind = "binary" if _binary(data) else "text with control characters"
        note = f"{what} as escaped text ({plural(len(data), 'byte')} of {kind}, "
        note += f"{plural(len(text), 'character')})"
    else:
        note = f"{what} ({plural(len(data), 'byte')})"
    _copy(app, text, note)


def copy_channel(app: App, entry: Entry) -> None:
    if _gap(app, entry, "channel"):
        return
    name = channel_of(entry)
    text, escaped = clipboard_text(name)
    how = " as escaped text" if escaped else ""
    _copy(app, text, f"the channel name {safe_name(name)}{how} ({plural(len(name), 'byte')})")


def _gap(app: App, entry: Entry, what: str) -> bool:
    if is_gap(entry):
        app.notify(f"a gap marker has no {what} to copy", severity="warning", markup=False)
    return is_gap(entry)


def _binary(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _copy(app: App, text: str, note: str) -> None:
    app.copy_to_clipboard(text)
    large = " (large: some terminals cut a copy this long)" if len(text) > LARGE else ""
    app.notify(f"copied {note}{large}", markup=False, timeout=4)
