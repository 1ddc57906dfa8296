"""Under the subscription list: the traffic of all subscriptions together, as totals and a
chart of msg/s over the last minute that fills whatever height the column has left."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rps_tui.core.store import Snapshot
from rps_tui.core.units import human_bytes, noun_for
from rps_tui.ui.render import count_text, rate_text

BLOCKS = " ▁▂▃▄▅▆▇█"


def chart(values: tuple[int, ...] | list[int], width: int, height: int) -> list[str]:
    """The last `width` values as bars `height` rows tall (eighths of a row), top row first,
    scaled to their peak."""
    recent = list(values)[-width:] if width > 0 else []
    recent = [0] * (width - len(recent)) + recent
    peak = max(recent, default=0)
    if height <= 0 or width <= 0:
        return []
    eighths = [round(v / peak * height * 8) if peak else 0 for v in recent]
    eighths = [max(1, e) for e in eighths]  # a quiet second is a low line, not a hole
    rows = []
    for row in range(height - 1, -1, -1):
        base = row * 8
        rows.append("".join(BLOCKS[min(8, max(0, e - base))] for e in eighths))
    return rows


class TrafficPanel(Widget):
    """Totals and a chart, drawn from the dashboard's snapshot (so they agree with the
    header and the list)."""

    DEFAULT_CSS = """
    TrafficPanel {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snapshot: Snapshot | None = None
        self._shown: tuple | None = None

    def show(self, snapshot: Snapshot) -> None:
        """Draw `snapshot`, unless it shows what is on screen already: a snapshot is taken
        every second, and an idle dashboard must not repaint (a repaint each second cost
        0.8% of a core and 900 characters a second to the terminal)."""
        self.snapshot = snapshot
        shown = (snapshot.rate, snapshot.total, snapshot.channel_count, snapshot.history)
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def render(self) -> Text:
        snapshot = self.snapshot
        width, height = self.content_size.width, self.content_size.height
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if snapshot is None or width <= 0 or height <= 0:
            return text
        received = sum(row.bytes for row in snapshot.subs.values())
        text.append(f"{rate_text(snapshot.rate)} msg/s", "bold")
        text.append(f"  {count_text(snapshot.channel_count, 9)} ")
        text.append(noun_for(snapshot.channel_count, "channel"), "dim")
        if height >= 2:
            text.append(f"\n{count_text(snapshot.total, 11)} ")
            text.append(noun_for(snapshot.total, "msg"), "dim")
            text.append(f" · {human_bytes(received)}", "dim")
        rows = chart(snapshot.history, width, height - 4) if height >= 6 else []
        if rows:
            seconds = min(width, len(snapshot.history))
            peak = max(snapshot.history[-seconds:], default=0)
            text.append(f"\npeak {count_text(peak, 9)}/s", "dim")
            for line in rows:
                text.append("\n" + line, "green")
            axis = f"-{seconds} s"
            text.append("\n" + axis + "now".rjust(max(0, width - len(axis))), "dim")
        return text
