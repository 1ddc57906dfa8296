"""The publish box's repeat: the current message published every N seconds, its templates
(`{{n}}`, `{{time}}`, … of `core.templates`) filled in per message, until stopped.

Only the repeat expands templates: Enter publishes what was typed, braces and all. The
repeat runs on a timer of the publish box, so it goes on while the focus is elsewhere (that
is its point) and ends with the app. Sends never overlap: a tick that finds the last publish
still waiting for the server is skipped, and counted.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label

from rps_tui.core.connection.commands import CommandError
from rps_tui.core.payload.text import safe_text
from rps_tui.core.templates import NAMES, Template
from rps_tui.core.units import plural
from rps_tui.ui.keymap import keys_of
from rps_tui.ui.saved_picker import DIALOG_CSS, describe

MIN_SECONDS = 0.01  # 100 messages a second: a repeat, not a benchmark (`rps-tui bench`)
REDRAW_SECONDS = 0.25  # the header follows the count at most this often (not 100 times a second)

Publish = Callable[[str, str, bool], Awaitable[int]]


def parse_seconds(text: str) -> float:
    """A positive number of seconds ("2", "0.5", "1.5s"); ValueError says why in one line."""
    cleaned = text.strip().removesuffix("s").strip()
    try:
        seconds = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number of seconds") from None
    if not seconds >= MIN_SECONDS or seconds == float("inf"):  # not NaN, not 0
        raise ValueError(f"a number of seconds from {MIN_SECONDS:g}, please")
    return seconds


def seconds_label(seconds: float) -> str:
    return f"{seconds:g} s"


class RepeatScreen(ModalScreen[float | None]):
    """Asks once: every how many seconds? Enter starts, Esc cancels; says what the
    templates are, and that Enter in the box sends them as typed."""

    DEFAULT_CSS = DIALOG_CSS + "RepeatScreen { align: center middle; }"
    AUTO_FOCUS = "#repeat-seconds"
    BINDINGS = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="repeat.cancel",
            tooltip="Close the save or repeat dialog: nothing saved or started",
        )
    ]

    def __init__(self, channel: str, message: str, sharded: bool, seconds: str = "1") -> None:
        super().__init__()
        self.channel, self.message, self.sharded, self.seconds = channel, message, sharded, seconds

    def compose(self) -> ComposeResult:
        key = keys_of(self)
        names = " ".join("{{%s}}" % n for n in NAMES)  # noqa: UP031
        with Vertical(classes="saved-dialog"):
            yield Label("Repeat this message", classes="title")
            yield Label(describe(self.channel, self.message, self.sharded))
            yield Label(
                Text(
                    f"Filled in per message: {names} ({{{{n}}}} counts 1, 2, 3 …). "
                    "Only the repeat fills them in: Enter in the box sends braces as typed.",
                    style="dim",
                ),
                classes="status",
            )
            yield Input(
                self.seconds,
                placeholder="every how many seconds? (e.g. 2 or 0.5)",
                id="repeat-seconds",
                select_on_focus=False,  # selected at mount instead (see SaveScreen)
            )
            yield Label("", id="repeat-error", classes="status error")
            yield Label(
                f"Enter starts · {key('repeat.cancel')} cancels · "
                f"{key('publish.repeat')} in the box stops it",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#repeat-seconds", Input).select_all()  # typing replaces it

    @on(Input.Submitted, "#repeat-seconds")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.dismiss(parse_seconds(event.value))
        except ValueError as exc:
            self.query_one("#repeat-error", Label).update(Text(str(exc)))

    @on(Input.Changed, "#repeat-seconds")
    def _changed(self) -> None:
        self.query_one("#repeat-error", Label).update("")


@dataclass
class Run:
    """One repeat: what it sends, how often, and how it went."""

    channel: str
    template: Template
    sharded: bool
    seconds: float
    sent: int = 0  # publishes the server confirmed
    skipped: int = 0  # ticks that found the previous publish still in flight
    in_flight: bool = False


class Repeater:
    """Runs one repeat at a time on the owner's timers and workers; `changed` is called
    whenever the header's indicator would read otherwise, `stopped` with the one-line reason
    when a publish error ended it."""

    def __init__(
        self,
        publish: Publish,
        set_interval: Callable[..., Timer],
        run: Callable[[Awaitable[None]], object],
        *,
        changed: Callable[[], None],
        stopped: Callable[[str], None],
        stop_key: Callable[[], str],
    ) -> None:
        self.publish, self.set_interval, self.run = publish, set_interval, run
        self.changed, self.stopped, self.stop_key = changed, stopped, stop_key
        self.current: Run | None = None
        self._timer: Timer | None = None
        self._told = 0.0  # when `changed` was last called for a count

    @property
    def running(self) -> bool:
        return self.current is not None

    def start(self, channel: str, template: Template, sharded: bool, seconds: float) -> None:
        """The first message at once, then one every `seconds`."""
        self.stop()
        self.current = Run(channel, template, sharded, seconds)
        self._timer = self.set_interval(seconds, self._tick, name="repeat")
        self._tick()

    def stop(self) -> Run | None:
        """End the repeat (a publish in flight still lands); the run that ended, if any."""
        run, self.current = self.current, None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if run is not None:
            self.changed()
        return run

    def _tick(self) -> None:
        run = self.current
        if run is None:
            return
        if run.in_flight:  # the server has not answered the last one yet
            run.skipped += 1
            return
        run.in_flight = True
        message = run.template.render(run.sent + 1).decode()
        self.run(self._send(run, message))

    async def _send(self, run: Run, message: str) -> None:
        try:
            await self.publish(run.channel, message, run.sharded)
        except CommandError as exc:
            run.in_flight = False
            if run is self.current:
                self.stop()
                self.stopped(f"repeat stopped after {plural(run.sent, 'message')}: {exc}")
            return
        run.in_flight = False
        run.sent += 1
        now = time.monotonic()
        if run is self.current and now - self._told >= REDRAW_SECONDS:
            self._told = now  # the dashboard's 1 Hz tick draws the last count anyway
            self.changed()

    @property
    def indicator(self) -> str | None:
        """The header's words while a repeat runs: `⟳ repeat #12 every 2 s → orders
        (Ctrl+R stops)`, with the skipped ticks when there were any."""
        run = self.current
        if run is None:
            return None
        skipped = f" · {run.skipped:,} skipped" if run.skipped else ""
        return (
            f"⟳ repeat #{run.sent:,} every {seconds_label(run.seconds)} → "
            f"{safe_text(run.channel)}{skipped} ({self.stop_key()} stops)"
        )
