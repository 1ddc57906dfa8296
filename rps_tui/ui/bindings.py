"""Every key of the dashboard and the app in one place: the bindings (with the ids a keymap
rebinds), the help screen's sections and the command palette's commands."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding

from rps_tui.core.payload.decoders import DECODERS
from rps_tui.ui.all_screen import ALL_BINDINGS
from rps_tui.ui.browser import ChannelBrowser
from rps_tui.ui.channel_tree import ChannelTreeView
from rps_tui.ui.detail import DetailScreen
from rps_tui.ui.keymap import keys_of, with_keys
from rps_tui.ui.keyspace import KeyspaceScreen
from rps_tui.ui.message_pane import MessagePane
from rps_tui.ui.publish_box import MessageInput, PublishBox
from rps_tui.ui.repeat import RepeatScreen
from rps_tui.ui.saved_picker import SavedPicker, SaveScreen
from rps_tui.ui.screens import SubscribeScreen
from rps_tui.ui.stats_table import StatsTable

# What Textual reads for alt+1…9 from a terminal: it takes ESC + digit for the characters
# macOS's Option+digit types (¡ ™ £ ¢ ∞ § ¶ • ª), so `alt+1` alone never fires (tmux, xterm).
ALT_DIGIT_KEYS = (
    "inverted_exclamation_mark", "trade_mark_sign", "pound_sign", "cent_sign", "infinity",
    "section_sign", "pilcrow_sign", "bullet", "ª",
)  # fmt: skip

APP_BINDINGS = [
    Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
    Binding("q", "quit", "Quit", id="quit"),
    # several servers (a tab each): these switch, from anywhere
    Binding(
        "right_curly_bracket,ctrl+pagedown",
        "next_tab(1)",
        "Next server",
        show=False,
        id="next_tab",
        tooltip="The next server's tab",
    ),
    Binding(
        "left_curly_bracket,ctrl+pageup",
        "next_tab(-1)",
        "Previous server",
        show=False,
        id="prev_tab",
        tooltip="The previous server's tab",
    ),
    *(
        Binding(
            f"alt+{n},{ALT_DIGIT_KEYS[n - 1]}",
            f"tab({n - 1})",
            f"Server {n}",
            key_display=f"alt+{n}",
            show=False,
            id=f"tab{n}",
        )
        for n in range(1, 10)
    ),
    Binding(
        "plus",
        "add_server",
        "Add server",
        show=False,
        id="add_server",
        tooltip="Watch one more server, in a tab of its own (a URL or a profile name)",
    ),
]
TAB_ACTIONS = frozenset({"tab", "next_tab"})  # hidden with one server

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
        tooltip="Filter the pane: text, re:regex or json:JMESPath "
        "({pane.next_match} / {pane.previous_match} jump)",  # see keymap.with_keys
    ),
    Binding("i", "publish", "Publish", id="publish", tooltip="Focus the publish box"),
    Binding(
        "ctrl+r",
        "repeat",
        "Repeat",
        show=False,
        id="repeat",
        tooltip="Start or stop the publish box's repeat (from anywhere on the dashboard)",
    ),
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
        "S",
        "sentinel_events",
        "Sentinels",
        show=False,
        id="sentinel_events",
        tooltip="The sentinels' own events beside the master's channels, or not (--sentinel)",
    ),
    Binding(
        "b",
        "browse",
        "Browse",
        id="browse",
        tooltip="Browse the server's active channels; Enter subscribes",
    ),
    Binding(
        "g",
        "plot",
        "Plot",
        id="plot",
        tooltip="Plot the selected subscription: msg/s, or a field of its payloads",
    ),
    Binding(
        "z",
        "zoom",
        "Zoom",
        id="zoom",
        tooltip="The focused panel fills the screen, or goes back (tab moves the focus)",
    ),
    Binding(
        "t",
        "toggle_tree",
        "Tree",
        id="tree",
        tooltip="Channel statistics as a tree of name prefixes, or back to the table",
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

# The message editor's (here, not in message_editor: the help lists them without importing
# TextArea, 9 ms of start-up; the editor is imported on ctrl+e)
EDITOR_BINDINGS = [
    Binding("f5", "close('publish')", "Publish", id="editor.publish", tooltip="Publish it"),
    Binding(
        "escape",
        "close('keep')",
        "Keep",
        priority=True,  # over the TextArea's own Esc, which would only move the focus
        id="editor.keep",
        tooltip="Close, the text kept in the publish box (not published)",
    ),
]


# The plot screen's (here, not in plot_screen: the help lists them without importing the
# plotting library, which takes a tenth of a second; the screen is imported on `g`)
PLOT_BINDINGS = [
    Binding(
        "w",
        "window",
        "Window",
        id="plot.window",
        tooltip="Cycle the time window: 1, 5, 15 minutes",
    ),
    Binding(
        "v",
        "values",
        "Values",
        id="plot.values",
        tooltip="Plot a field of the payloads: json:EXPR (as the filter) or number",
    ),
    Binding(
        "t",
        "throughput",
        "Msg/s",
        id="plot.throughput",
        tooltip="Back to the throughput plot (msg/s)",
    ),
    Binding("e", "export", "Export", id="plot.export", tooltip="Write the series to CSV"),
    Binding("escape", "close", "Close", id="plot.close", tooltip="Close the plot"),
    Binding("q", "close", "Close", show=False, id="plot.close_q"),
]

# Hidden while a recording is viewed (`rps-tui view`), from the footer, the palette and help:
# subscribe, publish, browse and keyspace ask a server, and record would record nothing (no
# message arrives). unsubscribe, pause and clear act on a live feed, and a recording is
# none: it has no subscription to end (its rows are what the file holds, so `x` would only
# lie), nothing arrives that pause could hold back, and what clear drops could not come back
# without opening the file again. Kept: [ ] 1-9, the cursor, filter and n/N, the decoder,
# the detail view and diff: all read what the recording holds.
ONLINE_ACTIONS = frozenset(
    {"subscribe", "publish", "repeat", "browse", "keyspace", "record"}
    | {"unsubscribe", "pause", "clear"}
)
# only with a Sentinel-managed master (`--sentinel … --master`): what it needs, and why
ONLY_VIA_SENTINEL = {
    "sentinel_events": "the sentinels' events need --sentinel HOST:PORT --master NAME "
    "(to watch one sentinel alone, point -p at it)",
}
# watching a Sentinel's events (`rps-tui -p 26379`): what it cannot do, and why
NOT_ON_SENTINEL = {
    "publish": "it publishes only its own events (publish to the master it monitors)",
    "repeat": "it publishes only its own events (publish to the master it monitors)",
    "browse": "it has no PUBSUB CHANNELS to browse (its events are on '*')",
    "keyspace": "it has no keys, so no keyspace notifications",
}
NOT_IN_PALETTE = ("quit", "leave")  # the palette has its own Quit; Esc needs no command


@dataclass(frozen=True)
class HelpSection:
    """Where some keys work, their bindings, and rows for keys that are no binding of ours
    (Enter in an input, a Tree's own keys)."""

    title: str
    bindings: Sequence[Binding]
    extra: Sequence[tuple[str, str]] = ()
    online: bool = False  # only with a server: left out while a recording is viewed
    several: bool = False  # only with several servers (the all view)


def help_sections(
    app: App,
    keymap: Mapping[str, str],
    *,
    offline: bool = False,
    hidden: Collection[str] = (),
    several: bool = False,
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Help, drawn from the binding tables, grouped by where each key works: (where,
    [(keys, what they do)]). Keys are as the keymap binds them; several keys of one action
    share a row; what a recording cannot do (`ONLINE_ACTIONS`) is left out offline, and
    what this connection cannot do (`hidden`: a Sentinel's port, no sentinels) always."""
    out, live = [], keys_of(app)
    for section in _sections():
        if (offline and section.online) or (section.several and not several):
            continue
        rows: dict[str, tuple[list[str], str]] = {}  # action -> (keys, description)
        for binding in section.bindings:
            name = binding.action.split("(")[0]
            if (offline and name in ONLINE_ACTIONS) or name in hidden:
                continue
            if binding.action.startswith("jump"):
                rows.setdefault("jump", (["1-9"], "Jump to subscription 1-9"))
                continue
            if binding.action.startswith("tab("):
                rows.setdefault("tab", (["alt+1-9"], "Show server 1-9 (its tab)"))
                continue
            text = with_keys(binding.tooltip or binding.description, live)
            keys, _ = rows.setdefault(binding.action, ([], text))
            keys.extend(_keys(app, binding, keymap))
        listed = [(" / ".join(dict.fromkeys(keys)), text) for keys, text in rows.values()]
        out.append((section.title, listed + list(section.extra)))
    return out


def _keys(app: App, binding: Binding, keymap: Mapping[str, str]) -> list[str]:
    if binding.id in keymap:
        keys = keymap[binding.id]
    elif binding.key_display:
        return [binding.key_display]
    else:
        keys = binding.key
    return [app.get_key_display(Binding(key.strip(), binding.action)) for key in keys.split(",")]


def _sections() -> list[HelpSection]:
    """The screens and widgets that hold bindings, in the order a user meets them."""
    return [
        HelpSection(
            "Everywhere",
            APP_BINDINGS,
            [("ctrl+p", "Command palette: every action, and Theme")],
        ),
        HelpSection("Dashboard", DASHBOARD_BINDINGS),
        HelpSection("Message pane", MessagePane.BINDINGS),
        HelpSection(
            "Publish box (i)",
            [*PublishBox.BINDINGS, *MessageInput.BINDINGS],
            [("⏎", "Publish (in the channel field: on to the message)")],
            online=True,
        ),
        HelpSection(
            "Publish box dialogs (save, open, repeat)",
            [*SaveScreen.BINDINGS, *SavedPicker.BINDINGS, *RepeatScreen.BINDINGS],
            [("⏎", "Save / load the highlighted one / start the repeat")],
            online=True,
        ),
        HelpSection(
            "Message editor (in the box)",
            EDITOR_BINDINGS,
            [("⏎", "A line break"), ("ctrl+z", "Undo")],
            online=True,
        ),
        HelpSection(
            "Filter (/)",
            (),
            [("⏎", "Keep the filter, back to the pane"), ("esc", "Clear the filter")],
        ),
        HelpSection("Channel table (tab to it)", StatsTable.BINDINGS),
        HelpSection("Channel tree (t, then tab to it)", ChannelTreeView.BINDINGS),
        HelpSection(
            "Detail view (⏎ on a line)",
            DetailScreen.BINDINGS,
            [
                ("⏎ / space", "JSON tree: fold or unfold (there ⏎ does not close)"),
                ("tab", "JSON tree: into the long value shown whole under the tree"),
            ],
        ),
        HelpSection(
            "Plot (g)",
            PLOT_BINDINGS,
            [("⏎", "In the field: plot it (json:EXPR or number)")],
        ),
        HelpSection("Subscribe dialog (s)", SubscribeScreen.BINDINGS, [("⏎", "Subscribe")], True),
        HelpSection(
            "Channel browser (b)",
            ChannelBrowser.BINDINGS,
            [("⏎", "Subscribe to the highlighted channel")],
            True,
        ),
        HelpSection("Keyspace helper (k)", KeyspaceScreen.BINDINGS, online=True),
        HelpSection(
            "All view (the last tab)",
            [b for b in ALL_BINDINGS if b.action != "leave"],
            [("⏎", "Detail view of that server's message")],
            several=True,
        ),
    ]


def palette_bindings(bindings: Iterable[Binding]) -> Iterable[Binding]:
    """Those of `bindings` that the command palette offers as commands."""
    for binding in bindings:
        if binding.id and not binding.id.startswith("jump") and binding.id not in NOT_IN_PALETTE:
            yield binding
