"""Network faults between rps-tui and a real server, made by the FaultProxy (issue 16, part 2).

Why: the watchdog, reconnects and gap markers are only worth something if, behind what a
real network does (a partition that closes nothing, latency, a reset, a slow link under a
flood), the header says what is happening in time and every message is either shown or
accounted for by a gap marker. So each test publishes numbered messages straight to the
server, a plain redis-py subscriber (the witness) connected directly to it receives them all,
and the engine's stream (its sink: every entry and gap marker, in order) must equal the
witness's minus contiguous runs that sit exactly where a gap marker sits.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

from rps_tui.core.connection.commands import Commands
from rps_tui.core.connection.settings import parse_url
from rps_tui.core.entry import Gap
from rps_tui.core.monitor import ServerMonitor
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import LIMIT_REASON
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import RpsApp
from rps_tui.ui.status_bar import STALE_AFTER
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.engine import monitoring, running
from tests.support.proxy import FaultProxy
from tests.support.publish import result
from tests.support.wait import async_wait_for, wait_for

EDGE = 0.3  # s: how far a lost message's direct receive time may lie outside its gap


class Witness:
    """A redis-py subscriber connected directly to the server: every number published, with
    the time (time.time(), the engine's clock) it arrived."""

    def __init__(self, port: int, channel: str) -> None:
        self.client = redis.Redis(port=port)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        self.got: dict[int, float] = {}
        self._stop = threading.Event()
        wait_for(lambda: self.pubsub.get_message(timeout=0.1) is not None)  # the confirmation
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.pubsub.get_message(timeout=0.1)
            if msg and msg["type"] == "message":
                self.got[number(msg["data"])] = time.time()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.pubsub.close()
        self.client.close()


class Publisher:
    """Numbered messages on one channel, straight to the server, `rate` a second (in batches
    of `batch`), until stopped; `sent` is how many the server took."""

    def __init__(
        self, port: int, channel: str, rate: float, size: int = 32, batch: int = 1, first: int = 0
    ) -> None:
        self.client = redis.Redis(port=port)
        self.channel, self.rate, self.size, self.batch = channel, rate, size, batch
        self.first = self.sent = first  # `sent`: the next number
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            pipe = self.client.pipeline(transaction=False)
            for n in range(self.sent, self.sent + self.batch):
                pipe.publish(self.channel, f"{n:09d}".encode().ljust(self.size, b"."))
            pipe.execute()
            self.sent += self.batch
            ahead = start + (self.sent - self.first) / self.rate - time.monotonic()
            if ahead > 0:
                self._stop.wait(ahead)

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.close()


def number(payload: bytes) -> int:
    return int(payload[:9])


def runs(entries: list[list]) -> list[str]:
    """The stream in short: runs of consecutive numbers ("0-393") and gap markers."""
    out: list[str] = []
    first = prev = None
    for entry in [*entries, [None, None, 0.0]]:
        n = None if entry[0] is None else number(entry[-2])
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if first is not None:
            out.append(f"{first}-{prev}")
        first = prev = n
        if n is None and entry[-2] is not None:
            out.append(f"GAP@{entry[-1]:.2f}")
    return out


@dataclass
class Hole:
    """A run of numbers the engine did not show, and the gap marker that sits where it is."""

    gap: Gap
    at: float  # when the gap marker was added (the loss ended)
    missing: list[int] = field(default_factory=list)


def account(entries: list[list], witness: Witness, last: int) -> tuple[list[int], list[Hole]]:
    """Check the engine's stream against the witness; returns (numbers shown, holes).

    Nothing shown twice; what is missing is contiguous runs, one per gap marker, each
    marker after every message published before its run and before every message published
    after it. A connection the server dropped is read to its end while the new one already
    delivers (`Engine._drain`): its tail comes after the marker, interleaved, so the order
    is checked within each stretch between two runs, not across the whole stream."""
    print("stream:", runs(entries))
    assert set(witness.got) == set(range(last + 1)), "the witness missed some"
    shown = [number(e[-2]) for e in entries if e[0] is not None]
    assert len(shown) == len(set(shown)), "shown twice"
    missing = sorted(set(range(last + 1)) - set(shown))
    lost: list[list[int]] = []
    for n in missing:
        if lost and lost[-1][-1] == n - 1:
            lost[-1].append(n)
        else:
            lost.append([n])
    markers = [(i, e) for i, e in enumerate(entries) if e[0] is None]
    assert len(lost) <= len(markers), f"lost {[(r[0], r[-1]) for r in lost]}; {len(markers)} gaps"
    holes = [Hole(e[-2], e[-1]) for _, e in markers]
    for run in lost:  # its marker: the last one before the first message published after it
        later = [i for i, e in enumerate(entries) if e[0] is not None and number(e[-2]) > run[-1]]
        before = [k for k, (i, _) in enumerate(markers) if not later or i < later[0]]
        assert before, f"{run[0]}..{run[-1]} lost with no gap marker before what followed"
        assert not holes[before[-1]].missing, f"two runs for one marker: {run[0]}..{run[-1]}"
        holes[before[-1]].missing = run
    bounds = [-1, *(n for run in lost for n in (run[0], run[-1])), last + 1]
    for low, high in zip(bounds[::2], bounds[1::2], strict=True):
        stretch = [n for n in shown if low < n < high]
        assert stretch == sorted(stretch), f"out of order between {low} and {high}"
    return shown, holes


def within_the_gap(hole: Hole, witness: Witness) -> None:
    """Every lost number arrived at the witness while the gap says nobody listened."""
    start, end = hole.at - hole.gap.seconds, hole.at
    for n in hole.missing:
        t = witness.got[n]
        assert start - EDGE <= t <= end + EDGE, (n, t - start, end - t)


@contextmanager
def through_proxy(
    port: int, channel: str
) -> Iterator[tuple[FaultProxy, Engine, list[list], Witness, Subscription]]:
    """A witness on the server, and an engine through a proxy with a sink taking its stream."""
    sub = Subscription(Kind.CHANNEL, channel)
    witness = Witness(port, channel)
    entries: list[list] = []
    with FaultProxy("127.0.0.1", port) as proxy:
        engine = Engine(parse_url(proxy.url()), Store())
        engine.sink = entries.extend
        try:
            with running(engine, sub):
                yield proxy, engine, entries, witness, sub
        finally:
            witness.close()


class States:
    """Every state the engine sets, as (state, when, its detail): recorded where the engine
    sets it (a sampler every 20 ms could miss a 0.2 s `reconnecting`, or all of a faster
    one, on a loaded machine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[State, float, str]] = [(engine.state, time.monotonic(), "")]
        self._set_state = engine._set_state

    def _record(self, state: State, detail: str = "", retry_at: float | None = None) -> None:
        self._set_state(state, detail, retry_at)
        if self.seen[-1][0] is not state:
            self.seen.append((state, time.monotonic(), self.engine.state_detail))

    def __enter__(self) -> States:
        self.engine._set_state = self._record  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine._set_state = self._set_state  # type: ignore[method-assign]

    def names(self) -> list[str]:
        return [s.value for s, _, _ in self.seen]


def drained(entries: list[list], publisher: Publisher, timeout: float = 10) -> None:
    """Until the engine has shown the last number published (each entry looked at once)."""
    last, seen = publisher.sent - 1, [0]

    def shown() -> bool:
        new, seen[0] = entries[seen[0] :], seen[0] + len(entries[seen[0] :])
        return any(e[0] is not None and number(e[-2]) == last for e in new)

    wait_for(shown, timeout)


# -- the subscriber behind each fault -----------------------------------------------------------
def test_black_hole_reads_stalled_then_retries_and_heals_by_itself(server_factory) -> None:
    """Half-open both ways: nothing closes, so only the watchdog's PING can tell. The state
    stays `stalled` (by design, README) while attempts wait on the partition; healed, the
    attempt under way gets through."""
    srv = server_factory("valkey")
    with through_proxy(srv.port, "nf.hole") as (proxy, engine, entries, witness, sub):
        with Publisher(srv.port, "nf.hole", rate=50) as pub, States(engine) as states:
            wait_for(lambda: len(entries) >= 10)
            proxy.black_hole()
            holed = time.monotonic()
            wait_for(lambda: engine.state is State.STALLED, timeout=6)
            stalled_after = time.monotonic() - holed
            assert "no reply to PING" in engine.state_detail
            # it keeps trying: an attempt is under way, waiting on the partition, and says so
            wait_for(lambda: engine.state_detail.startswith("retrying now (1 s)"), timeout=5)
            assert engine.state is State.STALLED and engine.reconnects >= 1
            proxy.black_hole(False)
            healed = time.monotonic()
            wait_for(lambda: engine.state is State.CONNECTED and engine.store.subs[sub].gaps)
            recovered_after = time.monotonic() - healed
            time.sleep(0.5)  # numbers after the heal too
        drained(entries, pub)
    print(f"stalled after {stalled_after:.2f} s; recovered {recovered_after:.2f} s after the heal")
    print("states:", states.names())
    assert stalled_after < 5.0
    assert recovered_after < 8.0  # the attempt under way, or the next one
    shown, (hole,) = account(entries, witness, pub.sent - 1)
    within_the_gap(hole, witness)
    print(f"{len(shown)} shown, {len(hole.missing)} in the gap ({hole.gap.describe()})")
    assert "no reply to PING" in hole.gap.reason
    assert hole.gap.seconds >= healed - holed  # it began before the partition, ended after


def test_500_ms_latency_is_no_fault_and_loses_nothing(server_factory) -> None:
    """A 1 s round trip is below the watchdog's 3 s: connected throughout, even idle (its
    PINGs cross the latency), every message shown about 0.5 s after the witness saw it."""
    srv = server_factory("valkey")
    with through_proxy(srv.port, "nf.slow") as (proxy, engine, entries, witness, _):
        proxy.set_delay(0.5)
        with States(engine) as states:
            with Publisher(srv.port, "nf.slow", rate=50) as pub:
                wait_for(lambda: len(entries) >= 50)
            drained(entries, pub)
            idle = time.monotonic()  # silence: the watchdog pings across the latency
            wait_for(lambda: time.monotonic() - idle > 2.5, timeout=5)
            later = Subscription(Kind.CHANNEL, "nf.slow.later")
            engine.subscribe(later)
            asked = time.monotonic()
            wait_for(
                lambda: (
                    engine.store.subs.get(later)
                    and engine.store.subs[later].total == 0
                    and engine.store.subs[later].status.value == "active"
                )
            )
            confirmed_after = time.monotonic() - asked
    shown, holes = account(entries, witness, pub.sent - 1)
    lags = sorted(e[-1] - witness.got[number(e[-2])] for e in entries)
    median = lags[len(lags) // 2]
    print(
        f"states {states.names()}; {len(shown)} shown; lag median {median:.3f} s, "
        f"max {lags[-1]:.3f} s; a SUBSCRIBE confirmed after {confirmed_after:.2f} s"
    )
    assert states.names() == ["connected"] and engine.reconnects == 0
    assert holes == [] and len(shown) == pub.sent
    assert 0.45 <= median < 1.0
    assert 0.95 <= confirmed_after < 3.0  # one round trip


def test_reset_reconnects_at_once_with_the_gap_accounted(server_factory) -> None:
    srv = server_factory("valkey")
    with through_proxy(srv.port, "nf.rst") as (proxy, engine, entries, witness, sub):
        with Publisher(srv.port, "nf.rst", rate=100) as pub, States(engine) as states:
            wait_for(lambda: len(entries) >= 20)
            proxy.reset_all()
            reset = time.monotonic()
            wait_for(lambda: engine.state is State.CONNECTED and engine.store.subs[sub].gaps)
            recovered_after = time.monotonic() - reset
            shown_before = len(entries)
            wait_for(lambda: len(entries) >= shown_before + 20)
        drained(entries, pub)
    shown, (hole,) = account(entries, witness, pub.sent - 1)
    within_the_gap(hole, witness)
    print(
        f"states {states.names()}; recovered {recovered_after:.2f} s after the reset; "
        f"{len(shown)} shown, {len(hole.missing)} in the gap ({hole.gap.describe()})"
    )
    assert states.names() == ["connected", "reconnecting", "connected"]
    assert recovered_after < 2.0
    assert "reset" in hole.gap.reason.lower()
    assert hole.gap.seconds < 2.0


def test_throttled_below_its_link_keeps_up_and_loses_nothing(server_factory) -> None:
    """60 KB/s through a 100 KB/s link: no drop, no gap, every message shown."""
    srv = server_factory("valkey", extra_args=["--client-output-buffer-limit", "pubsub 256kb 0 0"])
    with through_proxy(srv.port, "nf.keep") as (proxy, engine, entries, witness, _):
        proxy.set_throttle(100_000)
        with States(engine) as states:
            with Publisher(srv.port, "nf.keep", rate=60, size=1000, batch=6) as pub:
                wait_for(lambda: pub.sent >= 150)  # 2.5 s
            drained(entries, pub)
    shown, holes = account(entries, witness, pub.sent - 1)
    print(f"states {states.names()}; {len(shown)} of {pub.sent} shown")
    assert states.names() == ["connected"] and holes == [] and len(shown) == pub.sent


def test_throttled_under_a_flood_ends_in_a_named_drop_never_a_silent_loss(
    server_factory, server_kind: str
) -> None:
    """300 KB/s into a 100 KB/s link: the server's buffer for the engine passes its limit and
    the server drops it. The loss is one gap marker naming the limit, at the very place in
    the stream where the numbers jump; nothing else is missing. On Redis 7.0 too, which does
    not count such drops (the engine names it from what the monitor saw of the buffer)."""
    limit = ["--client-output-buffer-limit", "pubsub 256kb 0 0"]
    srv = server_factory(server_kind, extra_args=limit)
    with through_proxy(srv.port, "nf.flood") as (proxy, engine, entries, witness, sub):
        proxy.set_throttle(100_000)
        # the monitor (as the app runs it, through the same link) sees the drop in CLIENT
        # LIST; the old socket alone would say so only after the link delivered its backlog
        monitor = ServerMonitor(Commands(parse_url(proxy.url())), engine, engine.store, period=1.0)
        start = time.monotonic()
        with (
            monitoring(monitor),
            Publisher(srv.port, "nf.flood", rate=300, size=1000, batch=10) as flood,
        ):
            wait_for(lambda: engine.reconnects >= 1, timeout=15)
        dropped_after = time.monotonic() - start
        wait_for(lambda: engine.state is State.CONNECTED and engine.store.subs[sub].gaps)
        with Publisher(srv.port, "nf.flood", rate=50, first=flood.sent) as pub:
            wait_for(lambda: pub.sent >= flood.sent + 20)
        drained(entries, pub)
        proxy.set_throttle(None)  # the link recovers: the old connection's tail comes at once
        ended = time.monotonic()  # ... and then it ends
        wait_for(lambda: not any(t.is_alive() for t in engine._drainers), timeout=20)
        tail_took = time.monotonic() - ended
    shown, holes = account(entries, witness, pub.sent - 1)
    lost = sum(len(h.missing) for h in holes)
    print(
        f"dropped {dropped_after:.1f} s into the flood, tail {tail_took:.1f} s; "
        f"{len(shown)} shown, {lost} lost in "
        f"{len(holes)} gap(s): {[h.gap.describe() for h in holes]}"
    )
    assert holes, "kept up with 3x its link: the flood was too small to test the drop"
    assert all(h.gap.reason == LIMIT_REASON for h in holes)
    assert lost * 1000 >= 200_000  # the server's buffer (256 kB) went with the drop


# -- the app: its header, and its command connection behind the same fault -------------------
KEY_BOUND = 0.5  # s: keys answer within ~100 ms; generous for a loaded CI machine


async def key_delays(app: RpsApp, pilot: object, rounds: int) -> list[float]:
    """Time from pressing Home/End in the message field to the cursor having moved."""
    box = app.dashboard.publish_box
    delays = []
    for _ in range(rounds):
        for key, where in (("home", 0), ("end", len(box.message_input.value))):
            start = time.monotonic()
            await pilot.press(key)  # type: ignore[attr-defined]
            await async_wait_for(lambda w=where: box.message_input.cursor_position == w, 2)
            delays.append(time.monotonic() - start)
    return delays


def status(app) -> str:
    """The header as drawn."""
    return str(app.dashboard.status_bar.render())


async def test_the_app_behind_a_black_hole(server_factory) -> None:
    """Both connections partitioned: the header reads stalled within 5 s; a PUBLISH answers
    with an error within its timeout and the text stays; keys answer at once throughout
    (the monitor's commands hang too); healed, it is connected with a gap marker, and the
    same text publishes."""
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "nf.app")
    with FaultProxy("127.0.0.1", srv.port) as proxy:
        app = make_app(proxy.url(), sub)
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.dashboard.publish_box

            header = functools.partial(status, app)

            await pilot.press("i", *"kept")
            await async_wait_for(lambda: box.message_input.value == "kept")
            assert box.channel_input.value == "nf.app"
            proxy.black_hole()
            holed = time.monotonic()
            await pilot.press("enter")  # PUBLISH: it waits on the partition
            delays = await key_delays(app, pilot, 5)
            await async_wait_for(lambda: "stalled" in header(), timeout=6)
            stalled_after = time.monotonic() - holed
            delays += await key_delays(app, pilot, 5)
            await async_wait_for(lambda: "not sent" in result(box), timeout=10)
            refused_after = time.monotonic() - holed
            told = [str(n.message) for n in app._notifications]
            assert any("not sent" in t and "no answer from" in t for t in told), told
            assert box.message_input.value == "kept"  # nothing typed is lost
            delays += await key_delays(app, pilot, 5)
            # the monitor's last readings (rtt, obuf) are from before the partition: shown
            # with their age once older than two rounds, not as if measured now
            await async_wait_for(lambda: re.search(r"rtt [\d.,]+ ms \(\d+ s ago\)", header()), 8)
            aged_after = time.monotonic() - holed
            shown_while_stalled = header()
            proxy.black_hole(False)
            healed = time.monotonic()
            await async_wait_for(
                lambda: "● connected" in header() and app.session.store.subs[sub].gaps, timeout=10
            )
            recovered_after = time.monotonic() - healed
            await async_wait_for(lambda: app.session.store.subs[sub].status is Status.ACTIVE)
            await async_wait_for(lambda: any("── gap" in line for line in pane_text(app)))
            await pilot.press("enter")  # the same text, now it goes out
            await async_wait_for(lambda: "✓ 1 receiver" in result(box), timeout=10)
            await async_wait_for(lambda: box.message_input.value == "")
    print(
        f"stalled after {stalled_after:.2f} s, PUBLISH refused after {refused_after:.2f} s, "
        f"recovered {recovered_after:.2f} s after the heal; keys: max {max(delays) * 1000:.0f} "
        f"ms, median {sorted(delays)[len(delays) // 2] * 1000:.0f} ms over {len(delays)}"
    )
    print(f"header while stalled, {aged_after:.1f} s in:", shown_while_stalled)
    assert stalled_after < 5.0
    assert refused_after < 8.0  # the command connection's 5 s socket timeout
    assert recovered_after < 8.0
    assert aged_after < STALE_AFTER + 3.0  # a round (1 Hz redraw) after the readings aged
    assert "stalled" in shown_while_stalled
    assert max(delays) < KEY_BOUND


async def test_the_app_over_500_ms_latency_then_a_reset(server_factory) -> None:
    """Latency: a PUBLISH takes its round trip and succeeds, the header's rtt says ~1 s,
    keys answer at once, the state stays connected. A reset: the connection is lost and
    back (the user is told both), connected, with a gap marker in the pane."""
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "nf.lag")
    with FaultProxy("127.0.0.1", srv.port) as proxy:
        app = make_app(proxy.url(), sub)
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.dashboard.publish_box

            header = functools.partial(status, app)

            def shown_rtt() -> float:
                found = re.search(r"rtt ([\d,.]+) ms", header())
                return float(found[1].replace(",", "")) if found else 0.0

            await pilot.press("i", *"slow")
            proxy.set_delay(0.5)
            start = time.monotonic()
            await pilot.press("enter")
            delays = await key_delays(app, pilot, 3)  # while the PUBLISH is under way
            await async_wait_for(lambda: "✓ 1 receiver" in result(box), timeout=5)
            publish_took = time.monotonic() - start
            await async_wait_for(lambda: shown_rtt() >= 1000, timeout=10)
            rtt = shown_rtt()
            delays += await key_delays(app, pilot, 3)
            assert "● connected" in header() and app.session.subscriber.reconnects == 0
            proxy.set_delay(0)
            proxy.reset_all()
            reset = time.monotonic()
            # "reconnecting" lasts ~0.2 s: polling the header for it raced (a run missed
            # it); the engine's events say it was lost and is back, as the user is told
            said = lambda: [e.text for e in app.session.subscriber.events]  # noqa: E731
            await async_wait_for(lambda: any("reconnected after" in t for t in said()), 5)
            assert any(t.startswith("subscriber connection lost") for t in said())
            await async_wait_for(
                lambda: "● connected" in header() and app.session.store.subs[sub].gaps, timeout=5
            )
            recovered_after = time.monotonic() - reset
            await async_wait_for(lambda: any("── gap" in line for line in pane_text(app)))
    print(
        f"PUBLISH took {publish_took:.2f} s, header rtt {rtt:,.1f} ms; keys max "
        f"{max(delays) * 1000:.0f} ms over {len(delays)}; connected {recovered_after:.2f} s "
        "after the reset"
    )
    assert 0.95 <= publish_took < 3.0  # one 1 s round trip
    assert 1000 <= rtt < 2000
    assert max(delays) < KEY_BOUND
    assert recovered_after < 2.0


async def test_a_publish_right_after_a_reset_goes_out(server_factory) -> None:
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "nf.rst.pub")
    with FaultProxy("127.0.0.1", srv.port) as proxy:
        app = make_app(proxy.url(), sub)
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            box = app.dashboard.publish_box
            await pilot.press("i", *"one", "enter")
            await async_wait_for(lambda: "✓ 1 receiver" in result(box), timeout=5)
            proxy.reset_all()
            await async_wait_for(lambda: app.session.store.subs[sub].gaps, timeout=5)
            await async_wait_for(lambda: app.session.store.subs[sub].status is Status.ACTIVE)
            await pilot.press(*"two", "enter")
            await async_wait_for(lambda: result(box) != "", timeout=6)
            print("the PUBLISH after the reset:", result(box))
            assert "✓ 1 receiver" in result(box)
