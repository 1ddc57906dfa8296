"""`+`: one more server, in a tab of its own, while the dashboard runs.

The dialog takes a URL (`redis://host:6379`, `rediss://…`, `unix:///path`) or the name of
a profile in the config file; the command line's other options (TLS, user, password) apply
as they did at start, and so do its subscriptions (else the profile's, else the config
file's). The connection is checked off the UI thread, with the same one-line messages as
at start-up; a failure is said in the dialog and the text stays for another try.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

Connector = Callable[[str], object]
"""Text typed → what the app adds as a tab (an `app.Connection`); raises ValueError (a
usage error) or ConnectionError-like errors with one line each (the CLI's resolver)."""


class AddServerScreen(ModalScreen[object | None]):
    AUTO_FOCUS = "#add-server-url"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="add_server.cancel")]

    def __init__(self, connect: Connector) -> None:
        super().__init__()
        self.connect = connect

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Add a server (a tab of its own)", style="bold"))
            yield Input(
                placeholder="redis://host:6379, rediss://…, unix:///path, or a profile name",
                id="add-server-url",
                select_on_focus=False,
            )
            yield Label("", id="add-server-status")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._say("type a URL or the name of a profile", error=True)
            return
        event.input.disabled = True  # one attempt at a time; the text stays
        self._say(f"connecting to {text} …", error=False)
        self._attempt(text)

    @work(thread=True, exit_on_error=False)
    def _attempt(self, text: str) -> None:
        try:
            connection = self.connect(text)
        except Exception as exc:  # every failure is one line in the dialog, never a crash
            self.app.call_from_thread(self._failed, str(exc) or type(exc).__name__)
            return
        self.app.call_from_thread(self.dismiss, connection)

    def _failed(self, why: str) -> None:
        field = self.query_one("#add-server-url", Input)
        field.disabled = False
        field.focus()
        self._say(why, error=True)

    def _say(self, text: str, *, error: bool) -> None:
        self.query_one("#add-server-status", Label).update(
            Text(text, style="bold red" if error else "dim")
        )
