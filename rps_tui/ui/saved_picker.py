"""The publish box's saved messages: a dialog that names the message to save, and a picker
that narrows the saved ones as you type and loads one into the box (`core.saved` holds the
file; these only ask)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from rps_tui.core.payload.text import safe_text
from rps_tui.core.saved import SavedError, SavedFile, SavedMessage
from rps_tui.ui.keymap import keys_of

DIALOG_CSS = """
SaveScreen, SavedPicker { align: center middle; }
.saved-dialog {
    width: 76; max-width: 95%; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 0 1;
}
.saved-dialog .title { text-style: bold; margin: 0 0 1 0; }
.saved-dialog .hint { color: $text-muted; }
.saved-dialog Label { width: 100%; }
.saved-dialog .status { height: auto; }
.saved-dialog .status.error { color: $error; }
.saved-dialog .status.warning { color: $warning; }
#saved-list { height: auto; max-height: 14; min-height: 3; }
"""


def first_line(message: str, width: int = 60) -> str:
    """A message in one line for a list: its lines joined (a JSON document reads as
    `{ "id": 1 }`, not `{`), cut, with the line count."""
    lines = message.split("\n")
    shown = safe_text(" ".join(part.strip() for part in lines if part.strip()))
    if len(shown) > width:
        shown = shown[: width - 1] + "…"
    return shown + (f"  ({len(lines)} lines)" if len(lines) > 1 else "")


def describe(channel: str, message: str, sharded: bool) -> Text:
    """What a saved message sends, in two lines: never markup, escaped."""
    verb = "SPUBLISH" if sharded else "PUBLISH"
    return Text.assemble(
        (f"{verb} ", "dim"),
        (safe_text(channel), "bold cyan"),
        "\n",
        (first_line(message) or "(empty message)", "italic" if message else "dim"),
    )


class SaveScreen(ModalScreen[str | None]):
    """Ask the name to save the box's channel + message under; Enter saves (a name that
    exists is replaced only on a second Enter), Esc cancels. Dismissed with the name."""

    DEFAULT_CSS = DIALOG_CSS
    AUTO_FOCUS = "#saved-name"
    BINDINGS = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="saved.cancel",
            tooltip="Close the save or repeat dialog: nothing saved or started",
        )
    ]

    def __init__(self, saved: SavedFile, entry: SavedMessage, names: set[str]) -> None:
        super().__init__()
        self.saved = saved
        self.entry = entry  # its name is the proposal
        self.names = names  # those in the file when the dialog opened
        self._replace: str | None = None  # the name the user was asked to replace

    def compose(self) -> ComposeResult:
        entry, key = self.entry, keys_of(self)
        with Vertical(classes="saved-dialog"):
            yield Label("Save this message", classes="title")
            yield Label(describe(entry.channel, entry.message, entry.sharded))
            yield Input(
                entry.name,
                placeholder="a name for it (any text)",
                id="saved-name",
                select_on_focus=False,
            )
            yield Label("", id="saved-status", classes="status")
            yield Label(
                Text(
                    f"Enter saves · {key('saved.cancel')} cancels · in {self.saved.path.name}, "
                    "beside the config",
                    overflow="fold",
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        # the proposal selected: typing replaces it (not select_on_focus: see
        # PublishBox.compose; the Focus event may land after the first keys)
        self.query_one("#saved-name", Input).select_all()

    def _status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#saved-status", Label)
        status.update(Text(text))  # never markup: it quotes the name and the path
        status.set_class(kind == "error", "error")
        status.set_class(kind == "warning", "warning")

    @on(Input.Changed, "#saved-name")
    def _changed(self) -> None:
        self._replace = None
        self._status("")

    @on(Input.Submitted, "#saved-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value
        if not name.strip():
            self._status("a name, please: any text", "error")
            return
        if name in self.names and self._replace != name:
            self._replace = name
            self._status(f"{name!r} is saved already: Enter again replaces it", "warning")
            return
        entry = SavedMessage(name, self.entry.channel, self.entry.message, self.entry.sharded)
        try:
            self.saved.save(entry, replace=self._replace == name)
        except SavedError as exc:
            self._status(f"not saved: {exc}", "error")
            return
        self.dismiss(name)


def matches(query: str, entry: SavedMessage) -> bool:
    """Every word of the query is in the name or the channel, case-insensitive."""
    hay = f"{entry.name}\n{entry.channel}".casefold()
    return all(word in hay for word in query.casefold().split())


class SavedPicker(ModalScreen[SavedMessage | None]):
    """The saved messages, narrowed as you type (each word in the name or the channel); ↑ ↓
    move, Enter loads the highlighted one, Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS
    AUTO_FOCUS = "#saved-filter"
    BINDINGS = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="saved.close",
            tooltip="Close the saved messages: the box as it was",
        ),
        Binding(
            "down",
            "move(1)",
            "Next",
            show=False,
            id="saved.next",
            tooltip="The next saved message (the focus stays in the field)",
        ),
        Binding(
            "up",
            "move(-1)",
            "Previous",
            show=False,
            id="saved.previous",
            tooltip="The saved message before",
        ),
    ]

    def __init__(self, entries: list[SavedMessage], where: str) -> None:
        super().__init__()
        self.entries = entries
        self.where = where  # the file's name, for the hint
        self.shown: list[SavedMessage] = []

    def compose(self) -> ComposeResult:
        key = keys_of(self)
        with Vertical(classes="saved-dialog"):
            yield Label(f"Saved messages ({len(self.entries)})", classes="title")
            yield Input(
                placeholder="type to narrow (name or channel)",
                id="saved-filter",
                select_on_focus=False,
            )
            yield OptionList(id="saved-list")
            yield Label("", id="saved-status", classes="status")
            yield Label(
                f"{key('saved.previous')} {key('saved.next')} · Enter loads · "
                f"{key('saved.close')} cancels · from {self.where}",
                classes="hint",
            )

    def on_mount(self) -> None:
        self._narrow("")

    @on(Input.Changed, "#saved-filter")
    def _typed(self, event: Input.Changed) -> None:
        self._narrow(event.value)

    def _narrow(self, query: str) -> None:
        self.shown = [e for e in self.entries if matches(query, e)]
        options = self.query_one("#saved-list", OptionList)
        options.clear_options()
        options.add_options(
            Option(
                Text.assemble(
                    (safe_text(e.name), "bold"),
                    ("  → ", "dim"),
                    (safe_text(e.channel), "cyan"),
                    ("  (sharded)" if e.sharded else "", "dim"),
                    "\n  ",
                    (first_line(e.message) or "(empty message)", "dim"),
                ),
                id=str(i),
            )
            for i, e in enumerate(self.shown)
        )
        if self.shown:
            options.highlighted = 0
        if not self.entries:
            note = f"None saved yet: {keys_of(self)('publish.save')} in the publish box saves one."
        elif not self.shown:
            note = f"Nothing matches {query!r}."
        else:
            note = ""
        status = self.query_one("#saved-status", Label)
        status.update(Text(note))
        status.display = bool(note)

    def action_move(self, step: int) -> None:
        options = self.query_one("#saved-list", OptionList)
        if options.option_count:
            now = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, now + step))

    @on(Input.Submitted, "#saved-filter")
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.query_one("#saved-list", OptionList).highlighted
        if index is not None and index < len(self.shown):
            self.dismiss(self.shown[index])

    @on(OptionList.OptionSelected, "#saved-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shown[int(event.option.id or 0)])
