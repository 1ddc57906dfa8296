"""Publish from the keyboard: a channel field, a message field, and the server's reply; the
box's saved messages (`saved_picker`), repeat (`repeat`) and editor (`message_editor`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Label

from rps_tui.core.connection.commands import CommandError, Commands
from rps_tui.core.saved import SavedError, SavedFile, SavedMessage
from rps_tui.core.templates import Template, TemplateError
from rps_tui.core.units import plural
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.messages import RepeatChanged
from rps_tui.ui.repeat import Repeater, RepeatScreen
from rps_tui.ui.saved_picker import SavedPicker, SaveScreen

if TYPE_CHECKING:
    from rps_tui.ui.message_editor import Edited

NEWLINE_MARK = "⏎"
"""How a line break of a pasted message shows in the one-line field (sent as a line break)."""
RESULT_SECONDS = 8.0  # a publish result stays this long (or until the next edit)


class ChannelInput(Input):
    """The channel field: Enter (or Tab) goes on to the message field."""


class MessageInput(Input):
    """The message field, with Up/Down recalling earlier messages like a shell.

    A pasted text with line breaks is kept whole: the field shows each break as `⏎` and
    `message` turns them back into line breaks (an Input is one line; Textual's own paste
    keeps only the first line, which published a JSON document as `{`)."""

    BINDINGS = [
        Binding(
            "up",
            "history(-1)",
            "Earlier",
            show=False,
            id="publish.history_back",
            tooltip="In the message field: the message published before (history)",
        ),
        Binding(
            "down",
            "history(1)",
            "Later",
            show=False,
            id="publish.history_forward",
            tooltip="In the message field: the next one in history, then what you typed",
        ),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._pos = 0
        self._draft = ""

    @property
    def message(self) -> str:
        """What Enter publishes: the field, with pasted line breaks restored."""
        return self.value.replace(NEWLINE_MARK, "\n") if self.multiline else self.value

    @property
    def multiline(self) -> bool:
        return NEWLINE_MARK in self.value

    def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            return  # Input's own handler (Textual calls it after this one)
        event.prevent_default()  # ... but not for this: it would add the first line again
        shown = text.replace("\n", NEWLINE_MARK)
        if self.selection.is_empty:
            self.insert_text_at_cursor(shown)
        else:
            self.replace(shown, *self.selection)
        event.stop()

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.value
        self._pos = min(len(self.history), max(0, self._pos + step))
        self.value = self._draft if self._pos == len(self.history) else self.history[self._pos]
        self.cursor_position = len(self.value)


class PublishBox(Horizontal):
    """Enter sends the message with the session's command client, and shows the reply."""

    BINDINGS = [
        Binding(
            "ctrl+t",
            "toggle_sharded",
            "PUBLISH/SPUBLISH",
            id="publish.sharded",
            tooltip="Switch between PUBLISH and SPUBLISH (sharded, Redis 7+)",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="publish.save",
            tooltip="Save the channel and message under a name (saved-messages.toml)",
        ),
        Binding(
            "ctrl+o",
            "open",
            "Open",
            id="publish.open",
            tooltip="Load a saved message into the box (type to narrow)",
        ),
        Binding(
            "ctrl+r",
            "repeat",
            "Repeat",
            id="publish.repeat",
            tooltip="Publish the message every N seconds with {{n}} {{time}} filled in, "
            "or stop the repeat",
        ),
        Binding(
            "ctrl+e",
            "edit",
            "Editor",
            priority=True,  # over the field's own Ctrl+E (End still goes to the end)
            id="publish.edit",
            tooltip="Edit the message in a multi-line editor that checks JSON",
        ),
    ]

    sharded: reactive[bool] = reactive(False)

    def __init__(
        self, commands: Commands, saved: SavedFile, *, cluster: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.commands = commands  # the session's command client: it sends
        self.saved = saved
        self.cluster = cluster
        self._result_timer: Timer | None = None
        self._name = ""  # of the saved message loaded last: the name a save proposes
        self._seconds = "1"  # the repeat's interval, as typed last
        self.repeater = Repeater(
            lambda channel, message, sharded: commands.publish(channel, message, sharded=sharded),
            self.set_interval,
            self.run_worker,
            changed=lambda: self.post_message(RepeatChanged()),
            stopped=lambda reason: self.show_result(reason, error=True),
            stop_key=lambda: keys_of(self)("repeat"),  # the dashboard's: from anywhere
        )

    def compose(self) -> ComposeResult:
        key = keys_of(self)  # Enter is the input's own key, not one a keymap rebinds
        yield Label("PUBLISH", id="publish-verb")
        # select_on_focus off: the Focus event lands after keys typed straight after `i`,
        # and selecting then would let the next key replace what was typed
        yield ChannelInput(placeholder="channel", id="publish-channel", select_on_focus=False)
        yield MessageInput(
            placeholder=f"message — Enter publishes, {key('publish.history_back')}/"
            f"{key('publish.history_forward')} history",
            id="publish-message",
            select_on_focus=False,
        )
        yield Label("", id="publish-result")

    @property
    def channel_input(self) -> Input:
        return self.query_one("#publish-channel", Input)

    @property
    def message_input(self) -> MessageInput:
        return self.query_one("#publish-message", MessageInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input is self.channel_input:
            self.screen.set_focus(self.message_input)  # at once: see RpsApp._focus_now
            return
        self.publish_now()

    def publish_now(self) -> None:
        """Publish the message as typed (no templates: those are the repeat's)."""
        channel = self._channel()
        if channel:
            self.run_worker(self._send(channel, self.message_input.message, self.sharded))

    def _channel(self) -> str:
        """The channel field's value; empty: say so and go there."""
        channel = self.channel_input.value
        if not channel:
            self.show_result("no channel: type one in the channel field first", error=True)
            self.screen.set_focus(self.channel_input)
        return channel

    async def _send(self, channel: str, message: str, sharded: bool) -> None:
        try:
            receivers = await self.commands.publish(channel, message, sharded=sharded)
        except CommandError as exc:
            self.show_result(f"not sent: {exc}", error=True)  # the typed text stays
            return
        # a cluster node counts only its own receivers of a PUBLISH (SPUBLISH: the shard's)
        self.published(receivers, on_node=self.cluster and not sharded)

    def watch_sharded(self, sharded: bool) -> None:
        self.query_one("#publish-verb", Label).update("SPUBLISH" if sharded else "PUBLISH")

    def action_toggle_sharded(self) -> None:
        self.sharded = not self.sharded

    def show_result(self, text: str, *, error: bool = False) -> None:
        """A short result next to the fields, gone after `RESULT_SECONDS` or the next edit (a
        stale "✓ 0 receivers" next to a new message misleads). An error is also a
        notification, whole: the label has room for a few words only."""
        label = self.query_one("#publish-result", Label)
        label.update(Text(text))  # never markup: the text may quote a channel
        label.set_class(error, "error")
        if error:
            self.notify(text, severity="error", markup=False, timeout=10)
        if self._result_timer is not None:
            self._result_timer.stop()
        self._result_timer = self.set_timer(RESULT_SECONDS, self._clear_result) if text else None

    def _clear_result(self) -> None:
        self.query_one("#publish-result", Label).update("")
        self._result_timer = None

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._result_timer is not None:  # the result was about the text before
            self._result_timer.stop()
            self._clear_result()

    def published(self, receivers: int, *, on_node: bool = False) -> None:
        """Success: keep the text in history, clear the field, report the receivers
        (`on_node`: a cluster node counted only the receivers connected to it)."""
        lines = self.message_input.message.count("\n") + 1
        self.message_input.remember(self.message_input.value)
        with self.message_input.prevent(Input.Changed):  # the result is about this message
            self.message_input.value = ""
        where = " on that node" if on_node else ""
        whole = f", {lines} lines" if lines > 1 else ""
        self.show_result(f"✓ {plural(receivers, 'receiver')}{where}{whole}")

    # -- saved messages, repeat, editor (the screens are in their own modules) -------------
    def action_save(self) -> None:
        """Ask a name and save; a file that cannot be read is one line and nothing is saved."""
        channel = self._channel()
        if not channel:
            return
        try:
            names = self.saved.names()
        except SavedError as exc:
            self.show_result(f"not saved: {exc}", error=True)
            return
        entry = SavedMessage(self._name, channel, self.message_input.message, self.sharded)
        self.app.push_screen(SaveScreen(self.saved, entry, names), self._saved)

    def _saved(self, name: str | None) -> None:
        if name is not None:
            self._name = name
            self.show_result(f"✓ saved as {name}")

    def action_open(self) -> None:
        try:
            entries = self.saved.load()
        except SavedError as exc:
            self.show_result(f"cannot open the saved messages: {exc}", error=True)
            return
        self.app.push_screen(SavedPicker(entries, self.saved.path.name), self._load)

    def _load(self, entry: SavedMessage | None) -> None:
        if entry is None:
            return
        self._name = entry.name
        self.channel_input.value = entry.channel
        self.set_message(entry.message)
        self.sharded = entry.sharded
        self.screen.set_focus(self.message_input)

    def set_message(self, text: str) -> None:
        """Put `text` in the one-line field, its line breaks shown as `⏎`."""
        field = self.message_input
        field.value = text.replace("\r\n", "\n").replace("\n", NEWLINE_MARK)
        field.cursor_position = len(field.value)

    def action_repeat(self) -> None:
        """Ask the interval and start; while a repeat runs, stop it."""
        if self.repeater.running:
            run = self.repeater.stop()
            sent = run.sent if run else 0
            self.show_result(f"■ repeat stopped, {sent:,} sent")  # the label is short
            self.notify(f"repeat stopped: {plural(sent, 'message')} sent", timeout=4)
            return
        channel = self._channel()
        if not channel:
            return
        message = self.message_input.message
        try:
            template = Template(message.encode())
        except TemplateError as exc:
            reason = str(exc).split("; send braces")[0]  # the CLI's option is no use here
            self.show_result(f"not repeated: {reason})", error=True)
            return
        sharded = self.sharded
        screen = RepeatScreen(channel, message, sharded, self._seconds)

        def start(seconds: float | None) -> None:
            if seconds is not None:
                self._seconds = f"{seconds:g}"
                self.repeater.start(channel, template, sharded, seconds)

        self.app.push_screen(screen, start)

    def action_edit(self) -> None:
        verb = "SPUBLISH" if self.sharded else "PUBLISH"
        from rps_tui.ui.message_editor import MessageEditor  # TextArea: imported on ctrl+e

        editor = MessageEditor(self.message_input.message, self.channel_input.value, verb)
        self.app.push_screen(editor, self._edited)

    def _edited(self, edited: Edited | None) -> None:
        if edited is None:
            return
        self.set_message(edited.text)
        self.screen.set_focus(self.message_input)
        if edited.action == "publish":
            self.publish_now()
