"""What the user subscribes to: a channel, a glob pattern, or (Redis 7+) a sharded channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GLOB_CHARS = frozenset("*?[")


class Kind(StrEnum):
    CHANNEL = "channel"
    PATTERN = "pattern"
    SHARD = "shard"


class Status(StrEnum):
    """Where a subscription stands with the server."""

    PENDING = "pending"  # asked for (or to be asked again after a reconnect), not confirmed
    ACTIVE = "active"  # confirmed: messages arrive
    ERROR = "error"  # refused (an ACL, a name the server will not take): `error` says why
    REMOVED = "removed"  # unsubscribed; messages still in flight are not counted


REPLY_KIND = {Kind.CHANNEL: b"message", Kind.PATTERN: b"pmessage", Kind.SHARD: b"smessage"}
"""The reply that carries a message for each kind of subscription."""
KIND_OF = {reply: kind for kind, reply in REPLY_KIND.items()}
"""... and the kind of subscription a message reply is for."""


def channel_name(raw: bytes) -> str:
    """A name from the wire as a `Subscription` holds it (any bytes survive the round trip
    back through `Subscription.key`)."""
    return raw.decode("utf-8", "surrogateescape")


class InvalidSubscription(ValueError):
    """A name the server would not take (empty, or unreadable)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    kind: Kind
    name: str

    @classmethod
    def parse(cls, text: str, kind: Kind | str | None = None) -> Subscription:
        """As redis-cli users expect: a name with `*`, `?` or `[` is a pattern, unless the kind
        is forced."""
        if not text:
            raise InvalidSubscription("a channel or pattern name cannot be empty")
        if kind is None or kind == "auto":
            kind = Kind.PATTERN if GLOB_CHARS & set(text) else Kind.CHANNEL
        return cls(Kind(kind), text)

    @property
    def key(self) -> bytes:
        """The name as the server echoes it back in confirmations and messages."""
        return self.name.encode("utf-8", "surrogateescape")

    @property
    def is_pattern(self) -> bool:
        return self.kind is Kind.PATTERN

    def __str__(self) -> str:
        return self.name
