"""The server monitor's rounds as the user sees them: the header's rtt and obuf, and one
warning each time the subscriber's buffer on the server passes half its limit. Given the
monitor and a way to notify, never the app."""

from __future__ import annotations

from collections.abc import Callable

from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.subscriber.drops import buffer_level
from rps_tui.core.units import human_bytes


class MonitorView:
    def __init__(self, monitor: ServerMonitor, notify: Callable[..., None]) -> None:
        self.monitor = monitor
        self.notify = notify
        self._warned = False

    @property
    def rtt_ms(self) -> float | None:
        reading = self.monitor.rtt_ms
        return None if reading is None else reading.value

    @property
    def omem(self) -> int | None:
        reading = self.monitor.omem
        return None if reading is None else reading.value

    def round_done(self) -> None:
        """Warn once each time the subscriber's server-side buffer passes half its limit."""
        level = buffer_level(self.omem, self.monitor.limit)
        if level >= 0.5 and not self._warned:
            self.notify(
                "The server is holding a growing backlog for this subscriber "
                f"({human_bytes(self.omem or 0)}); past client-output-buffer-limit pubsub it "
                "drops the connection and messages are lost.",
                severity="warning",
                markup=False,
            )
        self._warned = level >= 0.5
