"""The record key: start and stop a recording of the session, and say how it went.

Given what it needs (the session, a way to notify, a timer, where to write), never the app.
The recorder itself (`core/recording/recorder.py`) never blocks the reader or the screen; this only
decides when to start and stop it and what to tell the user.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable

from textual.timer import Timer

from rps_tui.core.export import claim_name
from rps_tui.core.payload.text import safe_text
from rps_tui.core.recording.recorder import Recorder
from rps_tui.core.session import Session, SeveralSessions
from rps_tui.core.units import plural, were

QUIT_WAIT = 0.5  # seconds a recording target gets to take what is queued when we quit

Notify = Callable[..., None]


class RecordingControl:
    def __init__(
        self,
        session: Session | SeveralSessions,  # a tab's server, or every server (the all view)
        notify: Notify,
        set_timer: Callable[[float, Callable[[], None]], Timer],
        path: str | None = None,
        keys: Callable[[str], str] | None = None,  # binding id -> the key bound now
        binding: str = "record",  # the id of the key that toggles it (the all view's own)
    ) -> None:
        self.session = session
        self.notify = notify
        self.set_timer = set_timer
        self.path = path  # --record's path; else each recording gets a new timestamped file
        self._warned = False  # said that the target falls behind
        self.keys = keys or (lambda binding_id: binding_id)
        self.binding = binding

    def toggle(self) -> None:
        """Start recording (to --record's path, else a new timestamped file), or stop."""
        if self.session.recorder is not None:
            self.stop(say=True)
            return
        if self.session.offline:
            self.notify("A recording is being viewed: nothing new arrives to record.")
            return
        path = self.path
        try:
            if path is None:  # a name of its own: another rps-tui may press r this second
                path = str(claim_name(time.strftime("rps-tui-%Y%m%d-%H%M%S"), ".ndjson"))
            appending = _holds_data(path)
            recorder = Recorder(path, append=True)
        except OSError as exc:
            where = path or "a new file here"
            self.notify(f"cannot record to {where}: {exc.strerror or exc}", severity="error")
            return
        self.session.record(recorder)
        self._warned = False
        doing = "appending to" if appending else "recording to"
        self.notify(f"{doing} {path} ({self.keys(self.binding)} stops)", markup=False)

    @property
    def lines(self) -> int | None:
        """For the header: the lines this session has written to the current recording's
        file (earlier recordings into it too, as the final count says), None when not
        recording."""
        recorder = self.session.recorder
        if recorder is None:
            return None
        return sum(r.lines for r in self.session.recordings_to(recorder.path))

    def stop(self, *, say: bool) -> None:
        """Stop recording. With `say` (the r key) the UI does not wait for the target to
        take what is queued: the writer finishes on its own (within a second) and the
        result is shown then. Without (quitting), wait up to `QUIT_WAIT`, so a healthy file
        gets its last lines (it takes them in milliseconds) and a stuck one cannot hold up
        the exit."""
        recorder = self.session.stop_recording()
        if recorder is None:
            return
        if not say:
            recorder.close(QUIT_WAIT)
            return
        recorder.close(wait=False)
        self._report(recorder)

    def _report(self, recorder: Recorder) -> None:
        if not recorder.finished:
            self.set_timer(0.1, lambda: self._report(recorder))
            return
        if recorder.error:
            self.notify(safe_text(recorder.error), severity="error", markup=False)
            return
        text = f"recorded {plural(recorder.lines, 'line')} to {recorder.path}"
        earlier = self.session.recordings_to(recorder.path)
        if len(earlier) > 1:  # the file holds them all: say its count too
            total = sum(r.lines for r in earlier)
            parts = " + ".join(f"{r.lines:,}" for r in earlier)
            text += f" ({total:,} in it from {len(earlier)} recordings: {parts})"
        if recorder.dropped:
            text += f"; {were(recorder.dropped, 'message')} left out (it fell behind)"
        self.notify(safe_text(text), severity="warning" if recorder.dropped else "information")

    def check(self) -> None:
        """Once a second: a recording that failed stops; one that falls behind says so."""
        recorder = self.session.recorder
        if recorder is not None and recorder.error:  # a write failed: it has stopped
            self.notify(safe_text(recorder.error), severity="error", markup=False)
            self.stop(say=False)
        elif recorder is not None and recorder.dropped and not self._warned:
            self._warned = True
            why = (
                f"{safe_text(recorder.path)} does not take data as fast as it arrives"
                if recorder.target_slow
                else "Messages arrive faster than the recording can write them"
            )
            self.notify(
                f"{why}: messages are left out of the recording (counted in the header, and "
                "a gap record in the file says how many). The dashboard itself misses nothing.",
                severity="warning",
                markup=False,
            )


def _holds_data(path: str) -> bool:
    """A regular file with something in it: `r` appends to it (a recording stopped and
    started again, or a file that was there before), and says so."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0
