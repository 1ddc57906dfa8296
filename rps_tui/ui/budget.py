"""A CPU budget for drawing, so the screen never starves the subscriber.

The engine thread and the UI share one GIL. Under a firehose every frame is new (no cache
hits), and Textual spends ~20 ms composing a full pane: at 20 Hz that is half of a core taken
from the reader. `FrameBudget` measures the UI thread's own CPU time (`time.thread_time`) and,
while it is over budget, stretches the interval between pane frames (to at most
`max_interval`); while the reader reports a backlog it draws once a second.
When traffic is light the budget is never reached and frames come at the timer's full rate.
"""

from __future__ import annotations

import time


class FrameBudget:
    def __init__(
        self, share: float = 0.05, max_interval: float = 0.5, behind_interval: float = 1.0
    ) -> None:
        self.share = share
        self.max_interval = max_interval
        self.behind_interval = behind_interval
        self.load = 0.0  # smoothed fraction of wall time the UI thread spends on the CPU
        self._cpu = time.thread_time()
        self._wall = time.monotonic()
        self._last_frame = 0.0

    def tick(self) -> None:
        """Call on every timer tick (from the UI thread) to update the load estimate."""
        cpu, wall = time.thread_time(), time.monotonic()
        elapsed = wall - self._wall
        if elapsed > 0:
            self.load = 0.7 * self.load + 0.3 * min(1.0, (cpu - self._cpu) / elapsed)
        self._cpu, self._wall = cpu, wall

    def may_draw(self, behind: bool = False) -> bool:
        """True when a frame fits in the budget (or the last one is getting too old).

        `behind`: the reader has a backlog; then every frame waits `max_interval`, since each
        millisecond spent drawing is one the reader cannot spend catching up.
        """
        now = time.monotonic()
        if behind:
            wait = self.behind_interval
        else:
            wait = 0.0 if self.load <= self.share else 0.05 * self.load / self.share
        if now - self._last_frame >= min(wait, self.max_interval):
            self._last_frame = now
            return True
        return False
