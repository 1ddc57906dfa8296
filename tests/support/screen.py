"""What reaches the terminal: the characters that must never be drawn raw, and the screen of
an app under test read back as text (its SVG export) or a widget's lines."""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict

from rps_tui.ui.app import RpsApp

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt) that are not of a
# category below: they draw nothing, or change the width of the character before them.
DEFAULT_IGNORABLE = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufff8"
    "\U000e0000-\U000e0fff"
)
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}  # controls, format, separators, surrogates


def _ranges(chars: list[int]) -> str:
    out, start = [], None
    for i, code in enumerate(chars):
        if start is None:
            start = code
        if i + 1 == len(chars) or chars[i + 1] != code + 1:
            out.append(re.escape(chr(start)) + ("-" + re.escape(chr(code)) if code > start else ""))
            start = None
    return "".join(out)


# Every character of those categories in this Python's Unicode database, and the ignorables:
# the list is read from the database, not copied from the code under test.
HIDDEN = [c for c in range(0x110000) if unicodedata.category(chr(c)) in HIDDEN_CATEGORIES]
FORBIDDEN = re.compile(f"[{_ranges(HIDDEN)}{DEFAULT_IGNORABLE}]")


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
