"""The line of tabs above the header when the dashboard shows several servers: each tab's
label, state and message rate (and ● when it records), so trouble on a hidden tab is seen
from any other.

Each tab's numbers are its own dashboard's once-a-second snapshot (the rate its traffic
panel shows) and its subscriber's state (what its header shows): the same numbers, not a
second reading. Too many tabs for the width: each label is shortened from the left, never
the state (labels often differ at the end: `127.0.0.1:6379`, `127.0.0.1:6380`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from rps_tui.core.payload.text import safe_text
from rps_tui.core.subscriber.base import State
from rps_tui.ui.render import rate_text
from rps_tui.ui.status_bar import STATE_STYLE


@dataclass(frozen=True, slots=True)
class Tab:
    label: str
    state: State
    rate: float  # msg/s over the tab's subscriptions, from its last snapshot
    recording: bool = False  # `r` records it (the all tab: every server), seen from any tab


class TabBar(Static):
    """One line: ` 1 cache ● 1.2k/s │ 2 queue ◌ reconnecting │ …`, the current tab bold."""

    def __init__(self, tabs: Callable[[], list[Tab]], current: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self._tabs = tabs
        self.current = current
        self._shown: Text | None = None

    def draw(self) -> None:
        tabs = self._tabs()
        if len(tabs) < 2:
            return
        width = self.size.width or 80
        cells = [self._cell(n, tab, None) for n, tab in enumerate(tabs)]
        room = width - 3 * (len(tabs) - 1)
        if sum(c.cell_len for c in cells) > room:  # shorten the labels alike, keep the state
            fixed = sum(self._cell(n, tab, 0).cell_len for n, tab in enumerate(tabs))
            each = max(1, (room - fixed) // len(tabs))
            cells = [self._cell(n, tab, each) for n, tab in enumerate(tabs)]
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, cell in enumerate(cells):
            if n:
                text.append(" │ ", "dim")
            text.append_text(cell)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)

    def _cell(self, n: int, tab: Tab, label_room: int | None) -> Text:
        icon, style = STATE_STYLE[tab.state]
        label = safe_text(tab.label)
        if label_room is not None and len(label) > label_room:  # the end tells them apart
            label = "…" + label[len(label) - label_room + 1 :] if label_room > 1 else ""
        current = n == self.current
        cell = Text()
        cell.append(f"{n + 1}", "bold reverse" if current else "dim")
        cell.append(f" {label}" if label else "", "bold" if current else "")
        cell.append(f" {icon}", style)
        if tab.state is State.CONNECTED:
            cell.append(f" {rate_text(tab.rate, 6).strip()}/s", "" if current else "dim")
        else:
            cell.append(f" {tab.state.value}", style)
        if tab.recording:
            cell.append(" ● REC", "bold red")
        return cell
