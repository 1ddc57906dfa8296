"""The header as the user reads it: where and to what we are connected, how well (the server
monitor's rtt and obuf, one warning each time the subscriber's buffer on the server passes
half its limit), the total from the dashboard's snapshot, the recording, the publish box's
repeat, and a retry countdown that stays true. Given the parts it shows and a way to notify
and to set a timer, never the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.session import Session
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import buffer_level
from rps_tui.core.units import human_bytes
from rps_tui.ui.recording import RecordingControl
from rps_tui.ui.status_bar import StatusBar

COUNTDOWN_STEP = 0.1  # seconds between header redraws while "retrying in 0.4 s" counts
ATTEMPT_STEP = 0.25  # ... and while the attempt runs ("retrying now")


@dataclass
class Labels:
    """What the header says that no reading changes."""

    address: str | None  # shown instead of the subscriber's address (snapshots, screenshots)
    server: str  # "Valkey 9.1.2"; filled in by the first monitor round when not known
    note: str  # "demo: embedded Valkey with demo traffic"


class Header:
    def __init__(
        self,
        bar: StatusBar,
        session: Session,
        monitor: ServerMonitor,
        recording: RecordingControl,
        labels: Labels,
        *,
        notify: Callable[..., None],
        set_timer: Callable[..., object],
        clock: Callable[[], float],
        repeat: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.repeat = repeat  # the publish box's repeat indicator, while one runs
        self.bar, self.session, self.monitor, self.recording = bar, session, monitor, recording
        self.labels = labels
        self.notify, self.set_timer, self.clock = notify, set_timer, clock
        self.total = 0  # from the dashboard's snapshot, as every other number on screen
        self._warned = False
        self._countdown: object | None = None  # the next redraw while a retry counts down
        self.failed = ""  # why the subscriber thread died, if it did: shown instead of its state

    @property
    def rtt_ms(self) -> float | None:
        reading = self.monitor.rtt_ms
        return None if reading is None else reading.value

    @property
    def omem(self) -> int | None:
        reading = self.monitor.omem
        return None if reading is None else reading.value

    @property
    def state(self) -> State:
        """The state shown: the subscriber's, unless its thread died (then failed)."""
        return State.FAILED if self.failed else self.session.subscriber.state

    def draw(self) -> None:
        subscriber, recorder, monitor = self.session.subscriber, self.session.recorder, self.monitor
        self.bar.show(
            address=self.labels.address or subscriber.where,
            server=self.labels.server,
            state=self.state,
            detail=self.failed or subscriber.state_detail,
            total=self.total,
            note=self.labels.note,
            recording=self.recording.lines,
            recording_dropped=recorder.dropped if recorder is not None else 0,
            repeat=self.repeat(),
            omem=monitor.omem,
            limit=monitor.limit,
            rtt=monitor.rtt_ms,
            now=self.clock(),
        )
        self._keep_countdown_live()

    def round_done(self) -> None:
        """A monitor round finished: show it, and warn once each time the subscriber's
        server-side buffer passes half its limit."""
        if not self.labels.server:
            self.labels.server = self.monitor.server_label
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
        self.draw()

    def _keep_countdown_live(self) -> None:
        """The header's "retrying in 0.4 s" is true only while it counts: while a reconnect
        is planned, redraw the header every 0.1 s (every 0.25 s while the attempt runs, to
        show the next countdown at once). Otherwise nothing is scheduled: the 1 Hz tick
        and data redraw it, and an idle dashboard does no work."""
        retry_at = self.session.subscriber.retry_at
        if retry_at is None or self._countdown is not None:
            return
        delay = COUNTDOWN_STEP if retry_at > time.monotonic() else ATTEMPT_STEP
        self._countdown = self.set_timer(delay, self._countdown_tick, name="countdown")

    def _countdown_tick(self) -> None:
        self._countdown = None
        self.draw()
