"""Realistic Pub/Sub traffic for ``rps-tui --demo``.

Four channel families with very different rates and payload shapes, so every part of the UI has
something to show: JSON (orders), a firehose of small numbers (metrics), human text with unicode
and hostile-looking markup/escape sequences (chat), and binary frames that are not UTF-8
(sensors). One daemon thread publishes everything in pipelined batches every ~10 ms, which keeps
~1,000 msg/s cheap and lets stop() return within one tick.
"""

from __future__ import annotations

import contextlib
import json
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["DEMO_PATTERNS", "DemoTraffic"]

DEMO_PATTERNS: tuple[str, ...] = (
    "demo.orders.*",
    "demo.metrics.*",
    "demo.chat.*",
    "demo.sensors.*",
)

REGIONS: tuple[str, ...] = ("eu", "us", "apac")
HOSTS: tuple[str, ...] = ("web-1", "web-2", "db-1", "cache-1")  # web-1 is the busy one
ROOMS: tuple[str, ...] = ("general", "ops", "random")
SENSORS: tuple[str, ...] = ("s-001", "s-002", "s-003", "s-004", "s-005", "s-006")
BINARY_SENSOR = "s-004"  # "legacy firmware": always sends binary frames

TICK = 0.01  # seconds between batches
_MAX_TICKS_PER_BATCH = 50  # after a stall, catch up at most 0.5 s worth, then re-anchor
_RETRY_DELAY = 0.5
_SEEDED_EPOCH = 1_700_000_000.0  # fixed clock for seeded runs, so "ts" is deterministic too

_CURRENCY = {"eu": "EUR", "us": "USD", "apac": "SGD"}
_SKUS = ("KB-101", "MS-220", "HD-4TB", "MON-27Q", "CAB-USB-C", "DOCK-9", "CAM-4K", "MIC-X")
# magic (0xA5 is a UTF-8 continuation byte, so no frame is ever valid UTF-8), sensor number,
# sequence, temperature in centi-degrees, humidity in centi-percent, battery volts
_FRAME = struct.Struct("<2sBIhHf")
_FRAME_MAGIC = b"\xa5\x5a"
_HOSTILE_CHAT = "this is [bold]not markup[/bold] and \x1b[31mnot red either\x1b[0m"
_CHAT = (
    "deploy of api v2.14 finished, all green",
    "anyone seeing higher latency in apac?",
    "Déjà vu: the cache warmed up in 3 s ✅",
    "東京のレイテンシが下がりました",
    "Привет! Rolling restart is done.",
    "emoji storm incoming 🚀🔥🎉",
    "👩‍💻 on call tonight, ping me if the queue backs up",
    "مرحبا — the RTL folks say hi",
    "coffee ☕ then the postmortem at 14:00",
    "naïve question: why is db-1 at 90% memory?",
    "Zürich office says the VPN is flaky again",
    "ship it 🚢",
)


@dataclass
class _Channel:
    """One demo channel: its rate and how it makes a payload."""

    name: str
    rate: float  # messages per second at rate_scale=1
    make: Callable[[float], str | bytes]  # simulated timestamp -> payload
    acc: float = 0.0


class DemoTraffic:
    """Publish demo traffic to ``url`` from a background thread until stop().

    ``seed`` makes the sequence of payloads deterministic (timestamps come from a fixed simulated
    clock then); ``rate_scale`` multiplies every rate. Connection errors never escape the thread:
    it retries every 0.5 s until stopped and keeps the latest one in ``last_error``.
    """

    def __init__(self, url: str, *, seed: int | None = None, rate_scale: float = 1.0) -> None:
        if rate_scale < 0:
            raise ValueError("rate_scale must be >= 0")
        self.url = url
        self.rate_scale = rate_scale
        self._rng = random.Random(seed)
        self._epoch = _SEEDED_EPOCH if seed is not None else time.time()
        self._tick = 0
        self._order_seq = 0
        self._frame_seq = 0
        self._cpu = {h: self._rng.uniform(10, 60) for h in HOSTS}
        self._mem = {h: self._rng.uniform(30, 80) for h in HOSTS}
        self._channels = self._build_channels()
        self._published = 0
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    @property
    def published(self) -> int:
        """Total messages the server accepted so far."""
        return self._published

    @property
    def last_error(self) -> str | None:
        """The latest publish error (None once publishing works again)."""
        return self._last_error

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel this generator publishes to."""
        return tuple(c.name for c in self._channels)

    @property
    def running(self) -> bool:
        """True while the publisher thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the publisher thread (no-op if it is already running)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="rps-tui-demo", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop and join it; safe to call twice or before start()."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def next_batch(self, ticks: int = 1) -> list[tuple[str, str | bytes]]:
        """Generate the next ``ticks`` x 10 ms of messages (the thread's source; handy in tests).

        The first tick publishes once on every channel, so a fresh subscriber sees every family
        at once instead of waiting seconds for the slow ones.
        """
        batch: list[tuple[str, str | bytes]] = []
        rng = self._rng
        for _ in range(ticks):
            now = self._epoch + self._tick * TICK
            first = self._tick == 0
            self._tick += 1
            for ch in self._channels:
                # jittered accumulator: average rate exact, gaps irregular but bounded
                ch.acc += ch.rate * self.rate_scale * TICK * rng.uniform(0.5, 1.5)
                count = int(ch.acc)
                ch.acc -= count
                if first:
                    count = max(count, 1)
                for _ in range(count):
                    batch.append((ch.name, ch.make(now)))
        return batch

    # ------------------------------------------------------------------ payloads

    def _build_channels(self) -> list[_Channel]:
        chans: list[_Channel] = []
        for region, rate in zip(REGIONS, (8.0, 12.0, 5.0), strict=True):
            chans.append(_Channel(f"demo.orders.{region}", rate, self._order_maker(region)))
        for host in HOSTS:
            rate = 500.0 if host == "web-1" else 2.0
            chans.append(_Channel(f"demo.metrics.{host}.cpu", rate, self._cpu_maker(host)))
            chans.append(_Channel(f"demo.metrics.{host}.mem", rate, self._mem_maker(host)))
        for room, rate in zip(ROOMS, (0.5, 0.3, 0.2), strict=True):
            chans.append(_Channel(f"demo.chat.{room}", rate, self._chat))
        for index, sensor in enumerate(SENSORS, start=1):
            chans.append(_Channel(f"demo.sensors.{sensor}", 3.0, self._sensor_maker(index)))
        return chans

    def _order_maker(self, region: str) -> Callable[[float], str]:
        def make(now: float) -> str:
            rng = self._rng
            self._order_seq += 1
            order = {
                "id": f"ord-{region}-{self._order_seq:07d}",
                "sku": rng.choice(_SKUS),
                "qty": rng.choice((1, 1, 1, 2, 2, 3, 5, 10)),
                "price": round(rng.uniform(4.99, 899.0), 2),
                "currency": _CURRENCY[region],
                "ts": _iso(now),
            }
            return json.dumps(order, ensure_ascii=False)

        return make

    def _cpu_maker(self, host: str) -> Callable[[float], str]:
        def make(now: float) -> str:
            value = _walk(self._cpu[host], self._rng.gauss(0.0, 1.5), 1.0, 99.9)
            self._cpu[host] = value
            return f"{value:.1f}"

        return make

    def _mem_maker(self, host: str) -> Callable[[float], str]:
        def make(now: float) -> str:
            value = _walk(self._mem[host], self._rng.gauss(0.02, 0.3), 5.0, 98.0)
            self._mem[host] = value
            return f"{value:.1f}"

        return make

    def _chat(self, now: float) -> str:
        rng = self._rng
        if rng.random() < 0.1:
            return _HOSTILE_CHAT
        return rng.choice(_CHAT)

    def _sensor_maker(self, index: int) -> Callable[[float], str | bytes]:
        sensor = SENSORS[index - 1]

        def make(now: float) -> str | bytes:
            rng = self._rng
            temp = rng.gauss(21.5, 2.0)
            humidity = min(100.0, max(0.0, rng.gauss(45.0, 8.0)))
            battery = round(rng.uniform(3.4, 4.1), 2)
            if sensor == BINARY_SENSOR or rng.random() < 0.05:
                self._frame_seq = (self._frame_seq + 1) & 0xFFFFFFFF
                return _FRAME.pack(
                    _FRAME_MAGIC, index, self._frame_seq, round(temp * 100),
                    round(humidity * 100), battery,
                )  # fmt: skip
            reading = {
                "sensor": sensor,
                "temp_c": round(temp, 2),
                "humidity": round(humidity, 1),
                "battery_v": battery,
                "ts": _iso(now),
            }
            return json.dumps(reading)

        return make

    # ------------------------------------------------------------------ the thread

    def _connect(self) -> redis.Redis:
        return redis.Redis.from_url(
            self.url,
            socket_timeout=0.5,  # a frozen server must not block stop() for long
            socket_connect_timeout=0.5,
            retry=Retry(NoBackoff(), 0),  # this loop does its own retrying
            client_name="rps-tui-demo",
        )

    def _run(self) -> None:
        stop = self._stop
        client: redis.Redis | None = None
        due = time.monotonic()
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now < due:
                    stop.wait(due - now)
                    continue
                ticks = int((now - due) / TICK) + 1
                if ticks > _MAX_TICKS_PER_BATCH:  # stalled: don't burst, re-anchor the clock
                    ticks = _MAX_TICKS_PER_BATCH
                    due = now
                else:
                    due += ticks * TICK
                batch = self.next_batch(ticks)
                try:
                    if client is None:
                        client = self._connect()
                    pipe = client.pipeline(transaction=False)
                    for channel, payload in batch:
                        pipe.publish(channel, payload)
                    pipe.execute()
                except Exception as exc:  # never let the thread die; retry quietly
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    if client is not None:
                        _close_quietly(client)
                        client = None
                    stop.wait(_RETRY_DELAY)
                    due = time.monotonic()
                    continue
                self._published += len(batch)
                self._last_error = None
        finally:
            if client is not None:
                _close_quietly(client)


def _walk(value: float, step: float, low: float, high: float) -> float:
    """A bounded random walk step that bounces off the limits."""
    value += step
    if value < low:
        value = 2 * low - value
    elif value > high:
        value = 2 * high - value
    return min(high, max(low, value))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _close_quietly(client: redis.Redis) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail; it is gone anyway
        client.close()
        client.connection_pool.disconnect()
