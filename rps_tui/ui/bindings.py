"""Every key of the dashboard and the app in one place: the bindings (with the ids a keymap
rebinds), the help screen's rows and the command palette's commands."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from rps_tui.core.payload.decoders import DECODERS

APP_BINDINGS = [
    Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
    Binding("q", "quit", "Quit", id="quit"),
]

DASHBOARD_BINDINGS = [
    Binding(
        "s", "subscribe", "Subscribe", id="subscribe", tooltip="Subscribe to a channel or glob"
    ),
    Binding(
        "x",
        "unsubscribe",
        "Unsub",
        id="unsubscribe",
        tooltip="Unsubscribe the selected subscription",
    ),
    Binding(
        "right_square_bracket",
        "next_sub",
        "Next",
        show=False,  # the footer has room for the keys a newcomer needs; ? lists all
        id="next",
        key_display="]",
        tooltip="Next subscription",
    ),
    Binding(
        "left_square_bracket",
        "prev_sub",
        "Prev",
        show=False,
        id="previous",
        key_display="[",
        tooltip="Previous subscription",
    ),
    Binding(
        "p", "pause", "Pause", id="pause", tooltip="Pause or resume the pane (counting goes on)"
    ),
    Binding("c", "clear", "Clear", show=False, id="clear", tooltip="Clear the pane"),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        key_display="/",
        tooltip="Filter the pane: text, re:regex or json:JMESPath (n / N jump)",
    ),
    Binding("i", "publish", "Publish", id="publish", tooltip="Focus the publish box"),
    Binding(
        "m",
        "next_decoder",
        "Decoder",
        id="decoder",
        tooltip="Decode the pane with the next decoder: " + ", ".join(DECODERS),
    ),
    Binding(
        "r",
        "record",
        "Record",
        id="record",
        tooltip="Start or stop recording every message to an NDJSON file",
    ),
    Binding(
        "k",
        "keyspace",
        "Keyspace",
        id="keyspace",
        tooltip="Keyspace notifications: see and enable them, subscribe",
    ),
    Binding(
        "b",
        "browse",
        "Browse",
        id="browse",
        tooltip="Browse the server's active channels; Enter subscribes",
    ),
    Binding(
        "escape",
        "leave",
        "Back",
        show=False,
        id="leave",
        tooltip="Leave the publish box or the filter",
    ),
    *(
        Binding(str(n), f"jump({n - 1})", f"Subscription {n}", show=False, id=f"jump{n}")
        for n in range(1, 10)
    ),
]

# Hidden while a recording is viewed (`rps-tui view`), from the footer, the palette and help:
# subscribe, publish, browse and keyspace ask a server, and record would record nothing (no
# message arrives). unsubscribe, pause and clear act on a live feed, and a recording is
# none: it has no subscription to end (its rows are what the file holds, so `x` would only
# lie), nothing arrives that pause could hold back, and what clear drops could not come back
# without opening the file again. Kept: [ ] 1-9, the cursor, filter and n/N, the decoder,
# the detail view and diff: all read what the recording holds.
ONLINE_ACTIONS = frozenset(
    {"subscribe", "publish", "browse", "keyspace", "record", "unsubscribe", "pause", "clear"}
)
NOT_IN_PALETTE = ("quit", "leave")  # the palette has its own Quit; Esc needs no command


def help_rows(app: App, screen: Screen) -> Iterable[tuple[str, str]]:
    """(key, what it does) for every binding active on `screen`, once each."""
    seen = set()
    for _, binding, _enabled, tooltip in screen.active_bindings.values():
        if not binding.id or binding.id in seen or binding.action.startswith("jump"):
            continue
        seen.add(binding.id)
        key = binding.key_display or app.get_key_display(binding)
        yield key, binding.tooltip or tooltip or binding.description
    yield "1-9", "Jump to subscription 1-9"
    yield "ctrl+p", "Command palette"


def palette_bindings(bindings: Iterable[Binding]) -> Iterable[Binding]:
    """Those of `bindings` that the command palette offers as commands."""
    for binding in bindings:
        if binding.id and not binding.id.startswith("jump") and binding.id not in NOT_IN_PALETTE:
            yield binding
