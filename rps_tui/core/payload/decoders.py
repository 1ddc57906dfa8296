"""Payload decoders: bytes from the wire to a value worth reading.

Each subscription has a decoder name (`DECODERS`); the message pane shows one line per
payload with it (`decode_line`) and the detail view the whole value (`decode`, `pretty`).
A value is text (`str`), a JSON-able object (parsed JSON, or msgpack made JSON-able), or
`bytes` (shown as escaped bytes on a line and as a hex dump in the detail view).

- `auto`: a gzip stream (magic `1f 8b 08`) is inflated first; then JSON if it parses (an
  object or an array), else text if it is UTF-8, else binary. Only gzip is guessed: its
  three-byte magic never starts text, while a zlib header is two bytes that ordinary text
  can start with ("x^"), base64 is text, and any byte is valid msgpack.
- `text`, `json`, `hex`: exactly that, nothing guessed.
- `msgpack`; `gzip`, `zlib` (zlib-wrapped or raw deflate) and `base64` (standard or
  URL-safe, padding optional, line breaks ignored), each followed by `auto` on what it
  produced. That `auto` opens gzip after base64 ("base64+gzip"), but not a gzip inside a
  gzip: one level only, so no chain of bombs multiplies the work.

Decoders never raise: a payload the chosen decoder cannot read gives `Decoded.error`, one
line such as "not valid msgpack: incomplete input", and the raw bytes as escaped text. The
work is bounded: decompressed output stops at a limit (1 MiB for a line, 16 MiB for the
detail view) and says it was cut; nesting too deep for Python's recursion is reported, not
followed; msgpack containers are capped. All text that leaves this module has been through
`payload.safe_text`, so nothing from the wire reaches the terminal raw.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime
import difflib
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

import msgpack

from rps_tui.core.payload.text import (
    LINE_LIMIT,
    Formatted,
    PayloadKind,
    escape_bytes,
    format_line,
    hexdump,
    looks_like_json,
    safe_text,
    utf8_text,
)
from rps_tui.core.units import human_bytes, plural

DECODERS: tuple[str, ...] = ("auto", "text", "json", "hex", "msgpack", "gzip", "zlib", "base64")
"""Every decoder, in the order a key cycles through them."""

LINE_INFLATE_LIMIT = 1 << 20
"""Bytes a decoder may produce for one line of the list (a line shows 512 of them)."""

DETAIL_INFLATE_LIMIT = 16 << 20
"""Bytes a decoder may produce for the detail view (its JSON tree unfolds lazily)."""

SHOW_LIMIT = 1 << 20
"""Bytes of text or hex dump the detail view draws (a Static lays out all of its text); beyond
this it says how much is cut (a 10 MB payload)."""

MAX_CONTAINER = 1_000_000
"""Elements a msgpack array or map may claim; more is refused, not allocated."""

DIFF_MAX_LINES = 200_000
"""Lines of each side a diff compares: a bound on difflib's work (measured: two 200,000-line
JSON renderings compare in about 0.5 s; entirely different ones of 140,000 lines in 0.3 s)."""

GZIP_MAGIC = b"\x1f\x8b\x08"
_MAX_GZIP_MEMBERS = 16
_ERROR_CHARS = 200


class DecodeError(Exception):
    """The chosen decoder cannot read this payload; str() is the one-line reason."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a decoder made of one payload.

    `value` is a `str` (TEXT), a parsed JSON-able object (JSON) or `bytes` (BINARY). When
    `error` is set, decoding failed and `value` is the raw payload as text (escaped when
    drawn). `truncated` says the produced value was cut at the decoder's limit.
    """

    kind: PayloadKind
    value: Any
    size: int
    decoder: str
    steps: tuple[str, ...] = ()
    error: str = ""
    truncated: bool = False
    raw: bytes = b""

    @property
    def tag(self) -> str:
        """A short label for the line: "" for plain auto, else the steps ("base64+gzip")."""
        if self.decoder == "auto":
            return "+".join(self.steps)
        return "+".join(self.steps) or self.decoder


def next_decoder(name: str, step: int = 1) -> str:
    """The decoder after `name` in `DECODERS` (wrapping); an unknown name starts at auto."""
    if name not in DECODERS:
        return DECODERS[0]
    return DECODERS[(DECODERS.index(name) + step) % len(DECODERS)]


# -- decoding ---------------------------------------------------------------------------------


def decode(data: bytes, decoder: str = "auto", *, limit: int = DETAIL_INFLATE_LIMIT) -> Decoded:
    """Decode `data` with the named decoder; never raises (see the module docstring)."""
    name = decoder if decoder in DECODERS else "auto"
    try:
        return _DECODERS[name](data, name, limit)
    except DecodeError as exc:
        return _failed(data, name, str(exc), limit)
    except RecursionError:
        return _failed(data, name, f"not shown as {name}: nested too deep", limit)
    except MemoryError:
        return _failed(data, name, f"not shown as {name}: out of memory", limit)
    except Exception as exc:  # a decoder's bug must not take the dashboard down
        return _failed(data, name, f"{name} failed: {type(exc).__name__}: {exc}", limit)


def _failed(data: bytes, name: str, reason: str, limit: int) -> Decoded:
    one_line = safe_text(" ".join(reason.split()))
    if len(one_line) > _ERROR_CHARS:
        one_line = one_line[: _ERROR_CHARS - 1] + "…"
    text, cut = _lenient_text(data, limit)
    return Decoded(PayloadKind.TEXT, text, len(data), name, (name,), one_line, cut, data)


def _lenient_text(data: bytes, limit: int) -> tuple[str, bool]:
    """UTF-8 with undecodable bytes kept as surrogates (escaped as \\xNN when drawn)."""
    if len(data) <= limit:
        return data.decode("utf-8", "surrogateescape"), False
    incremental = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    return incremental.decode(data[:limit], final=False), True  # no half character at the end


def _auto(data: bytes, name: str, limit: int) -> Decoded:
    return _guess(data, data, name, limit, (), cut=False, inflate=True)


def _guess(
    data: bytes,
    raw: bytes,
    name: str,
    limit: int,
    steps: tuple[str, ...],
    *,
    cut: bool,
    inflate: bool,
) -> Decoded:
    """auto on `data` (the payload, or what an earlier step produced from `raw`)."""
    size = len(raw)
    if inflate and data.startswith(GZIP_MAGIC):
        try:
            out, more_cut = _inflate(data, limit, 16 + zlib.MAX_WBITS, "gzip")
        except DecodeError:
            pass  # only looked like gzip: shown as the bytes it is
        else:
            return _guess(out, raw, name, limit, (*steps, "gzip"), cut=more_cut, inflate=False)
    if len(data) > limit:
        data, cut = data[:limit], True
    text = utf8_text(data, cut=cut)
    if text is None:
        return Decoded(PayloadKind.BINARY, data, size, name, steps, "", cut, raw)
    if not cut and looks_like_json(text):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or a nesting bomb: show it as text
            pass
        else:
            return Decoded(PayloadKind.JSON, value, size, name, steps, "", False, raw)
    return Decoded(PayloadKind.TEXT, text, size, name, steps, "", cut, raw)


def _text(data: bytes, name: str, limit: int) -> Decoded:
    text, cut = _lenient_text(data, limit)
    return Decoded(PayloadKind.TEXT, text, len(data), name, ("text",), "", cut, data)


def _hex(data: bytes, name: str, limit: int) -> Decoded:
    cut = len(data) > limit
    return Decoded(PayloadKind.BINARY, data[:limit], len(data), name, ("hex",), "", cut, data)


def _too_big(data: bytes, what: str, limit: int) -> None:
    if len(data) > limit:
        raise DecodeError(
            f"not decoded as {what} here: {human_bytes(len(data))} is over the "
            f"{human_bytes(limit)} limit"
        )


def _json(data: bytes, name: str, limit: int) -> Decoded:
    _too_big(data, "JSON", limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise DecodeError(f"not valid JSON: not UTF-8 (byte 0x{byte:02x} at {exc.start})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise DecodeError("not shown as JSON: nested too deep") from None
    except ValueError as exc:
        raise DecodeError(f"not valid JSON: {exc}") from None
    return Decoded(PayloadKind.JSON, value, len(data), name, ("json",), "", False, data)


_MSGPACK_REASONS = {
    "StackError": "nested too deep",
    "FormatError": "a byte that starts no msgpack value",
    "ExtraData": "extra bytes after the first value",
}


def _msgpack(data: bytes, name: str, limit: int) -> Decoded:
    _too_big(data, "msgpack", limit)
    cap = min(len(data), MAX_CONTAINER)
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            unicode_errors="surrogateescape",  # invalid UTF-8 in a str: escaped, not an error
            strict_map_key=False,
            max_array_len=cap,
            max_map_len=cap,
            max_str_len=len(data),
            max_bin_len=len(data),
            max_ext_len=len(data),
        )
    except RecursionError:
        raise DecodeError("not shown as msgpack: nested too deep") from None
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        reason = _MSGPACK_REASONS.get(type(exc).__name__) or str(exc) or type(exc).__name__
        raise DecodeError(f"not valid msgpack: {reason}") from None
    if isinstance(value, str):
        return Decoded(PayloadKind.TEXT, value, len(data), name, ("msgpack",), "", False, data)
    if isinstance(value, bytes):
        return Decoded(PayloadKind.BINARY, value, len(data), name, ("msgpack",), "", False, data)
    try:
        plain = _plain(value)
    except RecursionError:
        raise DecodeError("not shown as msgpack: nested too deep") from None
    return Decoded(PayloadKind.JSON, plain, len(data), name, ("msgpack",), "", False, data)


def _plain(value: Any) -> Any:
    """msgpack's values made JSON-able: bytes as "0x…" hex, ext types and timestamps named."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, msgpack.ExtType):  # a named tuple: before the tuples
        return {"ext": value.code, "data": "0x" + value.data.hex()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, msgpack.Timestamp):
        try:
            return value.to_datetime().isoformat()
        except (OverflowError, ValueError, OSError):
            return f"{value.seconds}.{value.nanoseconds:09d}"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _key(key: Any) -> str:
    """A map key as a JSON object key (msgpack allows any value there)."""
    if isinstance(key, str):
        return key
    plain = _plain(key)
    return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def _inflate(data: bytes, limit: int, wbits: int, what: str) -> tuple[bytes, bool]:
    """Decompress at most `limit` bytes; True if more would have come (a bomb stops here)."""
    out = bytearray()
    rest = data
    for _member in range(_MAX_GZIP_MEMBERS):
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(rest, limit - len(out))
        except zlib.error as exc:
            raise DecodeError(f"not valid {what}: {_zlib_reason(exc)}") from None
        if not inflater.eof:
            if len(out) >= limit:
                return bytes(out), True
            raise DecodeError(f"not valid {what}: the stream ends early (cut short?)")
        rest = inflater.unused_data
        # gzip allows several members one after the other; anything else after the end
        # (padding, a trailer) is ignored, as gzip itself does with zeros
        if not (what == "gzip" and rest.startswith(b"\x1f\x8b")):
            return bytes(out), False
        if len(out) >= limit:
            return bytes(out), True
    return bytes(out), True


def _zlib_reason(exc: zlib.error) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text  # drop "Error -3 while …"


def _gzip(data: bytes, name: str, limit: int) -> Decoded:
    if not data.startswith(b"\x1f\x8b"):
        raise DecodeError("not valid gzip: it does not start with the gzip magic bytes 1f 8b")
    out, cut = _inflate(data, limit, 16 + zlib.MAX_WBITS, "gzip")
    return _guess(out, data, name, limit, ("gzip",), cut=cut, inflate=False)


def _zlib(data: bytes, name: str, limit: int) -> Decoded:
    try:
        out, cut = _inflate(data, limit, zlib.MAX_WBITS, "zlib")
    except DecodeError as wrapped:
        try:  # raw deflate (no header), as websockets and some libraries send it
            out, cut = _inflate(data, limit, -zlib.MAX_WBITS, "zlib")
        except DecodeError:
            raise wrapped from None
    return _guess(out, data, name, limit, ("zlib",), cut=cut, inflate=False)


_B64_STANDARD = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_B64_URLSAFE = re.compile(rb"[A-Za-z0-9_-]*={0,2}")
_B64_ANY = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


def _base64(data: bytes, name: str, limit: int) -> Decoded:
    compact = b"".join(data.split())  # base64 is often wrapped at 76 columns
    cut = False
    most = limit // 3 * 4  # input that decodes to at most `limit` bytes
    if len(compact) > most:
        compact, cut = compact[:most], True
    if _B64_STANDARD.fullmatch(compact):
        decode_fn = base64.b64decode
    elif _B64_URLSAFE.fullmatch(compact):
        decode_fn = base64.urlsafe_b64decode
    else:
        bad = next((b for b in compact if b not in _B64_ANY), None)
        if bad is None:
            raise DecodeError("not valid base64: mixes the standard and URL-safe alphabets")
        raise DecodeError(f"not valid base64: byte 0x{bad:02x} is not in the alphabet")
    body = compact.rstrip(b"=")
    if len(body) % 4 == 1:
        raise DecodeError(f"not valid base64: {plural(len(body), 'character')} cannot be base64")
    try:
        out = decode_fn(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"not valid base64: {exc}") from None
    return _guess(out, data, name, limit, ("base64",), cut=cut, inflate=True)


_DECODERS = {
    "auto": _auto,
    "text": _text,
    "json": _json,
    "hex": _hex,
    "msgpack": _msgpack,
    "gzip": _gzip,
    "zlib": _zlib,
    "base64": _base64,
}


# -- showing ----------------------------------------------------------------------------------


def decode_line(data: bytes, decoder: str = "auto") -> Formatted:
    """One safe display line for the message list: compact JSON, escaped text or bytes.

    Plain auto (no gzip) is `payload.format_line`: only the first 512 bytes are looked at.
    Other decoders work on the whole payload, with output capped at `LINE_INFLATE_LIMIT`.
    """
    if (decoder == "auto" or decoder not in DECODERS) and not data.startswith(GZIP_MAGIC):
        return format_line(data)
    # text and hex: only what fits on the line is decoded
    limit = LINE_LIMIT if decoder in ("text", "hex") else LINE_INFLATE_LIMIT
    return one_line(decode(data, decoder, limit=limit))


def one_line(decoded: Decoded, limit: int = LINE_LIMIT) -> Formatted:
    """`decoded` as one safe line of at most about `limit` characters (before escaping)."""
    kind, value, tag, error = decoded.kind, decoded.value, decoded.tag, decoded.error
    if kind is PayloadKind.JSON:
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (RecursionError, ValueError, TypeError):
            kind, error = PayloadKind.TEXT, "not shown as JSON: nested too deep"
            text = decoded.raw.decode("utf-8", "surrogateescape")
    elif kind is PayloadKind.BINARY:
        head = value[:limit]
        shown = head.hex(" ") if decoded.decoder == "hex" else escape_bytes(head)
        cut = decoded.truncated or len(value) > limit
        return Formatted(kind, shown, decoded.size, cut, tag, error)
    else:
        text = value
    cut = decoded.truncated or len(text) > limit
    shown = safe_text(text[:limit], backslash=kind is PayloadKind.TEXT)
    return Formatted(kind, shown, decoded.size, cut, tag, error)


def pretty(decoded: Decoded, limit: int = SHOW_LIMIT) -> Formatted:
    """`decoded` as safe text for the detail view: JSON indented, text with its line breaks
    (and tabs), bytes as a hex dump; text and hex dumps are cut at `limit` bytes."""
    kind, value = decoded.kind, decoded.value
    error = decoded.error
    if kind is PayloadKind.JSON:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False)
        except (RecursionError, ValueError, TypeError):  # deeper than Python's recursion
            kind, error = PayloadKind.TEXT, "not shown as JSON: nested too deep"
            value = decoded.raw.decode("utf-8", "surrogateescape")
        else:
            shown = safe_text(text, keep_newlines=True)
            return Formatted(kind, shown, decoded.size, decoded.truncated, decoded.tag, error)
    if kind is PayloadKind.BINARY:
        cut = decoded.truncated or len(value) > limit
        return Formatted(kind, hexdump(value[:limit]), decoded.size, cut, decoded.tag, error)
    text, cut = _cut_text(value, limit)
    shown = safe_text(text, keep_newlines=True, backslash=True)
    return Formatted(kind, shown, decoded.size, cut or decoded.truncated, decoded.tag, error)


def _cut_text(text: str, limit: int) -> tuple[str, bool]:
    """The first `limit` bytes of `text` as UTF-8, whole characters only (surrogates too)."""
    if len(text) * 4 <= limit:
        return text, False
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text, False
    incremental = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    return incremental.decode(encoded[:limit], final=False), True


def scalar_text(value: Any, limit: int = 300) -> str:
    """A JSON scalar (or a key) as one safe line, long strings cut with their length said."""
    if isinstance(value, str) and len(value) > limit:
        shown = json.dumps(value[:limit], ensure_ascii=False)[:-1] + "…"
        return safe_text(shown) + f'" ({plural(len(value), "char")})'
    try:
        return safe_text(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return safe_text(str(value))


def diff_lines(old: str, new: str, max_lines: int = DIFF_MAX_LINES) -> tuple[list[str], bool]:
    """A unified diff of two renderings (safe text, one line per entry); True if either was
    longer than `max_lines` lines and only the first `max_lines` were compared."""
    a, b = old.split("\n"), new.split("\n")
    cut = len(a) > max_lines or len(b) > max_lines
    diff = difflib.unified_diff(a[:max_lines], b[:max_lines], "previous", "this", lineterm="", n=3)
    return list(diff), cut
