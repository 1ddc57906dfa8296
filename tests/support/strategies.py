"""Hypothesis strategies for hostile input: bytes and text biased towards what attacks a
terminal (escape sequences, C0 and C1 controls, bidi and zero-width code points, invalid or cut
UTF-8, markup), JSON that decodes to such strings, nesting bombs, and channel names from the
wire or the keyboard; and `FAST`, the settings the properties over them run with.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_INVISIBLE = (
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
    0xFEFF,
    0x00AD,
    0x061C,
)
CHUNKS: list[bytes] = [
    *(bytes([b]) for b in range(0x20)),
    b"\x7f",
    # ESC sequences: colours, clear screen, alternate screen, OSC 52 clipboard, OSC 0 title,
    # OSC 8 hyperlink, DCS, 8-bit CSI
    b"\x1b[31m",
    b"\x1b[2J\x1b[H",
    b"\x1b[?1049h",
    b"\x1b]52;c;aGFja2Vk\x07",
    b"\x1b]0;owned\x1b\\",
    b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    b"\x1bP+q544e\x1b\\",
    b"\x9b2J",
    # C1 controls encoded as UTF-8, bidi and zero-width code points as UTF-8
    *(bytes([0xC2, b]) for b in range(0x80, 0xA0)),
    *(chr(c).encode() for c in _INVISIBLE),
    # invalid or cut UTF-8: stray bytes, overlong, encoded surrogate, beyond U+10FFFF
    b"\xff",
    b"\xfe",
    b"\xc3",
    b"\xe2\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    # ordinary text, multi-byte characters, markup and JSON punctuation
    b"a",
    b"hello ",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x98\x80",
    b"[bold red]",
    b"[/]",
    b"[link=http://x]",
    b"\\",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
]
_chunk = st.sampled_from(CHUNKS)
hostile_bytes = st.lists(_chunk, max_size=120).map(b"".join)
# A short nasty motif repeated up to ~4 KB: crosses LINE_LIMIT and cuts inside characters.
long_hostile = st.builds(
    lambda motif, times: (motif * times)[:4096],
    st.lists(_chunk, min_size=1, max_size=12).map(b"".join),
    st.integers(1, 600),
)

_nasty_char = st.sampled_from(
    [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), *_INVISIBLE)] + ["[bold]", "\\"]
)
hostile_text = st.lists(_nasty_char | st.characters(codec="utf-8"), max_size=30).map("".join)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=25,
)
json_payloads = st.builds(
    lambda value, ascii_only, indent: json.dumps(value, ensure_ascii=ascii_only, indent=indent),
    st.lists(_json_value, max_size=4) | st.dictionaries(hostile_text, _json_value, max_size=4),
    st.booleans(),
    st.sampled_from([None, 2]),
).map(str.encode)
# JSON that is valid but decodes to nasty strings: escaped controls, C1, bidi, BOM, and
# lone surrogates (legal in JSON text, not in Unicode strings).
_JSON_ESCAPES = [
    "\\u001b",
    "\\u0000",
    "\\u0007",
    "\\u007f",
    "\\u0085",
    "\\u009b",
    "\\u202e",
    "\\u2066",
    "\\u2028",
    "\\u200b",
    "\\ufeff",
    "\\ud800",
    "\\udcff",
    "\\ude00\\ud83d",
    "\\ud83d\\ude00",
    "\\n",
    "\\r",
    "\\t",
    "\\\\",
    '\\"',
    "[bold]",
    "x",
]
escaped_json = st.lists(
    st.lists(st.sampled_from(_JSON_ESCAPES), max_size=8).map(lambda p: '"' + "".join(p) + '"'),
    min_size=1,
    max_size=6,
).map(lambda items: ("[" + ",".join(items) + "]").encode())
# Nesting bombs of up to ~4 KB: [[[[...]]]] and {"a":{"a":...}}.
nesting_bombs = st.one_of(
    st.integers(1, 2048).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 800).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
)

payloads = st.one_of(
    st.binary(max_size=4096),
    hostile_bytes,
    long_hostile,
    json_payloads,
    escaped_json,
    nesting_bombs,
)
# Channel and subscription names: bytes from the wire, text typed or given on the command
# line, and bytes that are not UTF-8 carried in a str by surrogateescape (what the subscribe
# dialog makes when the user picks such a channel).
byte_names = st.one_of(st.binary(max_size=300), hostile_bytes)
str_names = st.one_of(
    hostile_text,
    st.text(st.characters(exclude_categories=()), max_size=60),  # lone surrogates included
    byte_names.map(lambda b: b.decode("utf-8", "surrogateescape")),
)

FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
