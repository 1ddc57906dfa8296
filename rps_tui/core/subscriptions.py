"""What the user subscribes to: a channel, a glob pattern, or (Redis 7+) a sharded channel;
on the data server, or (`on`) on the sentinels that manage it."""

from __future__ import annotations

import functools
import re
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


def glob_escape(name: str) -> str:
    """`name` as a glob that matches only itself: `*`, `?`, `[`, `]` and `\\` escaped with a
    backslash (Redis's glob and `glob_matches` take `\\x` as a literal x)."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", name)


def delivering(channel: bytes, subs: list[Subscription]) -> tuple[Subscription | None, bool]:
    """The subscription that delivers `channel` (its own channel or sharded subscription,
    else the first pattern that matches it), and whether it is the channel's own."""
    for sub in subs:
        if sub.kind is not Kind.PATTERN and sub.key == channel:
            return sub, True
    for sub in subs:
        if sub.kind is Kind.PATTERN and glob_matches(sub.key, channel):
            return sub, False
    return None, False


def glob_matches(pattern: bytes, channel: bytes) -> bool:
    """Whether a PSUBSCRIBE glob matches a channel, as Redis decides (`*`, `?`, `[a-c]`,
    `[^a]`, and `\\` escaping the next byte)."""
    return _glob_regex(pattern).fullmatch(channel) is not None


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: bytes) -> re.Pattern[bytes]:
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i : i + 1]
        if c == b"\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1 : i + 2]))
            i += 2
            continue
        if c == b"*":
            out.append(b".*")
        elif c == b"?":
            out.append(b".")
        elif c == b"[":
            end = pattern.find(b"]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith(b"^")
                body = body[1:] if negate else body
                parts = [
                    re.escape(body[k : k + 1]) if body[k : k + 1] != b"-" else b"-"
                    for k in range(len(body))
                ]
                out.append(b"[" + (b"^" if negate else b"") + b"".join(parts) + b"]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile(b"".join(out), re.DOTALL)


class InvalidSubscription(ValueError):
    """A name the server would not take (empty, or unreadable)."""


SENTINELS = "sentinels"
"""`Subscription.on` of a subscription to the sentinels' own events (`--sentinel-events`)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    kind: Kind
    name: str
    on: str = ""  # "" the data server; SENTINELS: the sentinels of a Sentinel-managed master;
    # else the label of the server it was on (a recording of several, viewed offline)

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
    def title(self) -> str:
        """What the screen calls it: the name (after its server's label, if it has one),
        or for the sentinels' events that."""
        if self.on == SENTINELS:
            return "sentinel events" + ("" if self.name == "*" else f" {self.name}")
        return f"{self.on} · {self.name}" if self.on else self.name

    @property
    def is_pattern(self) -> bool:
        return self.kind is Kind.PATTERN

    def __str__(self) -> str:
        return self.name


SENTINEL_EVENTS = Subscription(Kind.PATTERN, "*", SENTINELS)
"""Every event of the sentinels: what `--sentinel-events` and the dashboard's key subscribe."""
