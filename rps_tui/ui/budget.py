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

MIN_INTERVAL = 0.05  # at most 20 frames a second


class FrameBudget:
    def __init__(
        self, share: float = 0.15, max_interval: float = 0.25, behind_interval: float = 1.0
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

    def delay(self, behind: bool = False) -> float:
        """Seconds until the next frame fits in the budget (0: draw now).

        `behind`: the reader has a backlog; then frames come once a second, since each
        millisecond spent drawing is one the reader cannot spend catching up.
        """
        if behind:
            wait = self.behind_interval
        elif self.load <= self.share:
            wait = MIN_INTERVAL
        else:
            wait = min(self.max_interval, MIN_INTERVAL * self.load / self.share)
        return max(0.0, self._last_frame + wait - time.monotonic())

    def drew(self) -> None:
        self._last_frame = time.monotonic()
