"""Turning bytes from the wire into text that is safe to put on a terminal.

Every payload and channel name passes through here before it reaches the screen: control
characters, bidi overrides and invalid UTF-8 become visible escapes, so a message can never
move the cursor, set the clipboard, retitle the window or flip the text direction.
The results are plain strings; the UI wraps them in `rich.text.Text` (never markup).
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from enum import StrEnum

LINE_LIMIT = 512
"""Bytes of a payload shown on one line of the message list; the detail view shows all."""

COMPACT_LIMIT = 64 << 10
"""A JSON payload up to this size is parsed to show it compacted on its line, even when the
line shows only its first `LINE_LIMIT` characters (a pretty-printed 5 KB document would
otherwise fill its line with indentation)."""

# Characters a terminal must not get raw: C0, DEL and C1 controls; every format character
# (Unicode category Cf: zero-width and bidi controls, the BOM, interlinear marks, invisible
# musical and Egyptian format marks, tag characters); every other default-ignorable one
# (combining grapheme joiner, Mongolian and other variation selectors, Hangul fillers,
# Khmer inherent vowels), which draw nothing, so `x<tags>y` would look like `xy`, or change
# the width a terminal gives the character before them (❤ + VS16 is one cell or two,
# depending on the terminal, and the pane's border then moves); line and paragraph
# separators; and lone surrogates (from JSON's "\ud800" escapes, or bytes a name carried by
# surrogateescape), which no terminal writer can encode. tests/test_safety.py checks this
# list against the Unicode database.
_HIDDEN = (
    "\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
    "\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_UNSAFE = re.compile(f"[\x00-\x1f{_HIDDEN}]")
_UNSAFE_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_HIDDEN}]")
# ... and for text payloads, the backslash too: a payload that reads `\u200d` (six
# characters) then shows `\\u200d`, and one with a zero-width joiner `\u200d`
_PATTERNS = {
    (False, False): _UNSAFE,
    (True, False): _UNSAFE_KEEP_LINES,
    (False, True): re.compile(f"[\\\\\x00-\x1f{_HIDDEN}]"),
    (True, True): re.compile(f"[\\\\\x00-\x08\x0b-\x1f{_HIDDEN}]"),
}
_NAMED = {
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\x1b": "\\e",
    "\x00": "\\0",
    "\\": "\\\\",
}


class PayloadKind(StrEnum):
    JSON = "json"
    TEXT = "text"
    BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Formatted:
    """Safe text of one payload. `tag` names the decoding steps when not plain auto
    ("msgpack", "base64+gzip"); `error` is a safe one-line reason the chosen decoder failed,
    and `text` is then the raw payload, escaped (see `rps_tui.core.payload.decoders`)."""

    kind: PayloadKind
    text: str
    size: int
    truncated: bool = False
    tag: str = ""
    error: str = ""


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe_text(text: str, *, keep_newlines: bool = False, backslash: bool = False) -> str:
    """Replace every character that could act on a terminal with a visible escape; with
    `backslash` (text payloads), a backslash shows as `\\\\`, so it cannot be mistaken
    for an escape made here. JSON keeps its backslashes: there they start JSON's own
    escapes, which mean what ours do."""
    return _PATTERNS[keep_newlines, backslash].sub(_escape_char, text)


def safe_name(name: bytes | str) -> str:
    """A channel or pattern name for display: decoded leniently, escaped."""
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            return escape_bytes(name)
    return safe_text(name)


def escape_bytes(data: bytes) -> str:
    """Bytes that are not UTF-8: printable ASCII as is, the rest as \\xNN."""
    return "".join(
        chr(b) if 0x20 <= b < 0x7F and b != 0x5C else ("\\\\" if b == 0x5C else f"\\x{b:02x}")
        for b in data
    )


def utf8_text(data: bytes, *, cut: bool = False) -> str | None:
    """`data` as UTF-8 text, or None if it is not UTF-8. `cut`: the bytes are a prefix, so a
    character cut at the end is dropped, not an error."""
    try:
        if cut:
            return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def clipboard_text(data: bytes) -> tuple[str, bool]:
    """What a copy puts on the clipboard, and whether it is escaped: UTF-8 text as it is
    when nothing in it but tabs and line breaks (CR too) could act on a terminal (so a JSON
    document pastes back whole); anything else as the escaped text the screen shows, since
    a clipboard cannot hold bytes that are not text, and pasting control sequences into a
    shell is how a payload would harm the terminal after all."""
    text = utf8_text(data)
    if text is None:
        return escape_bytes(data), True
    safe = "\r".join(safe_text(part, keep_newlines=True) for part in text.split("\r"))
    return safe, safe != text


def looks_like_json(text: str) -> bool:
    """Worth a `json.loads`: an object or an array (a bare number or string is text)."""
    stripped = text.strip()
    return bool(stripped) and stripped[0] in "{[" and stripped[-1] in "}]"


def format_line(data: bytes, limit: int = LINE_LIMIT) -> Formatted:
    """One display line: JSON compacted, text escaped, binary as escaped bytes, cut at `limit`."""
    size = len(data)
    truncated = size > limit
    if truncated and size <= COMPACT_LIMIT and data[:1] in (b"{", b"["):
        compact = _compact_json(data)
        if compact is not None:
            return Formatted(
                PayloadKind.JSON, safe_text(compact[:limit]), size, len(compact) > limit
            )
    head = data[:limit] if truncated else data
    text = utf8_text(head, cut=truncated)
    if text is None:
        return Formatted(PayloadKind.BINARY, escape_bytes(head), size, truncated)
    if not truncated and looks_like_json(text):
        compact = _compact_json(data)
        if compact is not None:
            return Formatted(PayloadKind.JSON, safe_text(compact), size)
    return Formatted(PayloadKind.TEXT, safe_text(text, backslash=True), size, truncated)


def _compact_json(data: bytes) -> str | None:
    """`data` as compact JSON; None if it is not JSON (or is nested too deep to show so)."""
    text = utf8_text(data)
    if text is None or not looks_like_json(text):
        return None
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def hexdump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII, 16 bytes a row, as `xxd` prints them."""
    rows = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        rows.append(f"{offset:08x}  {hexpart:<{width * 3 - 1}}  {ascii_part}")
    return "\n".join(rows)
