"""Placeholders in published messages: each expands, an unknown one is refused, and a
message without any is the same bytes object every time."""

from __future__ import annotations

import re
import uuid

import pytest

from rps_tui.core.templates import Template, TemplateError, render_text


def test_each_placeholder_expands() -> None:
    t = Template(b"{{n}}|{{ time }}|{{unix_ms}}|{{uuid}}|{{random}}")
    n, when, ms, uid, rnd = t.render(7, now=1_700_000_000.25).split(b"|")
    assert n == b"7"
    assert when == b"2023-11-14T22:13:20.250Z"
    assert ms == b"1700000000250"
    assert uuid.UUID(uid.decode()).version == 4
    assert 0 <= int(rnd) < 2**32


def test_sequence_and_fresh_values_per_message() -> None:
    t = Template(b"#{{n}} {{uuid}}")
    a, b = t.render(1), t.render(2)
    assert a.startswith(b"#1 ") and b.startswith(b"#2 ")
    assert a[3:] != b[3:]


def test_unknown_placeholder_is_one_line_error() -> None:
    with pytest.raises(TemplateError, match=re.escape("unknown placeholder {{count}}")) as exc:
        Template(b"x {{count}}")
    assert "\n" not in str(exc.value) and "--no-template" in str(exc.value)


def test_no_template_sends_braces_and_static_is_free() -> None:
    raw = b"{{n}} {{nope}} \xff"
    assert Template(raw, expand=False).render(5) is raw
    plain = Template(b"no braces {here}")
    assert plain.static and plain.render(1) is plain.message


def test_text_helper_keeps_unicode() -> None:
    assert render_text("é {{n}}", 3) == "é 3"
