"""The detail view: one message whole, read with a decoder, and what changed since the last.

JSON objects and arrays are a folding tree (`json_tree.py`) that opens as fast for a 16 MiB
document as for a small one; a value too long for its row is shown whole, wrapped, under the
tree. Text keeps its line breaks (everything else escaped) and wraps; binary is a hex dump.
`d` shows a unified diff against the previous message on the same channel, read with the
same decoder; `m` switches the decoder, and the one in use when the view closes is its
result, so the caller can keep it for the subscription.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Label, Static

from rps_tui.core.entry import Entry, Gap, channel_of, payload_of, time_of
from rps_tui.core.payload.decoders import (
    DECODERS,
    DETAIL_INFLATE_LIMIT,
    DIFF_MAX_LINES,
    SHOW_LIMIT,
    Decoded,
    decode,
    diff_lines,
    next_decoder,
    pretty,
)
from rps_tui.core.payload.text import Formatted, PayloadKind, safe_name, safe_text
from rps_tui.core.subscriptions import Subscription
from rps_tui.core.units import human_bytes, plural
from rps_tui.ui.clipboard import copy_channel, copy_payload
from rps_tui.ui.json_tree import JsonTree, JsonView, is_container
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.render import clock_text

DIFF_SHOW_LINES = 5000
"""Lines of a diff drawn; the rest are counted."""

_json_highlighter = JSONHighlighter()


# -- the screen -------------------------------------------------------------------------------


def previous_on_channel(lines: Sequence[Entry], entry: Entry) -> Entry | None:
    """The message before `entry` on the same channel in `lines` (a pane's entries), or None.

    Entries are matched by identity; gap markers are skipped. Both scans are bounded by
    `len(lines)`, which the pane's history bounds.
    """
    index = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] is entry), None)
    if index is None or channel_of(entry) is None:
        return None
    channel = channel_of(entry)
    for i in range(index - 1, -1, -1):
        earlier = lines[i]
        if channel_of(earlier) == channel and not isinstance(payload_of(earlier), Gap):
            return earlier
    return None


def diff_text(lines: list[str], cut: bool, show: int = DIFF_SHOW_LINES) -> Text:
    """A unified diff, coloured: removed lines red, added green, hunk headers cyan. At most
    `show` lines are drawn (a Static lays out all of its text)."""
    out = Text(end="")
    for line in lines[:show]:
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append(line + "\n", style)
    if len(lines) > show:
        out.append(f"… {plural(len(lines) - show, 'more line')} of diff not shown\n", "dim italic")
    if cut:
        out.append(
            f"(only the first {DIFF_MAX_LINES:,} lines of each were compared)\n", "dim italic"
        )
    return out


def compare(entry: Entry, previous: Entry | None, decoder: str) -> Text:
    """The diff view's text: `entry` against `previous`, both read with `decoder`.

    Pure and thread-safe: the screen runs it in a thread, as two 16 MiB documents take
    a second or two to render and compare.
    """
    if channel_of(entry) is None or isinstance(payload_of(entry), Gap):
        return Text("A gap marker has no diff.", style="italic", end="")
    if previous is None or channel_of(previous) is None or isinstance(payload_of(previous), Gap):
        return Text("No previous message on this channel.", style="italic", end="")
    before = pretty(decode(payload_of(previous), decoder, limit=DETAIL_INFLATE_LIMIT))
    after = pretty(decode(payload_of(entry), decoder, limit=DETAIL_INFLATE_LIMIT))
    lines, cut = diff_lines(before.text, after.text)
    when = clock_text(time_of(previous))
    if not lines:
        said = (
            f"No difference from the previous message on this channel ({when}) in the "
            f"first {DIFF_MAX_LINES:,} lines."
            if cut
            else f"Identical to the previous message on this channel ({when})."
        )
        return Text(said, style="italic", end="")
    out = Text(f"Against the previous message on this channel, {when}:\n", "dim", end="")
    out.append_text(diff_text(lines, cut))
    return out


class DetailScreen(ModalScreen[str]):
    """One message, whole: a folding JSON tree, text with its line breaks, or a hex dump;
    `m` changes the decoder, `d` shows the diff against the previous message on the channel.
    Dismissed with the decoder in use, so the caller can keep it for the subscription."""

    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    #detail {
        width: 90%; height: 85%; border: thick $accent; background: $surface; padding: 0 1;
    }
    #detail-error { color: $error; text-style: bold; height: auto; }
    #detail-switch { height: 1fr; }
    #detail-body, #detail-diff { height: 1fr; }
    #detail-text { height: 1fr; }
    #detail-keys { height: auto; width: 100%; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="detail.close", tooltip="Close the detail view"),
        Binding("enter", "close", "Close", show=False, id="detail.close_enter"),
        Binding("q", "close", "Close", show=False, id="detail.close_q"),
        Binding(
            "m",
            "next_decoder",
            "Decoder",
            id="detail.decoder",
            tooltip="Read the payload with the next decoder: " + ", ".join(DECODERS),
        ),
        Binding(
            "d",
            "toggle_diff",
            "Diff",
            id="detail.diff",
            tooltip="Show or hide the diff against the previous message on this channel",
        ),
        Binding(
            "y",
            "copy",
            "Copy",
            id="detail.copy",
            tooltip="Copy the payload to the clipboard (as received, whatever the decoder)",
        ),
        Binding(
            "Y",
            "copy_channel",
            "Copy channel",
            show=False,
            id="detail.copy_channel",
            tooltip="Copy the channel name to the clipboard",
        ),
    ]

    def __init__(
        self,
        entry: Entry,
        subscription: Subscription,
        *,
        decoder: str = "auto",
        previous: Entry | None = None,
    ) -> None:
        super().__init__()
        self.entry = entry
        self.subscription = subscription
        self.decoder = decoder if decoder in DECODERS else "auto"
        self.previous = previous
        self._diffing = False  # the diff is shown instead of the message
        self.decoded: Decoded | None = None
        self.shown: Formatted | None = None
        self._decode()

    # -- what is shown ---------------------------------------------------------------------
    @property
    def is_gap(self) -> bool:
        return channel_of(self.entry) is None or isinstance(payload_of(self.entry), Gap)

    def _decode(self) -> None:
        if self.is_gap:
            self.decoded = self.shown = None
            return
        self.decoded = decode(payload_of(self.entry), self.decoder, limit=DETAIL_INFLATE_LIMIT)
        tree = self.decoded.kind is PayloadKind.JSON and is_container(self.decoded.value)
        self.shown = None if tree else pretty(self.decoded)  # a tree needs no text

    def _head(self) -> Text:
        channel, data, ts = channel_of(self.entry), payload_of(self.entry), time_of(self.entry)
        head = Text(end="")
        head.append(clock_text(ts), "dim")
        if self.decoded is None:
            head.append("  gap marker", "bold yellow")
            return head
        decoded = self.decoded
        head.append("  ")
        head.append(safe_name(channel), "bold cyan")
        head.append(f"  via {safe_text(self.subscription.title)}", "dim")
        head.append(f"  {decoded.kind.value}, {human_bytes(len(data))}", "magenta")
        head.append(f"  decoder {self.decoder}", "bold")
        if decoded.tag and decoded.tag != self.decoder:
            head.append(f" ({decoded.tag})", "dim")
        if decoded.truncated and any(s in ("gzip", "zlib") for s in decoded.steps):
            limit = human_bytes(DETAIL_INFLATE_LIMIT)
            head.append(f"  (truncated: decompressed output stops at {limit})", "bold yellow")
        elif self.shown is not None and self.shown.truncated:
            head.append(f"  (cut: showing the first {SHOW_LIMIT >> 20} MiB)", "bold yellow")
        return head

    def _body(self) -> Widget:
        decoded = self.decoded
        if decoded is None:
            data = payload_of(self.entry)
            text = safe_text(data.describe()) if isinstance(data, Gap) else ""
            return VerticalScroll(Static(Text(text)), id="detail-text")
        if self.shown is None:  # a JSON object or array: the folding tree
            return JsonView(decoded.value, id="detail-json")
        body = Text(self.shown.text, end="")
        if self.shown.kind is PayloadKind.JSON and not decoded.error:
            _json_highlighter.highlight(body)
        return VerticalScroll(Static(body), id="detail-text")

    def _keys(self) -> Text:
        keys = Text("decoder ", style="dim", end="")
        for name in DECODERS:
            keys.append(f" {name} ", "reverse bold" if name == self.decoder else "dim")
        key = keys_of(self)
        decoder, diff, close = key("detail.decoder"), key("detail.diff"), key("detail.close")
        if self._diffing:
            hints = f"{decoder} next · {diff} message · {close} closes"
        elif self.decoded is not None and self.shown is None:  # the tree (Enter: its own key)
            hints = f"{decoder} next · {diff} diff · Enter folds · {close} closes"
        else:
            hints = f"{decoder} next · {diff} diff · {close} closes"
        keys.append("   " + hints, "dim")
        return keys

    # -- layout and keys -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Label(self._head(), id="detail-head")
            yield Label(Text(self._error(), end=""), id="detail-error")
            with ContentSwitcher(initial="detail-body", id="detail-switch"):
                with Vertical(id="detail-body"):
                    yield self._body()
                with VerticalScroll(id="detail-diff"):
                    yield Static(id="detail-diff-text")
            yield Label(self._keys(), id="detail-keys")

    def _error(self) -> str:
        error = self.decoded.error if self.decoded else ""
        return f"✗ {error}; the raw bytes follow, escaped" if error else ""

    def on_mount(self) -> None:
        self.query_one("#detail-error").display = bool(self._error())
        self._focus_body()

    def _focus_body(self) -> None:
        if self._diffing:
            self.set_focus(self.query_one("#detail-diff"))
        else:
            body = self.query_one("#detail-body").children[0]
            self.set_focus(body.query_one(JsonTree) if isinstance(body, JsonView) else body)

    @property
    def diff_shown(self) -> bool:
        """The diff is shown instead of the message (`d` toggles)."""
        return self._diffing

    async def action_next_decoder(self) -> None:
        self.decoder = next_decoder(self.decoder)
        self._decode()
        self.query_one("#detail-head", Label).update(self._head())
        error = self.query_one("#detail-error", Label)
        error.update(Text(self._error(), end=""))
        error.display = bool(self._error())
        self.query_one("#detail-keys", Label).update(self._keys())
        if self.diff_shown:
            self._compare()
        body = self.query_one("#detail-body")
        await body.remove_children()
        await body.mount(self._body())
        self._focus_body()

    def action_toggle_diff(self) -> None:
        switcher = self.query_one("#detail-switch", ContentSwitcher)
        self._diffing = not self._diffing
        if self._diffing:
            switcher.current = "detail-diff"
            self._compare()
        else:
            switcher.current = "detail-body"
        self.query_one("#detail-keys", Label).update(self._keys())
        self._focus_body()

    def _compare(self) -> None:
        self.query_one("#detail-diff-text", Static).update(
            Text("Comparing with the previous message…", style="dim italic", end="")
        )
        self._compare_in_thread(self.decoder)

    @work(thread=True, exclusive=True, group="detail-diff", exit_on_error=False)
    def _compare_in_thread(self, decoder: str) -> None:
        text = compare(self.entry, self.previous, decoder)
        with contextlib.suppress(RuntimeError):  # the app has exited meanwhile
            self.app.call_from_thread(self._show_diff, text, decoder)

    def _show_diff(self, text: Text, decoder: str) -> None:
        if decoder == self.decoder and self.is_attached:  # not stale, not closed
            self.query_one("#detail-diff-text", Static).update(text)

    def action_copy(self) -> None:
        copy_payload(self.app, self.entry)

    def action_copy_channel(self) -> None:
        copy_channel(self.app, self.entry)

    def action_close(self) -> None:
        self.dismiss(self.decoder)
