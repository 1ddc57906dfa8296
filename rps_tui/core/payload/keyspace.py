"""Keyspace notifications: the `notify-keyspace-events` flags, and reading the messages.

Redis publishes `__keyspace@<db>__:<key>` with the event as payload and
`__keyevent@<db>__:<event>` with the key as payload, but only for the event classes the
server's `notify-keyspace-events` enables (off by default). See
https://redis.io/docs/latest/develop/use/keyspace-notifications/
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FLAGS = {
    "K": "keyspace channels (__keyspace@<db>__:<key>, payload: the event)",
    "E": "keyevent channels (__keyevent@<db>__:<event>, payload: the key)",
    "g": "generic commands (DEL, EXPIRE, RENAME, …)",
    "$": "string commands",
    "l": "list commands",
    "s": "set commands",
    "h": "hash commands",
    "z": "sorted set commands",
    "t": "stream commands",
    "x": "expired keys",
    "e": "evicted keys",
    "m": "key misses (not part of A)",
    "n": "new keys (not part of A)",
    "d": "module key types",
    "A": 'alias for "g$lshzxetd"',
}
ALL_CLASSES = "g$lshzxetd"  # what A stands for
SUGGESTED = "KEA"  # both channel kinds, every class A covers
_CHANNEL = re.compile(rb"^__key(space|event)@(\d+)__:(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Notification:
    db: int
    key: bytes
    event: bytes


def parse(channel: bytes | None, data: bytes) -> Notification | None:
    """A keyspace or keyevent message, or None for any other channel."""
    if channel is None:
        return None
    match = _CHANNEL.match(channel)
    if match is None:
        return None
    kind, db, rest = match.groups()
    if kind == b"space":
        return Notification(int(db), key=rest, event=data)
    return Notification(int(db), key=data, event=rest)


def publishes_anything(flags: str) -> bool:
    """Does this setting make the server publish any notification at all?"""
    classes = set(flags) - {"K", "E"}
    return bool({"K", "E"} & set(flags)) and bool(classes)


def merged(current: str, wanted: str = SUGGESTED) -> str:
    """`current` plus the flags of `wanted` that it lacks, in the server's own order
    (it echoes flags back normalised, e.g. "AKE")."""
    have = set(current.replace("A", ALL_CLASSES))
    add = [f for f in wanted if f not in have and not (f == "A" and set(ALL_CLASSES) <= have)]
    return current + "".join(add)


def describe(flags: str) -> list[str]:
    """One line per flag set, for the helper screen."""
    return [f"{flag}  {FLAGS[flag]}" for flag in flags if flag in FLAGS] or [
        "(empty: the server publishes no keyspace notifications)"
    ]


def channels(db: int) -> tuple[str, str]:
    """The two patterns that catch every notification of one database."""
    return f"__keyspace@{db}__:*", f"__keyevent@{db}__:*"
