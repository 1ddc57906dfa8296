"""Placeholders in a message to publish: `{{n}}` and friends, expanded per message.

| placeholder | becomes |
| --- | --- |
| `{{n}}` | the message's sequence number, from 1 |
| `{{time}}` | the time it is sent, ISO 8601 in UTC with ms (2026-12-02T10:00:00.250Z) |
| `{{unix_ms}}` | the same time in milliseconds since 1970 |
| `{{uuid}}` | a random UUID (version 4) |
| `{{random}}` | a random whole number from 0 to 4294967295 |

A message is compiled once and rendered per message, so a message without placeholders
costs nothing. Any other `{{name}}` is an error rather than sent as it is, since it is
most likely a typo; a message that needs braces as they are is sent without templates.
Spaces inside the braces are allowed (`{{ n }}`), as in the template languages of peers.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable

from rps_tui.core.units import iso_time

_PLACEHOLDER = re.compile(rb"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

_FIELDS: dict[str, Callable[[int, float], bytes]] = {
    "n": lambda n, now: b"%d" % n,
    "time": lambda n, now: iso_time(now).encode(),
    "unix_ms": lambda n, now: b"%d" % int(now * 1000),
    "uuid": lambda n, now: str(uuid.uuid4()).encode(),
    "random": lambda n, now: b"%d" % random.getrandbits(32),
}
NAMES = tuple(_FIELDS)


class TemplateError(ValueError):
    """An unknown placeholder: one line that names it and the known ones."""


class Template:
    """A message split at its placeholders; `render(n)` joins it with their values."""

    def __init__(self, message: bytes, *, expand: bool = True) -> None:
        self.message = message
        self._parts: list[bytes | Callable[[int, float], bytes]] = []
        if not expand:
            return
        at = 0
        for match in _PLACEHOLDER.finditer(message):
            name = match.group(1).decode()
            field = _FIELDS.get(name)
            if field is None:
                known = " ".join("{{%s}}" % k for k in NAMES)  # noqa: UP031
                raise TemplateError(
                    f"unknown placeholder {{{{{name}}}}} (known: {known}; "
                    "send braces as they are with --no-template)"
                )
            self._parts += [message[at : match.start()], field]
            at = match.end()
        if self._parts:
            self._parts.append(message[at:])

    @property
    def static(self) -> bool:
        """True when every message is the same bytes."""
        return not self._parts

    def render(self, n: int, now: float | None = None) -> bytes:
        if not self._parts:
            return self.message
        now = time.time() if now is None else now
        return b"".join(p if isinstance(p, bytes) else p(n, now) for p in self._parts)


def render_text(text: str, n: int, now: float | None = None) -> str:
    """A str message (the dashboard's box) rendered; raises TemplateError."""
    return Template(text.encode()).render(n, now).decode()
