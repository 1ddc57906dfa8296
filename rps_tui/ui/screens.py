"""Modal screens: the subscribe dialog, the message detail view and the help screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from rps_tui.core.payload.text import safe_name
from rps_tui.core.subscriptions import InvalidSubscription, Kind, Subscription
from rps_tui.ui.keymap import keys_of

Lister = Callable[[], Awaitable[tuple[list[Subscription], str]]]


class SubscribeScreen(ModalScreen[Subscription | None]):
    """Type a channel or glob, or pick one of the server's active (or sharded) channels.

    The dialog opens at once, with the name field focused, and lists the active channels
    when the server has answered: keys typed right after `s` go into the name, never to
    the screen behind (where `x` would unsubscribe).
    """

    AUTO_FOCUS = "#subscribe-name"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="subscribe.cancel"),
        Binding("down", "pick", "Pick an active channel", show=False, id="subscribe.pick"),
    ]

    def __init__(
        self,
        lister: Lister | None = None,
        message: str = "",
        subscribed: Callable[[], list[Subscription]] = list,
    ) -> None:
        super().__init__()
        self.lister = lister
        self.subscribed = subscribed  # marked "✓ subscribed" in the list, as the browser does
        self.active: list[Subscription] = []
        self.message = message
        self.loaded = False  # the active channels are listed (or could not be)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Subscribe", style="bold"))
            yield Label(Text(self.message, style="italic"), id="subscribe-note")
            with Horizontal(id="subscribe-row"):
                yield Input(
                    placeholder="channel name or glob (e.g. orders.*)",
                    id="subscribe-name",
                    select_on_focus=False,  # see PublishBox.compose
                )
                yield Select(
                    [
                        ("auto", "auto"),
                        ("channel", Kind.CHANNEL.value),
                        ("pattern", Kind.PATTERN.value),
                        ("sharded", Kind.SHARD.value),
                    ],
                    value="auto",
                    allow_blank=False,
                    id="subscribe-kind",
                )
            yield Label("", id="subscribe-error")
            yield Label(Text("Listing the active channels…", style="dim"), id="subscribe-listed")
            yield OptionList(id="subscribe-active")

    def on_mount(self) -> None:
        self.query_one("#subscribe-note").display = bool(self.message)
        self.query_one("#subscribe-active", OptionList).display = False
        self.run_worker(self._list(), exclusive=True)

    async def _list(self) -> None:
        active, note = await self.lister() if self.lister else ([], "")
        if not self.is_attached:  # dismissed while the server was asked
            return
        if note:
            self.message = note
            self.query_one("#subscribe-note", Label).update(Text(note, style="italic"))
            self.query_one("#subscribe-note").display = True
        self.active = active
        options = self.query_one("#subscribe-active", OptionList)
        mine = set(self.subscribed())
        options.add_options(
            Option(_option_text(sub, sub in mine), id=f"{i}") for i, sub in enumerate(active[:1000])
        )
        options.display = bool(active)
        label = f"Active channels on the server ({len(active)}): Enter subscribes"
        self.query_one("#subscribe-listed", Label).update(
            Text(label if active else "No active channels on the server.", style="dim")
        )
        self.loaded = True

    def action_pick(self) -> None:
        options = self.query_one("#subscribe-active", OptionList)
        if options.option_count and not options.has_focus:
            options.focus()
            if options.highlighted is None:
                options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        kind = self.query_one("#subscribe-kind", Select).value
        try:
            sub = Subscription.parse(event.value, None if kind == "auto" else str(kind))
        except InvalidSubscription as exc:
            self.query_one("#subscribe-error", Label).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(sub)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.active[int(event.option.id or 0)])


def _option_text(sub: Subscription, subscribed: bool = False) -> Text:
    text = Text(safe_name(sub.key))
    if sub.kind is Kind.SHARD:
        text.append("  (sharded)", style="dim")
    if subscribed:
        text.append("  ✓ subscribed", style="green")
    return text


class HelpScreen(ModalScreen[None]):
    """Every key, grouped by where it works (`bindings.help_sections`: drawn from the binding
    tables and the keymap, so a rebound key shows here too). One scrolling column whose
    descriptions wrap, so it reads at 80x24 as at 120x40; ↑ ↓ PgUp PgDn scroll it."""

    AUTO_FOCUS = "#help-scroll"
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("q", "dismiss", "Close", show=False, id="help.close_q"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close_help"),
    ]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        width = max((len(key) for _, rows in self.sections for key, _ in rows), default=4)
        parts: list[RenderableType] = []
        for title, rows in self.sections:  # a table each, with one key width: aligned
            table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
            table.add_column(style="bold cyan", no_wrap=True, width=min(width, 14))
            table.add_column(ratio=1, overflow="fold")
            for key, description in rows:
                table.add_row(Text(key), Text(description))
            parts += [Text(title, style="bold underline"), table, Text("")]
        with Vertical(id="help"):
            yield Static(
                Text.assemble(
                    ("rps-tui — keys", "bold"),
                    (f"   ↑ ↓ PgUp PgDn scroll · {keys_of(self)('help.close')} closes", "dim"),
                ),
                id="help-title",
            )
            with VerticalScroll(id="help-scroll"):
                yield Static(Group(*parts[:-1]))
            yield Static(
                Text(
                    "msgs count deliveries (a message two subscriptions match counts for each); "
                    "msg/s is, everywhere, the messages of the last 5 s divided by 5. Every "
                    "number is drawn from one snapshot a second, so they agree. Counts are "
                    "exact even when the pane is paused, filtered or cleared.",
                    style="dim",
                ),
                id="help-note",
            )
