"""The hot path (core/subscriber/intake.py and the history in core/store.py): reads that mix kinds,
subscriptions and payload sizes, subscriptions that change mid-flood, and the history kept
one socket read at a time. Engine tests run against real servers."""

from __future__ import annotations

from collections import Counter, deque

import redis

from rps_tui.core.entry import Gap
from rps_tui.core.store import Store
from rps_tui.core.subscriptions import Kind, Subscription
from tests.support.engine import Flood, running_engine
from tests.support.wait import wait_for


def test_reads_that_mix_kinds_subscriptions_and_sizes_count_exactly(
    server, redis_client: redis.Redis
) -> None:
    """One pipeline, so each socket read holds pmessage and message replies, three
    subscriptions and payloads of many sizes: every per-channel count and byte sum, and
    every subscription's own, must come out exact."""
    pattern = Subscription(Kind.PATTERN, "mix.*")
    narrow = Subscription(Kind.PATTERN, "mix.[ab]")
    plain = Subscription(Kind.CHANNEL, "mix.a")
    channels = [b"mix.a", b"mix.b", b"mix.c"]
    sent: Counter[bytes] = Counter()
    sent_bytes: Counter[bytes] = Counter()
    with running_engine(server.url, pattern, narrow, plain, history=50_000) as engine:
        pipe = redis_client.pipeline(transaction=False)
        for i in range(30_000):
            channel = channels[i % 3]
            payload = b"p" * (i % 97)  # sizes differ inside every read
            pipe.publish(channel, payload)
            sent[channel] += 1
            sent_bytes[channel] += len(payload)
        pipe.execute()
        store = engine.store
        wait_for(lambda: store.subs[pattern].total == 30_000, timeout=20)
        wait_for(lambda: store.subs[narrow].total == 20_000 and store.subs[plain].total == 10_000)
        # deliveries count per channel: mix.a reaches all three subscriptions, mix.b two
        deliveries = {b"mix.a": 3, b"mix.b": 2, b"mix.c": 1}
        rows = {r.channel: r for r in store.channel_rows()}
        for channel in channels:
            assert rows[channel].count == sent[channel] * deliveries[channel]
            assert rows[channel].bytes == sent_bytes[channel] * deliveries[channel]
        assert store.total == sum(rows[c].count for c in channels)
        assert store.subs[pattern].bytes == sum(sent_bytes.values())
        assert store.subs[plain].bytes == sent_bytes[b"mix.a"]
        # each history holds only its own kind and key, in order
        kept = store.subs[plain].buffer
        assert {tuple(e[:2]) for e in kept} == {(b"message", b"mix.a")}
        assert [len(e[-2]) for e in kept] == [i % 97 for i in range(0, 30_000, 3)]
        assert {e[1] for e in store.subs[narrow].buffer} == {b"mix.[ab]"}


def test_subscriptions_that_change_mid_flood_keep_counts_exact(
    server, redis_client: redis.Redis
) -> None:
    """Confirmations arrive in the middle of reads full of messages (the fast path must
    hand them to the slow one), and the kinds listened to change from one to two and
    back: nothing is lost, nothing is counted twice, nothing lands in the wrong history."""
    plain = Subscription(Kind.CHANNEL, "chg.a")
    pattern = Subscription(Kind.PATTERN, "chg.*")
    with running_engine(server.url, plain, history=1_000_000) as engine:
        store = engine.store
        with Flood(server.url, "chg.a", b"x" * 40) as flood:
            wait_for(lambda: store.subs[plain].total > 5_000)
            engine.subscribe(pattern)
            wait_for(lambda: pattern in store.subs and store.subs[pattern].total > 5_000)
            gone = store.subs[pattern]
            assert {e[0] for e in gone.buffer} == {b"pmessage"}
            engine.unsubscribe(pattern)
            wait_for(lambda: redis_client.pubsub_numpat() == 0)
            mark = store.subs[plain].total
            wait_for(lambda: store.subs[plain].total > mark + 5_000)
        published = flood.published
        wait_for(lambda: store.subs[plain].total == published, timeout=20)
        history = store.subs[plain].buffer
        assert len(history) == published
        assert all(e[0] == b"message" for e in history)
        # every delivery is in the channel's count: the channel's own, the pattern's while
        # it was there, and the pattern's still in flight when it went (counted, not kept)
        in_flight = store.channels[b"chg.a"].count - published - gone.total
        assert 0 <= in_flight < 50_000
        assert store.total == store.channels[b"chg.a"].count


def test_history_is_bounded_exactly_when_reads_go_in_part() -> None:
    """Reads of 7 entries against a history of 10: the count bound is exact, the oldest
    go first, and `held` is exact again once a partly dropped read has gone."""
    store = Store(history=10)
    sub = Subscription(Kind.CHANNEL, "h")
    state = store.add_subscription(sub)
    for read in range(5):
        replies = [[b"message", b"h", b"%d.%d" % (read, i)] for i in range(7)]
        state.total += 7
        store.buffered += state.take(replies, sum(len(r[-1]) for r in replies), float(read))
        assert state.count == len(state.buffer) == min(10, 7 * (read + 1))
    assert [e[-2] for e in state.buffer] == [b"3.4", b"3.5", b"3.6"] + [
        b"4.%d" % i for i in range(7)
    ]
    assert state.buffer[0][-1] == 3.0 and store.oldest_time(sub) == 3.0
    assert state.held == store.buffered  # in proportion for the part of read 3 that is left
    appended, fresh, complete = store.tail(sub, state.total - 4)
    assert (appended, [e[-2] for e in fresh], complete) == (
        35,
        [b"4.3", b"4.4", b"4.5", b"4.6"],
        True,
    )
    _, everything, complete = store.tail(sub, 0)
    assert len(everything) == 10 and not complete  # 25 of them are gone
    replies = [[b"message", b"h", b"5.%d" % i] for i in range(7)]
    state.take(replies, 21, 5.0)  # read 3 is gone now: held is exact again
    assert state.held == sum(len(e[-2]) for e in state.buffer) == 30


def test_a_gap_marker_is_an_entry_of_its_own_in_the_history() -> None:
    store = Store(history=5)
    sub = Subscription(Kind.PATTERN, "g.*")
    state = store.add_subscription(sub)
    state.take([[b"pmessage", b"g.*", b"g.1", b"abc"]], 3, 1.0)
    store.mark_gap(Gap("test", 2.0), 3.0)
    assert [e[0] for e in state.buffer] == [b"pmessage", None]
    assert state.buffer[1][1:] == [Gap("test", 2.0), 3.0]
    assert state.held == 3
    freed = state.trim(0)  # keeps the newest entry, the marker; only the message counts
    assert (freed, state.let_go, len(state.buffer)) == (3, 1, 1)


def test_channel_counts_reach_the_table_before_anyone_reads_it() -> None:
    """A tally not yet folded is folded by every reader of the table, so the table adds up
    to the total at any moment; a read with payloads of one size and one with mixed sizes
    give the same bytes."""
    store = Store()
    tally = store.tally()
    with store.lock:
        tally.add(iter([b"a", b"b", b"a"]), [5, 5, 5], 1.0)
        tally.add(iter([b"a", b"b"]), [1, 100], 2.0)
        store.total += 5
    rows = {r.channel: (r.count, r.bytes, r.last_seen) for r in store.channel_rows()}
    assert rows == {b"a": (3, 11, 2.0), b"b": (2, 105, 2.0)}
    assert tally.time is None  # nothing left to fold
    assert sum(r[0] for r in rows.values()) == store.total


def cycle(store: Store, channels: int, rounds: int) -> None:
    """Every channel once per round, round robin, each read folded before the next: more
    channels than the table keeps churn through it as a busy server's would."""
    tally = store.tally()
    now = 0.0
    for _ in range(rounds):
        for i in range(channels):
            now += 0.001
            with store.lock:
                tally.add(iter([b"cy.%d" % i]), [1], now)
                store.total += 1
            store.fold()  # as a reader would


def test_the_rollup_counts_channels_out_of_the_table_not_folds() -> None:
    """50 channels through an 8-row table, 20 times: the rollup once said 140 (the folds);
    it is the 42 channels out of the table, and all rows stand for the 50 channels seen."""
    store = Store(max_channels=8)
    cycle(store, 50, 20)
    rows = store.channel_rows()
    (rollup,) = [r for r in rows if r.channel is None]
    named = [r for r in rows if r.channel is not None]
    assert (rollup.channels, rollup.at_least) == (50 - len(named), False)
    assert sum(r.channels for r in rows) == 50
    assert sum(r.count for r in rows) == store.total == 1000  # the counts stay exact


def test_past_its_limit_the_rollup_says_at_least(monkeypatch) -> None:
    """Past `GONE_LIMIT` folded channels the count starts again and is a lower bound: never
    more than the channels really out of the table, and marked so."""
    import rps_tui.core.store as store_module

    monkeypatch.setattr(store_module, "GONE_LIMIT", 30)
    store = Store(max_channels=8)
    cycle(store, 100, 3)
    (rollup,) = [r for r in store.channel_rows() if r.channel is None]
    assert rollup.at_least
    assert 0 < rollup.channels <= 100 - len(store.channels)


def test_rows_that_come_and_go_between_samples_make_no_meter_history() -> None:
    """More channels than the table keeps churn rows tens of thousands of times a second,
    mostly between two samples: a row's sparkline history (a deque, a 528-byte malloc
    block each) is made at its first sample, not with the row (the soak's malloc churn)."""
    store = Store(max_channels=100)
    cycle(store, 1000, 1)
    rows = list(store.channels.values())
    assert rows and all(not isinstance(s.meter.history, deque) for s in rows)
    store.sample()
    assert all(list(s.meter.history) == [1] for s in store.channels.values())
    assert sum(r.count for r in store.channel_rows()) == store.total == 1000
