"""Quantities as people read them."""

from __future__ import annotations

from datetime import UTC, datetime


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 line', '12,345 lines' ('1 match', '2 matches' with `nouns`)."""
    return f"{n:,} {noun_for(n, noun, nouns)}"


def noun_for(n: int, noun: str, nouns: str | None = None) -> str:
    """The noun that goes with `n` (for a number drawn some other way, such as 25.0M)."""
    return noun if n == 1 else nouns or noun + "s"


def were(n: int, noun: str) -> str:
    """'1 line was', '12,345 lines were'."""
    return f"1 {noun} was" if n == 1 else f"{n:,} {noun}s were"


def iso_time(when: float) -> str:
    """ISO 8601 in UTC with milliseconds, whatever the local zone: 2025-11-27T10:00:00.250Z."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
