"""What the dashboard's widgets tell it: typed messages, so no widget calls the screen or the
app. Each bubbles from the widget that posts it up to `DashboardScreen`, which acts on it."""

from __future__ import annotations

from textual.message import Message

from rps_tui.core.store import ChannelRow


class PaneChanged(Message):
    """The pane's view changed in a way its title tells: cursor or scroll (following the tail
    or not), paused, cleared, another decoder."""


class FilterChanged(Message):
    """The filter text changed (it may not parse: the model keeps it, with the reason)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class OpenChannel(Message):
    """Enter on a row of the channel table: show that channel's messages."""

    def __init__(self, channel: bytes) -> None:
        super().__init__()
        self.channel = channel


class SubscribeTo(Message):
    """`s` on the channel tree: subscribe to a branch's pattern, or to a leaf's channel."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__()
        self.kind = kind  # a `Kind` value: "pattern" or "channel"
        self.name = name


class FilterPane(Message):
    """`/` on the channel tree: the current pane's filter becomes `text` (`ch:GLOB`);
    `channels` are the names it covers (to find a subscription that delivers them)."""

    def __init__(self, text: str, channels: list[bytes]) -> None:
        super().__init__()
        self.text = text
        self.channels = channels


class ExportChannels(Message):
    """`e` on the channel table or tree: these rows to a CSV file, in this order."""

    def __init__(self, rows: list[ChannelRow]) -> None:
        super().__init__()
        self.rows = rows


class RepeatChanged(Message):
    """The publish box's repeat started, sent, skipped or stopped: the header redraws."""
