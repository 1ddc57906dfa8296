"""Rebinding keys by binding id (the config file's `[keymap]`), checked before the app runs.

Textual's `App.set_keymap` silently ignores ids it does not know, so a typo in the config
would do nothing; `unknown_ids` lets the CLI say so instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.theme import BUILTIN_THEMES


def binding_ids() -> set[str]:
    """Every binding id of the app, its widgets and its screens."""
    from rps_tui.ui import (
        app,
        browser,
        dashboard,
        detail,
        keyspace,
        message_pane,
        publish_box,
        screens,
    )

    holders: Iterable[type] = (
        app.RpsApp,
        dashboard.DashboardScreen,
        message_pane.MessagePane,
        publish_box.PublishBox,
        publish_box.MessageInput,
        screens.SubscribeScreen,
        detail.DetailScreen,
        screens.HelpScreen,
        browser.ChannelBrowser,
        keyspace.KeyspaceScreen,
        keyspace.Confirm,
    )
    ids = set()
    for holder in holders:
        for binding in getattr(holder, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    known = binding_ids()
    return sorted(i for i in keymap if i not in known)


def themes() -> list[str]:
    return sorted(BUILTIN_THEMES)
