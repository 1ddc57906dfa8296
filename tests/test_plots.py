"""The plot's data, without the screen: throughput series from a real publisher's messages
(per-second sums equal the store's counts), values read from payloads (JSON, msgpack, bare
numbers, missing and non-numeric fields, booleans), the sampling bound, the CSV export."""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import msgpack
import pytest
import redis

from rps_tui.core.export import export_name, write_csv
from rps_tui.core.payload.query import QueryError
from rps_tui.core.plots.series import Series, mean_text, short_number, thin
from rps_tui.core.plots.throughput import Throughput
from rps_tui.core.plots.values import EXTRACT_LIMIT, Values, parse_field
from rps_tui.core.store import PLOT_SECONDS, SPARK_SECONDS, Store
from rps_tui.core.subscriptions import Kind, Subscription
from rps_tui.core.units import iso_time
from tests.support.engine import running_engine
from tests.support.wait import wait_for


def sampled_after(store: Store, n: int = 2) -> None:
    """Until the meters have been fed `n` more times (so every count is in a sample)."""
    start = store.samples
    wait_for(lambda: store.samples >= start + n, timeout=10)


def test_throughput_sums_equal_the_store_counts(server) -> None:
    sub = Subscription(Kind.PATTERN, "tp.*")
    plan = {b"tp.a": (30, 5, 12), b"tp.b": (3, 0, 7), b"tp.c": (0, 1, 0)}
    client = redis.Redis.from_url(server.url)
    with running_engine(server.url, sub) as engine:
        store = engine.store
        plot = Throughput(sub)
        for second in range(3):
            pipe = client.pipeline(transaction=False)
            for channel, counts in plan.items():
                for i in range(counts[second]):
                    pipe.publish(channel, f"m{i}")
            pipe.execute()
            sampled_after(store, 1)
            if second == 1:  # read once in between: the next read starts where it stopped
                plot.update(store)
        wanted = sum(sum(counts) for counts in plan.values())
        wait_for(lambda: store.total == wanted)
        sampled_after(store)
        assert plot.update(store)
        assert not plot.update(store)  # nothing sampled since: nothing to read
        state = store.subs[sub]
        assert sum(plot.total.values) == state.total == wanted
        assert list(plot.total.values)[-len(state.meter.history) :] == list(state.meter.history)
        channels = store.channels
        for name in plan:
            series = plot.channels[name]
            assert sum(series.values) == channels[name].count == sum(plan[name])
            assert len(series.times) == len(series.values)
        # the points are on the store's sample times, one a second, in order
        times = list(plot.total.times)
        assert times == sorted(times) and set(times) <= set(store.sample_times)
        # the shown series: the total first, then the busiest channel
        shown = plot.series(0.0)
        assert shown[0] is plot.total and shown[1].name == "tp.a"
    client.close()


def test_a_channel_subscription_has_one_series(server) -> None:
    sub = Subscription(Kind.CHANNEL, "tp.one")
    client = redis.Redis.from_url(server.url)
    with running_engine(server.url, sub) as engine:
        for i in range(4):
            client.publish("tp.one", str(i))
        wait_for(lambda: engine.store.total == 4)
        sampled_after(engine.store)
        plot = Throughput(sub)
        plot.update(engine.store)
        assert [s.name for s in plot.series(0.0)] == ["tp.one"]
        assert sum(plot.total.values) == 4 and plot.left_out() == 0
    client.close()


def test_subscription_meters_keep_15_minutes_and_the_snapshot_its_last_minute() -> None:
    store = Store()
    sub = Subscription(Kind.CHANNEL, "long")
    state = store.add_subscription(sub)
    for second in range(PLOT_SECONDS + 100):
        state.total += second % 7
        store.sample()
    assert len(state.meter.history) == PLOT_SECONDS and store.samples == PLOT_SECONDS + 100
    snapshot = store.snapshot(channels=False)
    assert list(snapshot.history) == list(state.meter.history)[-SPARK_SECONDS:]
    assert len(store.sample_times) == PLOT_SECONDS


def publish_payloads(url: str, items: list[tuple[str, bytes]]) -> None:
    client = redis.Redis.from_url(url)
    for channel, payload in items:
        client.publish(channel, payload)
        time.sleep(0.0)
    client.close()


def read_values(server, field: str, items: list[tuple[str, bytes]], decoder: str = "auto"):
    sub = Subscription(Kind.PATTERN, "val.*")
    with running_engine(server.url, sub) as engine:
        publish_payloads(server.url, items)
        wait_for(lambda: engine.store.total == len(items))
        values = Values.start(sub, field, decoder)
        assert values.update(engine.store)
        assert not values.update(engine.store)  # nothing new
    return values


def test_values_from_json_bare_numbers_missing_and_not_numeric(server) -> None:
    items = [
        ("val.a", json.dumps({"cpu": 12.5}).encode()),
        ("val.b", json.dumps({"cpu": True}).encode()),  # a boolean plots as 1
        ("val.c", json.dumps({"mem": 3}).encode()),  # missing
        ("val.d", json.dumps({"cpu": "high"}).encode()),  # not numeric
        ("val.e", b"not json at all"),  # not numeric
        ("val.f", json.dumps({"cpu": False}).encode()),  # 0
    ]
    values = read_values(server, "json:cpu", items)
    got = {s.name: list(s.values) for s in values.series.values()}
    assert got == {"val.a": [12.5], "val.b": [1.0], "val.f": [0.0]}
    assert (values.missing, values.not_numeric, values.sampled) == (1, 2, False)

    numbers = read_values(
        server, "number", [("val.n", b"21.5"), ("val.m", b" -3 "), ("val.x", b"")]
    )
    assert {s.name: list(s.values) for s in numbers.series.values()} == {
        "val.n": [21.5],
        "val.m": [-3.0],
    }
    assert numbers.missing == 1


def test_values_read_with_the_panes_decoder_msgpack_and_an_index(server) -> None:
    doc = {"readings": [{"temp": 19.25}, {"temp": 30}]}
    items = [("val.pack", msgpack.packb(doc)), ("val.empty", msgpack.packb({"readings": []}))]
    values = read_values(server, "json:readings[0].temp", items, decoder="msgpack")
    assert {s.name: list(s.values) for s in values.series.values()} == {"val.pack": [19.25]}
    assert (values.missing, values.not_numeric) == (1, 0)
    # read as JSON (the auto decoder shows msgpack as bytes), it is no number
    raw = read_values(server, "json:readings[0].temp", items)
    assert not raw.series and raw.not_numeric == 2


def test_invalid_fields_are_one_line() -> None:
    for text in ("json:cpu[", "cpu", "json:", "json:nosuch(cpu)"):
        with pytest.raises(QueryError) as info:
            parse_field(text)
        assert "\n" not in str(info.value) and str(info.value)
    assert parse_field("number") is None and parse_field(" json:a.b ") is not None


def test_a_flood_is_sampled_one_value_per_channel_per_second(server) -> None:
    sub = Subscription(Kind.CHANNEL, "val.flood")
    client = redis.Redis.from_url(server.url)
    with running_engine(server.url, sub) as engine:
        pipe = client.pipeline(transaction=False)
        for i in range(5000):
            pipe.publish("val.flood", str(i))
        start = time.time()
        pipe.execute()
        seconds = math.ceil(time.time()) - math.floor(start) + 1
        wait_for(lambda: engine.store.total == 5000)
        values = Values.start(sub, "number")
        values.update(engine.store)
    client.close()
    assert values.sampled and values.read == 5000
    assert values.extracted <= min(seconds, EXTRACT_LIMIT)
    assert values.skipped == 5000 - values.extracted
    (series,) = values.series.values()
    assert series.values[-1] == 4999.0  # the last value of its second
    assert len(series.values) == len({int(t) for t in series.times})


def test_a_store_that_let_messages_go_says_so(server) -> None:
    sub = Subscription(Kind.CHANNEL, "val.lost")
    client = redis.Redis.from_url(server.url)
    with running_engine(server.url, sub, history=100) as engine:
        for i in range(300):
            client.publish("val.lost", str(i))
        wait_for(lambda: engine.store.total == 300)
        values = Values.start(sub, "number")
        values.update(engine.store)  # from what the store holds: older is no loss of ours
        assert (values.lost, values.read) == (0, 100)
        for i in range(300):
            client.publish("val.lost", str(i))
        wait_for(lambda: engine.store.total == 600)
        values.update(engine.store)
    client.close()
    assert values.lost == 200 and values.read == 200 and values.sampled


def test_csv_export_parses_back(tmp_path: Path) -> None:
    a, b = Series("chan.a"), Series("chan.\udcff")  # a name that is not UTF-8
    a.add(1_764_237_600.25, 3)
    a.add(1_764_237_601.0, 4.5)
    b.add(1_764_237_600.5, 7)
    path = export_name(1_764_237_600.0, tmp_path)
    assert path.name == "rps-tui-plot-20251127-100000.csv"
    assert write_csv(path, [a, b], 0.0) == 3
    assert export_name(1_764_237_600.0, tmp_path).name == "rps-tui-plot-20251127-100000-2.csv"
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["time", "channel", "value"],
        ["2025-11-27T10:00:00.250Z", "chan.a", "3"],
        ["2025-11-27T10:00:00.500Z", "chan.\udcff", "7"],
        ["2025-11-27T10:00:01.000Z", "chan.a", "4.5"],
    ]
    assert path.read_bytes().splitlines()[2] == b"2025-11-27T10:00:00.500Z,chan.\xff,7"
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    with pytest.raises(OSError):
        write_csv(tmp_path / "missing" / "x.csv", [a], 0.0)


def test_numbers_fit_their_width() -> None:
    for value in (0, 1, 12.5, 24.574, 951.571, 1234567, 0.000123, -3.25, 99999.9, 1e15, -1e7):
        for width in (5, 7):
            assert len(short_number(value, width)) <= width, (value, width)
    assert short_number(12.5) == "12.5" and short_number(1234) == "1,234"


def test_a_mean_shows_one_decimal_more_than_the_values_beside_it() -> None:
    """A legend of msg/s reads 910.3 and 506.5, not 910.333 beside 506.5."""
    assert mean_text(910.3333, ["0", "1,047", "1,036"]) == "910.3"
    assert mean_text(506.625, ["491", "523", "510"]) == "506.6"
    assert mean_text(74.21428, ["72", "76.6", "76.6"]) == "74.21"
    assert mean_text(2.0, ["2", "2", "2"]) == "2.0"
    for mean in (1234567.5, -98765.4321, 0.000123):
        assert len(mean_text(mean, ["1.23M", "0.5", "1e-04"], 7)) <= 7


def test_thinning_keeps_peaks_and_dips() -> None:
    times = [float(t) for t in range(900)]
    values = [0.0] * 900
    values[123], values[456] = 99.0, -5.0
    xs, ys = thin(times, values, 0.0, 900.0, 70)
    assert len(xs) <= 140 and xs == sorted(xs)
    assert max(ys) == 99.0 and min(ys) == -5.0 and 123.0 in xs and 456.0 in xs
    assert thin(times[:100], values[:100], 0.0, 900.0, 70) == (times[:100], values[:100])


def test_a_query_that_gave_up_extracts_nothing_more(server) -> None:
    """After the CPU alarm disabled the expression, messages are skipped, not counted as
    not numeric (the screen shows the query's one-line failure instead)."""
    sub = Subscription(Kind.CHANNEL, "val.gaveup")
    client = redis.Redis.from_url(server.url)
    with running_engine(server.url, sub) as engine:
        client.publish("val.gaveup", b'{"cpu": 1}')
        wait_for(lambda: engine.store.total == 1)
        values = Values.start(sub, "json:cpu")
        values.query.failure = "json: gave up"
        values.update(engine.store)
    client.close()
    assert (values.extracted, values.skipped, values.not_numeric) == (0, 1, 0)
    assert values.failure == "json: gave up"
