"""When the pane draws: as soon as data arrives, within the CPU budget (`budget.py`).

The subscriber wakes the scheduler from its thread at most once per frame (`wake`, through
the event loop); the scheduler then draws at once if the budget allows, or sets one timer
for when it will. It is given what it needs (a timer factory, the draw, the subscriber's
backlog flag), never the app.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer

from rps_tui.ui.budget import FrameBudget


class FrameScheduler:
    def __init__(
        self,
        set_timer: Callable[[float, Callable[[], None]], Timer],
        draw: Callable[[], None],
        behind: Callable[[], bool],
        budget: FrameBudget | None = None,
    ) -> None:
        self._set_timer = set_timer
        self._draw = draw
        self._behind = behind  # the reader has a backlog: draw once a second
        self.budget = budget or FrameBudget()
        self._timer: Timer | None = None

    def wake(self) -> None:
        """New data: draw when the budget allows (at most one timer pending)."""
        if self._timer is None:
            self.later(self.budget.delay(self._behind()))

    def tick(self) -> None:
        """Call on every refresh: updates the UI thread's load estimate."""
        self.budget.tick()

    def delay(self) -> float:
        """Seconds until a frame fits the budget (0: draw now)."""
        return self.budget.delay(self._behind())

    def later(self, delay: float) -> None:
        if self._timer is None:
            self._timer = self._set_timer(max(delay, 0.001), self._fire)

    def drew(self) -> None:
        self.budget.drew()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._draw()


class CatchingUp:
    """A once-a-second refresh that, while the reader catches up a backlog, runs every
    third second: the reader needs the time more, and nothing is lost by waiting (counts and
    meters are kept per second in the store). The dashboard's counts and the plot use it."""

    def __init__(self, busy: Callable[[], bool]) -> None:
        self.busy = busy
        self.skipped = 0

    def skip(self) -> bool:
        if self.busy() and self.skipped < 2:
            self.skipped += 1
            return True
        self.skipped = 0
        return False
