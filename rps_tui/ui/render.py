"""From buffer entries to Rich `Text`: one line per message, never markup.

Everything from the wire goes through `core.payload.text` (and `core.payload.decoders`)
first, then into `Text(...)` objects built by appending plain strings with styles, so
`[bold]` in a payload is just text.
"""

from __future__ import annotations

import time

from rich.highlighter import JSONHighlighter
from rich.text import Text

from rps_tui.core.entry import Entry, Gap, channel_of, payload_of, time_of
from rps_tui.core.payload import keyspace, sentinel
from rps_tui.core.payload.decoders import decode_line
from rps_tui.core.payload.text import PayloadKind, safe_name, safe_text
from rps_tui.core.units import human_bytes

SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"
_json = JSONHighlighter()


def clock_text(ts: float) -> str:
    """Local receive time with milliseconds: 14:03:07.123."""
    whole = int(ts)
    return time.strftime("%H:%M:%S", time.localtime(whole)) + f".{int((ts - whole) * 1000):03d}"


def entry_line(
    entry: Entry, *, show_channel: bool, decoder: str = "auto", detail_key: str = "Enter"
) -> Text:
    """One pane line: time, channel (for patterns), then the payload as `decoder` reads it.

    A decoder other than plain auto puts its tag first (`msgpack`, `base64+gzip`); when it
    cannot read the payload, the line says why in red, then shows the raw bytes escaped.
    """
    channel, data, ts = channel_of(entry), payload_of(entry), time_of(entry)
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(clock_text(ts), "dim")
    line.append("  ")
    if isinstance(data, Gap) or channel is None:
        # a gap's reason quotes error text, which may come from the server: escaped too
        line.append(
            safe_text(data.describe() if isinstance(data, Gap) else str(data)), "bold yellow"
        )
        return line
    if decoder == "auto" and channel.startswith(b"__key"):
        note = keyspace.parse(channel, data)
        if note is not None:  # key and event, not a channel name and a payload
            return _notification(line, note, space=channel.startswith(b"__keyspace@"))
    if show_channel:
        line.append(safe_name(channel), "cyan")
        line.append("  ")
    if decoder == "auto" and channel[:1] in b"+-":
        event = sentinel.read(channel, data)
        if event is not None:  # a Sentinel's event in words (`m`: the raw text)
            line.append(safe_text(event))
            return line
    formatted = decode_line(data, decoder)
    if formatted.truncated:  # up front and short, so a narrow pane shows there is more
        line.append(f"[{human_bytes(formatted.size)}] ", "dim italic")
    if formatted.tag:
        line.append(f"{formatted.tag} ", "reverse cyan")
        line.append(" ")
    if formatted.error:
        line.append(f"✗ {formatted.error}", "bold red")
        line.append("  ")
        line.append(formatted.text, "dim")
    elif formatted.kind is PayloadKind.JSON:
        payload = Text(formatted.text)
        _json.highlight(payload)
        line.append_text(payload)
    elif formatted.kind is PayloadKind.BINARY and decoder == "hex":
        line.append(formatted.text, "magenta")
    elif formatted.kind is PayloadKind.BINARY:
        line.append("bin ", "reverse magenta")
        line.append(" " + formatted.text, "magenta")
    else:
        line.append(formatted.text)
    return line


def _notification(line: Text, note: keyspace.Notification, *, space: bool) -> Text:
    """`user:1  ← set` (keyspace: a key and what happened to it) or `expired  → session:9`
    (keyevent: an event and the key it happened to); the database when not 0."""
    key, event = Text(safe_name(note.key), "bold cyan"), Text(safe_name(note.event), "yellow")
    first, arrow, second = (key, "  ← ", event) if space else (event, "  → ", key)
    line.append_text(first)
    line.append(arrow, "dim")
    line.append_text(second)
    if note.db:
        line.append(f"  (db {note.db})", "dim")
    return line


def sparkline(values: tuple[int, ...] | list[int], width: int = 20) -> str:
    """Per-second counts as block characters, scaled to the window's peak."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    peak = max(recent)
    if peak <= 0:
        return SPARK_BLOCKS[1] * len(recent)
    top = len(SPARK_BLOCKS) - 1
    return "".join(
        SPARK_BLOCKS[max(1, round(v / peak * top))] if v else SPARK_BLOCKS[1] for v in recent
    )


def rate_text(rate: float, width: int = 5) -> str:
    """msg/s in at most `width` (≥ 4) characters: 0.4, 12.5, 1,234, 12.3k, 1.2M."""
    if rate < 100:
        return f"{rate:.1f}"
    return count_text(round(rate), width)


_UNITS = ((1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P"))


def count_text(n: int, width: int) -> str:
    """`n` exactly (1,234,567) when that fits in `width` characters, else as few units as
    fit (1.23M, 25.0M, 123M): a number is made shorter, never cut. `width` ≥ 4."""
    exact = f"{n:,}"
    if len(exact) <= width:
        return exact
    for scale, unit in _UNITS:
        value = n / scale
        for digits in (2, 1, 0):
            shown = f"{value:.{digits}f}"
            if float(shown) < 1000 and len(shown) + 1 <= width:
                return shown + unit
    return f"{n:.0e}"
