"""The top line: where we are connected, to what, how well, and what happened last."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rps_tui.core.engine import State

STATE_STYLE = {
    State.CONNECTING: ("◌", "yellow"),
    State.CONNECTED: ("●", "green"),
    State.STALLED: ("◐", "bold red"),
    State.RECONNECTING: ("◌", "bold red"),
    State.STOPPED: ("○", "dim"),
}


class StatusBar(Static):
    _shown: Text | None = None

    def show(
        self,
        *,
        address: str,
        server: str,
        state: State,
        detail: str,
        rtt_ms: float | None,
        total: int,
        note: str = "",
    ) -> None:
        icon, style = STATE_STYLE[state]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" rps-tui ", "bold reverse")
        text.append(f"  {address}", "bold")
        text.append(f"  {server}" if server else "", "cyan")
        text.append(f"  {icon} {state.value}", style)
        if detail and state is not State.CONNECTED:
            text.append(f" ({detail})", style)
        text.append("  rtt " + ("—" if rtt_ms is None else f"{rtt_ms:.1f} ms"), "dim")
        text.append(f"  {total:,} msgs")
        if note:
            text.append(f"  {note}", "italic magenta")
        if text != self._shown:  # an update costs a layout pass: skip it when nothing changed
            self._shown = text
            self.update(text)
