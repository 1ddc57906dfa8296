"""The keyspace-notifications helper: what the server publishes, and the switch to change it.

The server's `notify-keyspace-events` is shared by every client, so it is only changed
after an explicit confirmation that names the old and the new value, never silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from rps_tui.core.payload import keyspace
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.ui.keymap import keys_of


class Confirm(ModalScreen[bool]):
    """Yes or no, with the question spelled out."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    #confirm { width: 76; height: auto; border: thick $warning; background: $surface;
               padding: 1 2; }
    #confirm Horizontal { height: auto; margin: 1 0 0 0; }
    #confirm Button { margin: 0 2 0 0; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            with Horizontal():
                key = keys_of(self)
                yield Button(
                    f"Yes, change it ({key('confirm.yes')})", variant="warning", id="confirm-yes"
                )
                yield Button(f"No ({key('confirm.no')})", id="confirm-no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class KeyspaceScreen(ModalScreen[None]):
    """Shows `notify-keyspace-events`, offers to enable what is missing (with confirmation),
    and subscribes to the keyspace and keyevent patterns of the current database."""

    DEFAULT_CSS = """
    KeyspaceScreen { align: center middle; }
    #keyspace { width: 90; height: auto; max-height: 90%; border: thick $accent;
                background: $surface; padding: 1 2; }
    #keyspace Horizontal { height: auto; margin: 1 0 0 0; }
    #keyspace Button { margin: 0 2 0 0; }
    #keyspace-status { margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="keyspace.close"),
        Binding(
            "e",
            "enable",
            "Enable",
            id="keyspace.enable",
            tooltip=f"Enable notify-keyspace-events {keyspace.SUGGESTED} (asks first)",
        ),
        Binding(
            "s",
            "subscribe_both",
            "Subscribe",
            id="keyspace.subscribe",
            tooltip="Subscribe to the keyspace and keyevent patterns of this database",
        ),
    ]

    def __init__(
        self,
        db: int,
        read_flags: Callable[[], Awaitable[str]],
        write_flags: Callable[[str], Awaitable[None]],
        subscribe: Callable[[Subscription], None],
    ) -> None:
        super().__init__()
        self.db = db
        self.read_flags = read_flags
        self.write_flags = write_flags
        self.subscribe = subscribe
        self.flags: str | None = None  # None: not read (yet, or refused)
        self.loaded = False

    def compose(self) -> ComposeResult:
        space, event = keyspace.channels(self.db)
        with Vertical(id="keyspace"):
            yield Label(Text("Keyspace notifications", style="bold"))
            yield Static("Reading notify-keyspace-events…", id="keyspace-flags")
            with Horizontal():
                key = keys_of(self)
                enable = Button("", variant="warning", id="keyspace-enable", disabled=True)
                enable.display = False  # until the setting is read: see _show
                yield enable
                yield Button(
                    f"Subscribe to both ({key('keyspace.subscribe')})",
                    variant="primary",
                    id="keyspace-both",
                )
            yield Static(
                Text.assemble(
                    ("Subscribes to ", "dim"),
                    (space, "cyan"),
                    (" (key → event) and ", "dim"),
                    (event, "cyan"),
                    (
                        " (event → key). On a cluster each primary publishes the events "
                        "of its own keys: rps-tui listens on every primary.",
                        "dim",
                    ),
                ),
                id="keyspace-status",
            )

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="keyspace", exit_on_error=False)
    async def _load(self) -> None:
        try:
            self.flags = await self.read_flags()
        except Exception as exc:
            self.flags = None
            self._show(Text(f"Could not read notify-keyspace-events: {exc}", style="bold red"))
        else:
            self._show(None)
        self.loaded = True

    def _show(self, problem: Text | None) -> None:
        text = Text()
        if problem is not None:
            text.append_text(problem)
        else:
            flags = self.flags or ""
            text.append("notify-keyspace-events = ")
            text.append(repr(flags), "bold")
            text.append("\n")
            for line in keyspace.describe(flags):
                text.append(f"  {line}\n", "dim")
            if keyspace.publishes_anything(flags):
                text.append("The server publishes notifications.", "green")
            else:
                text.append(
                    "With this setting the server publishes no notifications: enable "
                    f"{keyspace.SUGGESTED} (every event, both channel kinds) to see them.",
                    "yellow",
                )
        self.query_one("#keyspace-flags", Static).update(text)
        button = self.query_one("#keyspace-enable", Button)
        adds = self._adds()
        button.disabled, button.display = not adds, bool(adds)
        if adds:
            button.label = f"Enable {adds} ({keys_of(self)('keyspace.enable')})"
        self.refresh_bindings()

    def _adds(self) -> str:
        """The flags that enabling would add ('KEA' to an empty setting, 'EA' to 'Kx'), ''
        when it would change nothing ('AKE' already has them) or the setting is unknown:
        then neither the button nor the key offers it."""
        if self.flags is None:
            return ""
        return keyspace.merged(self.flags)[len(self.flags) :]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No `e Enable` in the footer when enabling would change nothing."""
        return bool(self._adds()) if action == "enable" else True

    @on(Button.Pressed, "#keyspace-enable")
    def action_enable(self) -> None:
        if self.flags is None or not self._adds():
            return
        new = keyspace.merged(self.flags)
        question = Text.assemble(
            ("Change the server's configuration?\n\n", "bold"),
            "CONFIG SET notify-keyspace-events ",
            (repr(new), "bold"),
            f"\n(now {self.flags!r})\n\n",
            (
                "This applies to every client of the server (every node of a cluster), "
                "and the server then spends a little work on every write to publish it.",
                "dim",
            ),
        )
        self.app.push_screen(Confirm(question), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self._write(keyspace.merged(self.flags or ""))

    @work(exclusive=True, group="keyspace", exit_on_error=False)
    async def _write(self, flags: str) -> None:
        try:
            await self.write_flags(flags)
            self.flags = await self.read_flags()
        except Exception as exc:
            self._show(Text(f"The server refused: {exc}", style="bold red"))
            return
        self._show(None)
        self.notify(f"notify-keyspace-events is now {self.flags!r}", markup=False)

    @on(Button.Pressed, "#keyspace-both")
    def action_subscribe_both(self) -> None:
        for pattern in keyspace.channels(self.db):
            self.subscribe(Subscription(Kind.PATTERN, pattern))
        self.dismiss()
