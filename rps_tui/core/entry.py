"""What a subscription's history holds: entries (the wire's reply lists, stamped) and gap
markers, with named accessors for code off the hot path."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from rps_tui.core.units import human_bytes


@dataclass(frozen=True, slots=True)
class Gap:
    """A marker in a pane: the subscription was not listening for a while."""

    reason: str
    seconds: float
    discarded: int | None = None  # bytes the server threw away for us (a drop), if known

    def describe(self) -> str:
        """One line, what matters first: how long (and how much was discarded), then why.
        A narrow pane cuts the end of a line, and the reason is the long part (it quotes
        an address and an error)."""
        if self.discarded is not None:
            # what was queued for us is gone too: the loss began before we stopped listening
            return (
                f"── gap {self.seconds:.1f} s, ~{human_bytes(self.discarded)} discarded: "
                f"{self.reason}; what the server discarded for us and what was published "
                "until we listened again is lost ──"
            )
        return (
            f"── gap {self.seconds:.1f} s: {self.reason}; not listening, "
            "messages published then are lost ──"
        )


# An entry, as everything outside the store sees it, is the reply list from the wire with
# the receive time appended: [kind, (pattern,) channel, payload, time]; a gap marker is
# [None, Gap, time]. So for any entry: channel = e[-3] (None for a gap), payload = e[-2]
# (bytes or Gap), time = e[-1]. The store itself keeps the replies as the wire gave them,
# one `Read` (with one time) per socket read, and makes entries only for what is asked
# for: a flood then costs no per-message work to stamp or to buffer.
Entry = list

# Named accessors (C-level itemgetters: as cheap as the index they name).
time_of = itemgetter(-1)  # the receive time (seconds since the epoch)
payload_of = itemgetter(-2)  # the payload bytes, or the Gap of a gap marker
channel_of = itemgetter(-3)  # the channel the message came on; None for a gap marker


def is_gap(entry: Entry) -> bool:
    return entry[0] is None


def pattern_of(entry: Entry) -> bytes | None:
    """The glob a pmessage matched; None for any other entry."""
    return entry[1] if entry[0] == b"pmessage" else None
