"""Values read from payloads, plotted over time: one series per channel.

The field is typed as the pane's filter is: `json:EXPR`, a JMESPath expression on the
payload read with the subscription's decoder (msgpack, gzip, base64 ... to JSON, as
`JsonQuery` reads it, with its byte bound and CPU alarm), or `number` for payloads that
are a bare number (`21.5`). A number is plotted; true/false as 1/0; null or a missing
field counts as missing; anything else (a string, a list, a payload that is not JSON)
counts as not numeric. Nothing fails on a payload.

The sampling rule, because extraction runs on the UI thread: `update` reads the new
messages at most once a second (`Store.tail`) and extracts at most ONE value per channel
per second of receive time, the last message of that second (a later read of the same
second replaces the point), and at most `EXTRACT_LIMIT` values, `EXTRACT_SECONDS` of the
UI thread's CPU time, per update, newest first. Every message passed over is counted in
`skipped`, and the messages the store let go between two reads in `lost`; either makes
`sampled` true and the screen says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from rps_tui.core.entry import Entry, channel_of, is_gap, payload_of, time_of
from rps_tui.core.payload.query import JSON_PREFIX, NOT_JSON, JsonQuery, QueryError
from rps_tui.core.plots.series import MAX_SHOWN, Series
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Subscription, channel_name

NUMBER = "number"
NUMBER_LIMIT = 64  # bytes: a bare number is short; longer payloads are not one
EXTRACT_LIMIT = 500
"""Values extracted per update at most (the rest of the messages are skipped)."""
EXTRACT_SECONDS = 0.03
"""... and CPU time spent extracting per update at most."""
KEPT = 64
"""Channel series kept at most; values of further channels are counted, not kept."""


def parse_field(text: str, decoder: str = "auto") -> JsonQuery | None:
    """The field `text` asks for: a `JsonQuery` for `json:EXPR`, None for `number`;
    `QueryError` (one line) otherwise."""
    text = text.strip()
    if text == NUMBER:
        return None
    if not text.startswith(JSON_PREFIX):
        raise QueryError("type json:EXPR (a JMESPath expression, e.g. json:cpu) or number")
    query = JsonQuery(text)
    query.decoder = decoder
    return query


MISSING, NOT_NUMERIC = "missing", "not numeric"


def extract(query: JsonQuery | None, payload: bytes) -> float | str:
    """The plotted number of one payload, or why there is none (`MISSING`, `NOT_NUMERIC`)."""
    if query is None:
        if len(payload) > NUMBER_LIMIT:
            return NOT_NUMERIC
        if not payload.strip():
            return MISSING
        try:
            value: object = float(payload)
        except ValueError:
            return NOT_NUMERIC
    else:
        value = query.evaluate(payload)
        if value is NOT_JSON:
            return NOT_NUMERIC
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return NOT_NUMERIC


@dataclass
class Values:
    """The value series of one subscription, fed from the store by `update`."""

    sub: Subscription
    text: str  # the field as typed
    query: JsonQuery | None  # None: `number`
    series: dict[bytes, Series] = field(default_factory=dict)
    seen: int = 0  # the store's appended count read up to
    read: int = 0  # messages looked at
    extracted: int = 0
    skipped: int = 0  # passed over by the sampling rule
    lost: int = 0  # let go by the store before they were read
    missing: int = 0
    not_numeric: int = 0
    other_channels: int = 0  # values of channels past `KEPT`, not kept
    limit: int = EXTRACT_LIMIT  # values extracted per update at most ...
    seconds: float = EXTRACT_SECONDS  # ... and CPU seconds
    _last: dict[bytes, int] = field(default_factory=dict)  # channel -> second of last point

    @classmethod
    def start(cls, sub: Subscription, text: str, decoder: str = "auto") -> Values:
        """A new plot of the field `text` (`QueryError`, one line, if it is invalid); its
        first `update` reads what the store holds."""
        return cls(sub, text.strip(), parse_field(text, decoder))

    @property
    def sampled(self) -> bool:
        return bool(self.skipped or self.lost)

    @property
    def failure(self) -> str | None:
        """Why extraction gave up (a JMESPath expression over the CPU alarm)."""
        return self.query.failure if self.query is not None else None

    def update(self, store: Store) -> bool:
        """Read what arrived since the last call (call at most once a second); True if a
        count or a series changed."""
        appended, entries, complete = store.tail(self.sub, self.seen)
        if appended == self.seen:
            return False
        if not complete and self.seen:  # the store let some go since the last read (on
            # the first, what it let go before the plot began is no loss of the plot's)
            self.lost += max(0, appended - self.seen - len(entries))
        self.seen = appended
        self._take(entries)
        return True

    def _take(self, entries: list[Entry]) -> None:
        """The last message per channel per second, newest first, within the limits."""
        picked: dict[tuple[bytes, int], Entry] = {}
        messages = 0
        for entry in reversed(entries):
            if is_gap(entry):
                continue
            messages += 1
            key = (channel_of(entry) or b"", int(time_of(entry)))
            if key not in picked:
                picked[key] = entry
        self.read += messages
        deadline = time.thread_time() + self.seconds  # this thread's CPU time
        done: list[tuple[bytes, float, float | str]] = []
        for (channel, _), entry in picked.items():
            if len(done) >= self.limit or time.thread_time() > deadline or self.failure:
                break  # (after a failure the query reads nothing: the rest are skipped)
            done.append((channel, time_of(entry), extract(self.query, payload_of(entry))))
        self.extracted += len(done)
        self.skipped += messages - len(done)
        for channel, when, value in reversed(done):  # oldest first
            if isinstance(value, str):
                if value == MISSING:
                    self.missing += 1
                else:
                    self.not_numeric += 1
                continue
            self._add(channel, when, value)

    def _add(self, channel: bytes, when: float, value: float) -> None:
        series = self.series.get(channel)
        if series is None:
            if len(self.series) >= KEPT:
                self.other_channels += 1
                return
            series = self.series[channel] = Series(channel_name(channel))
        second = int(when)
        if self._last.get(channel) == second and series.times:  # the same second again:
            series.times[-1], series.values[-1] = when, value  # the later message wins
            return
        if series.times and when < series.times[-1]:
            return  # older than what is drawn (the newest-first limit cut between)
        self._last[channel] = second
        series.add(when, value)

    def shown(self, start: float) -> list[Series]:
        """The series to draw: those with the most points in the window, up to `MAX_SHOWN`."""
        ranked = sorted(self.series.values(), key=lambda s: (-len(s.window(start)[0]), s.name))
        return [s for s in ranked[:MAX_SHOWN] if s.window(start)[0]]

    def left_out(self, start: float) -> int:
        drawn = len(self.shown(start))
        with_points = sum(1 for s in self.series.values() if s.window(start)[0])
        return with_points - drawn
