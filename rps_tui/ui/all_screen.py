"""The all view: every server's selected subscription in one pane, in receive-time order,
each line tagged with its server's label in a colour of its own.

It is one more tab (after the servers') and works as a pane does: the cursor, Enter for
the detail view (of that server's message, `d` diffing against the previous one on that
channel), `/` filter, `m` decoder, `p` pause, `y`/`Y` copy; `i` asks which server to
publish to and opens its tab with the publish box; `r` records every server to one file,
each line naming its server (`SeveralSessions`, core/session.py). What it shows follows each
tab: select another subscription in a server's tab and the all view shows that one. It
draws only while shown; its lines are the servers' own entries (`merged_model`).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, Static

from rps_tui.core.entry import Entry
from rps_tui.core.payload.text import safe_text
from rps_tui.core.subscriber.base import State
from rps_tui.ui.detail import DetailScreen, previous_on_channel
from rps_tui.ui.filter_bar import FilterBar, FilterChanged
from rps_tui.ui.key_bar import KeyBar
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.merged_model import MergedModel, Source
from rps_tui.ui.message_pane import MessagePane
from rps_tui.ui.recording import RecordingControl
from rps_tui.ui.status_bar import STATE_STYLE
from rps_tui.ui.tab_bar import Tab, TabBar

COLOURS = ("cyan", "magenta", "yellow", "green", "blue", "red", "bright_cyan", "bright_magenta")
LABEL_WIDTH = 12  # the label column (longer labels are shortened from the left)

ALL_BINDINGS = [
    Binding("i", "publish", "Publish", id="all.publish", tooltip="Publish: asks to which server"),
    Binding("p", "pause", "Pause", id="all.pause", tooltip="Pause or resume the all view"),
    Binding("slash", "filter", "Filter", id="all.filter", tooltip="Filter the all view"),
    Binding("m", "next_decoder", "Decoder", id="all.decoder", tooltip="Next decoder"),
    Binding(
        "r",
        "record",
        "Record",
        id="all.record",
        tooltip="Start or stop recording every server to one NDJSON file (lines name servers)",
    ),
    Binding("c", "clear", "Clear", show=False, id="all.clear", tooltip="Clear the view only"),
    Binding("escape", "leave", "Back", show=False, id="all.leave", tooltip="Leave the filter"),
]


def label_cell(label: str, colour: str) -> Text:
    shown = safe_text(label)
    if len(shown) > LABEL_WIDTH:
        shown = "…" + shown[len(shown) - LABEL_WIDTH + 1 :]
    cell = Text()  # no base style: it would colour the whole line it starts
    cell.append(f"{shown:<{LABEL_WIDTH}}", colour)
    cell.append(" ")
    return cell


class MergedPane(MessagePane):
    """A message pane whose lines come from several servers: each starts with its label."""

    model: MergedModel | None

    def prefix(self, entry: Entry) -> Text | None:
        model = self.model
        if model is None:
            return None
        at = model.origin.get(id(entry), 0)
        return label_cell(model.sources[at].label, COLOURS[at % len(COLOURS)])

    def open_detail(self, entry: Entry) -> None:
        """The detail view of that server's message, diffed against the previous one of
        the same server on the channel."""
        model = self.model
        if model is None:
            return
        at = model.origin.get(id(entry))
        same = [e for e in model.lines if model.origin.get(id(e)) == at]
        previous = previous_on_channel(same, entry)
        self.app.push_screen(
            DetailScreen(entry, model.sub_of(entry), decoder=model.decoder, previous=previous),
            lambda decoder: decoder and self.set_decoder(model, decoder),
        )

    def clear(self) -> None:
        """The view only: the servers' histories stay (their tabs show them)."""
        if self.model is not None:
            self.model.clear()
            self.show(self.model)


class WhichServer(ModalScreen[int | None]):
    """`i` in the all view: the server to publish to (its tab opens, with the publish box
    focused). Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="which.cancel")]
    AUTO_FOCUS = "#which-server"

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Publish to which server?", style="bold"))
            yield OptionList(*[safe_text(label) for label in self.labels], id="which-server")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)


class AllScreen(Screen[None]):
    BINDINGS = ALL_BINDINGS

    def __init__(
        self,
        sources: list[Source],
        states: Callable[[], list[Tab]],
        tabs: Callable[[], list[Tab]],
        index: Callable[[], int],
        history: int,
        recording: RecordingControl,
    ) -> None:
        super().__init__()
        self.model = MergedModel.of(sources, history)
        self.recording = recording  # the app's: it records whether this is shown or not
        self.states = states  # each server's tab: label, state, rate
        self.tabs = tabs
        self.index = index  # where the all view stands in the tab line
        self.shown_total = -1

    def compose(self) -> ComposeResult:
        self.tab_bar = TabBar(self.tabs, 0, id="tabs")
        self.header = Static(id="status")
        self.filter_input = FilterBar(id="filter")
        first = self.model.sources[0].store
        self.pane = MergedPane(first, id="all-pane")
        yield self.tab_bar
        yield self.header
        yield self.filter_input
        yield self.pane
        yield KeyBar()

    def on_mount(self) -> None:
        self.filter_input.display = False
        self.pane.show(self.model)
        self.set_interval(1 / 10, self.refresh_view, name="all")
        self.set_interval(1.0, self._trim, name="all-trim")
        self.pane.focus()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """New lines of every server (only while shown: hidden, it keeps what it had)."""
        if not self.is_current:
            return
        if self.model.pull():
            self.pane.sync()
        self.pane.titles = self.model.titles(None, keys_of(self))
        self.tab_bar.current = self.index()
        self.tab_bar.draw()
        self._header()

    def _trim(self) -> None:
        if self.model.trim():
            self.pane.sync()

    def _header(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" rps-tui ", "bold reverse")
        text.append("  all servers", "bold")
        lines = self.recording.lines
        if lines is not None:  # before the servers: on a narrow screen, what is lost shows
            text.append(f"  ● REC {lines:,}", "bold red")
            recorder = self.recording.session.recorder
            if recorder is not None and recorder.dropped:
                text.append(f" · {recorder.dropped:,} not recorded", "bold red")
        for n, tab in enumerate(self.states()):
            icon, style = STATE_STYLE[tab.state]
            text.append("  ")
            text.append(safe_text(tab.label), COLOURS[n % len(COLOURS)])
            text.append(f" {icon}", style)
            if tab.state is not State.CONNECTED:
                text.append(f" {tab.state.value}", style)
        self.header.update(text)

    # -- the pane's actions ----------------------------------------------------------------
    def action_publish(self) -> None:
        self.app.push_screen(WhichServer([s.label for s in self.model.sources]), self._publish_on)

    async def _publish_on(self, index: int | None) -> None:
        if index is not None:
            await self.app.publish_on(index)  # type: ignore[attr-defined]

    def action_record(self) -> None:
        self.recording.toggle()
        self._header()

    def action_pause(self) -> None:
        self.pane.toggle_pause()

    def action_next_decoder(self) -> None:
        self.pane.next_decoder()

    def action_clear(self) -> None:
        self.pane.clear()

    def action_filter(self) -> None:
        self.filter_input.display = True
        self.filter_input.focus()

    def action_leave(self) -> None:
        if self.focused is self.filter_input:
            self.filter_input.clear_and_hide()
        self.pane.focus()

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self.filter_input.show_error(self.pane.set_filter(event.text))

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.filter_input.display = bool(self.model.filter)
        self.pane.focus()
