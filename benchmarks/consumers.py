"""Subscribers for `drain.py`, each run as its own process so it can be SIGSTOPped.

    python -m benchmarks.consumers {limit|history|redispy|engine|app} URL PATTERN[,PATTERN...]
    python -m benchmarks.consumers {cluster-engine|cluster-app} NODE-URL CHANNEL[,CHANNEL...]
    python -m benchmarks.consumers app URL PATTERN KEY[,KEY...]
    python -m benchmarks.consumers app-tabs URL,URL[,...] PATTERN [record]

Several comma-separated patterns subscribe to each (drain.py's --patterns: overlapping
patterns, so one socket read mixes subscriptions). `app` with keys presses them once the
dashboard is up (`t` shows the channel tree; `g,v,…,enter` opens a value plot; `r` records), so
the drain is measured with that view on screen. `app-tabs … record` records every server to one
file from the start (`--record` with several servers). A recording goes to /dev/null (drain.py
kills its consumers, which would leave a file of the backlog's size behind): what is measured
is everything but the file system: the queue, the encoding, the writes.

Each prints the number of messages it has counted, one line every 0.25 s, on stdout; one
that records prints the messages its recording holds after it (written or about to be: left
out are not).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rps_tui.ui.app import RpsApp

RECORD_TO = "/dev/null"


def recorded(recordings: list) -> list[int]:
    """Messages the recordings hold (none when nothing records): what went out, and what is
    queued to; gap records are lines too, but not messages."""
    if not recordings:
        return []
    return [sum(r.accounted - r.dropped for r in recordings)]


def redispy(url: str, pattern: str) -> None:
    """The classic redis-py loop: `pubsub().listen()` (sync, hiredis parser)."""
    import redis

    pubsub = redis.Redis.from_url(url).pubsub()
    pubsub.psubscribe(*pattern.split(","))
    count = [0]
    report(lambda: count[0])
    for message in pubsub.listen():
        if message["type"] == "pmessage":
            count[0] += 1


def report(counted: Callable[[], int]) -> None:
    """Print the count every 0.25 s, from a thread (drain.py reads the last line)."""

    def loop() -> None:
        while True:
            time.sleep(0.25)
            print(counted(), flush=True)

    threading.Thread(target=loop, daemon=True).start()


def limit(url: str, pattern: str) -> None:
    """The python limit: the least a Python reader can do and still count exactly. A raw
    socket, `recv_into` one reused 32 KiB buffer, `hiredis.Reader`, the replies of a read
    in one list, per-channel counts with a C-level `Counter.update`; nothing else."""
    import socket
    from collections import Counter
    from operator import itemgetter
    from urllib.parse import urlparse

    import hiredis

    where = urlparse(url)
    sock = socket.create_connection((where.hostname, where.port or 6379))
    for one in pattern.encode().split(b","):
        sock.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(one), one))
    counts: Counter[bytes] = Counter()
    total = [0]  # (not counts.total(): the report thread must not iterate a growing dict)
    report(lambda: total[0])
    buf, reader, channel = bytearray(1 << 15), hiredis.Reader(), itemgetter(2)
    while n := sock.recv_into(buf):
        reader.feed(buf, 0, n)
        batch = list(iter(reader.gets, False))
        if batch and batch[-1][0] == b"pmessage":  # (confirmations come first, alone)
            counts.update(map(channel, batch))
            total[0] += len(batch)


def history(url: str, pattern: str) -> None:
    """The python limit plus what any dashboard must also do per message: stamp it with
    the receive time, keep a bounded history (`deque(maxlen=10000)`), add up payload sizes.
    The reference the engine is measured against (it keeps more: bytes per channel, byte
    caps, gaps)."""
    import socket
    from collections import Counter, deque
    from itertools import repeat
    from operator import itemgetter
    from urllib.parse import urlparse

    import hiredis

    where = urlparse(url)
    sock = socket.create_connection((where.hostname, where.port or 6379))
    for one in pattern.encode().split(b","):
        sock.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(one), one))
    counts: Counter[bytes] = Counter()
    kept: deque[list] = deque(maxlen=10_000)
    consume = deque(maxlen=0).extend
    total, size = [0], [0]
    report(lambda: total[0])
    buf, reader = bytearray(1 << 15), hiredis.Reader()
    channel, payload, clock = itemgetter(2), itemgetter(3), time.time
    while n := sock.recv_into(buf):
        reader.feed(buf, 0, n)
        batch = list(iter(reader.gets, False))
        if batch and batch[-1][0] == b"pmessage":
            consume(map(list.append, batch, repeat(clock())))
            kept.extend(batch)
            counts.update(map(channel, batch))
            size[0] += sum(map(len, map(payload, batch)))
            total[0] += len(batch)


def engine(url: str, pattern: str) -> None:
    """The dashboard's engine alone, no screen, in a process set up as `rps-tui tail` and the
    dashboard set theirs up (`tune_process`)."""
    from rps_tui.core.connection.settings import parse_url
    from rps_tui.core.subscriber.engine import Engine
    from rps_tui.core.subscriptions import Subscription
    from rps_tui.core.tuning import tune_process

    tune_process()
    eng = Engine(parse_url(url))
    for one in pattern.split(","):
        eng.subscribe(Subscription.parse(one))
    threading.Thread(target=eng.run, daemon=True).start()
    while True:
        time.sleep(0.25)
        print(eng.store.total, flush=True)


def cluster_engine(url: str, channels: str) -> None:
    """The dashboard's cluster engine alone: sharded subscriptions, one reader per shard
    (process set up as in `engine`)."""
    from dataclasses import replace

    from rps_tui.core.connection.settings import parse_url
    from rps_tui.core.subscriber.cluster import ClusterEngine
    from rps_tui.core.subscriptions import Kind, Subscription
    from rps_tui.core.tuning import tune_process

    tune_process()
    eng = ClusterEngine(replace(parse_url(url), cluster=True))
    for one in channels.split(","):
        eng.subscribe(Subscription(Kind.SHARD, one))
    threading.Thread(target=eng.run, daemon=True).start()
    while True:
        time.sleep(0.25)
        print(eng.store.total, flush=True)


def app(url: str, pattern: str, cluster: bool = False, keys: str = "") -> None:
    """The whole dashboard, headless (Textual composes and renders every frame as usual);
    `cluster`: `pattern` is a list of sharded channels on a cluster; `keys`: pressed once it
    is up, comma-separated (a single character is typed as that character)."""
    from dataclasses import replace

    from rps_tui.core.connection.probe import probe
    from rps_tui.core.connection.settings import parse_url
    from rps_tui.core.subscriptions import Kind, Subscription
    from rps_tui.core.tuning import tune_process
    from rps_tui.ui.app import AppConfig, RpsApp

    tune_process()  # as the CLI does before it runs the app
    settings = parse_url(url)
    if cluster:
        settings = replace(settings, cluster=True)
        subs = [Subscription(Kind.SHARD, one) for one in pattern.split(",")]
    else:
        subs = [Subscription.parse(one) for one in pattern.split(",")]
    dashboard = RpsApp(
        AppConfig(
            settings=settings,
            subscriptions=subs,
            server_label=probe(settings).label,
            record_path=RECORD_TO,  # `r` records there
        )
    )
    _run_app(dashboard, keys)


def _run_app(dashboard: RpsApp, keys: str) -> None:
    from textual import events
    from textual.keys import _character_to_key

    def report() -> None:
        print(dashboard.session.store.total, *recorded(dashboard.recordings()), flush=True)

    def press() -> None:
        for key in filter(None, keys.split(",")):  # as Pilot.press sends them
            char = key if len(key) == 1 else None
            name = key if key.isalnum() or char is None else _character_to_key(key)
            dashboard.post_message(events.Key(name, char))
        tree = dashboard.dashboard.channel_tree
        shown = lambda: print(f"{dashboard.screen}, tree: {tree.display}", file=sys.stderr)  # noqa: E731
        dashboard.set_timer(1.0, shown)

    dashboard.call_later(lambda: dashboard.set_interval(0.25, report))
    dashboard.call_later(lambda: dashboard.set_timer(0.5, press))
    asyncio.run(dashboard.run_async(headless=True, size=(160, 45)))


def app_tabs(urls: str, pattern: str, record: str = "") -> None:
    """The dashboard on several servers (comma-separated URLs), a tab each, headless;
    prints the sum of their counts. `record`: every server to one file from the start."""
    from rps_tui.core.connection.probe import probe
    from rps_tui.core.connection.settings import parse_url
    from rps_tui.core.recording.recorder import Recorder
    from rps_tui.core.subscriptions import Subscription
    from rps_tui.core.tuning import tune_process
    from rps_tui.ui.app import AppConfig, Connection, RpsApp

    tune_process()
    first, *others = [parse_url(u) for u in urls.split(",")]
    subs = [Subscription.parse(one) for one in pattern.split(",")]
    dashboard = RpsApp(
        AppConfig(
            settings=first,
            subscriptions=subs,
            server_label=probe(first).label,
            label=first.node,
            more=[Connection(s, list(subs), s.node) for s in others],
            record_path=RECORD_TO,
            recorder=Recorder(RECORD_TO) if record else None,
        )
    )

    def report() -> None:
        total = sum(d.session.store.total for d in dashboard.dashboards)
        print(total, *recorded(dashboard.recordings()), flush=True)

    dashboard.call_later(lambda: dashboard.set_interval(0.25, report))
    asyncio.run(dashboard.run_async(headless=True, size=(160, 45)))


if __name__ == "__main__":
    consumers = {
        "limit": limit,
        "history": history,
        "redispy": redispy,
        "engine": engine,
        "app": app,
        "app-tabs": app_tabs,
        "cluster-engine": cluster_engine,
        "cluster-app": lambda url, channels: app(url, channels, cluster=True),
    }
    if sys.argv[1] == "app" and len(sys.argv) > 4:
        app(sys.argv[2], sys.argv[3], keys=sys.argv[4])
    elif sys.argv[1] == "app-tabs" and len(sys.argv) > 4:
        app_tabs(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        consumers[sys.argv[1]](sys.argv[2], sys.argv[3])
