"""The saved-messages file without the app: what is saved reads back byte for byte, a
person's comments and order survive a save, and a file that cannot be read is never written
over."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rps_tui.core.config import chosen_path
from rps_tui.core.saved import FILE_NAME, SavedError, SavedFile, SavedMessage, beside

TRICKY = [
    '{\n  "id": 1,\n  "note": "häagen ⏎ 😀"\n}',
    'three """ quotes\nand a trailing backslash \\',
    "crlf\r\nline",
    "tab\tand nul \x00 and esc \x1b[31m",
    "\nstarts with a line break\n",
    "",
]


@pytest.mark.parametrize("message", TRICKY, ids=range(len(TRICKY)))
def test_a_message_reads_back_exactly(tmp_path: Path, message: str) -> None:
    saved = SavedFile(tmp_path / FILE_NAME)
    entry = SavedMessage("n", "orders{1}", message, sharded=True)
    saved.save(entry)
    assert saved.load() == [entry]
    data = tomllib.loads((tmp_path / FILE_NAME).read_text(encoding="utf-8"))
    assert data["message"][0]["message"] == message


def test_a_multi_line_message_is_written_as_a_multi_line_string(tmp_path: Path) -> None:
    saved = SavedFile(tmp_path / "sub" / FILE_NAME)  # the directory is made
    saved.save(SavedMessage("doc", "orders", '{\n  "a": 1\n}'))
    text = saved.path.read_text(encoding="utf-8")
    assert "message = '''{\n  \"a\": 1\n}'''" in text  # as a person would write it
    assert text.startswith("# rps-tui saved messages")


def test_comments_order_and_other_keys_survive_a_save(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(
        "# my messages\n\n"
        '[[message]]\nname = "b"  # second in the alphabet, first here\n'
        'channel = "x"\nmessage = "old"\nnote = "mine"\n\n'
        '[[message]]\nname = "a"\nchannel = "y"\nmessage = "m"\n',
        encoding="utf-8",
    )
    saved = SavedFile(path)
    with pytest.raises(SavedError, match="exists"):
        saved.save(SavedMessage("b", "x", "new"))
    saved.save(SavedMessage("b", "x", "new"), replace=True)
    saved.save(SavedMessage("c", "z", "3"))
    text = path.read_text(encoding="utf-8")
    assert "# my messages" in text and "# second in the alphabet, first here" in text
    assert 'note = "mine"' in text
    assert [m.name for m in saved.load()] == ["b", "a", "c"]
    assert saved.load()[0].message == "new"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('[[message]]\nname = "a"\nchannel = \n', "not valid TOML"),
        ('[[message]]\nname = "a"\nchannel = 1\nmessage = "m"\n', "channel must be a string"),
        ('[[message]]\nname = ""\nchannel = "c"\nmessage = "m"\n', "name is empty"),
        ('message = "flat"\n', "must be"),
        (b"\xff\xfe not utf-8", "cannot read"),
    ],
)
def test_a_broken_file_is_one_line_and_never_written_over(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = tmp_path / FILE_NAME
    raw = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(raw)
    saved = SavedFile(path)
    with pytest.raises(SavedError, match=reason) as caught:
        saved.load()
    assert "\n" not in str(caught.value)
    with pytest.raises(SavedError, match=reason):
        saved.save(SavedMessage("new", "c", "m"))
    assert path.read_bytes() == raw
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary left


def test_the_file_lives_beside_the_config_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RPS_TUI_CONFIG", str(tmp_path / "conf" / "rps.toml"))
    assert beside(chosen_path()) == tmp_path / "conf" / FILE_NAME
    assert beside(chosen_path(tmp_path / "x.toml")) == tmp_path / FILE_NAME
