"""The Textual application: app-wide things only (theme, keymap, help, quit, the command
palette, keys typed faster than the focus moves). The dashboard is its default screen
(`dashboard.py`); the session it shows is built here from what the CLI decided."""

from __future__ import annotations

import os
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.recording.recorder import Recorder
from rps_tui.core.session import Session, SeveralSessions
from rps_tui.core.store import DEFAULT_HISTORY, DEFAULT_MAX_BYTES
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriptions import Subscription
from rps_tui.ui.add_server import AddServerScreen
from rps_tui.ui.all_screen import AllScreen
from rps_tui.ui.bindings import (
    APP_BINDINGS,
    DASHBOARD_BINDINGS,
    TAB_ACTIONS,
    help_sections,
    palette_bindings,
)
from rps_tui.ui.dashboard import DashboardOptions, DashboardScreen
from rps_tui.ui.keymap import Keys, key_label, with_keys
from rps_tui.ui.publish_box import ChannelInput
from rps_tui.ui.recording import RecordingControl
from rps_tui.ui.screens import HelpScreen
from rps_tui.ui.tab_bar import Tab


@dataclass
class Connection:
    """One more server, in a tab of its own (the first is `AppConfig`'s own fields)."""

    settings: ConnectionSettings
    subscriptions: list[Subscription] = field(default_factory=list)
    label: str = ""  # the tab's name: the profile's, else host:port
    server_label: str = ""
    note: str = ""
    session: Session | None = None  # None: a live session on `settings`


@dataclass
class AppConfig:
    """Everything the CLI decided; the app adds nothing of its own."""

    settings: ConnectionSettings
    subscriptions: list[Subscription] = field(default_factory=list)
    history: int = DEFAULT_HISTORY
    history_bytes: int = DEFAULT_MAX_BYTES  # payload bytes kept per subscription
    server_label: str = ""
    note: str = ""  # e.g. "demo: embedded Valkey, demo traffic"
    clock: Callable[[], float] = time.time
    monitor: bool = True  # PING / NUMSUB polling; off for deterministic snapshots
    address_label: str | None = None  # shown instead of the address (snapshots, screenshots)
    theme: str | None = None  # a Textual theme name (checked by the CLI)
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    session: Session | None = None  # built by the CLI (a live one, or `view`'s recording);
    # None: a live session from the fields above (the tests' way)
    record_path: str | None = None  # where the record key writes (default: a new file);
    # with several servers, the all view's (each tab's `r` then makes a new file)
    recorder: Recorder | None = None  # several servers: --record's, fed by every server
    separators: str = ""  # the channel tree's ("": detected from the names)
    saved_path: Path | None = None  # the publish box's saved messages (None: beside the config)
    label: str = ""  # the first tab's name, when there are several
    more: list[Connection] = field(default_factory=list)  # more servers: a tab each
    connect: Callable[[str], Connection] | None = None  # `+`: a URL or profile name → a
    # checked connection (raises with one line); None: no `+` (a recording, the tests)

    def connections(self) -> list[Connection]:
        """Every server shown, the first from the fields above."""
        first = Connection(
            self.settings,
            self.subscriptions,
            self.label,
            self.server_label,
            self.note,
            self.session,
        )
        return [first, *self.more]


def offline_config(session: Session, **options: object) -> AppConfig:
    """The configuration of `rps-tui view FILE` for a session on a recording: its
    subscriptions, and no monitor (no server: no PING, NUMSUB or CLIENT LIST). The CLI,
    the screenshot script and the tests all open a recording this one way."""
    return AppConfig(
        settings=session.settings,
        subscriptions=session.subscriber.subscriptions,
        monitor=False,
        session=session,
        **options,  # type: ignore[arg-type]
    )


class RpsApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "rps-tui"
    BINDINGS = APP_BINDINGS
    DEFAULT_MODE = "tab0"  # each server's dashboard is a mode (its dialogs stay with it)

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        if config.theme:
            self.theme = config.theme
        if config.keymap:
            self.set_keymap(config.keymap)
        self.keys = Keys(config.keymap)  # what the hints name
        connections = config.connections()
        several = len(connections) > 1
        # --record is the whole dashboard's: one server's, or the all view's of several
        self._tab_record_path = None if several else config.record_path
        self.dashboards = [
            self._dashboard(c, n, tabs=self.tabs if several else None)
            for n, c in enumerate(connections)
        ]
        self.several = SeveralSessions()  # every server, for the all view's recording
        self.all_recording = RecordingControl(
            self.several,
            self.notify,
            self.set_timer,
            config.record_path if several else None,
            keys=self.keys,
            binding="all.record",
        )
        if several:
            self._join_recording()
            if config.recorder is not None:
                self.several.record(config.recorder)
        self.current = 0  # the server whose tab is shown (or was, under the all view)
        self.showing_all = False  # the all view is shown
        self.all_view: AllScreen | None = None
        self._moded = False  # the tabs are modes (once there are two)
        self._screen_up = False
        self._signal_exit: int | None = None  # by a signal before the screen was up
        # the screen and widget each key was read for (see on_key)
        self._meant_for: weakref.WeakKeyDictionary[events.Key, tuple[Screen, Widget | None]] = (
            weakref.WeakKeyDictionary()
        )
        self._holding = False  # a field is opening: keys read now wait (`_into_a_field_now`)
        self._held: deque[events.Key] = deque()
        self._replayed: weakref.WeakSet[events.Key] = weakref.WeakSet()

    def _dashboard(
        self, connection: Connection, index: int, tabs: Callable[[], list[Tab]] | None
    ) -> DashboardScreen:
        config = self.config
        session = connection.session or Session.live(
            connection.settings,
            history=config.history,
            history_bytes=config.history_bytes,
            clock=config.clock,
        )
        return DashboardScreen(
            session,
            DashboardOptions(
                subscriptions=connection.subscriptions,
                history=config.history,
                server_label=connection.server_label,
                note=connection.note,
                clock=config.clock,
                monitor=config.monitor,
                address_label=config.address_label,
                record_path=self._tab_record_path if index == 0 else None,  # one file each
                separators=config.separators,
                saved_path=config.saved_path,
                label=connection.label or connection.settings.node,
                tabs=tabs,
                tab_index=index,
            ),
        )

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard of the tab shown."""
        return self.dashboards[self.current]

    @property
    def session(self) -> Session:
        """The session of the tab shown."""
        return self.dashboard.session

    def recordings(self) -> list[Recorder]:
        """Every recorder of the run: each tab's, then the all view's."""
        tabs = [r for d in self.dashboards for r in d.session.recordings]
        return tabs + self.several.recordings

    def _join_recording(self) -> None:
        """Servers not yet in the all view's recording join it (they join one going on)."""
        for dashboard in self.dashboards[len(self.several.members) :]:
            self.several.add(dashboard.options.label, dashboard.session)

    def server_tabs(self) -> list[Tab]:
        return [d.tab() for d in self.dashboards]

    def tabs(self) -> list[Tab]:
        """Every server's tab, then the all view's: the worst state, the sum of the rates."""
        tabs = self.server_tabs()
        worst = next((s for s in WORST_FIRST if any(t.state is s for t in tabs)), State.CONNECTED)
        recording = self.several.recorder is not None
        return [*tabs, Tab("all", worst, sum(t.rate for t in tabs), recording)]

    @property
    def tab_shown(self) -> int:
        """The tab shown: a server's index, or (the all view) one past the last server."""
        return len(self.dashboards) if self.showing_all else self.current

    def _all_screen(self) -> AllScreen:
        """The all view, made once; a server added later joins it."""
        if self.all_view is None:
            self.all_view = AllScreen(
                [],
                self.server_tabs,
                self.tabs,
                lambda: self.tab_shown,
                self.config.history,
                self.all_recording,
            )
            self.add_mode(ALL_MODE, lambda: self.all_view)  # type: ignore[arg-type,return-value]
        sources = self.all_view.model.sources
        for dashboard in self.dashboards[len(sources) :]:
            sources.append(dashboard.source())  # type: ignore[attr-defined]
        return self.all_view

    def get_default_screen(self) -> Screen:
        return self.dashboards[0]

    async def _mount_tabs(self) -> None:
        """Every tab is mounted at start-up, each as a mode of its own (its dialogs stay
        with it): its subscriber, monitor and counts run from the start, shown or not."""
        for n, dashboard in enumerate(self.dashboards):
            self.add_mode(_mode(n), lambda d=dashboard: d)  # the first is up already
        self._moded = True
        self._all_screen()
        for n in range(1, len(self.dashboards)):
            await self.switch_mode(_mode(n))
        await self.switch_mode(_mode(self.current))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab keys only with several servers; `+` only where the CLI can make one."""
        if action == "add_server":
            return self.config.connect is not None
        return len(self.dashboards) > 1 or action not in TAB_ACTIONS

    def action_add_server(self) -> None:
        if self.config.connect is not None:
            self.push_screen(AddServerScreen(self.config.connect), self._added)

    async def _added(self, connection: object | None) -> None:
        if isinstance(connection, Connection):
            await self.add_tab(connection)

    async def add_tab(self, connection: Connection) -> None:
        """One more server, in a new tab, shown at once; the first tab gains the tab line."""
        n = len(self.dashboards)
        if n == 1:
            first = self.dashboards[0]
            first.options.tabs = self.tabs
            first.options.label = first.options.label or first.session.settings.node
            first.tab_bar.display = True
        if not self._moded:
            self.add_mode(_mode(0), lambda d=self.dashboards[0]: d)
            self._moded = True
        taken = {d.options.label for d in self.dashboards}
        label = base = connection.label or connection.settings.node
        copy = 2
        while label in taken:  # a recording of several servers tells them apart by it
            label, copy = f"{base} ({copy})", copy + 1
        connection.label = label
        dashboard = self._dashboard(connection, n, tabs=self.tabs)
        self.dashboards.append(dashboard)
        self._join_recording()
        self.add_mode(_mode(n), lambda d=dashboard: d)
        self._all_screen()
        self.current, self.showing_all = n, False
        await self.switch_mode(_mode(n))

    async def action_tab(self, n: int) -> None:
        """Show tab `n` (0-based; one past the servers: the all view; beyond: nothing)."""
        if len(self.dashboards) < 2 or n == self.tab_shown:
            return
        if n == len(self.dashboards):
            self.showing_all = True
            await self.switch_mode(ALL_MODE)
        elif 0 <= n < len(self.dashboards):
            self.current, self.showing_all = n, False
            await self.switch_mode(_mode(n))
            self.dashboard.refresh_counts()  # drawn now, not at its next second
            self.dashboard.refresh_pane()

    async def publish_on(self, index: int) -> None:
        """Server `index`'s tab, its publish box focused (`i` in the all view)."""
        await self.action_tab(index)
        if self.dashboard.check_action("publish", ()):
            self.dashboard.action_publish()

    async def action_next_tab(self, step: int = 1) -> None:
        if len(self.dashboards) > 1:
            await self.action_tab((self.tab_shown + step) % (len(self.dashboards) + 1))

    def exit_on_signal(self, code: int) -> None:
        """SIGTERM or SIGINT: quit with `code`. Not while the first screen is still being
        mounted (exiting then raised MountError or NoMatches, a traceback): then as soon
        as it is up."""
        if self._screen_up:
            self.exit(code)
        else:
            self._signal_exit = code

    def on_ready(self) -> None:
        self.set_interval(1.0, self.all_recording.check, name="all-recording")
        if len(self.dashboards) > 1:  # a task of its own: mounting waits for this loop
            self.run_worker(self._mount_tabs(), name="tabs", exit_on_error=False)
        self._screen_up = True
        if self._signal_exit is not None:
            self.exit(self._signal_exit)

    async def on_unmount(self) -> None:
        self.all_recording.stop(say=False)
        for dashboard in self.dashboards:
            await dashboard.shutdown()

    async def action_quit(self) -> None:
        for dashboard in self.dashboards:
            dashboard.session.subscriber.stop()
        self.exit(0)

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """What `?` shows: every key by where it works, as the keymap binds it."""
        return help_sections(
            self,
            self.config.keymap,
            offline=self.session.offline,
            several=len(self.dashboards) > 1,
            hidden={
                *self.dashboard.hidden_actions,
                *(TAB_ACTIONS if len(self.dashboards) == 1 else ()),
                *(() if self.config.connect else ("add_server",)),
            },
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def action_help_quit(self) -> None:
        """Ctrl+C: say which key quits. Textual's own names the first quit binding it finds,
        its ctrl+q, though this app's is q (or what the keymap made it); on a screen where
        q closes the screen, the key that does quit there."""
        quits = [
            (key, active.binding)
            for key, active in self.active_bindings.items()
            if active.binding.action in ("quit", "app.quit")
        ]
        if quits:
            key = next((k for k, b in quits if b.id == "quit"), quits[0][0])
            self.notify(f"Press {key_label(key)} to quit rps-tui", title="Quit?", markup=False)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot. Textual's saves to ~/Downloads through its driver and
        says only "Failed to save screenshot" where that folder does not exist (a server, a
        container); this saves to the current directory, as `r` does its recordings, and
        says where, or why not, in one line."""
        target = os.path.join(path or ".", filename or time.strftime("rps-tui-%Y%m%d-%H%M%S.svg"))
        try:
            target = os.path.abspath(target)  # fails too if the directory was removed
            self.save_screenshot(os.path.basename(target), os.path.dirname(target))
        except OSError as exc:
            self.notify(
                f"cannot save the screenshot to {target}: {exc.strerror or exc}",
                severity="error",
                markup=False,
            )
            return
        self.notify(f"screenshot saved to {target}", markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # ours: see action_screenshot
                command = SystemCommand(
                    "Screenshot",
                    "Save an SVG picture of the screen to the current directory",
                    lambda: self.set_timer(0.1, self.action_screenshot),  # once the palette
                )  # has closed: the picture is of the screen, not of the palette
            yield command
        targets: list[tuple[App | Screen, Iterable[Binding]]] = [(self, APP_BINDINGS)]
        if screen in self.dashboards:
            targets.append((screen, DASHBOARD_BINDINGS))
        for target, bindings in targets:
            for binding in palette_bindings(bindings):
                if target.check_action(binding.action, ()):
                    yield SystemCommand(
                        binding.description,
                        with_keys(binding.tooltip or binding.description, self.keys),
                        lambda t=target, a=binding.action: t.run_action(a),
                    )

    # -- keys typed faster than the focus moves ----------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if (self._holding or self._held) and event not in self._replayed:
                self._held.append(event)  # behind the keys of a field still opening
                event.stop()
                event.prevent_default()
                return
            if self._move_focus_now(event) or await self._into_a_field_now(event):
                return
            self._meant_for[event] = (self.screen, self.focused)
        await super().on_event(event)

    async def _into_a_field_now(self, event: events.Key) -> bool:
        """`i`, `/`, `s` and `+` (as the keymap binds them) run as the key is read, and
        the keys read after them wait until the field they open has the focus, then go to
        it in the order typed. Left to the usual path, the key went to the pane first and
        keys read meanwhile went to the pane too, came back (`on_key`) and were sent again
        behind keys read later: "typed" arrived as "ytped" (tests/test_app.py)."""
        if isinstance(self.focused, Input) or self.screen not in self.dashboards:
            return False
        active = self.screen.active_bindings.get(event.key)
        if (
            active is None
            or not active.enabled
            or active.node not in (self, self.screen)
            or active.binding.action not in INTO_A_FIELD
            or not active.node.check_action(active.binding.action, ())
        ):
            return False
        event.stop()
        event.prevent_default()
        self._holding = True
        try:
            await self.run_action(active.binding.action, active.node)
        finally:
            self.call_after_refresh(self._release, 50)
        return True

    async def _release(self, tries: int) -> None:
        """The held keys, in the order read, once a field (or a dialog's) has the focus:
        each handled now as if just read (forwarded into the field's own queue, ahead of
        any key read after them; its bindings, Enter, as usual)."""
        if not isinstance(self.focused, Input) and tries > 0:  # a dialog is still mounting
            self.call_after_refresh(self._release, tries - 1)
            return
        self._holding = False
        while self._held:
            old = self._held.popleft()
            key = events.Key(old.key, old.character)
            key.set_sender(self)
            self._replayed.add(key)
            if not self._move_focus_now(key):  # Tab (Enter in the channel field): next field
                self._meant_for[key] = (self.screen, self.focused)
                await super().on_event(key)

    def _move_focus_now(self, event: events.Key) -> bool:
        """Tab (and Enter in the channel field) moves the focus as the key is read, not when
        the field gets to it: `chan1`, Tab, `msg1` typed in one burst would otherwise all be
        queued for the channel field and give the channel `chan1msg1`."""
        focused, screen = self.focused, self.screen
        if not isinstance(focused, Input):
            return False
        if event.key == "tab" or (event.key == "enter" and isinstance(focused, ChannelInput)):
            screen.focus_next()
        elif event.key == "shift+tab":
            screen.focus_previous()
        else:
            return False
        event.stop()
        event.prevent_default()
        return True

    def on_key(self, event: events.Key) -> None:
        """A key that bubbled back unhandled, sent to a widget that has lost the focus since.

        Textual forwards each key to the widget focused when the app reads it, and runs the
        bindings when the key bubbles back. Keys typed straight after `i`, `/` or `s` (a fast
        typist, a paste, or any typist while a firehose keeps the loop busy) are all
        forwarded to the pane before `i` has moved the focus, and would come back here to be
        lost, or to run bindings: the `x` of "box" would unsubscribe. Instead they go where
        the focus is now, read again by the app as if just typed: posted to the field itself,
        an Enter came back unhandled and was lost (`/eu⏎` in one burst left the focus in
        the filter, `vnumber⏎` on the plot plotted nothing).
        """
        screen, widget = self._meant_for.get(event, (None, None))
        focused = self.focused
        if screen is self.screen and widget is not focused and isinstance(focused, Input):
            event.prevent_default()
            event.stop()
            self.post_message(events.Key(event.key, event.character))
        elif screen is not None and screen is not self.screen:  # a dialog opened meanwhile
            event.prevent_default()
            event.stop()
            self.call_later(self.post_message, events.Key(event.key, event.character))


ALL_MODE = "all"
INTO_A_FIELD = frozenset({"publish", "filter", "subscribe", "add_server"})  # focus a field
WORST_FIRST = (State.FAILED, State.STALLED, State.RECONNECTING, State.CONNECTING)


def _mode(n: int) -> str:
    """Tab `n`'s mode (the first is the app's DEFAULT_MODE)."""
    return f"tab{n}"
