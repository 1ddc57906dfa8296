"""Running what the command line asked for: the dashboard (with the embedded server and the
demo if asked), the tail, a replay, or a recording viewed offline."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rps_tui.cli.options import Options, ReplayOptions, TailOptions, Target, ViewOptions
from rps_tui.cli.parsers import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, PROG
from rps_tui.core.config import chosen_path
from rps_tui.core.connection.probe import ConnectError, Reached, reach
from rps_tui.core.connection.settings import UsageError, parse_url
from rps_tui.core.saved import beside
from rps_tui.core.store import MIB
from rps_tui.core.subscriptions import Subscription
from rps_tui.core.units import were

if TYPE_CHECKING:
    from rps_tui.core.recording.recorder import Recorder
    from rps_tui.ui.app import Connection, RpsApp


def fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def _run_app(app: RpsApp) -> int:
    """Run the app; SIGTERM quits it (0) and so does a SIGINT that reaches the process
    before the terminal is in raw mode, where Ctrl-C is a key (130), both without a
    traceback at any moment of start-up (`RpsApp.exit_on_signal`)."""
    from rps_tui.core.tuning import tune_process

    tune_process()
    handlers = {
        signal.SIGTERM: lambda *_: app.exit_on_signal(EXIT_OK),
        signal.SIGINT: lambda *_: app.exit_on_signal(EXIT_INTERRUPTED),
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        result = app.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK if result is None else int(result)


def _open_recorder(path: str) -> Recorder:
    from rps_tui.core.recording.recorder import Recorder

    try:
        return Recorder(path)
    except OSError as exc:
        raise UsageError(f"--record {path}: {exc.strerror or exc}") from None


def _close_recordings(recordings: Sequence[Recorder]) -> None:
    """Close them (the app has, unless it failed: then within about a second, whatever the
    target does) and say how it went, per file: each error, the lines the session wrote to
    the file across all its recordings, then what is missing from the file, if anything."""
    from rps_tui.core.recording.recorder import summary

    files: dict[str, list[Recorder]] = {}
    for recorder in recordings:
        recorder.close()
        files.setdefault(recorder.path, []).append(recorder)
    for path, group in files.items():
        errors = [r.error for r in group if r.error]
        for error in errors:
            print(f"{PROG}: {error}", file=sys.stderr)
        if len(group) > 1 or not errors:  # one recording's error says all there is
            print(f"{PROG}: {summary(group)}", file=sys.stderr)
        missing = []
        dropped = sum(r.dropped for r in group)
        if dropped:
            missing.append(f"{were(dropped, 'message')} not recorded (the recording fell behind)")
        # an error that says "not written" has counted them already
        pending = sum(r.pending for r in group if "not written" not in (r.error or ""))
        if pending:
            missing.append(f"{were(pending, 'line')} not written")
        if missing:
            print(f"{PROG}: {path}: {' and '.join(missing)}", file=sys.stderr)


def run(options: Options) -> int:
    """Start the embedded server if asked, check the connection, then open the screen."""
    from rps_tui.core.embedded.demo import DEMO_PATTERNS, DemoTraffic
    from rps_tui.core.embedded.server import ServerError, start_server

    server = traffic = recorder = session = app = None
    note = ""
    try:
        if options.demo or options.embedded:
            try:
                server = start_server("valkey")
            except ServerError as exc:
                raise ConnectError(f"could not start the embedded server: {exc}") from None
            options.settings = parse_url(server.url)
            note = "embedded Valkey"
            if options.demo:
                traffic = DemoTraffic(server.url)
                traffic.start()
                note = "demo: embedded Valkey with demo traffic"
                if not options.subscriptions:
                    options.subscriptions = [Subscription.parse(p) for p in DEMO_PATTERNS]
        if options.more:
            app = _several_servers(options)
            return _run_app(app)
        reached = reach(options.settings, note, events_ok=True)
        settings = reached.settings
        if settings.watch_sentinel and not options.subscriptions:
            options.subscriptions = [Subscription.parse("*")]  # every event it publishes
        from rps_tui.core.session import Session
        from rps_tui.ui.app import AppConfig, RpsApp

        if options.record:
            recorder = _open_recorder(options.record)
        session = Session.live(
            settings,
            history=options.history,
            history_bytes=options.history_mb * MIB,
            recorder=recorder,
        )
        app = RpsApp(
            AppConfig(
                settings=settings,
                subscriptions=options.subscriptions,
                history=options.history,
                server_label=reached.info.label + (" via Sentinel" if settings.sentinels else ""),
                note=reached.note,
                theme=options.theme,
                keymap=options.keymap,
                separators=options.separators,
                session=session,
                record_path=options.record,
                saved_path=beside(chosen_path(options.config_path)),
                connect=_connector(options),
            )
        )
        return _run_app(app)
    finally:
        if app is not None:
            _close_recordings(app.recordings())
        elif session is not None:
            _close_recordings(session.recordings)
        elif recorder is not None:
            _close_recordings([recorder])
        if traffic is not None:
            traffic.stop()
        if server is not None:
            server.stop()


def run_tail(options: TailOptions) -> int:
    """Check the connection (one line and exit 1 if it fails; with several servers, exit 1
    only if none answers), then tail until stopped."""
    from rps_tui.core.tail import Ending, Source, tail
    from rps_tui.core.tuning import tune_process

    targets = [Target(options.label, options.settings, options.subscriptions), *options.more]
    if len(targets) == 1:  # its failure is the command's
        reached = [replace(targets[0], settings=reach(options.settings, events_ok=True).settings)]
    else:  # each failure is one line and the others go on; none: one line naming each
        reached = reach_each(targets)
    tune_process()  # its subscribers read as the dashboard's do
    first, *more = reached
    ending = tail(
        first.settings,
        first.subscriptions,
        fmt=options.format,
        label=first.label,
        more=[Source(t.label, t.settings, t.subscriptions) for t in more],
    )
    return {Ending.STOPPED: EXIT_OK, Ending.INTERRUPTED: EXIT_INTERRUPTED}.get(ending, EXIT_FAILED)


def probe_each(targets: Sequence[Target]) -> list[tuple[Target, Reached | str]]:
    """Check every server at once (a slow one does not hold up the others): for each, what
    was found, or why it could not be reached."""
    from concurrent.futures import ThreadPoolExecutor

    def check(target: Target) -> Reached | str:
        try:
            return reach(target.settings, events_ok=True)
        except ConnectError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        return list(zip(targets, pool.map(check, targets), strict=True))


def reach_each(targets: Sequence[Target]) -> list[Target]:
    """The servers that answer, with their settings as found; one line on stderr for each
    that does not. None: ConnectError naming each."""
    probed = probe_each(targets)
    if all(isinstance(found, str) for _, found in probed):
        raise ConnectError("; ".join(f"{t.label}: {found}" for t, found in probed))
    reached = []
    for target, found in probed:
        if isinstance(found, str):
            print(f"{PROG}: {target.label}: {found}", file=sys.stderr)
        else:
            reached.append(replace(target, settings=found.settings))
    return reached


def _several_servers(options: Options) -> RpsApp:
    """The dashboard with a tab per server. One that cannot be reached at start still gets
    its tab: its subscriber keeps trying, and the tab and header say why it cannot; only
    when none answers is it an error (exit 1, a line for each). --record records every
    server, each line naming its server, as `r` in the all view does."""
    from rps_tui.ui.app import AppConfig, Connection, RpsApp

    targets = [Target(options.label, options.settings, options.subscriptions), *options.more]
    found = probe_each(targets)
    if all(isinstance(r, str) for _, r in found):
        raise ConnectError("; ".join(f"{t.label}: {r}" for t, r in found))
    tabs = [
        Connection(t.settings, t.subscriptions, t.label)  # its header says why, as it tries
        if isinstance(reached, str)
        else _tab(t, reached)
        for t, reached in found
    ]
    first, *more = tabs
    recorder = _open_recorder(options.record) if options.record else None
    try:
        return RpsApp(
            AppConfig(
                settings=first.settings,
                subscriptions=first.subscriptions,
                history=options.history,
                history_bytes=options.history_mb * MIB,
                server_label=first.server_label,
                note=first.note,
                theme=options.theme,
                keymap=options.keymap,
                separators=options.separators,
                saved_path=beside(chosen_path(options.config_path)),
                label=first.label,
                more=more,
                record_path=options.record,
                recorder=recorder,
                connect=_connector(options),
            )
        )
    except BaseException:  # nothing else would close it or say what it wrote
        if recorder is not None:
            _close_recordings([recorder])
        raise


def _tab(target: Target, reached: Reached) -> Connection:
    """A server that answered, as the dashboard shows it in a tab."""
    from rps_tui.ui.app import Connection

    settings, subs = reached.settings, target.subscriptions
    if settings.watch_sentinel and not subs:
        subs = [Subscription.parse("*")]  # every event it publishes
    via = " via Sentinel" if settings.sentinels else ""
    return Connection(settings, subs, target.label, reached.info.label + via, reached.note)


def _connector(options: Options) -> Callable[[str], Connection] | None:
    """What `+` in the dashboard calls (on a thread): the text typed, resolved as the
    command line's servers are, and checked; UsageError or ConnectError in one line."""
    resolve = options.resolve
    if resolve is None:
        return None

    def connect(text: str) -> Connection:
        target = resolve(text)
        return _tab(target, reach(target.settings, events_ok=True))

    return connect


def run_replay(options: ReplayOptions) -> int:
    """Check the connection, publish the recording, and say what was done on stderr."""
    from rps_tui.core.recording.replay import ReplayError, replay

    settings = reach(options.settings).settings
    try:
        result = replay(options.path, settings, speed=options.speed, fast=options.fast)
    except ReplayError as exc:
        return fail(str(exc), EXIT_FAILED)
    print(f"{PROG}: {result.summary(settings.address)}", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def view(options: ViewOptions) -> int:
    """Open a recording in the dashboard, offline (no server, nothing to connect to)."""
    from rps_tui.core.recording.format import RecordError

    try:
        app = view_app(options)
    except RecordError as exc:
        return fail(str(exc), EXIT_FAILED)
    return _run_app(app)


def view_app(options: ViewOptions) -> RpsApp:
    """The dashboard on a recording; raises RecordError with one line. The header says
    what it shows once: 'recording FILE  ■ offline (N messages over S s)', with no server
    label beside it (there is no server)."""
    from rps_tui.core.session import Session
    from rps_tui.ui.app import RpsApp, offline_config

    session = Session.from_recording(
        options.path, history=options.history, history_bytes=options.history_mb * MIB
    )
    config = offline_config(
        session,
        history=options.history,
        theme=options.theme,
        keymap=options.keymap,
        separators=options.separators,
    )
    return RpsApp(config)
