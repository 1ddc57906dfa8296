"""The Textual application: one screen, single keys; the UI pulls from the core.

The subscriber engine runs in a thread worker owned by this app and never touches a widget.
When a read brings something new it wakes the pane (one `call_soon_threadsafe`, then not
again until the pane has pulled), and the pane draws within a CPU budget (`budget.py`):
at most 20 frames a second, once a second while the reader has a backlog. Timers do the
rest: counters and statistics (1 Hz), the server monitor (every 3 s: PING and PUBSUB
NUMSUB on the command connection), and a 2 Hz housekeeping tick. With no traffic, nothing
draws.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input

from rps_tui.core.commands import CommandError, Commands
from rps_tui.core.decoders import DECODERS, next_decoder
from rps_tui.core.deployment import make_engine
from rps_tui.core.drops import buffer_level
from rps_tui.core.engine import State
from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.payload import human_bytes, safe_text
from rps_tui.core.record import Recorder
from rps_tui.core.settings import ConnectionSettings
from rps_tui.core.store import DEFAULT_HISTORY, DEFAULT_MAX_BYTES, Store
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.core.tuning import tune_gc
from rps_tui.ui.browser import MAX_ROWS as MAX_BROWSER_ROWS
from rps_tui.ui.browser import ChannelBrowser, Snapshot
from rps_tui.ui.budget import FrameBudget
from rps_tui.ui.detail import DetailScreen, previous_on_channel
from rps_tui.ui.keyspace import KeyspaceScreen
from rps_tui.ui.message_pane import MessagePane, PaneModel
from rps_tui.ui.publish_box import PublishBox
from rps_tui.ui.screens import HelpScreen, SubscribeScreen
from rps_tui.ui.stats_table import StatsTable
from rps_tui.ui.status_bar import StatusBar
from rps_tui.ui.subscription_list import SubscriptionList

HOUSEKEEPING_HZ = 2  # subscription list and scroll state; data wakes the pane itself
QUIT_WAIT = 0.5  # seconds a recording target gets to take what is queued when we quit


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
    engine: Any = None  # an engine built elsewhere (the offline one of `rps-tui view`)
    recorder: Recorder | None = None  # already recording (--record FILE)
    record_path: str | None = None  # where the record key writes (default: a new file)

    @property
    def offline(self) -> bool:
        return self.engine is not None and self.engine.state is State.OFFLINE


def _name(channel: bytes) -> str:
    return channel.decode("utf-8", "surrogateescape")


class RpsApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "rps-tui"
    BINDINGS = [
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
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
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

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        if config.theme:
            self.theme = config.theme
        if config.keymap:
            self.set_keymap(config.keymap)
        if config.engine is not None:
            self.engine = config.engine
            self.store = config.engine.store
        else:
            self.store = Store(history=config.history, max_bytes=config.history_bytes)
            self.engine = make_engine(config.settings, self.store, clock=config.clock)
        self.recorder: Recorder | None = config.recorder
        if self.recorder is not None:
            self.engine.sink = self.recorder
        self.commands_client = Commands(config.settings)
        if config.settings.cluster:
            self.commands_client.nodes = self.engine.nodes  # type: ignore[union-attr]
        self.server_monitor = ServerMonitor(
            self.commands_client, self.engine, self.store, clock=config.clock
        )
        self.models: dict[Subscription, PaneModel] = {}
        self.server_label = config.server_label
        self._counted: tuple[int, int] | None = None  # (total, version) last shown
        self._event_seq = 0
        self._known_subs: list[Subscription] = []
        self._drawn = -1  # appended count of the selected subscription when last drawn
        self._drawn_follow = True
        self.budget = FrameBudget()
        self._counts_skipped = 0
        self._draw_timer: Timer | None = None
        self._shown_sub: Subscription | None = None
        self._titles: tuple[str, str] | None = None
        self._omem_warned = False
        self._recording_warned = False
        self._filter_error: str | None = None  # shown under the filter input

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: timers reach them directly, whichever screen is on top.
        self.status_bar = StatusBar(id="status")
        self.sub_list = SubscriptionList(id="subs")
        self.filter_input = Input(
            select_on_focus=False,  # see PublishBox.compose
            placeholder="filter: text (lower case ignores case) · re:REGEX · "
            "json:JMESPATH, e.g. json:price > `20` · Enter keeps it, Esc clears it",
            id="filter",
        )
        self.pane = MessagePane(id="pane")
        self.stats_table = StatsTable(id="stats", show_node=self.config.settings.cluster)
        self.publish_box = PublishBox(id="publish")
        yield self.status_bar
        with Horizontal(id="body"):
            yield self.sub_list
            with Vertical(id="main"):
                yield self.filter_input
                yield self.pane
                yield self.stats_table
        yield self.publish_box
        yield Footer()

    @property
    def selected(self) -> Subscription | None:
        return self.sub_list.selected

    def on_mount(self) -> None:
        self.sub_list.border_title = "subscriptions"
        self.stats_table.border_title = "channels"
        self.filter_input.display = False
        if self.config.offline:  # nothing to publish to, and nothing to subscribe to
            self.publish_box.display = False
        for sub in self.config.subscriptions:
            self.engine.subscribe(sub)
        # The reader thread holds the GIL while it parses; a key press needs it several times
        # on its way to the screen. 1 ms (not Python's 5 ms) keeps keys snappy under a flood.
        sys.setswitchinterval(0.001)
        tune_gc()
        self.run_worker(self.engine.run, thread=True, name="subscriber", exit_on_error=False)
        loop, context = asyncio.get_running_loop(), contextvars.copy_context()
        # the app's context, so timers started by _wake know their app
        self.engine.on_data = lambda: loop.call_soon_threadsafe(self._wake, context=context)
        self.set_interval(1 / HOUSEKEEPING_HZ, self.refresh_pane, name="housekeeping")
        self.set_interval(1.0, self.refresh_counts, name="counts")
        if self.config.monitor:
            self.server_monitor.on_round = self._monitored
            self.run_worker(
                self.server_monitor.run(), name="monitor", group="monitor", exit_on_error=False
            )
        self.refresh_counts()
        self.pane.focus()
        if not self.config.subscriptions and not self.config.offline:
            self.action_subscribe(
                "No subscription given: pick an active channel, or type a channel or glob."
            )

    async def on_unmount(self) -> None:
        self.engine.stop()
        self._stop_recording(say=False)
        await self.commands_client.close()

    async def action_quit(self) -> None:
        self.engine.stop()
        self.exit(0)

    # -- timers --------------------------------------------------------------------------
    def refresh_pane(self) -> None:
        """Draw what the selected subscription got since the last frame, within the budget.

        Called when the engine signals new data (`_wake`) and by a 2 Hz housekeeping timer;
        with no traffic it finds nothing to do.
        """
        subs = self.engine.subscriptions
        if subs != self._known_subs:
            self._sync_subscriptions(subs)
        model = self.models.get(self.selected) if self.selected else None
        if model is None:
            return
        self.budget.tick()
        self.engine.rearm()  # before pulling, so nothing that arrives from now on is missed
        appended = self.store.appended(model.sub)
        if appended != self._drawn:
            delay = self.budget.delay(self.engine.busy)
            if delay > 0:
                self._schedule_draw(delay)
                return
            self.budget.drew()
            self._drawn = appended
            if model.pull(self.store):
                self.pane.sync()
            self._pane_title()
        elif model.follow != self._drawn_follow:  # scrolled away or back: say so at once
            self._pane_title()

    def _wake(self) -> None:
        """New data (the engine calls this through the loop, at most once per frame)."""
        if self._draw_timer is None:
            self._schedule_draw(self.budget.delay(self.engine.busy))

    def _schedule_draw(self, delay: float) -> None:
        if self._draw_timer is None:
            self._draw_timer = self.set_timer(max(delay, 0.001), self._timed_draw)

    def _timed_draw(self) -> None:
        self._draw_timer = None
        self.refresh_pane()

    def refresh_counts(self) -> None:
        if self.engine.busy and self._counts_skipped < 2:  # catching up: every 3rd second
            self._counts_skipped += 1
            return
        self._counts_skipped = 0
        store = self.store
        counted = (store.total, store.version)
        self.sub_list.refresh_counts(store)  # cheap (unchanged rows are skipped), and a
        # status (pending, active, refused) can change with no message at all
        if counted != self._counted:  # nothing arrived and no meter moved: nothing to redraw
            self._counted = counted
            self.stats_table.update_rows(store.channel_rows(), self.config.clock())
            self._trim_models()
        self._pane_title()
        self._status()
        self._event_seq, events = self.engine.events_since(self._event_seq)
        for event in events:
            self.notify(safe_text(event.text), severity=event.level, markup=False)  # type: ignore[arg-type]
        recorder = self.recorder
        if recorder is not None and recorder.error:  # a write failed: it has stopped
            self.notify(safe_text(recorder.error), severity="error", markup=False)
            self._stop_recording(say=False)
        elif recorder is not None and recorder.dropped and not self._recording_warned:
            self._recording_warned = True
            self.notify(
                f"{safe_text(recorder.path)} does not take data as fast as it arrives: messages "
                "are left out of the recording (counted in the header, and a gap record in "
                "the file says how many). The dashboard itself misses nothing.",
                severity="warning",
                markup=False,
            )

    def _status(self) -> None:
        self.status_bar.show(
            address=self.config.address_label or self.engine.where,
            server=self.server_label,
            state=self.engine.state,
            detail=self.engine.state_detail,
            total=self.store.total,
            note=self.config.note,
            recording=self.recorder.lines if self.recorder is not None else None,
            recording_dropped=self.recorder.dropped if self.recorder is not None else 0,
            omem=self.server_monitor.omem,
            limit=self.server_monitor.limit,
            rtt=self.server_monitor.rtt_ms,
            now=self.config.clock(),
        )

    def monitor(self) -> None:
        """Start the next round of the server monitor now (`ServerMonitor`)."""
        self.server_monitor.poke()

    @property
    def rtt_ms(self) -> float | None:
        reading = self.server_monitor.rtt_ms
        return None if reading is None else reading.value

    @property
    def omem(self) -> int | None:
        reading = self.server_monitor.omem
        return None if reading is None else reading.value

    def _monitored(self) -> None:
        """A monitor round finished: show it."""
        if not self.server_label:
            self.server_label = self.server_monitor.server_label
        self._warn_omem()
        self._status()

    def _trim_models(self) -> None:
        """Hidden views let go of what the store has let go (the shown one does so at each
        pull, and a paused view keeps what it shows)."""
        shown = self.pane.model
        for model in self.models.values():
            if model is not shown:
                model.trim(self.store)

    def _warn_omem(self) -> None:
        """Warn once each time the subscriber's server-side buffer passes half its limit."""
        level = buffer_level(self.omem, self.server_monitor.limit)
        if level >= 0.5 and not self._omem_warned:
            self.notify(
                "The server is holding a growing backlog for this subscriber "
                f"({human_bytes(self.omem or 0)}); past client-output-buffer-limit pubsub it "
                "drops the connection and messages are lost.",
                severity="warning",
                markup=False,
            )
        self._omem_warned = level >= 0.5

    def _sync_subscriptions(self, subs: list[Subscription]) -> None:
        self._known_subs = list(subs)
        for sub in subs:
            self.models.setdefault(sub, PaneModel(sub, self.config.history))
        for gone in set(self.models) - set(subs):
            del self.models[gone]
        self.sub_list.set_subscriptions(subs, self.store)
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
        filter_input = self.filter_input
        filter_input.display = bool(model and model.filter)
        filter_input.value = model.filter if model else ""
        if sub is not None and sub.kind is not Kind.PATTERN:
            box = self.publish_box
            if not box.channel_input.has_focus:
                # only names that are safe to draw as typed: an Input shows its value raw
                box.channel_input.value = sub.name if safe_text(sub.name) == sub.name else ""
                box.sharded = sub.kind is Kind.SHARD
        self._pane_title()

    def _pane_title(self) -> None:
        pane = self.pane
        model = pane.model
        if model is None:
            self._set_titles("no subscription (press s)", "")
            return
        state = self.store.subs.get(model.sub)
        total = state.total if state else 0
        title = f"{model.sub.kind.value} {safe_text(model.sub.name)} — {total:,} msgs"
        self._drawn_follow = model.follow
        notes = []
        if model.paused:
            notes.append(f"⏸ PAUSED — {total - model.paused_at:,} new (p resumes)")
        if model.filter:
            notes.append(f"filter: {len(model.lines):,} shown")
        if model.decoder != "auto":
            notes.append(f"decoder {model.decoder} (m)")
        if state is not None and state.let_go:
            notes.append(f"{state.let_go:,} older let go for size")
        if state is not None and state.error:
            notes.append(f"refused: {safe_text(state.error)}")
        if not model.follow and not model.paused:
            notes.append("scrolled (End follows)")
        self._set_titles(title, "  ·  ".join(notes))
        self._show_filter_error()  # a query can give up while new messages come in

    def _set_titles(self, title: str, subtitle: str) -> None:
        """As Text, never markup (a channel may be called "[bold]x"); and only on change,
        since the setters repaint even when the value is the same."""
        if (title, subtitle) != self._titles:
            self._titles = (title, subtitle)
            self.pane.border_title = Text(title)
            self.pane.border_subtitle = Text(subtitle)

    # -- events --------------------------------------------------------------------------
    @on(SubscriptionList.RowHighlighted, "#subs")
    def _row_highlighted(self) -> None:
        self._select_changed()

    @on(MessagePane.Open)
    def _open_detail(self, event: MessagePane.Open) -> None:
        model = self.pane.model
        if self.selected is None or model is None:
            return
        previous = previous_on_channel(model.lines, event.entry)
        self.push_screen(
            DetailScreen(event.entry, self.selected, decoder=model.decoder, previous=previous),
            lambda decoder, model=model: self._keep_decoder(model, decoder),
        )

    def _keep_decoder(self, model: PaneModel, decoder: str | None) -> None:
        """The decoder chosen in the detail view sticks for the subscription."""
        if decoder and decoder != model.decoder:
            model.set_decoder(decoder, self.store)
            if self.pane.model is model:
                self.pane.sync()  # the line cache is keyed by decoder
            self._pane_title()

    def action_next_decoder(self) -> None:
        model = self.pane.model
        if model is not None:
            model.set_decoder(next_decoder(model.decoder), self.store)
            self.pane.sync()
            self._pane_title()

    @on(PublishBox.Publish)
    async def _publish(self, event: PublishBox.Publish) -> None:
        box = self.publish_box
        try:
            receivers = await self.commands_client.publish(
                event.channel, event.message, sharded=event.sharded
            )
        except CommandError as exc:
            box.show_result(f"not sent: {exc}", error=True)  # the typed text stays in the box
            return
        # a cluster node counts only its own receivers of a PUBLISH (SPUBLISH: the shard's)
        box.published(receivers, on_node=self.config.settings.cluster and not event.sharded)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        model = self.pane.model
        if model is not None and model.filter != event.value:
            before = model.query
            model.set_filter(event.value)  # an invalid text is kept, with model.error
            if model.query is not before:  # unchanged while the text is invalid: no rescan
                model.rebuild(self.store)
                model.follow = True
                self.pane.sync()
            self._pane_title()
        self._show_filter_error()

    def _show_filter_error(self) -> None:
        """Why the filter text is not in force (invalid, or a regex that gave up), in red
        under the input; the typed text stays. Set only on change: the setter repaints."""
        model = self.pane.model
        error = model.error if model is not None else None
        if error != self._filter_error:
            self._filter_error = error
            self.filter_input.set_class(error is not None, "-invalid")
            self.filter_input.border_subtitle = (
                Text(safe_text(error), style="bold red") if error else None
            )

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.filter_input.display = bool(self.pane.model and self.pane.model.filter)
        self.pane.focus()

    # -- actions -------------------------------------------------------------------------
    def action_subscribe(self, message: str = "") -> None:
        self.push_screen(SubscribeScreen(self._list_channels, message), self._subscribed)

    async def _list_channels(self) -> tuple[list[Subscription], str]:
        """The server's active channels (and sharded ones, Redis 7+), and a note if it
        would not say."""
        client, note = self.commands_client, ""
        active: list[Subscription] = []
        try:
            active = [Subscription(Kind.CHANNEL, _name(c)) for c in await client.active_channels()]
        except CommandError as exc:
            note = f"Could not list active channels: {exc}"
        with contextlib.suppress(CommandError):  # before Redis 7 there are none
            shards = await client.active_channels(sharded=True)
            active += [Subscription(Kind.SHARD, _name(c)) for c in shards]
        return active, note

    def action_record(self) -> None:
        """Start recording (to --record's path, else a new timestamped file), or stop."""
        if self.recorder is not None:
            self._stop_recording(say=True)
            return
        if self.config.offline:
            self.notify("A recording is being viewed: nothing new arrives to record.")
            return
        path = self.config.record_path or time.strftime("rps-tui-%Y%m%d-%H%M%S.ndjson")
        try:
            self.recorder = Recorder(path, append=True)
        except OSError as exc:
            self.notify(f"cannot record to {path}: {exc.strerror or exc}", severity="error")
            return
        self.engine.sink = self.recorder
        self._recording_warned = False
        self.notify(f"recording to {path} (r stops)", markup=False)
        self._status()

    def _stop_recording(self, *, say: bool) -> None:
        """Stop recording. With `say` (the r key) the UI does not wait for the target to
        take what is queued: the writer finishes on its own (within a second) and the
        result is shown then. Without (quitting), wait up to `QUIT_WAIT`, so a healthy file
        gets its last lines (it takes them in milliseconds) and a stuck one cannot hold up
        the exit."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        self.engine.sink = None
        if not say:
            recorder.close(QUIT_WAIT)
            return
        recorder.close(wait=False)
        self._status()
        self._report_recording(recorder)

    def _report_recording(self, recorder: Recorder) -> None:
        if not recorder.finished:
            self.set_timer(0.1, lambda: self._report_recording(recorder))
            return
        if recorder.error:
            self.notify(safe_text(recorder.error), severity="error", markup=False)
            return
        text = f"recorded {recorder.lines:,} lines to {recorder.path}"
        if recorder.dropped:
            text += f"; {recorder.dropped:,} messages were left out (it fell behind)"
        self.notify(safe_text(text), severity="warning" if recorder.dropped else "information")

    def action_keyspace(self) -> None:
        client = self.commands_client
        self.push_screen(
            KeyspaceScreen(
                self.config.settings.db,
                client.keyspace_flags,
                client.set_keyspace_flags,
                self._subscribe_from_browser,
            )
        )

    def action_browse(self) -> None:
        self.push_screen(
            ChannelBrowser(self._read_channels, self._subscribe_from_browser, self._subscribed_now)
        )

    def _subscribed_now(self) -> list[Subscription]:
        return self.engine.subscriptions

    def _subscribe_from_browser(self, sub: Subscription) -> None:
        self.engine.subscribe(sub)

    async def _read_channels(self) -> Snapshot:
        """Active channels with subscriber counts, sharded ones (Redis 7+) and NUMPAT; each
        part optional, so an ACL that refuses one still shows the rest."""
        client, errors = self.commands_client, []
        channels: dict[bytes, int] = {}
        shards: dict[bytes, int] = {}
        patterns = None
        try:
            names = (await client.active_channels())[: 5 * MAX_BROWSER_ROWS]
            channels = await client.numsub(names)
        except CommandError as exc:
            errors.append(str(exc))
        with contextlib.suppress(CommandError):  # no sharded Pub/Sub before Redis 7
            names = (await client.active_channels(sharded=True))[: 5 * MAX_BROWSER_ROWS]
            shards = await client.numsub(names, sharded=True)
        with contextlib.suppress(CommandError):
            patterns = await client.numpat()
        return Snapshot(channels, shards, patterns, "; ".join(errors))

    def _subscribed(self, sub: Subscription | None) -> None:
        if sub is not None:
            self.engine.subscribe(sub)
            self._select_when_known(sub)

    def _select_when_known(self, sub: Subscription, tries: int = 20) -> None:
        """The engine thread adds it within a poll interval; select it once listed."""
        if sub in self.sub_list.subs:
            self.sub_list.move_cursor(row=self.sub_list.subs.index(sub))
        elif tries:
            self.set_timer(0.05, lambda: self._select_when_known(sub, tries - 1))

    def action_unsubscribe(self) -> None:
        sub = self.selected
        if sub is not None:
            self.engine.unsubscribe(sub)
            self.notify(f"unsubscribed from {safe_text(sub.name)}", markup=False, timeout=2)

    def action_next_sub(self) -> None:
        self._move(1)

    def action_prev_sub(self) -> None:
        self._move(-1)

    def _move(self, step: int) -> None:
        subs = self.sub_list.subs
        if subs:
            self.sub_list.move_cursor(row=(self.sub_list.cursor_row + step) % len(subs))
            self._select_changed()  # now, not after the list's RowHighlighted round trip

    def action_jump(self, index: int) -> None:
        if index < len(self.sub_list.subs):
            self.sub_list.move_cursor(row=index)
            self._select_changed()

    def action_pause(self) -> None:
        model = self.pane.model
        if model is None:
            return
        model.paused = not model.paused
        state = self.store.subs.get(model.sub)
        model.paused_at = state.total if state else 0
        if not model.paused:
            model.pull(self.store)
            self.pane.sync()
        self._pane_title()

    def action_clear(self) -> None:
        model = self.pane.model
        if model is not None:
            self.store.clear(model.sub)
            model.lines.clear()
            model.cursor, model.follow = None, True
            self.pane.show(model)
            self._pane_title()

    def action_filter(self) -> None:
        filter_input = self.filter_input
        filter_input.display = True
        self._focus_now(filter_input)

    def action_publish(self) -> None:
        box = self.publish_box
        self._focus_now(box.message_input if box.channel_input.value else box.channel_input)

    def _focus_now(self, widget: Widget) -> None:
        """Focus at once (`Widget.focus()` waits its turn in the message queue)."""
        self.screen.set_focus(widget)

    ONLINE_ACTIONS = frozenset({"subscribe", "publish", "browse", "keyspace", "record"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Viewing a recording there is no server: hide what would need one."""
        return not (self.config.offline and action in self.ONLINE_ACTIONS)

    # -- keys typed faster than the focus moves ----------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            event._rps_meant_for = (self.screen, self.focused)  # type: ignore[attr-defined]
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        """A key that bubbled back unhandled, sent to a widget that has lost the focus since.

        Textual forwards each key to the widget focused when the app reads it, and runs the
        app's bindings when the key bubbles back. Keys typed straight after `i`, `/` or `s`
        (a fast typist, a paste, or any typist while a firehose keeps the loop busy) are
        all forwarded to the pane before `i` has moved the focus, and would come back here
        to be lost, or to run bindings: the `x` of "box" would unsubscribe. Instead they go
        where the focus is now.
        """
        screen, widget = getattr(event, "_rps_meant_for", (None, None))
        focused = self.focused
        if screen is self.screen and widget is not focused and isinstance(focused, Input):
            event.prevent_default()
            event.stop()
            focused.post_message(events.Key(event.key, event.character))
        elif screen is not None and screen is not self.screen:  # a dialog opened meanwhile
            event.prevent_default()
            event.stop()
            self.call_later(self.post_message, events.Key(event.key, event.character))

    def action_leave(self) -> None:
        focused = self.focused
        if focused is not None and focused.id == "filter":
            focused.value = ""  # type: ignore[attr-defined]
            focused.display = False
        self.pane.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(list(self._binding_rows())))

    def _binding_rows(self) -> Iterable[tuple[str, str]]:
        seen = set()
        for _, binding, _enabled, tooltip in self.screen.active_bindings.values():
            if not binding.id or binding.id in seen or binding.action.startswith("jump"):
                continue
            seen.add(binding.id)
            key = binding.key_display or self.get_key_display(binding)
            yield key, binding.tooltip or tooltip or binding.description
        yield "1-9", "Jump to subscription 1-9"
        yield "ctrl+p", "Command palette"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            hidden = ("quit", "leave")  # the palette has its own Quit; Esc needs no command
            if (
                isinstance(binding, Binding)
                and binding.id
                and not binding.id.startswith("jump")
                and binding.id not in hidden
            ):
                action = binding.action
                yield SystemCommand(
                    binding.description,
                    binding.tooltip or binding.description,
                    lambda a=action: self.run_action(a),
                )
