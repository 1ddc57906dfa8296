"""What the pane's `/` filter means: a substring, `re:` a regular expression, `json:` JMESPath,
`ch:` channels by name.

- plain text: a substring of the raw payload or channel bytes; a needle with no upper-case
  letter ignores (ASCII) case, as `less` and vim's smartcase do.
- `re:PATTERN`: Python `re`, searched in the payload and the channel decoded as UTF-8
  (invalid bytes become U+FFFD), so `\\w`, `é` and `(?i)` work on text. Case-sensitive
  unless the pattern says `(?i)`.
- `json:EXPR`: a JMESPath expression (https://jmespath.org) evaluated on the payload parsed
  as JSON; it matches when the result is true in JMESPath's sense (not null, false, "",
  [] or {}; a number, 0 included, is true). A payload that is not JSON never matches.
- `ch:GLOB`: the messages of the channels a PSUBSCRIBE glob matches (`*`, `?`, `[a-c]`, `\\`
  escaping the next character; see `subscriptions.glob_matches`), so `ch:orders.eu` is one
  channel and `ch:orders:eu:*` a branch of the channel tree. Enter on a row of the channel
  table sets it, glob characters of the name escaped, on the subscription that delivers the
  channel; `/` on a branch of the tree sets it to the branch's pattern.

Gap markers match every query, so a filtered view still shows when messages were lost.
(Text that itself starts with `re:` or `json:` is found with `re:re:…` / `re:json:…`.)

Highlighting (`spans`, on the rendered line): the substring or regex matches; for `json:`,
the keys that end a path in the expression (`price` in a comparison on price, `name`
in `user.name`), each with its value, wherever such a key occurs in the line.

Bounded cost, because the filter runs on the UI thread over up to the whole history: only
the first `SCAN_LIMIT` bytes (64 KiB) of a payload are searched, and a `json:` query ignores
payloads larger than that. A regex can still backtrack for seconds on 64 KiB (`(\\w+)\\s+x`
is quadratic, `(a|aa)+$` exponential), so on the main thread each regex or JMESPath
evaluation runs under a CPU-time alarm (SIGVTALRM, `TIME_LIMIT`); `re` checks for signals
while it backtracks, so the alarm stops it. It counts the process's CPU time, the reader
thread's included, so under a firehose it trips sooner: an honest error, never a freeze.
The first evaluation over the limit disables the query: it matches nothing from then on
and `failure` says why. Off the main thread (or without `setitimer`, on Windows) only
the byte bound applies.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.functions import Functions

from rps_tui.core.entry import Entry, Gap, channel_of, is_gap, payload_of
from rps_tui.core.payload.decoders import GZIP_MAGIC, LINE_INFLATE_LIMIT, decode
from rps_tui.core.payload.text import PayloadKind
from rps_tui.core.subscriptions import glob_matches

SCAN_LIMIT = 64 * 1024
"""Bytes of each payload a query looks at (a 10 MB payload is searched in its head)."""

TIME_LIMIT = 0.05
"""CPU seconds one regex or JMESPath evaluation may take before the query is disabled."""

RE_PREFIX = "re:"
JSON_PREFIX = "json:"
CHANNEL_PREFIX = "ch:"

Span = tuple[int, int]


NOT_JSON = object()
"""What `JsonQuery.evaluate` returns for a payload that is not a JSON document (as read)."""


class QueryError(ValueError):
    """The filter text is not a valid query; `str()` is one line, fit to show in the UI."""


class TooSlow(Exception):
    """Raised by the CPU alarm inside a guarded evaluation."""


class Query:
    """A parsed filter. `matches` decides which entries the pane keeps; `spans` says which
    parts of a rendered line to highlight."""

    text: str
    failure: str | None = None  # set when the query gave up (too slow); it then matches nothing

    def matches(self, entry: Entry) -> bool:
        raise NotImplementedError

    def spans(self, text: str) -> list[Span]:
        """(start, end) character ranges of `text` (a rendered line) to highlight."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"


class SubstringQuery(Query):
    """Raw bytes `in` payload or channel: C speed, linear, so no alarm is needed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.needle = text.encode("utf-8")
        self.fold = text == text.lower()
        flags = re.IGNORECASE | re.ASCII if self.fold else 0  # as bytes.lower(): ASCII only
        self._display = re.compile(re.escape(text), flags)

    def matches(self, entry: Entry) -> bool:
        payload = payload_of(entry)
        if isinstance(payload, Gap):
            return True
        head, channel = payload[:SCAN_LIMIT], channel_of(entry) or b""
        if self.fold:
            return self.needle in head.lower() or self.needle in channel.lower()
        return self.needle in head or self.needle in channel

    def spans(self, text: str) -> list[Span]:
        if not self.needle:
            return []
        return [m.span() for m in self._display.finditer(text)]


class ChannelQuery(Query):
    """`ch:GLOB`: the entries of the channels the glob matches (and gap markers, as every
    query); a name with no glob character is compared as it is (the common case, and fast)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.channel = text[len(CHANNEL_PREFIX) :].encode("utf-8", "surrogateescape")
        if not self.channel:
            raise QueryError("ch: needs a channel name or glob, e.g. ch:orders.eu or ch:orders.*")
        self.glob = any(c in self.channel for c in b"*?[\\")

    def matches(self, entry: Entry) -> bool:
        if is_gap(entry):
            return True
        if self.glob:
            return glob_matches(self.channel, channel_of(entry) or b"")
        return channel_of(entry) == self.channel

    def spans(self, text: str) -> list[Span]:
        return []  # the whole pane is that channel: nothing to pick out


class RegexQuery(Query):
    """`re:` on the decoded head of the payload, and on the channel."""

    def __init__(self, text: str) -> None:
        self.text = text
        source = text[len(RE_PREFIX) :]
        try:
            self.pattern = re.compile(source)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise QueryError(f"re: {exc.msg}{where}") from None
        except (OverflowError, RecursionError) as exc:  # absurd repeat counts, deep nesting
            raise QueryError(f"re: pattern too large ({exc})") from None

    def matches(self, entry: Entry) -> bool:
        payload = payload_of(entry)
        if isinstance(payload, Gap):
            return True
        if self.failure:
            return False
        search = self.pattern.search
        head = payload[:SCAN_LIMIT].decode("utf-8", "replace")
        channel = (channel_of(entry) or b"").decode("utf-8", "replace")
        try:
            with _cpu_alarm():
                return search(head) is not None or search(channel) is not None
        except TooSlow:
            self.failure = _too_slow("re", "regular expression")
            return False

    def spans(self, text: str) -> list[Span]:
        found: list[Span] = []
        if self.failure:
            return found
        with contextlib.suppress(TooSlow), _cpu_alarm():
            for m in self.pattern.finditer(text):
                if m.end() > m.start():  # `re:` alone, `x*`: empty matches show nothing
                    found.append(m.span())
        return found


_RAW = frozenset({"auto", "text", "hex", "json"})  # decoders that show the bytes as they are


class JsonQuery(Query):
    """`json:` JMESPath on the parsed payload. Highlighting shows, wherever they occur in
    the line, the keys that end a path in the expression (`price` in `price > \\`20\\``,
    `name` in `user.name`), each with its value; not the exact node the expression read."""

    def __init__(self, text: str) -> None:
        self.text = text
        source = text[len(JSON_PREFIX) :].strip()
        try:
            self.expression = jmespath.compile(source)
        except jmespath_errors.EmptyExpressionError:
            raise QueryError("json: type a JMESPath expression, e.g. json:price > `20`") from None
        except jmespath_errors.JMESPathError as exc:
            raise QueryError(_jmespath_message(exc)) from None
        tree: dict[str, Any] = self.expression.parsed
        unknown = sorted(_function_names(tree) - set(Functions.FUNCTION_TABLE))
        if unknown:
            raise QueryError(f"json: unknown function {unknown[0]}()")
        try:  # wrong argument counts only show when evaluated
            self.expression.search({})
        except (jmespath_errors.ArityError, jmespath_errors.VariadictArityError) as exc:
            raise QueryError(f"json: {exc}") from None
        except jmespath_errors.JMESPathError:
            pass  # type errors depend on the data: those messages just don't match
        self.keys = sorted(_leaf_fields(tree))
        # as the line shows JSON: compact, not ASCII-escaped (rps_tui.core.payload.format_line)
        quoted = [re.escape(json.dumps(k, ensure_ascii=False) + ":") for k in self.keys]
        self._key_pattern = re.compile("|".join(quoted)) if quoted else None
        self._decoder = json.JSONDecoder()
        self.decoder = "auto"  # the pane's decoder: payloads are read as it reads them

    def matches(self, entry: Entry) -> bool:
        payload = payload_of(entry)
        if isinstance(payload, Gap):
            return True
        value = self.evaluate(payload)
        return value is not NOT_JSON and _truthy(value)

    def evaluate(self, payload: bytes) -> Any:
        """The expression's result on `payload` read with `decoder`, bounded as `matches`
        is (`SCAN_LIMIT`, the CPU alarm); `NOT_JSON` when there is no document to read."""
        if self.failure or len(payload) > SCAN_LIMIT:
            return NOT_JSON
        try:
            with _cpu_alarm():
                if self.decoder in _RAW and not payload.startswith(GZIP_MAGIC):
                    document = json.loads(payload)  # the common case, and the fast one
                else:  # read as the pane shows it: msgpack, gzip, base64 ... to JSON
                    decoded = decode(payload, self.decoder, limit=LINE_INFLATE_LIMIT)
                    if decoded.error or decoded.kind is not PayloadKind.JSON:
                        return NOT_JSON
                    document = decoded.value
                return self.expression.search(document)
        except TooSlow:
            self.failure = _too_slow("json", "JMESPath expression")
            return NOT_JSON
        except (ValueError, RecursionError):
            return NOT_JSON  # not JSON, or nested too deep
        except jmespath_errors.JMESPathError:
            return None  # a type error on this document: no result

    def spans(self, text: str) -> list[Span]:
        if self._key_pattern is None:
            return []
        found: list[Span] = []
        for m in self._key_pattern.finditer(text):
            start = m.end()
            while start < len(text) and text[start] == " ":
                start += 1
            try:
                _, end = self._decoder.raw_decode(text, start)
            except ValueError:  # the line was cut inside the value: highlight the key
                end = m.end()
            found.append((m.start(), end))
        return found


def parse_query(text: str) -> Query:
    """The query the filter text asks for; `QueryError` (one line) when it is invalid.
    A `re:`, `json:` or `ch:` prefix selects the kind; anything else is a plain substring."""
    if text.startswith(RE_PREFIX):
        return RegexQuery(text)
    if text.startswith(JSON_PREFIX):
        return JsonQuery(text)
    if text.startswith(CHANNEL_PREFIX):
        return ChannelQuery(text)
    return SubstringQuery(text)


# -- helpers -------------------------------------------------------------------------------
def _truthy(value: object) -> bool:
    """JMESPath's truth: null, false, "", [] and {} are false; every number is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return bool(value)
    return True


def _too_slow(prefix: str, what: str) -> str:
    return (
        f"{prefix}: gave up, the {what} took over {TIME_LIMIT * 1000:.0f} ms on one message "
        "(runaway backtracking?); simplify it"
    )


def _jmespath_message(exc: jmespath_errors.JMESPathError) -> str:
    """JMESPath errors span three lines (message, expression, caret): keep the first."""
    first = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
    first = re.sub(r"^(invalid|bad) jmespath expression: ", "", first, flags=re.IGNORECASE)
    position = getattr(exc, "lex_position", None)
    if isinstance(position, int) and "column" not in first:
        first += f" at column {position}"
    return f"json: {first}"


def _function_names(node: dict[str, Any]) -> set[str]:
    names = {node["value"]} if node.get("type") == "function_expression" else set()
    for child in node.get("children", ()):
        if isinstance(child, dict):
            names |= _function_names(child)
    return names


def _leaf_fields(node: dict[str, Any], tail: bool = True) -> set[str]:
    """Field names that end a path in the expression (what it compares or returns):
    `b` in `a.b`, `sku` and `qty` in `items[?qty > 1].sku`; `a` and `items` lead the way."""
    kind, children = node.get("type"), [c for c in node.get("children", ()) if isinstance(c, dict)]
    if kind == "field":
        return {node["value"]} if tail else set()
    if kind in ("subexpression", "pipe"):
        heads, last = children[:-1], children[-1:]
        found = set().union(*(_leaf_fields(c, False) for c in heads)) if heads else set()
        return found.union(*(_leaf_fields(c, tail) for c in last))
    if kind in ("projection", "filter_projection") and len(children) >= 2:
        # `items[*]` returns the items; `items[?qty > 1]` is about qty, not the whole list
        left_is_result = kind == "projection" and children[1].get("type") == "identity"
        found = _leaf_fields(children[0], tail and left_is_result)
        found |= _leaf_fields(children[1], tail)
        for condition in children[2:]:
            found |= _leaf_fields(condition, True)
        return found
    return set().union(*(_leaf_fields(c, tail) for c in children)) if children else set()


# -- the CPU alarm ---------------------------------------------------------------------------
_armed = False
_installed = False


def _on_alarm(signum: int, frame: object) -> None:
    if _armed:  # a late signal after disarming does nothing
        raise TooSlow


def _can_alarm() -> bool:
    """Python runs signal handlers on the main thread only, and needs setitimer (POSIX)."""
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return False
    if not _installed:
        if not hasattr(signal, "setitimer"):
            return False
        signal.signal(signal.SIGVTALRM, _on_alarm)  # kept for good: a no-op unless armed
        _installed = True
    return True


@contextlib.contextmanager
def _cpu_alarm() -> Iterator[None]:
    """Raise `TooSlow` inside the block once it has used `TIME_LIMIT` of CPU time."""
    global _armed
    if _armed or not _can_alarm():  # nested, or no way to interrupt: the byte bound only
        yield
        return
    _armed = True
    try:
        signal.setitimer(signal.ITIMER_VIRTUAL, TIME_LIMIT)
        yield
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
