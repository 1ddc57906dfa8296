"""What reaches the terminal: the characters that must never be drawn raw, and the screen of
an app under test read back as text (its SVG export) or a widget's lines."""

from __future__ import annotations

import html
import re
from collections import defaultdict

from rps_tui.ui.app import RpsApp

# C0, DEL, C1, zero-width marks, bidi embeddings/overrides/isolates, line and paragraph
# separators, BOM; and lone surrogates, which are not text at all (a UTF-8 terminal writer
# cannot encode them, and a surrogate-escaped byte would otherwise be shown as garbage).
_FORBIDDEN_RANGES = (
    "\x00-\x1f",  # C0 (newline and tab are allowed in the detail view only)
    "\x7f",  # DEL
    "\x80-\x9f",  # C1
    "\u200b-\u200f",  # zero-width space, joiners, LRM/RLM
    "\u202a-\u202e",  # bidi embeddings and overrides
    "\u2066-\u2069",  # bidi isolates
    "\u2028\u2029",  # line and paragraph separators
    "\ufeff",  # BOM / zero-width no-break space
    "\ud800-\udfff",  # lone surrogates
)
FORBIDDEN = re.compile("[" + "".join(_FORBIDDEN_RANGES) + "]")


def raw_controls(text: str, allow: str = "") -> list[str]:
    """The forbidden characters in `text` (as escapes, for a readable failure), minus `allow`."""
    return sorted({ascii(ch) for ch in FORBIDDEN.findall(text) if ch not in allow})


def widget_lines(widget) -> list[str]:
    """What a line-API widget (the pane, the data tables) draws, line by line."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def screen_lines(app: RpsApp) -> tuple[str, list[str]]:
    """The SVG screenshot and its text, one string per terminal line (borders included)."""
    svg = app.export_screenshot()
    lines: dict[int, list[str]] = defaultdict(list)
    for match in re.finditer(r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>', svg):
        lines[int(match.group(1))].append(html.unescape(match.group(2)).replace("\xa0", " "))
    # Rich ends each exported line with one "\n" piece; any other newline was drawn raw
    return svg, [
        "".join(parts[:-1] if parts[-1] == "\n" else parts) for _, parts in sorted(lines.items())
    ]


def screen_problems(app: RpsApp) -> list[str]:
    """Raw characters anywhere on the screen: in the SVG, in its lines, or a newline drawn raw
    (the SVG export then splits a screen row in two)."""
    svg, lines = screen_lines(app)
    problems = raw_controls(svg, allow="\n") + raw_controls("".join(lines))
    if len(lines) != app.size.height:
        problems.append(f"{len(lines)} lines on a {app.size.height}-line screen: a raw newline")
    return problems
