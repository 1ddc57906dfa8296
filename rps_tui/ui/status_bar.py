"""The top line: where we are connected, to what, how well, and what happened last."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rps_tui.core.monitor import Reading
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import buffer_level
from rps_tui.core.units import human_bytes, plural

STALE_AFTER = 7.0  # seconds: older than two monitor rounds, a value shows its age

STATE_STYLE = {
    State.CONNECTING: ("◌", "yellow"),
    State.CONNECTED: ("●", "green"),
    State.STALLED: ("◐", "bold red"),
    State.RECONNECTING: ("◌", "bold red"),
    State.STOPPED: ("○", "dim"),
    State.OFFLINE: ("■", "cyan"),
    State.FAILED: ("✖", "bold red"),
}


def _age(reading: Reading, now: float) -> str:
    """' (12 s ago)' for a value read long ago (a slow link), else ''."""
    age = now - reading.at
    return f" ({age:.0f} s ago)" if age >= STALE_AFTER else ""


class StatusBar(Static):
    _shown: Text | None = None

    def show(
        self,
        *,
        address: str,
        server: str,
        state: State,
        detail: str,
        total: int,
        note: str = "",
        recording: int | None = None,  # lines in the file this session; None: not recording
        recording_dropped: int = 0,  # messages left out of the recording (it fell behind)
        repeat: str | None = None,  # the publish box's repeat, while one runs
        omem: Reading | None = None,  # the subscriber's buffer on the server
        limit: tuple[int, ...] | None = None,
        rtt: Reading | None = None,  # ms
        now: float = 0.0,
    ) -> None:
        icon, style = STATE_STYLE[state]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" rps-tui ", "bold reverse")
        text.append(f"  {address}", "bold")
        head = text.cell_len + len(f"  {icon} {state.value}")
        width = self.size.width
        if server and not (width and head + len(server) + 2 > width):  # the state goes first
            text.append(f"  {server}", "cyan")
        text.append(f"  {icon} {state.value}", style)
        if detail and state is not State.CONNECTED:
            text.append(f" ({detail})", style)
        if repeat is not None:  # after the state, which 80 columns must never lose
            text.append("  ")
            text.append(f" {repeat} ", "bold black on yellow")
        if state is not State.OFFLINE:
            shown = "—" if rtt is None else f"{rtt.value:,.1f} ms{_age(rtt, now)}"
            text.append(f"  rtt {shown}", "dim")
        text.append(f"  {plural(total, 'msg')}")
        if recording is not None:  # before obuf: on a narrow screen, what is lost shows
            text.append(f"  ● REC {recording:,}", "bold red")
            if recording_dropped:
                text.append(f" · {recording_dropped:,} not recorded", "bold red")
        if omem is not None:
            level = buffer_level(omem.value, limit)
            style = "bold red" if level >= 0.8 else "yellow" if level >= 0.5 else "dim"
            cap = f" of {human_bytes(min(v for v in limit[:2] if v))}" if limit else ""
            text.append(f"  obuf {human_bytes(omem.value)}{cap}{_age(omem, now)}", style)
        if note:
            text.append(f"  {note}", "italic magenta")
        if text != self._shown:  # skip the repaint when nothing changed
            self._shown = text
            self.update(text, layout=False)  # one line, always: no layout pass per frame
