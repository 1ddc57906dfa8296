"""The bench's wire format: a fixed header, then filler up to --size.

The header is `struct` little-endian `<IQQ`: the publisher's id, its sequence number (from
0, per publisher) and the send time in nanoseconds of `time.monotonic_ns()`. On Linux that is
CLOCK_MONOTONIC, one clock for every process of the machine, so a subscriber process can
subtract a publisher process's stamp. At a fixed rate the stamp is the *intended* send time
(start + n / rate), not the moment the command left: a publisher that stalls cannot hide the
latency its stall causes (coordinated omission). One `unpack_from` reads the header without
copying the payload.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("<IQQ")
HEADER_SIZE = HEADER.size  # 20 bytes: the smallest --size
FILLER = b"x"
CHANNEL_PREFIX = "rps-tui-bench"
SUBSCRIBER_NAME = "rps-tui-bench-sub"  # CLIENT SETNAME of every subscriber connection

unpack_header = HEADER.unpack_from  # (publisher, sequence, sent_ns) = unpack_header(payload)


def channel_names(run: str, count: int) -> list[bytes]:
    """The channels of one run: a run id keeps two runs on one server apart. No hash tags,
    so on a cluster they spread over the slots (and, with --shard, over the primaries)."""
    return [f"{CHANNEL_PREFIX}:{run}:{i}".encode() for i in range(count)]


def pattern_for(run: str) -> bytes:
    """The PSUBSCRIBE pattern that covers every channel of the run (--pattern)."""
    return f"{CHANNEL_PREFIX}:{run}:*".encode()


class Encoder:
    """Messages of one publisher: the header packed in front of a filler made once."""

    def __init__(self, publisher: int, size: int) -> None:
        if size < HEADER_SIZE:
            raise ValueError(f"--size {size} is below the header's {HEADER_SIZE} bytes")
        self.publisher = publisher
        self.filler = FILLER * (size - HEADER_SIZE)
        self._pack = HEADER.pack

    def encode(self, seq: int, sent_ns: int) -> bytes:
        return self._pack(self.publisher, seq, sent_ns) + self.filler
