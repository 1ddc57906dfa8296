"""The recording format: subscriber entries as NDJSON lines, and back.

One JSON object per line, readable by jq:

    {"time": 1717243418.202, "kind": "message", "pattern": null, "channel": "orders",
     "data": "{\\"id\\": 1}", "encoding": "utf-8"}

`kind` is message, pmessage or smessage; `pattern` is the glob of a pmessage (else null).
`data` is the payload as text when it is valid UTF-8 (`"encoding": "utf-8"`), else base64
(`"encoding": "base64"`). A channel or pattern name that is not UTF-8 is base64 too, flagged
by `"channel_encoding": "base64"` / `"pattern_encoding": "base64"` (absent means UTF-8).
A gap (the subscriber was not listening for a while) is a line of its own,
`{"time": ..., "kind": "gap", "reason": "...", "seconds": 6.1}`, with `"discarded_bytes"` when
the server threw away a backlog it held for the subscriber: consumers that want
messages only filter with `select(.kind != "gap")`. A recording or tail of several servers
starts each line with `"server": "LABEL"` (the tab's label); a line without one belongs to
every server (the recorder's own gap, when it fell behind). Lines are pure ASCII (non-ASCII is
`\\uXXXX`-escaped), so no byte of a payload can act on a terminal that shows the file.
Every byte survives the round trip: `record_to_entry(entry_to_record(e)) == e`.

Reading is bounded: a line longer than `MAX_LINE` (128 MiB: a payload of about 96 MiB as
base64) is not read into memory, and a `time` must be a date a clock can show (1970 to
9999). A last line cut off (the writer stopped mid-line: a full disk, a kill) is skipped and
reported, never a reason to refuse the lines before it.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
from collections.abc import Callable, Iterator
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _quote  # C: a JSON string, ASCII only
from typing import Any

from rps_tui.core.entry import Entry, Gap, channel_of, pattern_of, payload_of, time_of
from rps_tui.core.subscriptions import KIND_OF
from rps_tui.core.units import human_bytes

MAX_LINE = 128 << 20  # bytes in one line
MAX_TIME = 253402300799.0  # 9999-12-31T23:59:59Z: the last time datetime can show
CHUNK = 1 << 20  # what is read at a time while skipping an overlong line

KINDS = {reply: reply.decode() for reply in KIND_OF}  # b"pmessage" -> "pmessage"
WIRE_KINDS = {name: wire for wire, name in KINDS.items()}


class RecordError(ValueError):
    """A line that is not a valid record; the message is one line (with the line number
    when it comes from `read_entries`)."""


def _text(value: bytes) -> tuple[str, bool]:
    """(text, is_base64): UTF-8 text when the bytes are UTF-8, else base64."""
    try:
        return value.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), True


def entry_to_record(entry: Entry) -> dict[str, Any]:
    """A store entry ([kind, (pattern,) channel, data, time] or [None, Gap, time]) as a
    record dict (see the module docstring)."""
    kind = entry[0]
    if kind is None:
        gap: Gap = payload_of(entry)
        record = {
            "time": time_of(entry),
            "kind": "gap",
            "reason": gap.reason,
            "seconds": gap.seconds,
        }
        if gap.discarded is not None:
            record["discarded_bytes"] = gap.discarded
        return record
    pattern = pattern_of(entry)
    channel, channel_b64 = _text(channel_of(entry))
    data, data_b64 = _text(payload_of(entry))
    record: dict[str, Any] = {
        "time": time_of(entry),
        "kind": KINDS[kind],
        "pattern": None,
        "channel": channel,
        "data": data,
        "encoding": "base64" if data_b64 else "utf-8",
    }
    if channel_b64:
        record["channel_encoding"] = "base64"
    if pattern is not None:
        record["pattern"], pattern_b64 = _text(pattern)
        if pattern_b64:
            record["pattern_encoding"] = "base64"
    return record


FIXED_MAX = 4096  # (kind, pattern, channel) whose encoded text is kept; then started over
FIXED_NAMES = 256  # ... when pattern and channel together are at most this many bytes
# (at most a few MB in all, kept for the process: the next recording uses them too)
_fixed: dict[tuple[bytes, bytes, bytes], tuple[str, str]] = {}
_last_time: tuple[float, str] = (math.nan, "NaN")  # one assignment: safe across threads


def dumps(entry: Entry, head: str = "{") -> str:
    """One NDJSON line for an entry, without the newline: the same text as
    `json.dumps(entry_to_record(entry), separators=(",", ":"))`, built directly, since a
    recording encodes every message. What repeats is encoded once: the kind, pattern and
    channel of a line (a few channels carry most messages), and its time (the messages of
    one socket read share one float: `repr` of a float alone took 340 ns). `head` opens
    the object (`dumps_from` puts the server there)."""
    global _last_time
    kind = entry[0]
    when = time_of(entry)
    if kind not in KINDS or type(when) is not float:  # a gap, or a hand-made entry
        return head + json.dumps(entry_to_record(entry), separators=(",", ":"))[1:]
    key = (kind, entry[1], channel_of(entry))  # entry[1]: the pattern, or the channel again
    fixed = _fixed.get(key)
    if fixed is None:
        fixed = _fix(key)
    last = _last_time
    if last[0] is when:  # the same object (held here, so its id is not reused)
        stamp = last[1]
    elif math.isfinite(when):
        stamp = repr(when)
        _last_time = (when, stamp)
    else:  # NaN or infinity, as json spells them
        return head + json.dumps(entry_to_record(entry), separators=(",", ":"))[1:]
    data = payload_of(entry)
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(data).decode("ascii"), "base64"
    return f'{head}"time":{stamp},{fixed[0]}{_quote(text)},"encoding":"{encoding}"{fixed[1]}}}'


def _fix(key: tuple[bytes, bytes, bytes]) -> tuple[str, str]:
    """The encoded kind, pattern and channel (up to `"data":`), and the flags that follow
    the encoding; kept for the next line of the same channel."""
    kind, pattern, channel_bytes = key
    name = KINDS[kind]
    channel, channel_b64 = _text(channel_bytes)
    extra = ',"channel_encoding":"base64"' if channel_b64 else ""
    quoted = "null"
    if name == "pmessage":
        text, pattern_b64 = _text(pattern)
        quoted = _quote(text)
        extra += ',"pattern_encoding":"base64"' if pattern_b64 else ""
    fixed = (f'"kind":"{name}","pattern":{quoted},"channel":{_quote(channel)},"data":', extra)
    if len(channel_bytes) + (len(pattern) if name == "pmessage" else 0) <= FIXED_NAMES:
        if len(_fixed) >= FIXED_MAX:
            _fixed.clear()
        _fixed[key] = fixed
    return fixed


def dumps_from(server: str, entry: Entry) -> str:
    """The line of `dumps`, naming the server it came from (`"server"` first)."""
    return dumps(entry, server_head(server))


@lru_cache(maxsize=64)
def server_head(server: str) -> str:
    """The start of a line that names its server, encoded once per server, not per line
    (encoding it per line cost a quarter of the recorder's throughput)."""
    return f'{{"server":{_quote(server)},'


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in obj:
        raise RecordError(f"missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RecordError(f"field {name!r} has the wrong type ({type(value).__name__})")
    return value


def _bytes(obj: dict[str, Any], name: str, encoding_field: str, default: str | None) -> bytes:
    text = _field(obj, name, str)
    encoding = obj.get(encoding_field, default)
    if encoding is None:
        raise RecordError(f"missing field {encoding_field!r}")
    if encoding == "utf-8":
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape
            raise RecordError(f"field {name!r} is not valid Unicode") from None
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise RecordError(f"field {name!r} is not valid base64") from None
    raise RecordError(f"{encoding_field!r} must be 'utf-8' or 'base64', not {encoding!r}")


def _time(value: float) -> float:
    """A record's time as a float that every clock and date function takes (NaN, 1e400 and
    -1e18 pass JSON and the type check, then fail deep in datetime)."""
    try:
        time = float(value)
    except OverflowError:  # an int too large for a float
        raise RecordError("field 'time' is not a time (too large)") from None
    if not (math.isfinite(time) and 0 <= time <= MAX_TIME):
        raise RecordError(f"field 'time' is not a time ({value!r}: seconds since 1970 wanted)")
    return time


def record_to_entry(obj: object) -> Entry:
    """The store entry a record stands for; raises RecordError (one line) when malformed."""
    if not isinstance(obj, dict):
        raise RecordError("not a JSON object")
    time = _time(_field(obj, "time", (int, float)))
    kind = _field(obj, "kind", str)
    if kind == "gap":
        reason = _field(obj, "reason", str)
        seconds = float(_field(obj, "seconds", (int, float)))
        if not 0 <= seconds <= MAX_TIME:  # NaN fails this too
            raise RecordError(f"field 'seconds' is not a duration ({seconds})")
        discarded = _field(obj, "discarded_bytes", int) if "discarded_bytes" in obj else None
        return [None, Gap(reason, seconds, discarded), time]
    wire = WIRE_KINDS.get(kind)
    if wire is None:
        raise RecordError(f"unknown kind {kind!r} (message, pmessage, smessage or gap)")
    channel = _bytes(obj, "channel", "channel_encoding", "utf-8")
    data = _bytes(obj, "data", "encoding", None)
    if wire == b"pmessage":
        return [wire, _bytes(obj, "pattern", "pattern_encoding", "utf-8"), channel, data, time]
    return [wire, channel, data, time]


def loads(line: str | bytes) -> Entry:
    """The entry of one NDJSON line; raises RecordError."""
    return loads_from(line)[1]


def loads_from(line: str | bytes) -> tuple[str, Entry]:
    """The server a line names (`"server"`, written for several servers; "" when it names
    none) and its entry; raises RecordError."""
    try:
        obj = json.loads(line)
    except UnicodeDecodeError:
        raise RecordError("not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise RecordError("not valid JSON (nested too deep)") from None
    entry = record_to_entry(obj)
    server = obj.get("server", "")  # a dict: record_to_entry said so
    if not isinstance(server, str):
        raise RecordError("field 'server' is not text")
    return server, entry


def read_entries(
    path: str | os.PathLike[str],
    *,
    skip: Callable[[str], None] | None = None,
    lenient: bool = False,
) -> Iterator[Entry]:
    """The entries of a recording (see `read_records`)."""
    for _, entry in read_records(path, skip=skip, lenient=lenient):
        yield entry


def read_records(
    path: str | os.PathLike[str],
    *,
    skip: Callable[[str], None] | None = None,
    lenient: bool = False,
) -> Iterator[tuple[str, Entry]]:
    """The (server, entry) of each record, one line at a time (never the whole file in memory).
    Blank lines are skipped. A last line cut off mid-record is skipped and `skip` is told
    (one line, with its number). Any other malformed line raises RecordError naming it,
    or with `lenient` is skipped and told to `skip` too."""
    name = os.fspath(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed by the generator's finally)
    except OSError as exc:
        raise RecordError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        number = 0
        while line := file.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                reason = f"line {number}: longer than {human_bytes(MAX_LINE)}, not read"
                if not lenient:
                    raise RecordError(f"{name}, {reason}")
                _skip_rest(file)
                if skip is not None:
                    skip(reason)
                continue
            if not line.strip():
                continue
            try:
                yield loads_from(line)
            except RecordError as exc:
                cut = not line.endswith(b"\n")  # only the last line can lack one
                if not (cut or lenient):
                    raise RecordError(f"{name}, line {number}: {exc}") from None
                if skip is not None:
                    skip(f"line {number}: cut off at the end of the file" if cut else
                         f"line {number}: {exc}")  # fmt: skip
    except OSError as exc:
        raise RecordError(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        file.close()


def _skip_rest(file: io.BufferedReader) -> None:
    """Read past the end of the current line, a chunk at a time."""
    while (part := file.readline(CHUNK)) and not part.endswith(b"\n"):
        pass
