"""Why a subscriber connection ended, as far as the server lets us know.

A server drops a subscriber whose output buffer passes `client-output-buffer-limit pubsub`
and discards everything it held for it. Redis 7.2+ and Valkey count these drops
(`client_output_buffer_limit_disconnections` in INFO stats); Redis 7.0 does not, so there
the reason is inferred from the buffer the monitor saw last: a connection that goes away
while the server held a quarter of the limit or more for it was dropped for falling behind.
Both give the same words, so a user reads the same reason on every server.
"""

from __future__ import annotations

from dataclasses import dataclass

LIMIT_REASON = (
    "the server dropped the subscriber: it fell behind and passed client-output-buffer-limit pubsub"
)
CLOSED_REASON = "the server closed the subscriber connection (it is gone from CLIENT LIST)"
INFERRED_LEVEL = 0.25  # of the nearer limit: held when last seen, the drop is ours


@dataclass(frozen=True, slots=True)
class Drop:
    """The monitor's news for the engine: the server no longer lists our subscriber."""

    client_id: object
    reason: str
    since: float  # clock() when it was last seen listed: the loss began after that
    discarded: int | None  # bytes the server held for it when last seen


def buffer_level(omem: int | None, limit: tuple[int, ...] | None) -> float:
    """The subscriber's server-side buffer as a fraction of the nearer limit (soft or hard)."""
    if not omem or not limit:
        return 0.0
    caps = [v for v in limit[:2] if v]
    return omem / min(caps) if caps else 0.0


def dropped_reason(counted: bool, omem: int | None, limit: tuple[int, ...] | None) -> str:
    """The reason for a gap, from the server's counter when it has one (`counted`: it grew
    while we were away), else from the last buffer seen."""
    if counted or buffer_level(omem, limit) >= INFERRED_LEVEL:
        return LIMIT_REASON
    return CLOSED_REASON


def discarded_estimate(omem: int | None, limit: tuple[int, ...] | None) -> int | None:
    """What a server that dropped us for the limit threw away: at least the limit it
    enforced (the nearer of soft and hard), at least what we last saw it hold."""
    caps = [v for v in (limit or ())[:2] if v]
    if not caps:
        return omem
    return max(omem or 0, min(caps))
