"""Demo traffic against real servers: every family arrives, binary stays binary, stop is prompt."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import redis

from rps_tui.core.embedded.demo import DEMO_PATTERNS, DemoTraffic
from rps_tui.core.embedded.server import ServerProcess, free_port

FAMILIES = ("orders", "metrics", "chat", "sensors")
Factory = Callable[..., ServerProcess]


def _family(channel: bytes) -> str:
    return channel.decode().split(".")[1]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture
def subscriber(server: ServerProcess) -> Iterator[redis.client.PubSub]:
    """A plain redis-py pattern subscriber on the demo patterns, confirmed before yielding."""
    client = redis.Redis.from_url(server.url, socket_timeout=5)
    pubsub = client.pubsub()
    pubsub.psubscribe(*DEMO_PATTERNS)
    confirmed = 0
    deadline = time.monotonic() + 5
    while confirmed < len(DEMO_PATTERNS) and time.monotonic() < deadline:
        msg = pubsub.get_message(timeout=0.5)
        if msg and msg["type"] == "psubscribe":
            confirmed += 1
    assert confirmed == len(DEMO_PATTERNS)
    try:
        yield pubsub
    finally:
        pubsub.close()
        client.close()


@pytest.fixture
def demo_factory() -> Iterator[Callable[..., DemoTraffic]]:
    """Build DemoTraffic instances that are always stopped after the test."""
    made: list[DemoTraffic] = []

    def make(url: str, **kw: object) -> DemoTraffic:
        demo = DemoTraffic(url, **kw)  # type: ignore[arg-type]
        made.append(demo)
        return demo

    yield make
    for demo in made:
        demo.stop()


def _demo_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rps-tui-demo"]


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_every_family_arrives_and_sensors_include_binary(
    server: ServerProcess,
    subscriber: redis.client.PubSub,
    demo_factory: Callable[..., DemoTraffic],
) -> None:
    demo = demo_factory(server.url, seed=7)
    demo.start()
    seen: Counter[str] = Counter()
    binary_sensor_payloads = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = subscriber.get_message(timeout=0.2)
        if not msg or msg["type"] != "pmessage":
            continue
        family = _family(msg["channel"])
        seen[family] += 1
        if family == "sensors" and not _is_utf8(msg["data"]):
            binary_sensor_payloads += 1
        if all(seen[f] for f in FAMILIES) and binary_sensor_payloads:
            break
    assert set(seen) == set(FAMILIES), seen
    assert binary_sensor_payloads >= 1
    assert demo.last_error is None


def test_aggregate_rate_and_prompt_stop(
    server: ServerProcess,
    subscriber: redis.client.PubSub,
    demo_factory: Callable[..., DemoTraffic],
) -> None:
    demo = demo_factory(server.url)
    demo.start()
    assert _wait_until(lambda: demo.published > 0, 5)
    drain_until = time.monotonic() + 0.5  # skip the warm-up burst
    while time.monotonic() < drain_until:
        subscriber.get_message(timeout=0.05)
    start_published = demo.published
    received = 0
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        msg = subscriber.get_message(timeout=0.1)
        if msg and msg["type"] == "pmessage":
            received += 1
    elapsed = time.monotonic() - started
    published = demo.published - start_published
    assert received / elapsed >= 300, f"{received} messages in {elapsed:.2f}s"
    assert published / elapsed >= 300

    stop_started = time.monotonic()
    demo.stop()
    assert time.monotonic() - stop_started < 1.0
    assert not demo.running
    assert not _demo_threads()
    demo.stop()  # idempotent


def test_stop_before_start_and_restart(
    server: ServerProcess, demo_factory: Callable[..., DemoTraffic]
) -> None:
    demo = demo_factory(server.url, rate_scale=0.1)
    demo.stop()
    demo.start()
    demo.start()  # no second thread
    assert len(_demo_threads()) == 1
    assert _wait_until(lambda: demo.published > 0, 5)
    demo.stop()
    assert not _demo_threads()
    before = demo.published
    demo.start()
    assert _wait_until(lambda: demo.published > before, 5)
    demo.stop()
    assert not _demo_threads()


def test_unreachable_server_never_raises_and_stops_promptly(
    demo_factory: Callable[..., DemoTraffic],
) -> None:
    demo = demo_factory(f"redis://127.0.0.1:{free_port()}/0")
    demo.start()
    assert _wait_until(lambda: demo.last_error is not None, 5)
    time.sleep(1.2)  # a few retry rounds
    assert demo.running
    assert demo.published == 0
    started = time.monotonic()
    demo.stop()
    assert time.monotonic() - started < 1.5
    assert not demo.running


def test_recovers_after_server_restart(
    server_factory: Factory, demo_factory: Callable[..., DemoTraffic]
) -> None:
    srv = server_factory()
    demo = demo_factory(srv.url, rate_scale=0.2)
    demo.start()
    assert _wait_until(lambda: demo.published > 0, 5)
    srv.kill()
    assert _wait_until(lambda: demo.last_error is not None, 5)
    assert demo.running
    srv.restart()
    resumed_from = demo.published
    assert _wait_until(lambda: demo.published > resumed_from, 5)
    assert demo.last_error is None


def test_frozen_server_does_not_block_stop(
    server_factory: Factory, demo_factory: Callable[..., DemoTraffic]
) -> None:
    srv = server_factory()
    demo = demo_factory(srv.url, rate_scale=0.2)
    demo.start()
    assert _wait_until(lambda: demo.published > 0, 5)
    srv.pause()
    time.sleep(0.3)  # let a publish hang on the frozen server
    started = time.monotonic()
    demo.stop(timeout=2.0)
    assert time.monotonic() - started < 1.5
    assert not demo.running
    srv.resume()


def test_seed_makes_payloads_deterministic() -> None:
    a = DemoTraffic("redis://127.0.0.1:1/0", seed=42)
    b = DemoTraffic("redis://127.0.0.1:1/0", seed=42)
    # batching differs, the sequence does not
    batch_a = a.next_batch(300)
    batch_b = [m for _ in range(60) for m in b.next_batch(5)]
    assert batch_a == batch_b
    c = DemoTraffic("redis://127.0.0.1:1/0", seed=43)
    assert c.next_batch(300) != batch_a


def test_payload_shapes() -> None:
    demo = DemoTraffic("redis://127.0.0.1:1/0", seed=1)
    first = demo.next_batch(1)
    assert {ch for ch, _ in first} == set(demo.channels)  # warm-up: every channel at once
    batch = first + demo.next_batch(6000)  # one simulated minute
    by_family: dict[str, list[tuple[str, str | bytes]]] = {f: [] for f in FAMILIES}
    for channel, payload in batch:
        assert channel.startswith("demo.")
        by_family[channel.split(".")[1]].append((channel, payload))

    regions = {ch.split(".")[2] for ch, _ in by_family["orders"]}
    assert regions == {"eu", "us", "apac"}
    for _, payload in by_family["orders"]:
        assert isinstance(payload, str)
        order = json.loads(payload)
        assert set(order) == {"id", "sku", "qty", "price", "currency", "ts"}

    for channel, payload in by_family["metrics"]:
        assert channel.endswith((".cpu", ".mem"))
        assert isinstance(payload, str)
        assert 0.0 <= float(payload) <= 100.0
    busiest = Counter(ch.split(".")[2] for ch, _ in by_family["metrics"]).most_common(1)[0]
    assert busiest[1] / 60 > 500  # one host at ~1,000/s

    chat = [p for _, p in by_family["chat"]]
    assert 20 <= len(chat) <= 200  # ~1/s
    assert any("[bold]not markup[/bold]" in p and "\x1b[31m" in p for p in chat)
    assert any(not str(p).isascii() for p in chat)

    binary = [p for _, p in by_family["sensors"] if isinstance(p, bytes)]
    assert binary
    assert not any(_is_utf8(p) for p in binary)
