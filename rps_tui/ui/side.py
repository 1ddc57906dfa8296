"""The side column: the subscriptions and, below them, the traffic of them all. As wide as
the names need beside the pane, or across the screen above it on a narrow terminal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from rps_tui.ui.subscription_list import SubscriptionList
from rps_tui.ui.traffic import TrafficPanel


class SideColumn(Vertical):
    def __init__(self, sub_list: SubscriptionList, traffic: TrafficPanel, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sub_list, self.traffic = sub_list, traffic

    def compose(self) -> ComposeResult:
        yield self.sub_list
        yield self.traffic

    def fit(self, *, narrow: bool, screen_width: int) -> None:
        """Beside the pane: as wide as the list needs, at most 40% of the screen. Narrow
        (app.tcss lays it out across the screen, the list then the chart): the list at
        most 60% of the width, as tall as its rows (at most 7)."""
        room = screen_width * 3 // 5 if narrow else max(24, screen_width * 2 // 5)
        self.sub_list.fit_to(room)
        width = self.sub_list.content_width
        if narrow:
            self.styles.width = None
            self.sub_list.styles.width = min(width, screen_width * 3 // 5)
            self.styles.height = min(len(self.sub_list.subs) + 3, 7)
        else:
            self.styles.width = min(width, max(24, screen_width * 2 // 5))
            self.sub_list.styles.width = None
            self.styles.height = None
