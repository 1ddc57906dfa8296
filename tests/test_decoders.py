"""Decoders (`core.payload.decoders`): each one reads what it should, fails in one line, stays
bounded on bombs, and never lets a byte from the wire reach the terminal raw.

The second half states the safety rules as Hypothesis properties over every decoder, fed the
hostile payloads of `tests/support/strategies.py` raw and wrapped (gzip, zlib, base64, msgpack),
whole and cut short.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
import zlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rps_tui.core.payload.decoders import (
    DECODERS,
    DETAIL_INFLATE_LIMIT,
    LINE_INFLATE_LIMIT,
    MAX_CONTAINER,
    decode,
    decode_line,
    diff_lines,
    next_decoder,
    pretty,
    scalar_text,
)
from rps_tui.core.payload.text import LINE_LIMIT, PayloadKind, format_line
from rps_tui.ui.detail import diff_text
from rps_tui.ui.json_tree import node_label
from rps_tui.ui.render import entry_line
from tests.support.screen import raw_controls
from tests.support.strategies import FAST, hostile_text, payloads

ORDER = {"id": "ord-7", "qty": 3, "tags": ["a", "b"], "price": 19.5, "paid": True, "note": None}
ORDER_JSON = json.dumps(ORDER).encode()


# -- each decoder reads what it should ---------------------------------------------------------


def test_decoders_cycle_in_order_and_wrap() -> None:
    assert DECODERS == ("auto", "text", "json", "hex", "msgpack", "gzip", "zlib", "base64")
    seen = ["auto"]
    for _ in range(len(DECODERS) - 1):
        seen.append(next_decoder(seen[-1]))
    assert tuple(seen) == DECODERS
    assert next_decoder("base64") == "auto"
    assert next_decoder("auto", -1) == "base64"
    assert next_decoder("no-such-decoder") == "auto"


def test_auto_reads_json_text_binary_and_gzip() -> None:
    assert decode(ORDER_JSON).kind is PayloadKind.JSON and decode(ORDER_JSON).value == ORDER
    assert decode(b"hello\nworld").value == "hello\nworld"
    assert decode(b"\x00\xffraw").kind is PayloadKind.BINARY
    zipped = decode(gzip.compress(ORDER_JSON))
    assert (zipped.kind, zipped.value, zipped.steps, zipped.tag) == (
        PayloadKind.JSON,
        ORDER,
        ("gzip",),
        "gzip",
    )
    # something that only starts like gzip is shown as the bytes it is, with no error
    fake = decode(b"\x1f\x8b\x08not really gzip")
    assert (fake.kind, fake.error, fake.steps) == (PayloadKind.BINARY, "", ())


def test_plain_auto_lines_are_exactly_the_payload_formatter() -> None:
    """The common path is untouched: same text, same cut at 512 bytes, no tag."""
    for data in (ORDER_JSON, b"x" * 2000, b"\xff\x00", b'{"a": 1'):
        assert decode_line(data) == format_line(data)
        assert decode_line(data).tag == ""


def test_each_decoder_by_name() -> None:
    packed = msgpack.packb(
        {"id": 7, 1: b"\x00\x01", "when": msgpack.Timestamp(0, 5), "x": msgpack.ExtType(5, b"z")}
    )
    cases = {
        "text": (b"caf\xc3\xa9 \xff", PayloadKind.TEXT, "café \udcff"),
        "json": (b"[1, 2]", PayloadKind.JSON, [1, 2]),
        "hex": (b"\x00\x01", PayloadKind.BINARY, b"\x00\x01"),
        "msgpack": (
            packed,
            PayloadKind.JSON,
            {
                "id": 7,
                "1": "0x0001",
                "when": "1970-01-01T00:00:00+00:00",
                "x": {"ext": 5, "data": "0x7a"},
            },
        ),
        "gzip": (gzip.compress(ORDER_JSON), PayloadKind.JSON, ORDER),
        "zlib": (zlib.compress(ORDER_JSON), PayloadKind.JSON, ORDER),
        "base64": (base64.b64encode(ORDER_JSON), PayloadKind.JSON, ORDER),
    }
    for name, (data, kind, value) in cases.items():
        decoded = decode(data, name)
        assert (decoded.kind, decoded.value, decoded.error) == (kind, value, ""), name
        assert decoded.tag.startswith(name) and decoded.size == len(data)


def test_variants_people_send() -> None:
    raw_deflate = zlib.compressobj(wbits=-15)
    deflated = raw_deflate.compress(ORDER_JSON) + raw_deflate.flush()
    assert decode(deflated, "zlib").value == ORDER  # no zlib header (websockets, some libs)
    two_members = gzip.compress(b"hello ") + gzip.compress(b"world")
    assert decode(two_members, "gzip").value == "hello world"
    wrapped = base64.encodebytes(ORDER_JSON * 3)  # 76 columns with newlines
    assert b"\n" in wrapped.strip()
    assert decode(wrapped, "base64").kind is PayloadKind.TEXT  # three documents in a row
    assert decode(base64.urlsafe_b64encode(b"\xfb\xff?").rstrip(b"="), "base64").value == (
        b"\xfb\xff?"
    )
    b64_gzip = decode(base64.b64encode(gzip.compress(ORDER_JSON)), "base64")
    assert (b64_gzip.value, b64_gzip.tag) == (ORDER, "base64+gzip")
    assert decode(msgpack.packb("just text"), "msgpack").kind is PayloadKind.TEXT
    assert decode(msgpack.packb(b"\x00\x01"), "msgpack").kind is PayloadKind.BINARY
    assert decode(msgpack.packb({"s": b"\xff".decode("latin-1")}), "msgpack").value == {"s": "ÿ"}


def test_lines_show_a_tag_and_compact_json() -> None:
    line = decode_line(msgpack.packb(ORDER), "msgpack")
    assert line.tag == "msgpack" and line.error == ""
    assert line.text == json.dumps(ORDER, separators=(",", ":"))
    assert decode_line(gzip.compress(ORDER_JSON)).tag == "gzip"  # auto found it
    assert decode_line(b"\x00\xff", "hex").text == "00 ff"
    big_hex = decode_line(bytes(range(256)) * 8, "hex")
    assert big_hex.truncated and big_hex.text.count(" ") == LINE_LIMIT - 1


def test_failures_are_one_line_reasons_with_the_raw_bytes_escaped() -> None:
    corrupt = gzip.compress(ORDER_JSON)
    corrupt = corrupt[:12] + b"\xff\xff\xff" + corrupt[15:]
    expected = {
        ("gzip", corrupt): "not valid gzip: ",
        ("gzip", gzip.compress(ORDER_JSON)[:20]): "not valid gzip: the stream ends early",
        ("gzip", b"plain text"): "not valid gzip: it does not start with the gzip magic",
        ("zlib", b"\x1b[2J plain"): "not valid zlib: ",
        ("msgpack", b"\x92\x01"): "not valid msgpack: Unpack failed: incomplete input",
        ("msgpack", b"\xc1"): "not valid msgpack: a byte that starts no msgpack value",
        ("msgpack", b"\x01\x02"): "not valid msgpack: extra bytes after the first value",
        ("base64", b"abc$"): "not valid base64: byte 0x24 is not in the alphabet",
        ("base64", b"abcde"): "not valid base64: 5 characters cannot be base64",
        ("json", b"{nope"): "not valid JSON: Expecting property name",
        ("json", b"\xff"): "not valid JSON: not UTF-8 (byte 0xff at 0)",
    }
    for (name, data), reason in expected.items():
        line = decode_line(data, name)
        assert line.error.startswith(reason), (name, data, line.error)
        assert "\n" not in line.error and "Traceback" not in line.error
        assert line.text == decode_line(data, "text").text  # the raw bytes, escaped
        detail = pretty(decode(data, name))
        assert detail.error == line.error
    assert decode_line(b"\x1b[2J", "zlib").text == "\\e[2J"


def test_bombs_stop_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MiB from ~64 KB
    started = time.monotonic()
    line = decode(bomb, "auto", limit=LINE_INFLATE_LIMIT)
    detail = decode(bomb, "gzip")
    assert time.monotonic() - started < 5
    assert line.truncated and len(line.value) == LINE_INFLATE_LIMIT
    assert detail.truncated and len(detail.value) == DETAIL_INFLATE_LIMIT
    assert decode_line(bomb).truncated
    zlib_bomb = decode(zlib.compress(b"{" * (32 << 20)), "zlib")
    assert zlib_bomb.truncated and zlib_bomb.kind is PayloadKind.TEXT  # cut: never parsed
    nested = decode(base64.b64encode(bomb), "base64", limit=LINE_INFLATE_LIMIT)
    assert nested.tag == "base64+gzip" and len(nested.value) == LINE_INFLATE_LIMIT
    # gzip inside gzip is not followed by auto (one level), so no chain multiplies the work
    double = decode(gzip.compress(gzip.compress(b"x" * 100)))
    assert double.steps == ("gzip",) and double.kind is PayloadKind.BINARY


@pytest.mark.parametrize("depth", [50, 990, 1100, 100_000])
def test_deep_nesting_is_reported_not_followed(depth: int) -> None:
    packed = b"\x91" * depth + b"\xc0"  # [[[...[nil]...]]]
    as_json = b"[" * depth + b"]" * depth
    for data, name in ((packed, "msgpack"), (as_json, "json"), (as_json, "auto")):
        decoded = decode(data, name)  # never raises
        line, detail = one_line_and_pretty(data, name)
        if decoded.error:
            assert "nested too deep" in decoded.error, decoded.error
        elif depth >= 1100:
            assert name == "auto" and decoded.kind is PayloadKind.TEXT
        assert "\n" not in line
        assert raw_controls(line) == [] and raw_controls(detail, allow="\n\t") == []


def one_line_and_pretty(data: bytes, name: str) -> tuple[str, str]:
    return decode_line(data, name).text, pretty(decode(data, name)).text


def test_huge_msgpack_containers_are_refused_not_allocated() -> None:
    claims = b"\xdd\xff\xff\xff\xff" + b"\xc0" * 10  # an array of 4 billion, 10 bytes given
    assert "exceeds max_array_len" in decode(claims, "msgpack").error
    many = b"\xdd" + (MAX_CONTAINER + 1).to_bytes(4, "big") + b"\xc0" * (MAX_CONTAINER + 1)
    assert "exceeds max_array_len" in decode(many, "msgpack").error
    too_big = decode(b"\x90" * (LINE_INFLATE_LIMIT + 1), "msgpack", limit=LINE_INFLATE_LIMIT)
    assert too_big.error.startswith("not decoded as msgpack here: 1.0 MiB is over")


def test_diff_of_two_renderings() -> None:
    old = pretty(decode(json.dumps({**ORDER, "qty": 3}).encode())).text
    new = pretty(decode(json.dumps({**ORDER, "qty": 4}).encode())).text
    lines, cut = diff_lines(old, new)
    assert not cut
    assert '-  "qty": 3,' in lines and '+  "qty": 4,' in lines
    assert lines[:2] == ["--- previous", "+++ this"]
    assert diff_lines(old, old) == ([], False)
    many = "\n".join(str(i) for i in range(6000))
    assert diff_lines(many, many + "\nx", max_lines=5000)[1] is True


def test_scalars_and_long_strings_in_the_tree() -> None:
    assert scalar_text("a\x1bb") == '"a\\u001bb"'
    assert scalar_text("x" * 1000, limit=10) == '"xxxxxxxxxx…" (1,000 chars)'
    label = node_label("key", {"a": 1}).plain
    assert label == '"key": {1 key}'
    assert node_label(3, [1, 2]).plain == "3: [2 items]"


# -- properties: nothing raw, whatever the decoder and the bytes ---------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    hostile_text,
    st.binary(max_size=40),
)
_msgpack_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(hostile_text | st.integers(0, 99), inner, max_size=4)
    ),
    max_leaves=20,
)
wrapped = st.one_of(
    payloads.map(gzip.compress),
    payloads.map(zlib.compress),
    payloads.map(base64.b64encode),
    payloads.map(lambda p: base64.b64encode(gzip.compress(p))),
    _msgpack_values.map(msgpack.packb),
)
# cut short, or with a byte flipped: what a broken producer sends
damaged = st.builds(
    lambda data, at, flip: (
        (data[:at] + bytes([data[at] ^ flip]) + data[at + 1 :])
        if at < len(data)
        else data[: at // 2]
    ),
    wrapped,
    st.integers(0, 200),
    st.integers(0, 255),
)
any_payload = st.one_of(payloads, wrapped, damaged)
decoder_names = st.sampled_from(DECODERS)


@FAST
@given(any_payload, decoder_names)
def test_every_decoder_gives_one_safe_line(data: bytes, name: str) -> None:
    line = decode_line(data, name)  # never raises
    for text in (line.text, line.error, line.tag):
        assert raw_controls(text) == [], (name, line)
        assert "\n" not in text
    assert line.size == len(data)


@FAST
@given(any_payload, decoder_names)
def test_every_decoder_gives_safe_detail_text(data: bytes, name: str) -> None:
    decoded = decode(data, name)
    shown = pretty(decoded)
    assert raw_controls(shown.text, allow="\n\t") == [], (name, shown)
    assert raw_controls(shown.error) == [] and "\n" not in shown.error
    assert decoded.size == len(data)


@FAST
@given(any_payload, decoder_names, st.booleans())
def test_entry_lines_are_safe_for_every_decoder(data: bytes, name: str, pattern: bool) -> None:
    entry = (
        [b"pmessage", b"p.*", b"p.\x1b[31m", data, 0.0]
        if pattern
        else [b"message", b"c", data, 0.0]
    )
    line = entry_line(entry, show_channel=pattern, decoder=name).plain
    assert raw_controls(line) == [], line
    assert "\n" not in line


@FAST
@given(any_payload, decoder_names)
def test_json_tree_labels_are_safe(data: bytes, name: str) -> None:
    decoded = decode(data, name)
    if decoded.kind is not PayloadKind.JSON:
        return
    todo: list[tuple[str | int | None, object]] = [(None, decoded.value)]
    for _ in range(200):  # bounded walk over the first nodes
        if not todo:
            break
        key, value = todo.pop()
        label = node_label(key, value).plain
        assert raw_controls(label) == [] and "\n" not in label, label
        if isinstance(value, dict):
            todo.extend(value.items())
        elif isinstance(value, list):
            todo.extend(enumerate(value))


@FAST
@given(any_payload, any_payload, decoder_names)
def test_diffs_are_safe(old: bytes, new: bytes, name: str) -> None:
    lines, cut = diff_lines(pretty(decode(old, name)).text, pretty(decode(new, name)).text)
    shown = diff_text(lines, cut).plain
    assert raw_controls(shown, allow="\n\t") == [], shown
