"""The bottom line: the keys that work where the focus is, as many as fit, and always help
and quit.

Textual's `Footer` cuts the row at the right edge, so at 80 or 120 columns the keys a
newcomer needs most (`?`, `q`) were the ones cut. Here they are pinned to the right, and
the other keys drop from the end of the binding tables (least important last there) until
the rest fits; every key stays in `?` and the command palette. While an input has the focus,
printable keys type text, so only keys that still act (Enter, Esc, Ctrl+…, F1) are shown:
`f1` for help and `^q` for quit.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

PINNED = ("help", "quit")  # actions always shown, at the right end
TYPING = ("leave",)  # ... and while an input has the focus, the way out of it
KEY_STYLE = "bold reverse"
GAP = "  "


_NAMED_KEYS = frozenset(
    {"enter", "escape", "tab", "backspace", "delete", "insert", "up", "down", "left", "right"}
    | {"home", "end", "pageup", "pagedown"}
)


def _printable(key: str) -> bool:
    """A key that types a character into an input (`a`, `slash`, `question_mark`, `space`)."""
    if len(key) == 1:
        return key.isprintable()
    modifier = key.startswith(("ctrl+", "alt+", "shift+", "super+", "meta+"))
    return not (modifier or key in _NAMED_KEYS or re.fullmatch(r"f\d+", key))


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of what is drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, _screen: Screen) -> None:
        self.refresh()

    def shown(self) -> list[tuple[str, str, str]]:
        """(key, what it shows, description) of the keys drawn now, left to right."""
        width = self.size.width
        typing = isinstance(self.screen.focused, Input)
        candidates: dict[str, list[Binding]] = {}  # action -> its bindings, first seen first
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            wanted = binding.action in PINNED or (typing and binding.action in TYPING)
            if enabled and (binding.show or wanted):
                candidates.setdefault(binding.action, []).append(binding)
            elif enabled and binding.action in candidates:
                candidates[binding.action].append(binding)
        for action, bindings in list(candidates.items()):  # Textual's own ^q quits too
            if action == "quit" and not any(b.key == "ctrl+q" for b in bindings):
                bindings.append(Binding("ctrl+q", "quit", "Quit"))
        items: list[tuple[str, str, str, Binding]] = []
        for bindings in candidates.values():
            usable = [b for b in bindings if not (typing and _printable(b.key))]
            if not typing:  # the key the table shows (q, not Textual's own ^q)
                usable.sort(key=lambda b: not b.show)
            if not usable:
                continue
            chosen = usable[0]
            display = (  # a binding's key_display names its first key, not an alternative
                chosen.key_display
                if chosen.key_display and not typing
                else self.app.get_key_display(Binding(chosen.key, chosen.action))
            )
            description = next((b.description for b in bindings if b.description), "")
            items.append((chosen.key, display, description, chosen))
        keep = PINNED + TYPING if typing else PINNED
        pinned = [i for i in items if i[3].action in keep]
        rest = [i for i in items if i[3].action not in keep]

        def cost(chosen: list) -> int:  # as `render` draws them: " key " + " description"
            return sum(len(d) + 3 + len(t) + len(GAP) for _, d, t, _ in chosen)

        while rest and cost(rest) + cost(pinned) - len(GAP) > width:
            rest.pop()  # the binding tables list the least important last
        return [(k, d, t) for k, d, t, _ in rest + pinned]

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        if self.app.screen is not self.screen:  # a dialog or the detail view is on top:
            text.append(" esc ", KEY_STYLE)  # the dashboard's keys do not work there; Esc
            text.append(" Back")  # closes every one of them (each lists its own keys)
            return text
        for index, (key, display, description) in enumerate(self.shown()):
            if index:
                text.append(GAP)
            start = text.cell_len
            text.append(f" {display} ", KEY_STYLE)
            text.append(f" {description}")
            self._spans.append((start, text.cell_len, key))
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
