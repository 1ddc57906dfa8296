"""A multi-line editor for the publish box's message (Textual's `TextArea`), which says
whether the text is JSON without insisting: a plain-text message is as publishable.

F5 publishes (Ctrl+Enter rarely reaches a terminal app, and Ctrl+P is the command
palette); Esc closes and keeps the text in the box, so nothing typed is lost (Ctrl+Z in
the editor undoes, and the box's history has what was sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from rps_tui.core.payload.text import safe_text
from rps_tui.ui.bindings import EDITOR_BINDINGS
from rps_tui.ui.keymap import keys_of


def json_status(text: str) -> tuple[bool, str]:
    """(is JSON, what the status line says): 'valid JSON' or 'not JSON: line L col C:
    reason' (a message need not be JSON: this only informs)."""
    if not text.strip():
        return False, "empty"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return False, f"not JSON: line {exc.lineno} col {exc.colno}: {exc.msg}"
    return True, "valid JSON"


def highlighting() -> str | None:
    """'json' when Textual can highlight it (tree-sitter installed), else plain text."""
    try:
        from textual._tree_sitter import TREE_SITTER
    except ImportError:
        return None
    return "json" if TREE_SITTER and "json" in TextArea().available_languages else None


@dataclass(frozen=True)
class Edited:
    """What the editor closed with: the text, and whether to publish it."""

    text: str
    action: Literal["publish", "keep"]


class MessageEditor(ModalScreen[Edited]):
    """The message in a `TextArea`; closes with `Edited` (never None: Esc keeps)."""

    DEFAULT_CSS = """
    MessageEditor { align: center middle; }
    #editor {
        width: 100%; max-width: 110; height: 100%; max-height: 36;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #editor-title { text-style: bold; }
    #editor-text { height: 1fr; }
    #editor-status { height: auto; width: 100%; }
    #editor-status.valid { color: $success; }
    #editor-status.invalid { color: $warning; }
    #editor-hint { color: $text-muted; }
    """
    AUTO_FOCUS = "#editor-text"
    BINDINGS = EDITOR_BINDINGS

    def __init__(self, text: str, channel: str, verb: str = "PUBLISH") -> None:
        super().__init__()
        self.text, self.channel, self.verb = text, channel, verb
        self.valid = False

    def compose(self) -> ComposeResult:
        key = keys_of(self)
        with Vertical(id="editor"):
            yield Label(
                Text.assemble(
                    ("Edit the message", "bold"),
                    (f"   {self.verb} ", "dim"),
                    (safe_text(self.channel) or "(no channel yet)", "bold cyan"),
                ),
                id="editor-title",
            )
            area = TextArea(
                self.text,
                language=highlighting(),
                soft_wrap=True,
                show_line_numbers=True,
                tab_behavior="indent",
                id="editor-text",
            )
            yield area
            yield Label("", id="editor-status")
            yield Label(
                f"{key('editor.publish')} publishes · {key('editor.keep')} keeps it in the box, "
                "unsent · Ctrl+Z undoes",
                id="editor-hint",
            )

    def on_mount(self) -> None:
        self._check()
        self.query_one("#editor-text", TextArea).move_cursor((0, 0))

    @on(TextArea.Changed, "#editor-text")
    def _check(self) -> None:
        text = self.query_one("#editor-text", TextArea).text
        self.valid, said = json_status(text)
        lines = text.count("\n") + 1
        status = self.query_one("#editor-status", Label)
        status.update(Text(f"{lines:,} line{'s' if lines != 1 else ''} · {said}"))
        status.set_class(self.valid, "valid")
        status.set_class(not self.valid and bool(text.strip()), "invalid")

    def action_close(self, action: Literal["publish", "keep"]) -> None:
        self.dismiss(Edited(self.query_one("#editor-text", TextArea).text, action))
