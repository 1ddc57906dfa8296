"""The run as people and machines read it: a Rich table, one JSON object, a CSV row.

JSON (`--json`, one object on stdout; schema "rps-tui-bench/1"): see `to_json`; every rate is
msg/s, every latency microseconds, every size bytes. CSV (`--csv FILE`) holds the same
numbers flat, one row per run, in `CSV_FIELDS` order.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rps_tui.core.bench.results import PERCENTILES, Outcome
from rps_tui.core.units import human_bytes, plural

SCHEMA = "rps-tui-bench/1"
LATENCY_KEYS = (*(name for name, _ in PERCENTILES), "max", "mean", "count")


def describe_plan(outcome: Outcome) -> str:
    plan = outcome.plan
    pace = f"{plan.rate:,.0f} msg/s" if plan.rate else "--max"
    limit = (
        f"{plan.duration:g} s"
        if plan.duration is not None
        else plural(plan.messages or 0, "message")
    )
    kind = "pattern" if plan.pattern else "shard" if plan.shard else "channel"
    return (
        f"{plural(plan.publishers, 'publisher')} x {plural(plan.subscribers, 'subscriber')}, "
        f"{plural(plan.channels, 'channel')} ({kind}), {plan.size} B, {pace}, {limit}"
    )


def latency_text(us: float) -> str:
    if us < 1000:
        return f"{us:.0f} us"
    if us < 1_000_000:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1e6:.2f} s"


def verdict(outcome: Outcome) -> Text:
    """The one line that says how the run went: OK, LOSS, or why it is incomplete."""
    lost, dups, expected = outcome.lost, outcome.duplicates, outcome.expected
    if outcome.interrupted:
        head = Text("INTERRUPTED (Ctrl-C): partial counts", style="bold yellow")
    elif outcome.error:
        head = Text(f"INCOMPLETE: {outcome.error}", style="bold red")
    elif lost or dups:
        head = Text("", style="bold red")
    else:
        return Text(
            f"OK: no loss, no duplicates ({outcome.delivered:,} of {expected:,} delivered)",
            style="bold green",
        )
    parts = []
    if lost:
        share = f" ({lost / expected:.2%})" if expected else ""
        parts.append(f"LOSS: {plural(lost, 'message')} lost of {expected:,}{share}")
    if dups:
        parts.append(f"DUPLICATES: {dups:,}")
    if parts:
        head.append(("; " if head.plain else "") + "; ".join(parts), style="bold red")
    return head


def table(outcome: Outcome) -> RenderableType:
    t = Table(
        title=f"rps-tui bench: {outcome.server} at {outcome.address}",
        caption=describe_plan(outcome),
    )
    t.add_column("")
    for name in ("messages", "msg/s", "lost", "dups", "omem at end"):
        t.add_column(name, justify="right")
    t.add_row(
        "published", f"{outcome.total_published:,}", f"{outcome.published_rate:,.0f}", "", "", ""
    )
    for sub in outcome.subscribers:
        note = " (dropped)" if sub.dropped else ""
        t.add_row(
            f"subscriber {sub.index + 1}{note}",
            f"{sub.delivered:,}",
            f"{outcome.delivered_rate(sub):,.0f}",
            f"{sub.lost(outcome.published):,}",
            f"{sub.duplicates:,}",
            human_bytes(sub.omem) if sub.omem is not None else "-",
        )
    t.add_row(
        "delivered (all)",
        f"{outcome.delivered:,}",
        f"{outcome.total_delivered_rate:,.0f}",
        f"{outcome.lost:,}",
        f"{outcome.duplicates:,}",
        "",
        style="bold",
    )
    lat = outcome.latency()
    lt = Table(title="end-to-end latency (publish -> delivery)")
    for key in ("p50", "p90", "p99", "p99.9", "max"):
        lt.add_column(key, justify="right")
    lt.add_row(*(latency_text(lat[k]) for k in ("p50", "p90", "p99", "p99.9", "max")))
    server = Text(f"server: max subscriber omem seen {_omem(outcome.max_omem)}; ")
    drops = outcome.limit_disconnections
    dropped = [s for s in outcome.subscribers if s.dropped]
    if dropped:
        server.append(f"{plural(len(dropped), 'subscriber')} dropped: {dropped[0].dropped}",
                      style="bold red")  # fmt: skip
    else:
        server.append(
            "output-buffer-limit drops: " + (f"{drops}" if drops is not None else "not counted")
        )
    return Group(t, lt, server, verdict(outcome))


def _omem(value: int | None) -> str:
    return human_bytes(value) if value is not None else "unknown (CLIENT LIST refused)"


def to_json(outcome: Outcome) -> dict[str, Any]:
    plan = outcome.plan
    lat = outcome.latency()
    return {
        "schema": SCHEMA,
        "server": outcome.server,
        "address": outcome.address,
        "config": {
            "publishers": plan.publishers,
            "subscribers": plan.subscribers,
            "channels": plan.channels,
            "size": plan.size,
            "rate": plan.rate,  # null: --max
            "duration": plan.duration,  # null: --messages
            "messages": plan.messages,
            "pattern": plan.pattern,
            "shard": plan.shard,
        },
        "complete": outcome.complete,
        "error": outcome.error,
        "interrupted": outcome.interrupted,
        "seconds": round(outcome.publish_seconds, 6),
        "published": outcome.total_published,
        "published_per_s": round(outcome.published_rate, 1),
        "expected": outcome.expected,
        "delivered": outcome.delivered,
        "delivered_per_s": round(outcome.total_delivered_rate, 1),
        "lost": outcome.lost,
        "duplicates": outcome.duplicates,
        "latency_us": {k: lat[k] for k in LATENCY_KEYS},
        "subscribers": [
            {
                "delivered": s.delivered,
                "delivered_per_s": round(outcome.delivered_rate(s), 1),
                "lost": s.lost(outcome.published),
                "duplicates": s.duplicates,
                "omem": s.omem,
                "dropped": s.dropped is not None,
                "dropped_reason": s.dropped,
            }
            for s in outcome.subscribers
        ],
        "max_omem": outcome.max_omem,
        "limit_disconnections": outcome.limit_disconnections,
    }


def _latency_column(key: str) -> str:
    return "latency_count" if key == "count" else f"latency_{key}_us"


CSV_FIELDS = (
    "server", "address", "publishers", "subscribers", "channels", "size", "rate", "duration",
    "messages", "pattern", "shard", "complete", "error", "seconds", "published",
    "published_per_s", "expected", "delivered", "delivered_per_s", "lost", "duplicates",
    *(_latency_column(k) for k in LATENCY_KEYS), "max_omem", "limit_disconnections",
)  # fmt: skip


def csv_row(outcome: Outcome) -> dict[str, Any]:
    data = to_json(outcome)
    row = {k: v for k, v in data.items() if k in CSV_FIELDS}
    row.update(data["config"])
    row.update({_latency_column(k): v for k, v in data["latency_us"].items()})
    return {k: "" if row.get(k) is None else row[k] for k in CSV_FIELDS}


def append_csv(path: str, outcome: Outcome) -> None:
    """One row; the header first when the file is new or empty. Raises OSError."""
    target = Path(path)
    new = not target.exists() or target.stat().st_size == 0
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    if new:
        writer.writeheader()
    writer.writerow(csv_row(outcome))
    with target.open("a", newline="", encoding="utf-8") as f:
        f.write(out.getvalue())
