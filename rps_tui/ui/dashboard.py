"""The dashboard: the one main screen, over one `Session`.

Its layout (status line, subscription list, message pane with its filter, channel table,
publish box), its keys (`bindings.DASHBOARD_BINDINGS`) and its timers. The subscriber runs in
a thread worker and never touches a widget: when a read brings something new it wakes the
pane (`FrameScheduler.wake`, once, then not again until the pane has pulled), and the pane
draws within a CPU budget. Counts and statistics refresh at 1 Hz, the server monitor runs
its rounds, and a 2 Hz housekeeping tick follows the list of subscriptions. With no traffic,
nothing draws.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from rps_tui.core.config import chosen_path
from rps_tui.core.export import export_name, write_channels_csv
from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.payload.text import safe_text
from rps_tui.core.saved import SavedFile, beside
from rps_tui.core.session import Session
from rps_tui.core.store import ChannelRow, Snapshot, Store
from rps_tui.core.subscriber.base import Subscriber
from rps_tui.core.subscriptions import (
    SENTINEL_EVENTS,
    Kind,
    Subscription,
    channel_name,
    delivering,
    glob_escape,
)
from rps_tui.core.units import plural
from rps_tui.ui.bindings import (
    DASHBOARD_BINDINGS,
    NOT_ON_SENTINEL,
    ONLINE_ACTIONS,
    ONLY_VIA_SENTINEL,
)
from rps_tui.ui.browser import MAX_ROWS as MAX_BROWSER_ROWS
from rps_tui.ui.browser import ChannelBrowser
from rps_tui.ui.channel_tree import ChannelTreeView
from rps_tui.ui.filter_bar import FilterBar
from rps_tui.ui.frames import CatchingUp, FrameScheduler
from rps_tui.ui.header import Header, Labels
from rps_tui.ui.key_bar import KeyBar
from rps_tui.ui.keymap import Keys, keys_of
from rps_tui.ui.keyspace import KeyspaceScreen
from rps_tui.ui.merged_model import Source
from rps_tui.ui.message_pane import MessagePane
from rps_tui.ui.messages import (
    ExportChannels,
    FilterChanged,
    FilterPane,
    OpenChannel,
    PaneChanged,
    RepeatChanged,
    SubscribeTo,
)
from rps_tui.ui.pane_model import PaneModel
from rps_tui.ui.publish_box import PublishBox
from rps_tui.ui.recording import RecordingControl
from rps_tui.ui.screens import SubscribeScreen
from rps_tui.ui.side import SideColumn
from rps_tui.ui.stats_table import StatsTable
from rps_tui.ui.status_bar import StatusBar
from rps_tui.ui.subscription_list import SubscriptionList
from rps_tui.ui.tab_bar import Tab, TabBar
from rps_tui.ui.traffic import TrafficPanel

HOUSEKEEPING_HZ = 2  # subscription list and scroll state; data wakes the pane itself
NARROW = 110  # columns: below this the subscriptions go above the pane, not beside it
SHORT = 30  # rows: below this the channel table gets fewer rows


@dataclass
class DashboardOptions:
    """How the dashboard looks and what it starts with (from the command line)."""

    subscriptions: list[Subscription] = field(default_factory=list)
    history: int = 10_000  # lines a view keeps (as the store's history)
    server_label: str = ""
    note: str = ""  # e.g. "demo: embedded Valkey, demo traffic"
    clock: Callable[[], float] = time.time
    monitor: bool = True  # PING / NUMSUB polling; off for deterministic snapshots
    address_label: str | None = None  # shown instead of the address (snapshots, screenshots)
    record_path: str | None = None  # where the record key writes (default: a new file)
    separators: str = ""  # the channel tree's ("": detected from the names)
    saved_path: Path | None = None  # the publish box's saved messages (None: beside the config)
    label: str = ""  # the tab's name, when the app shows several servers
    tabs: Callable[[], list[Tab]] | None = None  # every tab, when there are several
    tab_index: int = 0  # which one this dashboard is


class DashboardScreen(Screen[None]):
    BINDINGS = DASHBOARD_BINDINGS

    def __init__(self, session: Session, options: DashboardOptions) -> None:
        super().__init__()
        self.session = session
        self.options = options
        self.clock = options.clock
        subscriber = session.subscriber
        self.server_monitor = ServerMonitor(
            session.commands, subscriber, session.store, clock=options.clock
        )
        self.frames = FrameScheduler(self.set_timer, self._timed_draw, lambda: subscriber.busy)
        self.recording = RecordingControl(
            session, self.notify, self.set_timer, options.record_path, keys=lambda i: self.keys(i)
        )
        self.models: dict[Subscription, PaneModel] = {}
        self._counted: tuple[int, int] | None = None  # (total, version) last shown
        self.snapshot: Snapshot = session.store.snapshot(options.clock(), channels=False)
        """What every number on the screen is drawn from (taken once a second)."""
        self._event_seq = 0
        self._known_subs: list[Subscription] = []
        self._drawn = -1  # appended count of the selected subscription when last drawn
        self.catching_up = CatchingUp(lambda: subscriber.busy)  # counts every 3rd second
        self._shown_sub: Subscription | None = None
        self._wanted: Subscription | None = None  # the subscription last asked for, to select
        self._channel_rows: list[ChannelRow] = []  # the channel statistics last taken

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        options = self.options
        self.tab_bar = TabBar(options.tabs or list, options.tab_index, id="tabs")
        self.tab_bar.display = options.tabs is not None
        self.status_bar = StatusBar(id="status")
        self.header = Header(
            self.status_bar,
            self.session,
            self.server_monitor,
            self.recording,
            Labels(options.address_label, options.server_label, options.note),
            notify=self.notify,
            set_timer=self.set_timer,
            clock=self.clock,
            repeat=lambda: self.publish_box.repeater.indicator,
        )
        self.sub_list = SubscriptionList(id="subs")
        self.filter_input = FilterBar(id="filter")
        self.pane = MessagePane(self.session.store, id="pane")
        self.stats_table = StatsTable(id="stats", show_node=self.session.settings.cluster)
        self.channel_tree = ChannelTreeView(
            self.store.last_payloads,
            separators=options.separators,
            show_node=self.session.settings.cluster,
            offline=self.session.offline,
            id="tree",
        )
        self.publish_box = PublishBox(
            self.session.commands,
            SavedFile(options.saved_path or beside(chosen_path())),
            cluster=self.session.settings.cluster,
            id="publish",
        )
        self.traffic = TrafficPanel(id="traffic")
        self.key_bar = KeyBar()
        self.side = SideColumn(self.sub_list, self.traffic, id="side")
        yield self.tab_bar
        yield self.status_bar
        with Horizontal(id="body"):
            yield self.side
            with Vertical(id="main"):
                yield self.filter_input
                yield self.pane
        yield self.stats_table
        yield self.channel_tree
        yield self.publish_box
        yield self.key_bar

    def on_screen_suspend(self) -> None:
        self.key_bar.refresh()  # blank under a dialog: its keys are not these

    def on_screen_resume(self) -> None:
        self.key_bar.refresh()

    def on_resize(self, event: events.Resize) -> None:
        """Below `NARROW` columns the side column goes above the pane (app.tcss)."""
        self.set_class(event.size.width < NARROW, "-narrow")
        self.set_class(event.size.height < SHORT, "-short")
        self._fit_side()

    def _fit_side(self) -> None:
        self.side.fit(narrow=self.has_class("-narrow"), screen_width=self.size.width)

    @property
    def store(self) -> Store:
        return self.session.store

    @property
    def subscriber(self) -> Subscriber:
        return self.session.subscriber

    @property
    def keys(self) -> Keys:
        """The keys bound now, for hints (`keymap.Keys`)."""
        return keys_of(self)

    @property
    def selected(self) -> Subscription | None:
        return self.sub_list.selected

    def on_mount(self) -> None:
        self.sub_list.border_title = "subscriptions"
        self.traffic.border_title = "all subscriptions"
        self.filter_input.display = False
        self.channel_tree.display = False
        if self.session.offline or self.watching_sentinel:  # nowhere to publish to
            self.publish_box.display = False
        subscriber = self.subscriber
        for sub in self.options.subscriptions:
            subscriber.subscribe(sub)
        # the subscriber and the timers start only now, when every widget exists: a server
        # that floods from the first moment wakes a pane that is there to draw
        self.run_worker(subscriber.run, thread=True, name="subscriber", exit_on_error=False)
        loop, context = asyncio.get_running_loop(), contextvars.copy_context()
        # the app's context, so timers started by the wake-up know their app
        subscriber.on_data = lambda: loop.call_soon_threadsafe(self.frames.wake, context=context)
        self.set_interval(1 / HOUSEKEEPING_HZ, self.refresh_pane, name="housekeeping")
        self.set_interval(1.0, self.refresh_counts, name="counts")
        if self.options.monitor:
            self.server_monitor.on_round = self.header.round_done
            self.run_worker(
                self.server_monitor.run(), name="monitor", group="monitor", exit_on_error=False
            )
        self.refresh_counts()
        self.pane.focus()
        if not self.options.subscriptions and not self.session.offline:
            self.action_subscribe(
                "No subscription given: pick an active channel, or type a channel or glob."
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A subscriber that dies on an error of ours must not look like one still
        connecting: the header says it failed and why, and a notification stays."""
        if event.worker.name != "subscriber" or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        why = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self.header.failed = safe_text((why.splitlines() or [why])[0])
        self.header.draw()
        self.notify(
            f"The subscriber stopped on an error in rps-tui ({self.header.failed}); nothing "
            "more arrives. Please restart it, and report the error.",
            severity="error",
            timeout=24 * 3600,
            markup=False,
        )

    async def shutdown(self) -> None:
        """The app is closing: stop reading, finish the recording, close connections."""
        self.frames.stop()
        self.session.subscriber.stop()
        if hasattr(self, "header"):  # composed (a tab closed during start-up may not be)
            self.stop_recording(say=False)
        await self.session.close()

    # -- drawing -------------------------------------------------------------------------
    def refresh_pane(self) -> None:
        """Draw what the selected subscription got since the last frame, within the budget.

        Called when the subscriber signals new data and by a 2 Hz housekeeping timer; with
        no traffic it finds nothing to do. A hidden tab draws nothing (and, not re-armed,
        is not woken by its data either).
        """
        subs = self.subscriber.subscriptions
        if subs != self._known_subs:  # hidden too: the all view shows its selection
            self._sync_subscriptions(subs)
        if not self.shown:
            return
        model = self.models.get(self.selected) if self.selected else None
        if model is None:
            return
        self.frames.tick()
        self.subscriber.rearm()  # before pulling, so nothing that arrives now is missed
        appended = self.store.appended(model.sub)
        if appended != self._drawn:
            delay = self.frames.delay()
            if delay > 0:
                self.frames.later(delay)
                return
            self.frames.drew()
            self._drawn = appended
            if model.pull(self.store):
                self.pane.sync()
        self._pane_title()  # also when scrolled away or back: say so at once
        self._status()  # the header's state and total move with the pane, not a second later

    def _timed_draw(self) -> None:
        self.refresh_pane()

    @property
    def shown(self) -> bool:
        """Its tab is the one shown (always, with one server): a hidden tab draws nothing,
        it only keeps its snapshot (for the tab line), its events and its memory bounds."""
        shown = getattr(self.app, "tab_shown", 0)
        return self.options.tabs is None or shown == self.options.tab_index

    def refresh_counts(self) -> None:
        if self.catching_up.skip():
            return
        store, now = self.store, self.clock()
        if not self.shown:
            self.snapshot = store.snapshot(now, channels=False)
            self._counted = None  # the channel table is drawn afresh when the tab is shown
            self._trim_models()
            self._report_events()
            return
        counted = (store.total, store.version)
        changed = counted != self._counted  # else no message and no meter moved: the
        self._counted = counted  # channel rows are as last drawn, and not read again
        # one snapshot for every number (the subscriptions' part is cheap, and a status such
        # as refused can change with no message at all)
        snapshot = self.snapshot = store.snapshot(now, channels=changed)
        self.sub_list.refresh_counts(snapshot)  # unchanged rows are skipped
        self.traffic.show(snapshot)
        if snapshot.channels is not None:
            self._channel_rows = snapshot.channels
            self._show_channels(now)
            self._trim_models()
        self._pane_title()
        self._status()
        self._report_events()

    def _report_events(self) -> None:
        """The subscriber's news as notifications (a hidden tab's named with its label),
        and the recording's health."""
        self._event_seq, events = self.subscriber.events_since(self._event_seq)
        named = f"{self.options.label}: " if self.options.tabs is not None else ""  # which tab
        for event in events:
            self.notify(safe_text(named + event.text), severity=event.level, markup=False)  # type: ignore[arg-type]
        self.recording.check()

    def _show_channels(self, now: float) -> None:
        """The channel statistics into whichever of the table and the tree is shown (only
        that one is built: the tree costs a few ms per thousand channels)."""
        if self.channel_tree.display:
            self.channel_tree.update_rows(self._channel_rows, now)
        else:
            self.stats_table.update_rows(self._channel_rows, now)

    def action_toggle_tree(self) -> None:
        """`t`: the table or the tree in the one slot; the focus and a zoom go with it."""
        table, tree = self.stats_table, self.channel_tree
        showing, hiding = (table, tree) if tree.display else (tree, table)
        focused, zoomed = self.focused is hiding, self.maximized is hiding
        if zoomed:
            self.minimize()
        hiding.display, showing.display = False, True
        self._show_channels(self.clock())
        if focused or zoomed:
            self._focus_now(showing)
        if zoomed:
            self.maximize(showing, container=False)

    @on(ExportChannels)
    def _export_channels(self, event: ExportChannels) -> None:
        """`e` on the table or the tree: a CSV file in the current directory, and where."""
        path = "rps-tui-channels-….csv"
        try:
            path = export_name(self.clock(), kind="channels")
            rows = write_channels_csv(path, event.rows)
        except OSError as exc:
            said = f"export failed: {exc.strerror or type(exc).__name__}: {path}"
            self.notify(safe_text(said), severity="error", markup=False)
            return
        self.notify(f"wrote {plural(rows, 'channel row')} to {safe_text(str(path))}", markup=False)

    @on(SubscribeTo)
    def _subscribe_to(self, event: SubscribeTo) -> None:
        self._subscribed(Subscription(Kind(event.kind), event.name))

    @on(FilterPane)
    def _filter_pane(self, event: FilterPane) -> None:
        """`/` on the tree: the current pane filtered to the branch or the channel; if the
        pane's subscription delivers none of its channels, the first that does is shown."""
        if self.pane.model is None:
            self.notify("no subscription to filter: subscribe first", timeout=3)
            return
        if safe_text(event.text) != event.text:  # an Input draws its value raw
            self.notify("that name has characters a filter cannot show", timeout=3)
            return
        if self.maximized is not None:
            self.minimize()
        subs = self.sub_list.subs
        delivered = [delivering(channel, subs)[0] for channel in event.channels[:1000]]
        if self.pane.model.sub not in delivered:
            other = next((sub for sub in delivered if sub is not None), None)
            if other is not None:
                self.sub_list.select(other)
                self._select_changed()
        self.filter_input.show(event.text)  # applied as typed
        self.pane.focus()

    def _status(self) -> None:
        self.header.total = self.snapshot.total
        self.header.draw()
        if self.tab_bar.display and self.is_current:
            self.tab_bar.draw()

    def source(self) -> Source:
        """What the all view takes from this tab: its label, store and selection."""
        return Source(self.options.label, self.store, lambda: self.selected, self._counted_of)

    def _counted_of(self, sub: Subscription) -> int:
        """The subscription's count in this tab's snapshot (what its pane title says)."""
        row = self.snapshot.subs.get(sub)
        return row.total if row is not None else 0

    def tab(self) -> Tab:
        """What the tab bar shows of this dashboard: its header's state, its panel's rate."""
        header = getattr(self, "header", None)  # None: not mounted yet (start-up)
        state = header.state if header is not None else self.subscriber.state
        recording = self.session.recorder is not None
        return Tab(self.options.label, state, self.snapshot.rate, recording)

    def _trim_models(self) -> None:
        """Hidden views let go of what the store has let go (the shown one does so at each
        pull, and a paused view keeps what it shows)."""
        shown = self.pane.model
        for model in self.models.values():
            if model is not shown:
                model.trim(self.store)

    # -- the selected subscription ---------------------------------------------------------
    def _sync_subscriptions(self, subs: list[Subscription]) -> None:
        self._known_subs = list(subs)
        for sub in subs:
            self.models.setdefault(sub, PaneModel(sub, self.options.history))
        for gone in set(self.models) - set(subs):
            del self.models[gone]
        self.sub_list.set_subscriptions(subs, self.snapshot)
        self._fit_side()
        self._select_changed()

    def _select_changed(self) -> None:
        sub = self.selected
        if sub == self._shown_sub and self.pane.model is self.models.get(sub):
            return  # already showing it (keys call this directly, RowHighlighted again)
        self._shown_sub = sub
        self._drawn = -1
        model = self.models.get(sub) if sub else None
        if model is not None:
            model.pull(self.store)
        self.pane.show(model)
        self.filter_input.show(model.filter if model else "")
        if sub is not None and sub.kind is not Kind.PATTERN:
            box = self.publish_box
            if not box.channel_input.has_focus:
                # only names that are safe to draw as typed: an Input shows its value raw
                box.channel_input.value = sub.name if safe_text(sub.name) == sub.name else ""
                box.sharded = sub.kind is Kind.SHARD
        self._pane_title()

    def _pane_title(self) -> None:
        model = self.pane.model
        if model is None:
            self.pane.titles = (f"no subscription (press {self.keys('subscribe')})", "")
            return
        self.pane.titles = model.titles(self.snapshot.subs.get(model.sub), self.keys)
        self.filter_input.show_error(model.error)  # a query can give up as messages come in

    @on(SubscriptionList.RowHighlighted, "#subs")
    def _row_highlighted(self) -> None:
        self._select_changed()

    @on(RepeatChanged)
    def _repeat_changed(self) -> None:
        self._status()  # the header's repeat indicator, at once

    @on(PaneChanged)
    def _pane_changed(self) -> None:
        self._pane_title()  # "scrolled (End follows)", "paused", at once

    # Keys select at once, not after the list's RowHighlighted round trip.
    def action_next_sub(self) -> None:
        self.sub_list.step(1)
        self._select_changed()

    def action_prev_sub(self) -> None:
        self.sub_list.step(-1)
        self._select_changed()

    def action_jump(self, index: int) -> None:
        self.sub_list.jump(index)
        self._select_changed()

    # -- the pane: decoder, filter, pause, clear, a channel of the table -------------------
    def action_next_decoder(self) -> None:
        self.pane.next_decoder()

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self.filter_input.show_error(self.pane.set_filter(event.text))

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.filter_input.display = bool(self.pane.model and self.pane.model.filter)
        self.pane.focus()

    def action_filter(self) -> None:
        self.filter_input.display = True
        self._focus_now(self.filter_input)

    def action_pause(self) -> None:
        self.pane.toggle_pause()

    def action_clear(self) -> None:
        self.pane.clear()

    @on(OpenChannel)
    def _open_channel(self, event: OpenChannel) -> None:
        """Enter on a channel row: the subscription that delivers it (filtered to it with
        `ch:NAME` when that is a pattern), or a new subscription to it."""
        sub, exact = delivering(event.channel, self.sub_list.subs)
        if sub is None:
            self._subscribed(Subscription(Kind.CHANNEL, channel_name(event.channel)))
            return
        self.sub_list.select(sub)
        self._select_changed()
        if not exact:
            # a glob since the tree's branches: the name's own glob characters escaped
            self.filter_input.show(f"ch:{glob_escape(channel_name(event.channel))}")
        self.pane.focus()

    # -- subscribing, publishing ------------------------------------------------------------
    def action_subscribe(self, message: str = "") -> None:
        self.app.push_screen(
            SubscribeScreen(
                self.session.active_subscriptions, message, lambda: self.subscriber.subscriptions
            ),
            self._subscribed,
        )

    def _subscribed(self, sub: Subscription | None) -> None:
        """Subscribe and select it: every way of subscribing (`s`, `b`, `k`) ends here, so
        the pane shows what was just asked for (the last one, when several were)."""
        if sub is not None:
            self.subscriber.subscribe(sub)
            self._wanted = sub
            self._select_when_known(sub)

    def _select_when_known(self, sub: Subscription, tries: int = 20) -> None:
        """The subscriber thread adds it within a poll interval; select it once listed,
        unless another subscription was asked for since."""
        if sub != self._wanted:
            return
        if self.sub_list.select(sub):
            self._select_changed()  # the pane with it, not a RowHighlighted later
        elif tries:
            self.set_timer(0.05, lambda: self._select_when_known(sub, tries - 1))

    def action_unsubscribe(self) -> None:
        sub = self.selected
        if sub is not None:
            self.subscriber.unsubscribe(sub)
            self.notify(f"unsubscribed from {safe_text(sub.title)}", markup=False, timeout=2)

    def action_keyspace(self) -> None:
        commands = self.session.commands
        self.app.push_screen(
            KeyspaceScreen(
                self.session.settings.db,
                commands.keyspace_flags,
                commands.set_keyspace_flags,
                self._subscribed,
            )
        )

    def action_browse(self) -> None:
        subscriber = self.subscriber
        self.app.push_screen(
            ChannelBrowser(
                lambda: self.session.channel_snapshot(5 * MAX_BROWSER_ROWS),
                self._subscribed,
                lambda: subscriber.subscriptions,
            )
        )

    def action_publish(self) -> None:
        box = self.publish_box
        self._focus_now(box.message_input if box.channel_input.value else box.channel_input)

    def action_repeat(self) -> None:
        """Ctrl+R outside the box: stop the repeat (it goes on while the focus is away), or
        start one from what the box holds."""
        self.publish_box.action_repeat()

    def _focus_now(self, widget: Widget) -> None:
        """Focus at once (`Widget.focus()` waits its turn in the message queue)."""
        self.set_focus(widget)

    def action_plot(self) -> None:
        """A screen over the dashboard (see `plot_screen`), which goes on counting. Imported
        here: the plotting library and numpy add a tenth of a second to the start-up."""
        from rps_tui.ui.plot_screen import PlotScreen

        sub = self.selected
        if sub is None:
            self.notify("no subscription to plot", severity="warning", timeout=2)
            return
        model = self.models.get(sub)
        self.app.push_screen(
            PlotScreen(
                self.store,
                sub,
                decoder=model.decoder if model else "auto",
                offline=self.session.offline,
                clock=self.clock,
                busy=lambda: self.subscriber.busy,
            )
        )

    def action_zoom(self) -> None:
        """The focused panel (the pane if the focus is elsewhere) fills the screen, or the
        zoomed one goes back."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        panels = (self.pane, self.sub_list, self.stats_table, self.channel_tree)
        self.maximize(focused if focused in panels else self.pane, container=False)

    def action_leave(self) -> None:
        if self.maximized is not None:  # Esc also ends a zoom
            self.minimize()
        focused = self.focused
        if focused is self.filter_input:
            self.filter_input.clear_and_hide()
        self.pane.focus()

    @property
    def watching_sentinel(self) -> bool:
        return self.session.settings.watch_sentinel

    @property
    def hidden_actions(self) -> dict[str, str]:
        """Actions this connection cannot do, and why (said when their key is pressed)."""
        if self.watching_sentinel:
            address = self.session.settings.address
            return {a: f"{address} is a Sentinel: {why}" for a, why in NOT_ON_SENTINEL.items()}
        return {} if self.session.settings.sentinels else dict(ONLY_VIA_SENTINEL)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Viewing a recording there is no server: hide what would need one. A Sentinel
        takes no PUBLISH, lists no channels and has no keyspace: hide those too; the
        sentinels' events need sentinels."""
        if action in self.hidden_actions:
            return False
        return not (self.session.offline and action in ONLINE_ACTIONS)

    def on_key(self, event: events.Key) -> None:
        """A key hidden for this connection says why, rather than doing nothing."""
        if isinstance(self.focused, Input) or self.session.offline:
            return
        hidden = self.hidden_actions
        action = next((a for a in hidden if event.key in self.app.keys.bound(a)), None)
        if action is not None:
            event.stop()
            event.prevent_default()
            self.notify(hidden[action], markup=False)

    def action_sentinel_events(self) -> None:
        """The sentinels' events beside the master's channels, or no longer."""
        subscriber = self.subscriber
        if SENTINEL_EVENTS in subscriber.subscriptions:
            subscriber.unsubscribe(SENTINEL_EVENTS)
            self.notify("no longer watching the sentinels' events", markup=False, timeout=2)
        else:
            self._subscribed(SENTINEL_EVENTS)
            where = ", ".join(f"{h}:{p}" for h, p in self.session.settings.sentinels)
            self.notify(f"watching the sentinels' events (from one of {where})", markup=False)

    # -- recording -----------------------------------------------------------------------
    def action_record(self) -> None:
        self.recording.toggle()
        self._status()

    def stop_recording(self, *, say: bool) -> None:
        self.recording.stop(say=say)
        self._status()
