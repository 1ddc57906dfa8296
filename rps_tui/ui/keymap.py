"""Rebinding keys by binding id (the config file's `[keymap]`), checked before the app runs,
and the keys bound now, for every hint in the UI that names one.

Textual's `App.set_keymap` silently ignores ids it does not know, so a typo in the config
would do nothing; `unknown_ids` lets the CLI say so instead. It also lets a rebound key
take another binding's key and quietly drops the other binding (`pause = "s"` leaves
Subscribe on no key at all); `conflict` finds that first, among the bindings that are
active together (a screen, the app's, and the focused widget's). Two bindings that share
a key by default stay allowed, on that key or any other they are both moved to: a screen's
own `q` (close) over the app's `q` (quit) is meant, as the channel tree's `s` over the
dashboard's.

Hints ("p resumes", "Esc closes", the keyspace buttons' letters) are drawn from `Keys`,
the defaults with the keymap over them, never from hard-coded letters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import combinations

from textual.binding import Binding
from textual.keys import _normalize_key_list, format_key  # what App.set_keymap applies
from textual.theme import BUILTIN_THEMES

# how hints name keys that Textual shows otherwise ("esc", "⏎")
_LABELS = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn"}
_PLACE = re.compile(r"\{([\w.]+)\}")


def _holders() -> dict[str, tuple[type | Sequence[Binding], ...]]:
    """Where bindings are active together, by what the user sees: the app's bindings apply
    on every screen, a widget's only while it has the focus. The plot screen by its binding
    list: importing it loads the plotting library, which the start-up goes without."""
    from rps_tui.ui import (
        all_screen,
        app,
        bindings,
        browser,
        channel_tree,
        dashboard,
        detail,
        keyspace,
        message_pane,
        publish_box,
        repeat,
        saved_picker,
        screens,
        stats_table,
    )

    base = (app.RpsApp,)
    return {
        "the dashboard": (*base, dashboard.DashboardScreen, message_pane.MessagePane),
        "the publish box": (
            *base,
            dashboard.DashboardScreen,
            publish_box.PublishBox,
            publish_box.MessageInput,
        ),
        "the channel table": (*base, dashboard.DashboardScreen, stats_table.StatsTable),
        "the channel tree": (*base, dashboard.DashboardScreen, channel_tree.ChannelTreeView),
        "the subscribe dialog": (*base, screens.SubscribeScreen),
        "the detail view": (*base, detail.DetailScreen),
        "the help screen": (*base, screens.HelpScreen),
        "the channel browser": (*base, browser.ChannelBrowser),
        "the keyspace screen": (*base, keyspace.KeyspaceScreen),
        "the keyspace question": (*base, keyspace.Confirm),
        "the plot screen": (*base, bindings.PLOT_BINDINGS),
        "the save dialog": (*base, saved_picker.SaveScreen),
        "the saved messages": (*base, saved_picker.SavedPicker),
        "the repeat dialog": (*base, repeat.RepeatScreen),
        "the message editor": (*base, bindings.EDITOR_BINDINGS),
        "the all view": (*base, all_screen.AllScreen, message_pane.MessagePane),
    }


def _bindings(holders: Iterable[type | Sequence[Binding]]) -> list[Binding]:
    return [
        binding
        for holder in holders
        for binding in (holder if isinstance(holder, Sequence) else getattr(holder, "BINDINGS", []))
        if isinstance(binding, Binding) and binding.id
    ]


@cache
def _defaults() -> dict[str, str]:
    """Binding id -> its default keys, normalized ("?" is "question_mark")."""
    seen: dict[str, str] = {}
    for holders in _holders().values():
        for binding in _bindings(holders):
            seen.setdefault(binding.id or "", _normalize_key_list(binding.key))
    return seen


def binding_ids() -> set[str]:
    """Every binding id of the app, its widgets and its screens."""
    return set(_defaults())


def unknown_ids(keymap: Mapping[str, str]) -> list[str]:
    known = binding_ids()
    return sorted(i for i in keymap if i not in known)


def key_label(key: str) -> str:
    """How a hint names a key: 'p', '?', 'Esc', 'Enter', 'End', 'Ctrl+T'."""
    *mods, base = key.split("+")
    shown = _LABELS.get(base) or format_key(base)
    if len(shown) > 1:
        shown = shown[0].upper() + shown[1:]
    elif mods:
        shown = shown.upper()
    return "+".join([*(m.capitalize() for m in mods), shown])


def conflict(keymap: Mapping[str, str]) -> str | None:
    """The first key the keymap binds twice where both bindings are active together, as
    'KEY is bound to both A and B in WHERE', else None. Sharing a key by default is not a
    conflict (see the module docstring)."""
    if not keymap:
        return None
    normalized = {i: _normalize_key_list(k) for i, k in keymap.items()}
    for where, holders in _holders().items():
        bindings = _bindings(holders)
        before, after = _by_key(bindings, {}), _by_key(bindings, normalized)
        # ids that share a key by default shadow each other on purpose (the tree's `s` over
        # the dashboard's): they may share whatever key the keymap gives them both
        paired = {frozenset(p) for ids in before.values() for p in combinations(ids, 2)}
        for key, ids in after.items():
            for a, b in combinations(ids, 2):
                if frozenset((a, b)) not in paired:
                    first, other = (a, b) if a in normalized else (b, a)
                    return f"{key_label(key)!r} is bound to both {first} and {other} in {where}"
    return None


def _by_key(bindings: list[Binding], keymap: Mapping[str, str]) -> dict[str, list[str]]:
    """Key -> the ids bound to it, the keymap applied."""
    keys: dict[str, list[str]] = {}
    for binding in bindings:
        binding_id = binding.id or ""
        for key in keymap.get(binding_id, _normalize_key_list(binding.key)).split(","):
            if binding_id not in keys.setdefault(key, []):
                keys[key].append(binding_id)
    return keys


class Keys:
    """The keys bound now, by binding id: the defaults with the keymap over them. Hints
    call it: `keys("pause")` is 'p', or what `[keymap] pause` says."""

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        self._keymap = {i: _normalize_key_list(k) for i, k in (keymap or {}).items()}

    def __call__(self, binding_id: str) -> str:
        """The label of the first key bound to `binding_id`."""
        return key_label(self.bound(binding_id)[0])

    def bound(self, binding_id: str) -> list[str]:
        """The keys (Textual's names) bound to `binding_id` now."""
        keys = self._keymap.get(binding_id) or _defaults()[binding_id]
        return [key.strip() for key in keys.split(",")]


def with_keys(text: str, keys: Callable[[str], str]) -> str:
    """`text` with each {binding.id} in it replaced by the key bound to it now: for the
    bindings' tooltips, which the help screen and the command palette show."""
    return _PLACE.sub(lambda m: keys(m[1]) if m[1] in _defaults() else m[0], text)


def keys_of(node: object) -> Keys:
    """The app's `Keys` (an `RpsApp`), else the defaults: a widget mounted in a test app."""
    app = getattr(node, "app", None)
    keys = getattr(app, "keys", None)
    return keys if isinstance(keys, Keys) else Keys()


def themes() -> list[str]:
    return sorted(BUILTIN_THEMES)
