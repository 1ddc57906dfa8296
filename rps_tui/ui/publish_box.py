"""Publish from the keyboard: a channel field, a message field, and the server's reply."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Input, Label

from rps_tui.ui.messages import PublishRequested


class MessageInput(Input):
    """The message field, with Up/Down recalling earlier messages like a shell."""

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
    """Posts `PublishRequested` on Enter; the dashboard sends it and calls `show_result`."""

    BINDINGS = [
        Binding(
            "ctrl+t",
            "toggle_sharded",
            "PUBLISH/SPUBLISH",
            id="publish.sharded",
            tooltip="Switch between PUBLISH and SPUBLISH (sharded, Redis 7+)",
        )
    ]

    sharded: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Label("PUBLISH", id="publish-verb")
        # select_on_focus off: the Focus event lands after keys typed straight after `i`,
        # and selecting then would let the next key replace what was typed
        yield Input(placeholder="channel", id="publish-channel", select_on_focus=False)
        yield MessageInput(
            placeholder="message — Enter publishes, ↑/↓ history",
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
        channel = self.channel_input.value
        if not channel:
            self.show_result("no channel: type one in the channel field first", error=True)
            self.channel_input.focus()
            return
        self.post_message(PublishRequested(channel, event.value, self.sharded))

    def watch_sharded(self, sharded: bool) -> None:
        self.query_one("#publish-verb", Label).update("SPUBLISH" if sharded else "PUBLISH")

    def action_toggle_sharded(self) -> None:
        self.sharded = not self.sharded

    def show_result(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#publish-result", Label)
        label.update(Text(text))  # never markup: the text may quote a channel
        label.set_class(error, "error")

    def published(self, receivers: int, *, on_node: bool = False) -> None:
        """Success: keep the text in history, clear the field, report the receivers
        (`on_node`: a cluster node counted only the receivers connected to it)."""
        self.message_input.remember(self.message_input.value)
        self.message_input.value = ""
        where = " on that node" if on_node else ""
        self.show_result(f"✓ {receivers} receiver{'s' if receivers != 1 else ''}{where}")
