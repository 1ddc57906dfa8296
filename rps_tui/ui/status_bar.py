"""The top line: where we are connected, to what, how well, and what happened last."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rps_tui.core.engine import State
from rps_tui.core.payload import human_bytes

STATE_STYLE = {
    State.CONNECTING: ("◌", "yellow"),
    State.CONNECTED: ("●", "green"),
    State.STALLED: ("◐", "bold red"),
    State.RECONNECTING: ("◌", "bold red"),
    State.STOPPED: ("○", "dim"),
    State.OFFLINE: ("■", "cyan"),
}


def buffer_level(omem: int | None, limit: tuple[int, ...] | None) -> float:
    """The subscriber's server-side buffer as a fraction of the nearer limit (soft or hard)."""
    if not omem or not limit:
        return 0.0
    caps = [v for v in limit[:2] if v]
    return omem / min(caps) if caps else 0.0


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
        recording: int | None = None,  # lines recorded so far, None when not recording
        omem: int | None = None,
        limit: tuple[int, ...] | None = None,
    ) -> None:
        icon, style = STATE_STYLE[state]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" rps-tui ", "bold reverse")
        text.append(f"  {address}", "bold")
        text.append(f"  {server}" if server else "", "cyan")
        text.append(f"  {icon} {state.value}", style)
        if detail and state is not State.CONNECTED:
            text.append(f" ({detail})", style)
        if state is not State.OFFLINE:
            text.append("  rtt " + ("—" if rtt_ms is None else f"{rtt_ms:.1f} ms"), "dim")
        text.append(f"  {total:,} msgs")
        if omem is not None:
            level = buffer_level(omem, limit)
            style = "bold red" if level >= 0.8 else "yellow" if level >= 0.5 else "dim"
            cap = f" of {human_bytes(min(v for v in limit[:2] if v))}" if limit else ""
            text.append(f"  obuf {human_bytes(omem)}{cap}", style)
        if recording is not None:
            text.append(f"  ● REC {recording:,}", "bold red")
        if note:
            text.append(f"  {note}", "italic magenta")
        if text != self._shown:  # an update costs a layout pass: skip it when nothing changed
            self._shown = text
            self.update(text)
