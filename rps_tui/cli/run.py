"""Running what the command line asked for: the dashboard (with the embedded server and the
demo if asked), the tail, a replay, or a recording viewed offline."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from rps_tui.cli.options import Options, ReplayOptions, TailOptions, ViewOptions
from rps_tui.cli.parsers import EXIT_CONNECT, EXIT_INTERRUPTED, EXIT_OK, PROG
from rps_tui.core.commands import ConnectError, ServerInfo, probe
from rps_tui.core.settings import ConnectionSettings, UsageError, parse_url
from rps_tui.core.store import MIB
from rps_tui.core.subscriptions import Subscription

if TYPE_CHECKING:
    from rps_tui.core.record import Recorder
    from rps_tui.ui.app import RpsApp


def fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def adopt_mode(
    settings: ConnectionSettings, info: ServerInfo, note: str
) -> tuple[ConnectionSettings, str]:
    """Check the options against what the server says it is; a cluster node given without
    --cluster is taken as the cluster."""
    if info.mode == "sentinel" and not settings.sentinels:
        masters = ", ".join(info.masters) or "none"
        raise ConnectError(
            f"{settings.address} is a Sentinel, not a data server: use --sentinel "
            f"{settings.node} --master NAME (it monitors: {masters})"
        )
    if info.mode == "cluster" and not settings.cluster:
        if settings.db:
            raise ConnectError(
                f"{settings.address} is a cluster node: a cluster has only database 0"
            )
        return replace(settings, cluster=True), note or "cluster mode detected"
    if settings.cluster and info.mode != "cluster":
        raise ConnectError(f"{settings.node} is not in cluster mode: drop --cluster")
    return settings, note


def _run_app(app: RpsApp) -> int:
    from rps_tui.core.tuning import tune_process

    tune_process()
    previous = signal.signal(signal.SIGTERM, lambda *_: app.exit(EXIT_OK))
    try:
        result = app.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK if result is None else int(result)


def _open_recorder(path: str) -> Recorder:
    from rps_tui.core.record import Recorder

    try:
        return Recorder(path)
    except OSError as exc:
        raise UsageError(f"--record {path}: {exc.strerror or exc}") from None


def _close_recorder(recorder: Recorder) -> None:
    """Close (within about a second, whatever the target does) and say how it went: the
    error or the lines written, then what is missing from the file, if anything."""
    recorder.close()
    if recorder.error:
        print(f"{PROG}: {recorder.error}", file=sys.stderr)
    else:
        print(f"{PROG}: recorded {recorder.lines:,} lines to {recorder.path}", file=sys.stderr)
    missing = []
    if recorder.dropped:
        missing.append(
            f"{_were(recorder.dropped, 'message')} not recorded (the recording fell behind)"
        )
    if recorder.pending and "not written" not in (recorder.error or ""):  # not said yet
        missing.append(f"{_were(recorder.pending, 'line')} not written")
    if missing:
        print(f"{PROG}: {recorder.path}: {' and '.join(missing)}", file=sys.stderr)


def _were(n: int, noun: str) -> str:
    return f"1 {noun} was" if n == 1 else f"{n:,} {noun}s were"


def run(options: Options) -> int:
    """Start the embedded server if asked, check the connection, then open the screen."""
    from rps_tui.core.demo import DEMO_PATTERNS, DemoTraffic
    from rps_tui.core.server import ServerError, start_server

    server = traffic = recorder = None
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
        info = probe(options.settings)
        options.settings, note = adopt_mode(options.settings, info, note)
        from rps_tui.ui.app import AppConfig, RpsApp

        if options.record:
            recorder = _open_recorder(options.record)
        app = RpsApp(
            AppConfig(
                settings=options.settings,
                subscriptions=options.subscriptions,
                history=options.history,
                history_bytes=options.history_mb * MIB,
                server_label=info.label + (" via Sentinel" if options.settings.sentinels else ""),
                note=note,
                theme=options.theme,
                keymap=options.keymap,
                recorder=recorder,
                record_path=options.record,
            )
        )
        return _run_app(app)
    finally:
        if recorder is not None:
            _close_recorder(recorder)
        if traffic is not None:
            traffic.stop()
        if server is not None:
            server.stop()


def run_tail(options: TailOptions) -> int:
    """Check the connection (one line and exit 1 if it fails), then tail until stopped."""
    from rps_tui.core.tail import tail
    from rps_tui.core.tuning import tune_process

    settings, _ = adopt_mode(options.settings, probe(options.settings), "")
    tune_process()  # its engine keeps histories as the dashboard's does
    return tail(settings, options.subscriptions, fmt=options.format)


def run_replay(options: ReplayOptions) -> int:
    """Check the connection, publish the recording, and say what was done on stderr."""
    from rps_tui.core.replay import ReplayError, replay

    settings, _ = adopt_mode(options.settings, probe(options.settings), "")
    try:
        result = replay(options.path, settings, speed=options.speed, fast=options.fast)
    except ReplayError as exc:
        return fail(str(exc), EXIT_CONNECT)
    print(f"{PROG}: {result.summary()} to {settings.address}", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def view(options: ViewOptions) -> int:
    """Open a recording in the dashboard, offline (no server, nothing to connect to)."""
    from rps_tui.core.offline import OfflineEngine, load_recording
    from rps_tui.core.record import RecordError
    from rps_tui.core.store import Store

    path, history = options.path, options.history
    store = Store(history=history, max_bytes=options.history_mb * MIB)
    try:
        result = load_recording(path, store)
    except RecordError as exc:
        return fail(str(exc), EXIT_CONNECT)
    if result.first is None:
        return fail(f"{path}: no records in it", EXIT_CONNECT)
    engine = OfflineEngine(store, path, result)
    from rps_tui.ui.app import AppConfig, RpsApp

    config = AppConfig(
        settings=ConnectionSettings(),
        subscriptions=engine.subscriptions,
        history=history,
        server_label="recording",
        monitor=False,  # no server: no PING, NUMSUB or CLIENT LIST
        subscriber=engine,
        theme=options.theme,
        keymap=options.keymap,
    )
    return _run_app(RpsApp(config))
